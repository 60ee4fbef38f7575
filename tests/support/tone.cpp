#include "tests/support/tone.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace classcam::test {

ToneLevel tone_level(const std::int16_t* samples, std::size_t n, double rate, double freq) {
  ToneLevel out;
  if (n == 0) return out;
  const double coeff = 2 * std::cos(2 * M_PI * freq / rate);
  double s1 = 0, s2 = 0, energy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = samples[i];
    energy += x * x;
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;  // |X(f)|^2
  out.rms = std::sqrt(energy / static_cast<double>(n));
  // A sine of amplitude A over n samples: |X|^2 = (A n / 2)^2 and energy = A^2 n / 2.
  out.fraction = energy > 0 ? 2 * power / (static_cast<double>(n) * energy) : 0;
  return out;
}

std::size_t tone_samples(const std::vector<std::int16_t>& pcm, double rate, double freq, std::size_t from) {
  const auto block = static_cast<std::size_t>(rate / 100);
  std::size_t n = 0;
  for (std::size_t at = from; block > 0 && at + block <= pcm.size(); at += block) {
    if (tone_level(pcm.data() + at, block, rate, freq).present()) n += block;
  }
  return n;
}

namespace {
std::uint32_t le32(const std::string& b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}
std::uint16_t le16(const std::string& b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}
}  // namespace

Wav read_wav(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Wav w;
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) return w;
  std::size_t at = 12;
  while (at + 8 <= b.size()) {
    const std::string id = b.substr(at, 4);
    const std::uint32_t size = le32(b, at + 4);
    if (id == "fmt " && at + 24 <= b.size()) {
      w.channels = le16(b, at + 10);
      w.rate = le32(b, at + 12);
    } else if (id == "data") {
      // The size is a placeholder until the file is finished: take what is there.
      const std::size_t frame = 2u * (w.channels == 0 ? 1 : w.channels);
      for (std::size_t p = at + 8; p + frame <= b.size(); p += frame) {
        std::int16_t s;
        std::memcpy(&s, b.data() + p, 2);
        w.samples.push_back(s);
      }
      return w;
    }
    at += 8 + size + (size & 1);
  }
  return w;
}

}  // namespace classcam::test
