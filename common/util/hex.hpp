#pragma once
#include <cstddef>
#include <string>

namespace classcam::util {

// Lower-case hex of a byte buffer.
inline std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0F];
  }
  return out;
}

}  // namespace classcam::util
