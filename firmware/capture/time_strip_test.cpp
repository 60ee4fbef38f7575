#include "firmware/capture/time_strip.hpp"

#include <gtest/gtest.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <map>
#include <vector>

#include "firmware/capture/gst.hpp"

using namespace classcam::capture;

namespace {

struct Picture {
  std::uint32_t width, height;
  std::vector<std::uint8_t> y, u, v;
  Picture(std::uint32_t w, std::uint32_t h, std::uint8_t luma)
      : width(w), height(h), y(w * h, luma), u(w * h / 4, 90), v(w * h / 4, 200) {}
  Frame420 frame() {
    Frame420 f;
    f.width = width;
    f.height = height;
    f.plane[0] = y.data();
    f.plane[1] = u.data();
    f.plane[2] = v.data();
    f.stride[0] = width;
    f.stride[1] = f.stride[2] = width / 2;
    return f;
  }
};

}  // namespace

TEST(TimeStrip, RoundTripsOnRawFramesOfEverySize) {
  for (const auto& [w, h] :
       std::vector<std::pair<std::uint32_t, std::uint32_t>>{{320, 240}, {1280, 720}, {1920, 1080}}) {
    for (const std::uint8_t background : {std::uint8_t{16}, std::uint8_t{128}, std::uint8_t{235}}) {
      Picture p(w, h, background);
      auto f = p.frame();
      const std::uint64_t ms = 1'796'000'123'456ULL;
      stamp_time(f, ms);
      EXPECT_EQ(read_time(p.y.data(), w, w, h), ms) << w << "x" << h;
      EXPECT_EQ(p.u[0], kNeutralChroma) << "the strip has no colour";
      EXPECT_EQ(p.u[w / 2 * 10 + w / 2 - 1], 90) << "nothing outside the strip changes";
    }
  }
}

TEST(TimeStrip, APictureWithoutAStripOrADamagedOneReadsAsNothing) {
  Picture plain(640, 480, 128);
  EXPECT_FALSE(read_time(plain.y.data(), 640, 640, 480).has_value());
  Picture p(640, 480, 128);
  auto f = p.frame();
  stamp_time(f, 42);
  const auto cell = strip_geometry(640, 480).cell;
  // One time bit flipped: the check no longer matches.
  const std::uint32_t c = 40;
  for (std::uint32_t y = 0; y < 8; ++y) {
    std::uint8_t* px = p.y.data() + y * 640 + c * cell;
    for (std::uint32_t x = 0; x < cell; ++x) px[x] = px[x] > 125 ? 16 : 235;
  }
  EXPECT_FALSE(read_time(p.y.data(), 640, 640, 480).has_value());
  EXPECT_EQ(strip_geometry(100, 100).cell, 0u) << "too small for 60 cells: no strip";
}

namespace {

GstPadProbeReturn stamp_probe(GstPad* pad, GstPadProbeInfo* info, gpointer counter) {
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  CapsPtr caps(gst_pad_get_current_caps(pad));
  GstVideoInfo vi;
  gst_video_info_from_caps(&vi, caps.get());
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &vi, buf, GST_MAP_WRITE)) return GST_PAD_PROBE_OK;
  Frame420 f;
  f.width = GST_VIDEO_INFO_WIDTH(&vi);
  f.height = GST_VIDEO_INFO_HEIGHT(&vi);
  for (int p = 0; p < 3; ++p) {
    f.plane[p] = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    f.stride[p] = static_cast<std::uint32_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p));
  }
  auto& n = *static_cast<std::uint64_t*>(counter);
  stamp_time(f, 1'700'000'000'000ULL + 33 * n++);
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

}  // namespace

TEST(TimeStrip, SurvivesALowBitrateH264EncodeOfAMovingPicture) {
  gst_init(nullptr, nullptr);
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(
      "videotestsrc name=src num-buffers=90 pattern=ball motion=sweep ! video/x-raw,format=I420,width=640,height=360,"
      "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=250 key-int-max=60 ! "
      "video/x-h264,profile=high ! h264parse ! avdec_h264 ! video/x-raw,format=I420 ! appsink name=out sync=false",
      &err));
  ASSERT_EQ(err, nullptr) << err->message;
  std::uint64_t stamped = 0;
  ElementPtr src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  GstPad* pad = gst_element_get_static_pad(src.get(), "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_probe, &stamped, nullptr);
  gst_object_unref(pad);
  ElementPtr out(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  std::map<std::uint64_t, int> read;
  int frames = 0;
  while (GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(out.get()), 10 * GST_SECOND)) {
    GstVideoInfo vi;
    gst_video_info_from_caps(&vi, gst_sample_get_caps(s));
    GstVideoFrame frame;
    ASSERT_TRUE(gst_video_frame_map(&frame, &vi, gst_sample_get_buffer(s), GST_MAP_READ));
    const auto t = read_time(static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)),
                             static_cast<std::uint32_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0)),
                             GST_VIDEO_INFO_WIDTH(&vi), GST_VIDEO_INFO_HEIGHT(&vi));
    if (t) ++read[*t];
    gst_video_frame_unmap(&frame);
    gst_sample_unref(s);
    ++frames;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_EQ(frames, 90);
  EXPECT_EQ(read.size(), 90u) << "every decoded frame reads back, each its own time";
  EXPECT_EQ(read.begin()->first, 1'700'000'000'000ULL);
  EXPECT_EQ(read.rbegin()->first, 1'700'000'000'000ULL + 33 * 89);
}
