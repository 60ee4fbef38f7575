#pragma once
// Privacy zones: rectangles of the picture blacked out in the raw frames, before the encoder, so they
// never reach the disk, the network or a snapshot. Zones are configured as fractions of the frame;
// here they become pixel rectangles, widened outwards to even coordinates so that the 2x2-subsampled
// chroma of I420/NV12 is covered too (never a half-hidden pixel at the edge of a zone).
#include <cstdint>
#include <vector>

#include "common/config/unit_config.hpp"

namespace classcam::capture {

struct PixelRect {
  std::uint32_t x = 0, y = 0, width = 0, height = 0;
  bool operator==(const PixelRect&) const = default;
};

std::vector<PixelRect> zone_rects(const std::vector<config::PrivacyZone>& zones, std::uint32_t frame_width,
                                  std::uint32_t frame_height);

enum class PlanarFormat { i420, nv12 };

// A mapped 4:2:0 frame: plane 0 is luma; I420 has U and V in planes 1 and 2, NV12 interleaved UV in 1.
struct Frame420 {
  PlanarFormat format = PlanarFormat::i420;
  std::uint32_t width = 0, height = 0;
  std::uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  std::uint32_t stride[3] = {0, 0, 0};
};

// Black in limited-range BT.601/709: Y = 16, U = V = 128.
inline constexpr std::uint8_t kBlackLuma = 16;
inline constexpr std::uint8_t kNeutralChroma = 128;

void black_out(Frame420& frame, const std::vector<PixelRect>& rects);

}  // namespace classcam::capture
