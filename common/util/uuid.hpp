#pragma once
#include <string>
#include <string_view>

namespace classcam::util {

// A random (version 4) UUID in canonical lower-case 8-4-4-4-12 form, from OpenSSL's CSPRNG.
std::string uuid_v4();

// True when `s` is a UUID in canonical form (any version, lower or upper case hex).
bool is_uuid(std::string_view s);

// `n` random bytes from OpenSSL's CSPRNG as lower-case hex (2n characters). Used for tokens and codes.
std::string random_hex(std::size_t n);

}  // namespace classcam::util
