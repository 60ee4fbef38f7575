#pragma once
// The latency strip (video.latency_strip, for bench/live.sh): the wall-clock time a frame was captured,
// burnt into its top rows as a row of black and white cells that survive H.264 at low bitrates, so a
// page (or a test) that decodes the frame can tell how long it took from glass to glass. Off by
// default: it is a measuring tool and covers a strip of the picture.
//
// Layout (bits, most significant first, one cell each, cells of width/64 pixels rounded down to an
// even number (at least 4) and as tall as wide (at least 8 rows), from the top-left corner):
//   4 sync bits 1010 | 48 bits of Unix time in ms | 8 bits check (the six time bytes summed, xor 0xA5)
// A reader samples the middle of each cell: luma above the midpoint is a 1. docs/live.md#latency has
// the same in JavaScript terms.
#include <cstdint>
#include <optional>

#include "firmware/capture/privacy.hpp"

namespace classcam::capture {

inline constexpr std::uint32_t kStripCells = 60;

struct StripGeometry {
  std::uint32_t cell = 0;  // cell width and height in pixels; 0 when the frame is too small
};
StripGeometry strip_geometry(std::uint32_t frame_width, std::uint32_t frame_height);

// Writes the strip into a mapped 4:2:0 frame (luma black or white, chroma neutral).
void stamp_time(Frame420& frame, std::uint64_t unix_ms);

// Reads it back from a luma plane; nullopt when sync or check do not match (no strip, or a damaged one).
std::optional<std::uint64_t> read_time(const std::uint8_t* luma, std::uint32_t stride, std::uint32_t width,
                                       std::uint32_t height);

}  // namespace classcam::capture
