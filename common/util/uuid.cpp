#include "common/util/uuid.hpp"

#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <stdexcept>

#include "common/util/hex.hpp"

namespace classcam::util {

namespace {
void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // The CSPRNG failing is not an expected runtime condition: there is nothing safe to fall back to.
    throw std::runtime_error("OpenSSL RAND_bytes failed: no secure randomness available");
  }
}
}  // namespace

std::string uuid_v4() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  const std::string h = to_hex(b.data(), b.size());
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) + '-' + h.substr(20, 12);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(bytes.data()), n);
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), n);
}

}  // namespace classcam::util
