#pragma once
// KeyframeGrid: keyframes on a fixed time grid set by the pipeline, not by the encoder's frame counter,
// plus extra keyframes on request (a live viewer's PLI/FIR) that do not move the grid.
//
// Why: an encoder restarts its GOP count at a forced keyframe, so letting a live keyframe request reach
// it would move every later automatic keyframe, and with them the recording's segment cuts
// (spool/segment_writer.hpp cuts at the first keyframe at least segment_ms after a segment's start).
// Here every frame whose running time reaches the next grid point (first frame + k * grid) is forced to
// be a keyframe with a downstream force-key-unit event (GstVideoEncoder honours it: x264enc,
// openh264enc, v4l2h264enc), and the encoder's own interval is set well beyond the grid (plan.cpp) as a
// safety net. An extra keyframe is one more IDR inside a segment; the segment still ends at its grid
// point, so segment count and durations are those of a run without requests.
//
// Requests travel as a custom upstream event (keyframe_request_event) from wherever they arise (the live
// branch turns the force-key-unit arriving at its tee pad into one); they are rate limited to one per the
// interval the request carries (later ones wait, one keyframe when it has passed) and never forced within
// kGridGuard before a grid point (the grid keyframe serves them).
//
// Threading: attach()/detach() on the owner's thread (the io_context). The probes run on GStreamer
// threads (the buffer probe on the encoder's streaming thread, the event probe on whichever thread
// pushes the request) and touch only atomics and GStreamer.
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace classcam::capture {

// The structure name of the upstream request event.
inline constexpr const char* kKeyframeRequestEvent = "classcam-keyframe-request";
// No extra keyframe this close before a grid point: the grid's own keyframe follows at once.
inline constexpr std::chrono::milliseconds kGridGuard{300};

// "One keyframe now, but not within `min_interval` of the previous one": sent upstream towards the
// encoder (through tee, h264parse and the encoder itself, which forward custom upstream events).
GstEvent* keyframe_request_event(std::chrono::milliseconds min_interval);

// The running time of `buffer` (its PTS) in the segment `pad` carries; -1 when it has none. Any thread.
std::int64_t buffer_running_time(GstPad* pad, GstBuffer* buffer);

class KeyframeGrid {
 public:
  explicit KeyframeGrid(std::chrono::milliseconds grid);
  ~KeyframeGrid();
  KeyframeGrid(const KeyframeGrid&) = delete;
  KeyframeGrid& operator=(const KeyframeGrid&) = delete;

  // Probes the encoder's sink pad (the encoder must derive from GstVideoEncoder).
  void attach(GstElement* encoder);
  void detach();

  // Keyframes forced so far: on the grid, and extra ones for requests.
  std::uint64_t grid_keyframes() const { return grid_keyframes_.load(); }
  std::uint64_t requested_keyframes() const { return requested_keyframes_.load(); }

 private:
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_request(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  const std::int64_t grid_ns_;
  GstPad* pad_ = nullptr;  // a ref while attached
  gulong buffer_probe_ = 0, event_probe_ = 0;
  // Streaming thread's state, in running time (ns); atomics so no thread ever races on them.
  std::atomic<std::int64_t> next_grid_ns_{-1};  // -1: no frame yet
  std::atomic<std::int64_t> last_key_ns_{0};
  // A request waiting for its keyframe: its minimum interval in ns, or -1 for none.
  std::atomic<std::int64_t> pending_min_ns_{-1};
  std::atomic<std::uint64_t> grid_keyframes_{0}, requested_keyframes_{0};
};

}  // namespace classcam::capture
