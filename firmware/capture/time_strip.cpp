#include "firmware/capture/time_strip.hpp"

#include <array>
#include <cstring>

namespace classcam::capture {

namespace {

constexpr std::uint8_t kWhiteLuma = 235;

std::array<bool, kStripCells> bits_of(std::uint64_t ms) {
  std::array<bool, kStripCells> b{};
  b[0] = true;
  b[2] = true;  // sync 1010
  std::uint32_t sum = 0;
  for (int i = 0; i < 48; ++i) b[4 + i] = ((ms >> (47 - i)) & 1U) != 0;
  for (int byte = 0; byte < 6; ++byte) sum += (ms >> (8 * byte)) & 0xFFU;
  const std::uint8_t check = static_cast<std::uint8_t>(sum) ^ 0xA5U;
  for (int i = 0; i < 8; ++i) b[52 + i] = ((check >> (7 - i)) & 1U) != 0;
  return b;
}

}  // namespace

StripGeometry strip_geometry(std::uint32_t frame_width, std::uint32_t frame_height) {
  std::uint32_t cell = (frame_width / 64) & ~1U;
  if (cell < 4) cell = 4;
  const std::uint32_t rows = cell < 8 ? 8 : cell;
  if (cell * kStripCells > frame_width || rows > frame_height) return {};
  return {cell};
}

void stamp_time(Frame420& f, std::uint64_t unix_ms) {
  const auto g = strip_geometry(f.width, f.height);
  if (g.cell == 0) return;
  const std::uint32_t rows = g.cell < 8 ? 8 : g.cell;
  const auto bits = bits_of(unix_ms);
  for (std::uint32_t y = 0; y < rows; ++y) {
    std::uint8_t* row = f.plane[0] + static_cast<std::size_t>(y) * f.stride[0];
    for (std::uint32_t c = 0; c < kStripCells; ++c) {
      std::memset(row + c * g.cell, bits[c] ? kWhiteLuma : kBlackLuma, g.cell);
    }
  }
  const std::uint32_t cw = g.cell * kStripCells / 2;
  for (std::uint32_t y = 0; y < (rows + 1) / 2; ++y) {
    if (f.format == PlanarFormat::i420) {
      std::memset(f.plane[1] + static_cast<std::size_t>(y) * f.stride[1], kNeutralChroma, cw);
      std::memset(f.plane[2] + static_cast<std::size_t>(y) * f.stride[2], kNeutralChroma, cw);
    } else {
      std::memset(f.plane[1] + static_cast<std::size_t>(y) * f.stride[1], kNeutralChroma, 2 * cw);
    }
  }
}

std::optional<std::uint64_t> read_time(const std::uint8_t* luma, std::uint32_t stride, std::uint32_t width,
                                       std::uint32_t height) {
  const auto g = strip_geometry(width, height);
  if (g.cell == 0) return std::nullopt;
  const std::uint32_t rows = g.cell < 8 ? 8 : g.cell;
  const std::uint8_t* mid = luma + static_cast<std::size_t>(rows / 2) * stride;
  std::array<bool, kStripCells> b{};
  for (std::uint32_t c = 0; c < kStripCells; ++c) b[c] = mid[c * g.cell + g.cell / 2] > 125;
  if (!b[0] || b[1] || !b[2] || b[3]) return std::nullopt;
  std::uint64_t ms = 0;
  for (int i = 0; i < 48; ++i) ms = (ms << 1) | (b[4 + i] ? 1U : 0U);
  if (bits_of(ms) != b) return std::nullopt;  // the check bits (and sync) as the time would give them
  return ms;
}

}  // namespace classcam::capture
