#pragma once
// UTF-8 for bytes from outside (requests, files, the network, a corrupt SD card). JSON text must be
// UTF-8, and nlohmann-json throws (type_error.316) when it is asked to write anything else; a log line
// must not carry raw bytes or control characters that forge lines or confuse a terminal.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace classcam::util {

// Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing past U+10FFFF
// (the same rule nlohmann-json's parser applies).
bool is_valid_utf8(std::string_view s);
// The offset of the first byte that is not part of well-formed UTF-8; nullopt when it all is.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);
// Each byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);
// For log lines: well-formed UTF-8 as it is; control characters (C0, DEL, C1) and bytes that are not
// UTF-8 written as \xNN, so the line stays one line of text.
std::string escape_for_log(std::string_view s);

}  // namespace classcam::util
