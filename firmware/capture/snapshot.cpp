#include "firmware/capture/snapshot.hpp"

#include <fmt/format.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "firmware/capture/frame_probe.hpp"
#include "firmware/capture/plan.hpp"

namespace classcam::capture {

namespace {

// The first ERROR on a pipeline's bus, if any (the bus has no sync handler here: we pop it ourselves).
std::optional<std::string> pending_error(GstElement* pipeline) {
  BusPtr bus(gst_element_get_bus(pipeline));
  MessagePtr m(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  if (!m) return std::nullopt;
  return describe(m.get());
}

}  // namespace

Result<std::string> encode_jpeg(GstSample* frame, std::uint32_t max_width, std::uint32_t quality) {
  ensure_gstreamer();
  GstCaps* in_caps = gst_sample_get_caps(frame);
  GstBuffer* buffer = gst_sample_get_buffer(frame);
  GstVideoInfo vi;
  if (in_caps == nullptr || buffer == nullptr || !gst_video_info_from_caps(&vi, in_caps)) {
    return Error{"snapshot: the frame has no usable video format"};
  }
  const std::uint32_t w = std::min<std::uint32_t>(max_width, GST_VIDEO_INFO_WIDTH(&vi));
  std::uint32_t h = static_cast<std::uint32_t>(static_cast<std::uint64_t>(GST_VIDEO_INFO_HEIGHT(&vi)) * w /
                                               GST_VIDEO_INFO_WIDTH(&vi));
  h = std::max<std::uint32_t>(2, h & ~1U);
  std::string error;
  ElementPtr p = parse_pipeline(fmt::format("appsrc name=src ! videoconvert ! videoscale ! "
                                            "video/x-raw,width={},height={},pixel-aspect-ratio=1/1 ! "
                                            "jpegenc quality={} ! appsink name=sink sync=false",
                                            w, h, quality),
                                error);
  if (!p) return Error{"snapshot: " + error};
  ElementPtr src(gst_bin_get_by_name(GST_BIN(p.get()), "src"));
  ElementPtr sink(gst_bin_get_by_name(GST_BIN(p.get()), "sink"));
  g_object_set(src.get(), "format", GST_FORMAT_TIME, nullptr);
  gst_app_src_set_caps(GST_APP_SRC(src.get()), in_caps);
  if (gst_element_set_state(p.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(p.get(), GST_STATE_NULL);
    return Error{"snapshot: " + pending_error(p.get()).value_or("cannot start the JPEG encoder")};
  }
  GstBuffer* copy = gst_buffer_copy(buffer);
  GST_BUFFER_PTS(copy) = 0;
  GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(src.get()), copy);  // takes the ref
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  SamplePtr out(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 5 * GST_SECOND));
  Result<std::string> result = Error{"snapshot: " + pending_error(p.get()).value_or("the JPEG encoder gave nothing")};
  if (out) {
    GstMapInfo map;
    GstBuffer* jb = gst_sample_get_buffer(out.get());
    if (jb != nullptr && gst_buffer_map(jb, &map, GST_MAP_READ)) {
      result = std::string(reinterpret_cast<const char*>(map.data), map.size);
      gst_buffer_unmap(jb, &map);
    }
  }
  gst_element_set_state(p.get(), GST_STATE_NULL);
  return result;
}

Result<SamplePtr> preview_frame(const std::string& description, std::uint32_t warmup_frames,
                                const std::vector<config::PrivacyZone>& zones, std::chrono::milliseconds timeout) {
  std::string error;
  ElementPtr p = parse_pipeline(description, error);
  if (!p) return Error{"preview: " + error};
  FrameProbe probe(zones, [](SamplePtr) {});
  if (ElementPtr privacy(gst_bin_get_by_name(GST_BIN(p.get()), kPrivacyElement)); privacy) probe.attach(privacy.get());
  ElementPtr sink(gst_bin_get_by_name(GST_BIN(p.get()), kPreviewElement));
  if (!sink) return Error{"preview: the pipeline has no appsink named " + std::string(kPreviewElement)};

  Result<SamplePtr> result =
      Error{"preview: the camera gave no frame within " + std::to_string(timeout.count()) + " ms"};
  if (gst_element_set_state(p.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    result = Error{"preview: " + pending_error(p.get()).value_or("the camera could not start")};
  } else {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::uint32_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto e = pending_error(p.get())) {
        result = Error{"preview: " + *e};
        break;
      }
      SamplePtr s(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 100 * GST_MSECOND));
      if (!s) continue;
      if (seen++ < warmup_frames) continue;
      result = std::move(s);
      break;
    }
  }
  gst_element_set_state(p.get(), GST_STATE_NULL);
  probe.detach();
  return result;
}

}  // namespace classcam::capture
