#include "firmware/live/playout.hpp"

#include "common/log/log.hpp"
#include "common/webrtc/peer.hpp"

namespace classcam::live {

namespace {
log::Logger logger() { return log::get("live"); }
}  // namespace

TalkbackOutput parse_talkback(const std::string& value) {
  TalkbackOutput out;
  const auto colon = value.find(':');
  if (colon == std::string::npos) return out;
  const std::string kind = value.substr(0, colon);
  out.target = value.substr(colon + 1);
  if (kind == "alsa") out.kind = TalkbackOutput::Kind::alsa;
  if (kind == "file") out.kind = TalkbackOutput::Kind::file;
  return out;
}

Playout::~Playout() {
  if (valve_ != nullptr) gst_object_unref(valve_);
}

void Playout::set_muted(bool muted) {
  muted_ = muted;
  std::lock_guard lock(m_);
  if (valve_ != nullptr) g_object_set(valve_, "drop", muted ? TRUE : FALSE, nullptr);
}

void Playout::link(GstElement* webrtc, GstPad* pad) {
  if (!enabled() || webrtc::pad_media(pad) != "audio") {
    webrtc::link_beside(webrtc, pad, webrtc::new_fakesink());
    return;
  }
  GError* err = nullptr;
  GstElement* chain = gst_parse_bin_from_description(
      "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! valve name=talkback_valve", TRUE, &err);
  if (chain == nullptr) {
    logger()->error("talkback: cannot build the playout: {}", err != nullptr ? err->message : "?");
    if (err != nullptr) g_error_free(err);
    webrtc::link_beside(webrtc, pad, webrtc::new_fakesink());
    return;
  }
  if (err != nullptr) g_error_free(err);
  GstElement* sink = nullptr;
  if (output_.kind == TalkbackOutput::Kind::file) {
    // Unbuffered: every frame is in the file as soon as it is played (tests read it while it runs).
    sink = gst_parse_bin_from_description(
        "audio/x-raw,format=S16LE,rate=48000,channels=1 ! wavenc ! filesink name=file sync=false async=false "
        "buffer-mode=unbuffered",
        TRUE, nullptr);
    if (sink != nullptr) {
      GstElement* file = gst_bin_get_by_name(GST_BIN(sink), "file");
      g_object_set(file, "location", output_.target.c_str(), nullptr);
      gst_object_unref(file);
    }
  } else {
    // The earpiece: played as it arrives (sync=false), a small ALSA buffer (40 ms, 10 ms periods).
    sink = gst_element_factory_make("alsasink", nullptr);
    if (sink != nullptr) {
      g_object_set(sink, "device", output_.target.c_str(), "sync", FALSE, "async", FALSE, "buffer-time",
                   static_cast<gint64>(40000), "latency-time", static_cast<gint64>(10000), nullptr);
      // An earpiece that is not there must not end live: talkback is then not played (logged once).
      if (gst_element_set_state(sink, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
        logger()->warn("talkback: cannot open ALSA device {}; talkback is not played", output_.target);
        gst_element_set_state(sink, GST_STATE_NULL);
        gst_object_unref(gst_object_ref_sink(sink));
        sink = nullptr;
      }
    }
  }
  const bool playing = sink != nullptr;
  if (!playing) sink = webrtc::new_fakesink();
  GstElement* bin = gst_bin_new("talkback");
  gst_bin_add_many(GST_BIN(bin), chain, sink, nullptr);
  gst_element_link(chain, sink);
  GstPad* in = gst_element_get_static_pad(chain, "sink");
  GstPad* ghost = gst_ghost_pad_new("sink", in);
  gst_object_unref(in);
  gst_element_add_pad(bin, ghost);
  {
    std::lock_guard lock(m_);
    if (valve_ != nullptr) gst_object_unref(valve_);
    valve_ = gst_bin_get_by_name(GST_BIN(chain), "talkback_valve");
    g_object_set(valve_, "drop", muted_.load() ? TRUE : FALSE, nullptr);
  }
  if (!webrtc::link_beside(webrtc, pad, bin)) logger()->error("talkback: cannot link the playout");
  if (playing)
    logger()->info("talkback: playing to {} {}", output_.kind == TalkbackOutput::Kind::file ? "file" : "ALSA device",
                   output_.target);
}

}  // namespace classcam::live
