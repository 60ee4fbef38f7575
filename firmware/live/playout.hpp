#pragma once
// Playout: the talkback a coach sends through the hub (docs/live.md, "Talkback"), played on the unit's
// configured output (config live.talkback): the teacher's earpiece (ALSA), a WAV file (tests), or
// nothing. The incoming audio pad of the live webrtcbin goes
//   rtpopusdepay ! opusdec ! audioconvert ! audioresample ! valve ! <sink>
// with the receiving jitterbuffer at webrtcbin's 40 ms and a sink that plays what arrives at once
// (sync=false, a 40 ms ALSA buffer). The valve drops everything while talkback is muted, so a mute takes
// effect with the next 20 ms frame. The chain lives in the live branch's bin, fed only by webrtcbin:
// nothing of it is linked to the recording, so talkback is never in the recording.
//
// Threading: link() runs on webrtcbin's streaming thread (pad-added; GStreamer objects only); set_muted()
// and muted() on any thread. The valve is reached under the mutex.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace classcam::live {

struct TalkbackOutput {
  enum class Kind { off, alsa, file } kind = Kind::off;
  std::string target;  // ALSA device or file path
};

// A live.talkback value as the config checked it ("off", "alsa:<device>", "file:<path>").
TalkbackOutput parse_talkback(const std::string& value);

class Playout {
 public:
  Playout(TalkbackOutput output, bool muted) : output_(std::move(output)), muted_(muted) {}
  ~Playout();
  Playout(const Playout&) = delete;
  Playout& operator=(const Playout&) = delete;

  bool enabled() const { return output_.kind != TalkbackOutput::Kind::off; }
  // Streaming thread: links webrtcbin's new src `pad` (audio: the playout chain; anything else, or with
  // talkback off: a fakesink).
  void link(GstElement* webrtc, GstPad* pad);
  void set_muted(bool muted);
  bool muted() const { return muted_.load(); }

 private:
  TalkbackOutput output_;
  std::atomic<bool> muted_;
  std::mutex m_;
  GstElement* valve_ = nullptr;  // a ref, once the audio pad came
};

}  // namespace classcam::live
