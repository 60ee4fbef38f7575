#include "firmware/capture/privacy.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace classcam::capture {

std::vector<PixelRect> zone_rects(const std::vector<config::PrivacyZone>& zones, std::uint32_t frame_width,
                                  std::uint32_t frame_height) {
  std::vector<PixelRect> out;
  auto lo = [](double f, std::uint32_t size) {
    const auto v = static_cast<std::uint32_t>(std::floor(std::clamp(f, 0.0, 1.0) * size));
    return v & ~1U;
  };
  auto hi = [](double f, std::uint32_t size) {
    auto v = static_cast<std::uint32_t>(std::ceil(std::clamp(f, 0.0, 1.0) * size - 1e-9));
    v = (v + 1) & ~1U;
    return std::min(v, size);
  };
  for (const auto& z : zones) {
    const std::uint32_t x0 = lo(z.x, frame_width);
    const std::uint32_t y0 = lo(z.y, frame_height);
    const std::uint32_t x1 = hi(z.x + z.width, frame_width);
    const std::uint32_t y1 = hi(z.y + z.height, frame_height);
    if (x1 > x0 && y1 > y0) out.push_back({x0, y0, x1 - x0, y1 - y0});
  }
  return out;
}

void black_out(Frame420& f, const std::vector<PixelRect>& rects) {
  for (const auto& r : rects) {
    const std::uint32_t x0 = std::min(r.x, f.width);
    const std::uint32_t y0 = std::min(r.y, f.height);
    const std::uint32_t x1 = std::min(r.x + r.width, f.width);
    const std::uint32_t y1 = std::min(r.y + r.height, f.height);
    if (x1 <= x0 || y1 <= y0) continue;
    for (std::uint32_t y = y0; y < y1; ++y) {
      std::memset(f.plane[0] + static_cast<std::size_t>(y) * f.stride[0] + x0, kBlackLuma, x1 - x0);
    }
    // Chroma rows and columns touched by any luma pixel of the rectangle.
    const std::uint32_t cx0 = x0 / 2;
    const std::uint32_t cx1 = (x1 + 1) / 2;
    const std::uint32_t cy0 = y0 / 2;
    const std::uint32_t cy1 = (y1 + 1) / 2;
    for (std::uint32_t y = cy0; y < cy1; ++y) {
      if (f.format == PlanarFormat::i420) {
        std::memset(f.plane[1] + static_cast<std::size_t>(y) * f.stride[1] + cx0, kNeutralChroma, cx1 - cx0);
        std::memset(f.plane[2] + static_cast<std::size_t>(y) * f.stride[2] + cx0, kNeutralChroma, cx1 - cx0);
      } else {
        std::memset(f.plane[1] + static_cast<std::size_t>(y) * f.stride[1] + 2 * cx0, kNeutralChroma, 2 * (cx1 - cx0));
      }
    }
  }
}

}  // namespace classcam::capture
