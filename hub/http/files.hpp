#pragma once
// Serving files: single byte ranges (RFC 9110 section 14) so browsers can seek in a recording,
// without reading the file into memory (the server streams the span from the open descriptor).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "hub/http/message.hpp"

namespace classcam::hub::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

enum class RangeKind { none, single, unsatisfiable };
struct RangeRequest {
  RangeKind kind = RangeKind::none;
  ByteRange range;
};

// Parses a Range header against a representation of `size` bytes. Multiple ranges and anything
// malformed are ignored (kind none: the whole file is sent), as RFC 9110 allows.
RangeRequest parse_range(std::string_view header, std::uint64_t size);

// 200 with the whole file, 206 with the requested range, or 416. Honours If-Range (an ETag that no
// longer matches sends the whole file). 404 when the file cannot be opened.
Response file_response(const Request& req, const std::filesystem::path& path, const std::string& content_type);

}  // namespace classcam::hub::http
