#include "firmware/capture/frame_probe.hpp"

#include <gst/video/video.h>

#include <chrono>

#include "common/log/log.hpp"
#include "firmware/capture/time_strip.hpp"

namespace classcam::capture {

FrameProbe::FrameProbe(std::vector<config::PrivacyZone> zones, std::function<void(SamplePtr)> on_frame,
                       bool latency_strip)
    : zones_(std::move(zones)), latency_strip_(latency_strip), on_frame_(std::move(on_frame)) {}

FrameProbe::~FrameProbe() { detach(); }

void FrameProbe::attach(GstElement* element) {
  detach();
  pad_ = gst_element_get_static_pad(element, "src");
  probe_id_ = gst_pad_add_probe(
      pad_, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      &FrameProbe::on_probe, this, nullptr);
}

void FrameProbe::detach() {
  if (pad_ == nullptr) return;
  gst_pad_remove_probe(pad_, probe_id_);
  gst_object_unref(pad_);
  pad_ = nullptr;
  probe_id_ = 0;
}

GstPadProbeReturn FrameProbe::on_probe(GstPad* pad, GstPadProbeInfo* info, gpointer self) {
  return static_cast<FrameProbe*>(self)->handle(pad, info);
}

GstPadProbeReturn FrameProbe::handle(GstPad* pad, GstPadProbeInfo* info) {
  if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) != 0) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(ev, &caps);
      format_ok_ = caps != nullptr && gst_video_info_from_caps(&info_, caps) &&
                   (GST_VIDEO_INFO_FORMAT(&info_) == GST_VIDEO_FORMAT_I420 ||
                    GST_VIDEO_INFO_FORMAT(&info_) == GST_VIDEO_FORMAT_NV12);
      rects_ = format_ok_ ? zone_rects(zones_, GST_VIDEO_INFO_WIDTH(&info_), GST_VIDEO_INFO_HEIGHT(&info_))
                          : std::vector<PixelRect>{};
    }
    return GST_PAD_PROBE_OK;
  }

  if (!zones_.empty() || latency_strip_) {
    if (!format_ok_ && zones_.empty()) return GST_PAD_PROBE_OK;  // a strip is never worth a frame
    if (!format_ok_) {
      // Fail closed: a frame whose zones cannot be blacked out must not reach the encoder.
      if (!warned_) {
        log::get("capture")->error("privacy zones need I420 or NV12 frames; dropping video until they come");
        warned_ = true;
      }
      return GST_PAD_PROBE_DROP;
    }
    GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info_, buf, GST_MAP_WRITE)) {
      if (!warned_) {
        log::get("capture")->error("cannot map a frame to black out the privacy zones; dropping it");
        warned_ = true;
      }
      return GST_PAD_PROBE_DROP;
    }
    Frame420 f;
    f.format = GST_VIDEO_INFO_FORMAT(&info_) == GST_VIDEO_FORMAT_NV12 ? PlanarFormat::nv12 : PlanarFormat::i420;
    f.width = GST_VIDEO_INFO_WIDTH(&info_);
    f.height = GST_VIDEO_INFO_HEIGHT(&info_);
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < 3; ++p) {
      f.plane[p] = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
      f.stride[p] = static_cast<std::uint32_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p));
    }
    black_out(f, rects_);
    if (latency_strip_) {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      stamp_time(f, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
    }
    gst_video_frame_unmap(&frame);
  }

  if (wanted_.load(std::memory_order_relaxed) && wanted_.exchange(false)) {
    CapsPtr caps(gst_pad_get_current_caps(pad));
    on_frame_(SamplePtr(gst_sample_new(GST_PAD_PROBE_INFO_BUFFER(info), caps.get(), nullptr, nullptr)));
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace classcam::capture
