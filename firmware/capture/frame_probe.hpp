#pragma once
// A buffer probe on the raw video, before the encoder: it blacks out the privacy zones in every frame
// (and stamps the latency strip when configured) and, when asked, hands over the next (already
// blacked-out) frame for a snapshot.
//
// Threading: the probe runs on a GStreamer streaming thread. There it touches only its own state (the
// zone rectangles, recomputed from each caps event) and the atomic request flag; a requested frame goes
// to `on_frame`, which is fixed at construction and must only post it elsewhere. request_frame() may be
// called from any thread.
#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <functional>
#include <vector>

#include "common/config/unit_config.hpp"
#include "firmware/capture/gst.hpp"
#include "firmware/capture/privacy.hpp"

namespace classcam::capture {

class FrameProbe {
 public:
  // `latency_strip`: also stamp each frame's capture time (time_strip.hpp), after the zones.
  FrameProbe(std::vector<config::PrivacyZone> zones, std::function<void(SamplePtr)> on_frame,
             bool latency_strip = false);
  ~FrameProbe();
  FrameProbe(const FrameProbe&) = delete;
  FrameProbe& operator=(const FrameProbe&) = delete;

  // Installs the probe on `element`'s src pad. Detach (or set the pipeline to NULL) before destroying.
  void attach(GstElement* element);
  void detach();
  void request_frame() { wanted_.store(true); }

 private:
  static GstPadProbeReturn on_probe(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  GstPadProbeReturn handle(GstPad* pad, GstPadProbeInfo* info);

  const std::vector<config::PrivacyZone> zones_;
  const bool latency_strip_;
  const std::function<void(SamplePtr)> on_frame_;
  std::atomic<bool> wanted_{false};
  // Streaming thread only.
  std::vector<PixelRect> rects_;
  GstVideoInfo info_{};
  bool format_ok_ = false;
  bool warned_ = false;
  GstPad* pad_ = nullptr;
  gulong probe_id_ = 0;
};

}  // namespace classcam::capture
