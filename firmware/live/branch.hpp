#pragma once
// Branch: the live branch on a running capture pipeline. It takes the recording's already encoded
// H.264 from the tee after h264parse (capture::kVideoTeeElement) and raw audio from the tee before the
// recording's audio encoder (capture::kAudioTeeElement), payloads them as RTP (H.264, and Opus from its
// own encoder), and hands the RTP pads to a consumer the caller puts in the branch's bin (webrtcbin in
// firmware/live/sender.hpp, an appsink in tests).
//
// What keeps the recording as it is (docs/live.md): the branch starts with leaky queues, so a slow or
// stuck consumer drops live frames and never holds up the tee; upstream force-key-unit events (a
// receiver's PLI/FIR) never pass the tee as they are: each goes on as a rate-limited request to the
// capture's keyframe grid (capture/keyframes.hpp), so the recording's grid keyframes and segment cuts
// stay where they are; the branch is PLAYING before its tee pads are linked (a
// tee linked to a branch that is not yet PLAYING can get FLUSHING and stop the source silently) and
// unlinked through IDLE probes.
//
// Threading: every public method runs on the io_context thread. The IDLE probes that unlink the
// branch and the event probe on the tee pads run on GStreamer streaming threads: they unlink, drop or
// count, and post; the bin is set to NULL and removed on the io_context. What the posted clean-up needs
// is shared state, so it completes even if the Branch is destroyed before it runs.
#include <boost/asio/io_context.hpp>
#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/util/result.hpp"

namespace classcam::live {

struct BranchOptions {
  // Pinned SSRCs and payload types: an answer made before the first buffer would otherwise declare
  // SSRC 0 and Chromium never attaches the stream to its track (platform notes, "Live").
  std::uint32_t video_ssrc = 0;  // 0: a random one
  std::uint32_t audio_ssrc = 0;
  int video_pt = 96;
  int audio_pt = 111;
  std::uint32_t opus_bitrate = 32000;  // bit/s; speech in a classroom
  // What a queue in front of the payloaders holds before it drops (a consumer that stalls).
  std::uint64_t queue_ns = 1'000'000'000;
  // A receiver's keyframe requests make at most one extra keyframe per this interval (live.keyframe_min_ms).
  std::chrono::milliseconds keyframe_min_interval{1000};
};

class Branch {
 public:
  // `pipeline` is a running capture pipeline with a video tee, an audio tee or both.
  Branch(boost::asio::io_context& io, GstElement* pipeline, BranchOptions options);
  // Stops the branch if it still runs (the clean-up completes on the io_context later).
  ~Branch();
  Branch(const Branch&) = delete;
  Branch& operator=(const Branch&) = delete;

  // Builds the branch in its bin, not yet in the pipeline. An Error when the pipeline has no tee.
  Status build();
  // The bin the consumer goes into, and the RTP pads to link to it, after build(); audio_rtp() is
  // null when the pipeline has no audio.
  GstBin* bin() const;
  GstPad* video_rtp() const;
  GstPad* audio_rtp() const;
  bool has_video() const;
  bool has_audio() const;
  std::uint32_t video_ssrc() const { return options_.video_ssrc; }
  std::uint32_t audio_ssrc() const { return options_.audio_ssrc; }

  // Adds the bin (with its consumer) to the pipeline, brings it to PLAYING, then links the tee pads.
  Status start();
  // Unlinks at the tees through IDLE probes, then sets the bin to NULL and removes it from the
  // pipeline (which frees its CPU); `done` runs on the io_context once that happened.
  void stop(std::function<void()> done = {});
  bool running() const;

  // Upstream force-key-unit events (PLI/FIR) that reached the video tee pad (each goes on as a request
  // to the keyframe grid, which decides which become keyframes).
  std::uint64_t keyframe_requests() const;
  // Where media got to in each leg (for messages when it got nowhere).
  std::string describe() const;

  struct State;

 private:
  boost::asio::io_context& io_;
  BranchOptions options_;
  std::shared_ptr<State> state_;
};

}  // namespace classcam::live
