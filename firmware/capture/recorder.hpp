#pragma once
// Recorder: runs a planned recording pipeline (plan.hpp) and reports what happens to the event loop.
//
// Threading: every public method and every Events callback runs on the io_context thread. GStreamer's
// own threads only post: bus messages arrive through a bus sync handler that posts them (with a ref)
// to the io_context; the appsink's new-sample callback posts each piece of the muxed stream; the frame
// probe (frame_probe.hpp) posts snapshot frames. Posted handlers check a liveness token, so none runs
// after the Recorder is gone.
#include <boost/asio/io_context.hpp>
#include <gst/app/gstappsink.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/util/result.hpp"
#include "firmware/capture/frame_probe.hpp"
#include "firmware/capture/gst.hpp"
#include "firmware/capture/keyframes.hpp"
#include "firmware/capture/plan.hpp"

namespace classcam::capture {

class Recorder {
 public:
  struct Events {
    std::function<void()> started;  // the pipeline is PLAYING
    // The next piece of the fragmented-MP4 stream, in order (header boxes, then moof, mdat header and
    // samples). Buffers with a timestamp carry the running time of their sample.
    std::function<void(SamplePtr)> data;
    std::function<void()> eos;  // after stop(): the muxer has flushed its last fragment (or the source ended)
    std::function<void(const std::string&)> error;
    // An error inside a live branch (kLiveBinElement): never a recording error, the recording goes on.
    std::function<void(const std::string&)> live_error;
  };

  // Runs `plan` (plan.hpp); with video, its keyframes come from a KeyframeGrid every
  // plan.keyframe_grid_ms (keyframes.hpp). `latency_strip`: stamp the capture time into every frame
  // (video.latency_strip, time_strip.hpp).
  Recorder(boost::asio::io_context& io, const Plan& plan, std::vector<config::PrivacyZone> zones, Events events,
           bool latency_strip = false);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Builds the pipeline and sets it playing. An Error when the description does not parse; failures
  // while starting (no camera, a device in use) come through Events::error.
  Status start();
  // Sends EOS; Events::eos follows once the muxer has written its last fragment.
  void stop();
  // Tears the pipeline down now. Whatever segment was open stays on disk as it is, for recovery.
  void abort();
  bool active() const { return pipeline_ != nullptr; }
  // The running pipeline (null when not active), for a live branch to attach to its tees
  // (firmware/live); io_context thread only, and not kept beyond the Recorder.
  GstElement* pipeline() const { return pipeline_.get(); }

  // The next frame after the privacy blackout, delivered on the io_context (null if the recorder stops
  // first). Only pipelines with video can deliver.
  void grab_frame(std::function<void(SamplePtr)> done);

  // Pipeline running time now, and the wall clock at running time zero (both once PLAYING).
  std::optional<std::int64_t> running_time_ns() const;
  std::optional<std::chrono::system_clock::time_point> utc_at_running_zero() const { return utc_zero_; }

 private:
  struct BusContext;
  static GstBusSyncReply on_bus_message(GstBus* bus, GstMessage* message, gpointer context);
  static GstFlowReturn on_new_sample(GstAppSink* sink, gpointer context);
  static void on_sink_eos(GstAppSink* sink, gpointer context);
  void handle(GstMessage* message);
  void teardown();
  void fail_grabs();

  boost::asio::io_context& io_;
  const std::string description_;
  Events events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<FrameProbe> probe_;
  std::unique_ptr<KeyframeGrid> keyframes_;  // with video
  std::unique_ptr<BusContext> bus_context_;
  ElementPtr pipeline_;
  std::vector<std::function<void(SamplePtr)>> grabs_;
  std::optional<std::chrono::system_clock::time_point> utc_zero_;
  bool reported_error_ = false;
  bool eos_from_sink_ = false;  // the muxed stream's appsink reports the end, not the bus (see start())
};

// Builds a pipeline and takes it to READY and back, without opening a camera: loads the plugins, the
// encoder libraries and the overlay's fonts once at start-up, so the first recording starts as quickly
// as the later ones. Blocking (a few hundred ms the first time); returns what failed, if anything.
Status warm_up(const std::string& description);

}  // namespace classcam::capture
