#include "firmware/live/branch.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gst/video/video.h>

#include <atomic>
#include <random>

#include "common/log/log.hpp"
#include "firmware/capture/gst.hpp"
#include "firmware/capture/keyframes.hpp"
#include "firmware/capture/plan.hpp"

namespace classcam::live {

namespace {
log::Logger logger() { return log::get("live"); }

std::uint32_t random_ssrc() {
  std::random_device rd;
  std::uint32_t v = 0;
  while (v == 0) v = rd();
  return v;
}

// One path through the branch: a tee's request pad, linked to the ghost sink pad of the bin.
struct Leg {
  capture::ElementPtr tee;
  capture::PadPtr tee_pad;  // requested on start()
  capture::PadPtr sink;     // the bin's ghost sink pad
  capture::PadPtr rtp;      // the payloader chain's last src pad (inside the bin)
  gulong event_probe = 0;
};

}  // namespace

struct Branch::State {
  boost::asio::io_context& io;
  capture::ElementPtr pipeline;
  capture::ElementPtr bin;
  Leg video, audio;
  bool built = false, started = false, stopping = false;
  std::atomic<int> legs_to_unlink{0};
  std::atomic<std::uint64_t> keyframe_requests{0};
  std::chrono::milliseconds keyframe_min_interval{1000};  // set before the probes exist, read-only after
  std::function<void()> done;
  explicit State(boost::asio::io_context& i) : io(i) {}
};

namespace {

GstPadProbeReturn on_upstream_event(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer data) {
  auto* state = static_cast<Branch::State*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  // Streaming thread: a receiver's PLI/FIR arrives as an upstream force-key-unit event. Reaching the
  // encoder it would restart its GOP count and move the recording's later keyframes and segment cuts;
  // instead it goes on as a request to the capture's keyframe grid (capture/keyframes.hpp), which
  // rate-limits it and keeps the grid where it was.
  if (event != nullptr && gst_video_event_is_force_key_unit(event)) {
    state->keyframe_requests.fetch_add(1);
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = capture::keyframe_request_event(state->keyframe_min_interval);
    return GST_PAD_PROBE_OK;
  }
  // Linking the branch sends RECONFIGURE up the tee: the encoder would renegotiate and query
  // allocation through the new pad while the branch starts, which was seen to stall the recording's
  // video until the branch went away. The branch takes the caps the tee has: nothing to renegotiate.
  if (event != nullptr && GST_EVENT_TYPE(event) == GST_EVENT_RECONFIGURE) return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

// The clean-up once every leg is unlinked: on the io_context, never on a streaming thread.
void finish_stop(const std::shared_ptr<Branch::State>& state) {
  boost::asio::post(state->io, [state] {
    for (Leg* leg : {&state->video, &state->audio}) {
      if (!leg->tee_pad) continue;
      gst_element_release_request_pad(leg->tee.get(), leg->tee_pad.get());
      leg->tee_pad.reset();
    }
    gst_element_set_state(state->bin.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(state->pipeline.get()), state->bin.get());
    state->started = false;
    state->stopping = false;
    logger()->info("live branch stopped");
    if (auto done = std::move(state->done)) done();
  });
}

struct UnlinkContext {
  std::shared_ptr<Branch::State> state;
  Leg* leg;
};

GstPadProbeReturn on_idle(GstPad* pad, GstPadProbeInfo* /*info*/, gpointer data) {
  auto* ctx = static_cast<UnlinkContext*>(data);
  // Streaming thread (or the caller's, when the pad was idle already): nothing flows through the tee
  // pad now, so unlinking cannot cut a buffer in half. Unlink only; the rest is posted.
  if (ctx->leg->sink) gst_pad_unlink(pad, ctx->leg->sink.get());
  if (ctx->state->legs_to_unlink.fetch_sub(1) == 1) finish_stop(ctx->state);
  return GST_PAD_PROBE_REMOVE;
}

}  // namespace

Branch::Branch(boost::asio::io_context& io, GstElement* pipeline, BranchOptions options)
    : io_(io), options_(options), state_(std::make_shared<State>(io)) {
  if (options_.video_ssrc == 0) options_.video_ssrc = random_ssrc();
  if (options_.audio_ssrc == 0) options_.audio_ssrc = random_ssrc();
  state_->pipeline.reset(GST_ELEMENT(gst_object_ref(pipeline)));
  state_->keyframe_min_interval = options_.keyframe_min_interval;
}

Branch::~Branch() {
  if (state_->started && !state_->stopping) stop();
}

Status Branch::build() {
  if (state_->built) return ok_status();
  auto& s = *state_;
  GstBin* pipeline = GST_BIN(s.pipeline.get());
  s.video.tee.reset(gst_bin_get_by_name(pipeline, capture::kVideoTeeElement));
  s.audio.tee.reset(gst_bin_get_by_name(pipeline, capture::kAudioTeeElement));
  if (!s.video.tee && !s.audio.tee) return Error{"the capture pipeline has no tee a live branch can take from"};
  const auto& o = options_;
  std::string d;
  if (s.video.tee) {
    // SPS/PPS before every IDR access unit, so a receiver joining mid-stream can decode: inserted by
    // h264parse, which does it once per access unit. rtph264pay's config-interval=-1 does it before
    // every IDR *slice*: with x264's sliced threads (two or more slices a frame) that puts a PPS between
    // the slices, and a byte-stream parser downstream (the hub's) then splits the frame in two and the
    // picture decodes with all but its last slice missing (docs/live.md, "Slices").
    // It stays avc so the payloader names the stream's profile-level-id in the offer. Only
    // packetization-mode=1 is pinned: Chromium accepts the encoder's own profile-level-id.
    d += fmt::format(
        "queue name=live_vq leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time={} ! "
        "h264parse config-interval=-1 ! video/x-h264,stream-format=avc,alignment=au ! "
        "rtph264pay name=live_vpay config-interval=0 aggregate-mode=zero-latency mtu=1200 pt={} ssrc={} ! "
        "capsfilter name=live_vcaps caps=\"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,"
        "payload={},ssrc=(uint){},packetization-mode=(string)1\"",
        o.queue_ns, o.video_pt, o.video_ssrc, o.video_pt, o.video_ssrc);
  }
  if (s.audio.tee) {
    if (!d.empty()) d += " ";
    d += fmt::format(
        "queue name=live_aq leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time={} ! audioconvert ! "
        "audioresample ! audio/x-raw,rate=48000 ! opusenc bitrate={} frame-size=20 ! "
        "rtpopuspay name=live_apay pt={} ssrc={} ! "
        "capsfilter name=live_acaps caps=\"application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
        "payload={},ssrc=(uint){}\"",
        o.queue_ns, o.opus_bitrate, o.audio_pt, o.audio_ssrc, o.audio_pt, o.audio_ssrc);
  }
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description(d.c_str(), FALSE, &err);
  if (bin == nullptr) {
    std::string what = err != nullptr ? err->message : "unknown error";
    if (err != nullptr) g_error_free(err);
    return Error{"cannot build the live branch: " + what};
  }
  if (err != nullptr) g_error_free(err);  // a warning on a description that did parse
  gst_object_ref_sink(bin);
  s.bin.reset(bin);
  gst_object_set_name(GST_OBJECT(bin), capture::kLiveBinElement);
  const auto ghost = [&](Leg& leg, const char* queue, const char* caps, const char* name) {
    capture::ElementPtr q(gst_bin_get_by_name(GST_BIN(bin), queue));
    capture::PadPtr target(gst_element_get_static_pad(q.get(), "sink"));
    GstPad* g = gst_ghost_pad_new(name, target.get());
    gst_pad_set_active(g, TRUE);
    gst_element_add_pad(bin, g);
    leg.sink.reset(GST_PAD(gst_object_ref(g)));
    capture::ElementPtr last(gst_bin_get_by_name(GST_BIN(bin), caps));
    leg.rtp.reset(gst_element_get_static_pad(last.get(), "src"));
  };
  if (s.video.tee) ghost(s.video, "live_vq", "live_vcaps", "video_sink");
  if (s.audio.tee) ghost(s.audio, "live_aq", "live_acaps", "audio_sink");
  s.built = true;
  return ok_status();
}

GstBin* Branch::bin() const { return state_->bin ? GST_BIN(state_->bin.get()) : nullptr; }
GstPad* Branch::video_rtp() const { return state_->video.rtp.get(); }
GstPad* Branch::audio_rtp() const { return state_->audio.rtp.get(); }
bool Branch::has_video() const { return static_cast<bool>(state_->video.tee); }
bool Branch::has_audio() const { return static_cast<bool>(state_->audio.tee); }
bool Branch::running() const { return state_->started; }
std::uint64_t Branch::keyframe_requests() const { return state_->keyframe_requests.load(); }

std::string Branch::describe() const {
  std::string out;
  for (auto [name, leg] : {std::pair{"video", &state_->video}, std::pair{"audio", &state_->audio}}) {
    if (!leg->tee) continue;
    const auto caps_of = [](GstPad* p) {
      if (p == nullptr) return std::string("no pad");
      capture::CapsPtr c(gst_pad_get_current_caps(p));
      return std::string(c ? "caps" : "no caps");
    };
    capture::PadPtr tee_sink(gst_element_get_static_pad(leg->tee.get(), "sink"));
    out += fmt::format("{}{}: tee {}, branch {}, rtp {}", out.empty() ? "" : "; ", name, caps_of(tee_sink.get()),
                       caps_of(leg->sink.get()), caps_of(leg->rtp.get()));
  }
  return out;
}

Status Branch::start() {
  auto& s = *state_;
  if (s.started) return ok_status();
  if (auto st = build(); !st) return st;
  if (!gst_bin_add(GST_BIN(s.pipeline.get()), s.bin.get())) return Error{"the live branch is in a pipeline already"};
  // PLAYING before the tee pads are linked (see the top of branch.hpp).
  if (!gst_element_sync_state_with_parent(s.bin.get()) ||
      gst_element_get_state(s.bin.get(), nullptr, nullptr, 5 * GST_SECOND) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(s.bin.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(s.pipeline.get()), s.bin.get());
    return Error{"the live branch does not start"};
  }
  for (Leg* leg : {&s.video, &s.audio}) {
    if (!leg->tee) continue;
    leg->tee_pad.reset(gst_element_request_pad_simple(leg->tee.get(), "src_%u"));
    leg->event_probe = gst_pad_add_probe(leg->tee_pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &on_upstream_event,
                                         state_.get(), nullptr);
    if (gst_pad_link(leg->tee_pad.get(), leg->sink.get()) != GST_PAD_LINK_OK) {
      logger()->error("cannot link the live branch to {}", GST_OBJECT_NAME(leg->tee.get()));
    }
  }
  s.started = true;
  logger()->info("live branch started (video ssrc {}, audio ssrc {})", options_.video_ssrc, options_.audio_ssrc);
  return ok_status();
}

void Branch::stop(std::function<void()> done) {
  auto& s = *state_;
  if (!s.started || s.stopping) {
    if (done) boost::asio::post(io_, std::move(done));
    return;
  }
  s.stopping = true;
  s.done = std::move(done);
  int legs = 0;
  for (Leg* leg : {&s.video, &s.audio}) legs += leg->tee_pad ? 1 : 0;
  s.legs_to_unlink = legs;
  if (legs == 0) {
    finish_stop(state_);
    return;
  }
  for (Leg* leg : {&s.video, &s.audio}) {
    if (!leg->tee_pad) continue;
    // The probe may run at once, on this thread, when the pad is idle already.
    gst_pad_add_probe(leg->tee_pad.get(), GST_PAD_PROBE_TYPE_IDLE, &on_idle, new UnlinkContext{state_, leg},
                      [](gpointer p) { delete static_cast<UnlinkContext*>(p); });
  }
}

}  // namespace classcam::live
