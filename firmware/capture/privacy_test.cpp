#include "firmware/capture/privacy.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace classcam;
using namespace classcam::capture;

TEST(Privacy, ZonesBecomeEvenPixelRectanglesWidenedOutwards) {
  const auto r = zone_rects({{0.75, 0.0, 0.25, 0.4}, {0.101, 0.333, 0.1, 0.1}, {0, 0, 1, 1}}, 1920, 1080);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (PixelRect{1440, 0, 480, 432}));
  // 0.101 * 1920 = 193.9 -> 192; (0.201) * 1920 = 385.9 -> 386; 0.333 * 1080 = 359.6 -> 358; 0.433 * 1080 = 467.6 ->
  // 468
  EXPECT_EQ(r[1], (PixelRect{192, 358, 194, 110}));
  EXPECT_EQ(r[2], (PixelRect{0, 0, 1920, 1080}));
}

TEST(Privacy, OddFrameEdgesAreClamped) {
  const auto r = zone_rects({{0.5, 0.5, 0.5, 0.5}}, 161, 121);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].x + r[0].width, 161u);
  EXPECT_EQ(r[0].y + r[0].height, 121u);
}

namespace {

struct TestFrame {
  PlanarFormat format;
  std::uint32_t w, h, stride;
  std::vector<std::uint8_t> y, c1, c2;
  TestFrame(PlanarFormat f, std::uint32_t width, std::uint32_t height)
      : format(f),
        w(width),
        h(height),
        stride(width + 16),
        y(stride * h, 200),
        c1(stride * h / 2, 60),
        c2(stride * h / 2, 90) {}
  Frame420 view() {
    Frame420 f;
    f.format = format;
    f.width = w;
    f.height = h;
    f.plane[0] = y.data();
    f.plane[1] = c1.data();
    f.plane[2] = c2.data();
    f.stride[0] = stride;
    f.stride[1] = format == PlanarFormat::i420 ? stride / 2 : stride;
    f.stride[2] = stride / 2;
    return f;
  }
};

}  // namespace

TEST(Privacy, I420PixelsInsideAreBlackAndOutsideUntouched) {
  TestFrame t(PlanarFormat::i420, 64, 48);
  auto f = t.view();
  black_out(f, {{8, 4, 16, 10}});
  for (std::uint32_t yy = 0; yy < 48; ++yy) {
    for (std::uint32_t xx = 0; xx < 64; ++xx) {
      const bool inside = xx >= 8 && xx < 24 && yy >= 4 && yy < 14;
      EXPECT_EQ(t.y[yy * t.stride + xx], inside ? kBlackLuma : 200) << xx << "," << yy;
    }
  }
  for (std::uint32_t yy = 0; yy < 24; ++yy) {
    for (std::uint32_t xx = 0; xx < 32; ++xx) {
      const bool inside = xx >= 4 && xx < 12 && yy >= 2 && yy < 7;
      EXPECT_EQ(t.c1[yy * (t.stride / 2) + xx], inside ? kNeutralChroma : 60);
      EXPECT_EQ(t.c2[yy * (t.stride / 2) + xx], inside ? kNeutralChroma : 90);
    }
  }
}

TEST(Privacy, Nv12InterleavedChromaIsNeutralInside) {
  TestFrame t(PlanarFormat::nv12, 64, 48);
  auto f = t.view();
  black_out(f, {{0, 0, 4, 4}, {60, 44, 10, 10}});  // the second runs off the frame and is clamped
  EXPECT_EQ(t.y[0], kBlackLuma);
  EXPECT_EQ(t.y[3 * t.stride + 3], kBlackLuma);
  EXPECT_EQ(t.y[4 * t.stride + 4], 200);
  EXPECT_EQ(t.y[47 * t.stride + 63], kBlackLuma);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(t.c1[i], kNeutralChroma) << i;  // U V U V of pixels 0..3
  EXPECT_EQ(t.c1[4], 60);
  EXPECT_EQ(t.c1[23 * t.stride + 63], kNeutralChroma);
}
