#include "hub/live/live.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>

#include "common/log/log.hpp"
#include "common/util/time.hpp"
#include "common/util/uuid.hpp"
#include "common/webrtc/peer.hpp"
#include "hub/access/policy.hpp"
#include "hub/auth/turn.hpp"
#include "hub/http/responses.hpp"

namespace classcam::hub::live {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;
using SteadyClock = std::chrono::steady_clock;

namespace {

log::Logger logger() { return log::get("live"); }

// The SSRCs every viewer's stream carries: an answer made before the first buffer would otherwise
// declare SSRC 0 and Chromium never attaches the stream (platform notes, "Live").
constexpr guint kVideoSsrc = 0x0C1A55C1;
constexpr guint kAudioSsrc = 0x0C1A55C2;
constexpr guint kTalkSsrc = 0x0C1A55C3;  // the talkback stream to the unit

bool is_sdp(const http::Request& req) { return req.header("Content-Type").rfind("application/sdp", 0) == 0; }

http::Response sdp_response(int status, const std::string& sdp, const std::string& location) {
  http::Response res;
  res.status = status;
  res.headers.set("Content-Type", "application/sdp");
  res.headers.set("Location", location);
  res.headers.set("Cache-Control", "no-store");
  res.body = sdp;
  return res;
}

bool valid_live_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

void stop_pipeline(GstElement*& pipeline) {
  if (pipeline == nullptr) return;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  pipeline = nullptr;
}

}  // namespace

// The streaming-thread side (see the top of live.hpp): the viewers' appsrcs, fed from the ingest's appsinks.
struct Fanout {
  struct Target {
    GstElement* src = nullptr;  // a ref of ours
    bool waiting_key = true;    // video: a new viewer starts at a keyframe
    bool caps_set = false;
  };
  std::mutex m;
  std::map<std::string, Target> video, audio;
  GstElement* video_sink = nullptr;  // the ingest's video appsink (a ref), for keyframe requests
  SteadyClock::time_point last_key{};
  bool key_pending = false;  // a request came within key_interval of the last one
  std::chrono::milliseconds key_interval{1000};
  std::atomic<std::uint64_t> video_frames{0};
  std::atomic<std::uint64_t> key_requests{0};
  // Talkback: the ingest's appsrc toward the unit and the one viewer whose audio goes into it ("":
  // nobody, and nothing is sent). Set from the strand, read by the viewers' streaming threads.
  GstElement* talk_src = nullptr;  // a ref
  std::string talker;
  bool talk_caps_set = false;
  std::atomic<std::uint64_t> talk_buffers{0};

  ~Fanout() {
    for (auto* map : {&video, &audio}) {
      for (auto& [id, t] : *map) gst_object_unref(t.src);
    }
    if (video_sink != nullptr) gst_object_unref(video_sink);
    if (talk_src != nullptr) gst_object_unref(talk_src);
  }

  // A viewer's streaming thread: its depayloaded Opus goes to the unit only while it holds the floor.
  void push_talk(const std::string& viewer_id, GstSample* sample) {
    GstBuffer* buf = gst_sample_get_buffer(sample);
    std::lock_guard lock(m);
    if (buf == nullptr || talk_src == nullptr || talker.empty() || talker != viewer_id) return;
    if (!talk_caps_set) {
      gst_app_src_set_caps(GST_APP_SRC(talk_src), gst_sample_get_caps(sample));
      talk_caps_set = true;
    }
    GstBuffer* copy = gst_buffer_copy(buf);
    GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;  // the ingest's appsrc stamps its own running time
    GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(talk_src), copy);
    ++talk_buffers;
  }

  void set_talker(const std::string& viewer_id) {
    std::lock_guard lock(m);
    if (talker != viewer_id) talk_caps_set = false;  // another browser may send other Opus caps
    talker = viewer_id;
  }

  void set_talk_src(GstElement* src) {
    std::lock_guard lock(m);
    if (talk_src != nullptr) gst_object_unref(talk_src);
    talk_src = src != nullptr ? GST_ELEMENT(gst_object_ref(src)) : nullptr;
    talk_caps_set = false;
  }

  void push(bool is_video, GstSample* sample) {
    GstBuffer* buf = gst_sample_get_buffer(sample);
    if (buf == nullptr) return;
    if (is_video) ++video_frames;
    const bool delta = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    if (is_video && push_targets(true, sample, buf, delta)) request_keyframe();
    if (!is_video) push_targets(false, sample, buf, delta);
  }

  // Returns whether a deferred keyframe request is due.
  bool push_targets(bool is_video, GstSample* sample, GstBuffer* buf, bool delta) {
    std::lock_guard lock(m);
    if (is_video && !delta) key_pending = false;  // whoever waited has their keyframe
    for (auto& [id, t] : is_video ? video : audio) {
      if (is_video && t.waiting_key && delta) continue;
      t.waiting_key = false;
      if (!t.caps_set) {
        gst_app_src_set_caps(GST_APP_SRC(t.src), gst_sample_get_caps(sample));
        t.caps_set = true;
      }
      // The memory is shared, only the metadata is copied: each viewer's appsrc stamps its own
      // pipeline's running time (do-timestamp), the ingest's means nothing there.
      GstBuffer* copy = gst_buffer_copy(buf);
      GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
      gst_app_src_push_buffer(GST_APP_SRC(t.src), copy);
    }
    return is_video && key_pending && SteadyClock::now() - last_key >= key_interval;
  }

  // From any thread: asks the unit for a keyframe (the ingest's webrtcbin turns the upstream
  // force-key-unit into RTCP PLI/FIR), at most once per key_interval.
  void request_keyframe() {
    GstElement* sink = nullptr;
    {
      std::lock_guard lock(m);
      const auto now = SteadyClock::now();
      if (video_sink == nullptr || now - last_key < key_interval) {
        key_pending = true;  // not dropped: sent by push() once the interval has passed
        return;
      }
      last_key = now;
      key_pending = false;
      sink = GST_ELEMENT(gst_object_ref(video_sink));
    }
    ++key_requests;
    gst_element_send_event(sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(sink);
  }

  void add(const std::string& id, GstElement* vsrc, GstElement* asrc) {
    {
      std::lock_guard lock(m);
      if (vsrc != nullptr) video[id] = Target{GST_ELEMENT(gst_object_ref(vsrc))};
      if (asrc != nullptr) audio[id] = Target{GST_ELEMENT(gst_object_ref(asrc)), false};
    }
    request_keyframe();
  }

  void remove(const std::string& id) {
    std::lock_guard lock(m);
    for (auto* map : {&video, &audio}) {
      if (auto it = map->find(id); it != map->end()) {
        gst_object_unref(it->second.src);
        map->erase(it);
      }
    }
  }

  // A replacing ingest: every viewer starts again at a keyframe with the new stream's caps.
  void reset_targets() {
    std::lock_guard lock(m);
    for (auto* map : {&video, &audio}) {
      for (auto& [id, t] : *map) {
        t.waiting_key = map == &video;
        t.caps_set = false;
      }
    }
    if (video_sink != nullptr) gst_object_unref(video_sink);
    video_sink = nullptr;
    last_key = {};
    if (talk_src != nullptr) gst_object_unref(talk_src);
    talk_src = nullptr;  // the new ingest brings its own
    talk_caps_set = false;
  }
};

namespace {

GstFlowReturn on_video_sample(GstAppSink* sink, gpointer data) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  static_cast<Fanout*>(data)->push(true, sample);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

GstFlowReturn on_audio_sample(GstAppSink* sink, gpointer data) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  static_cast<Fanout*>(data)->push(false, sample);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// Streaming thread: a bin from `desc` goes beside `webrtc`, PLAYING, linked to its new src `pad`; null
// (logged) when it cannot be built. The bin belongs to the pipeline.
GstElement* link_bin(GstElement* webrtc, GstPad* pad, const char* desc, const std::string& what,
                     const std::function<void(GstElement*)>& before_link = {}) {
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description(desc, TRUE, &err);
  if (bin == nullptr) {
    logger()->error("live: cannot build the {} branch: {}", what, err != nullptr ? err->message : "?");
    if (err != nullptr) g_error_free(err);
    return nullptr;
  }
  if (before_link) before_link(bin);
  if (!webrtc::link_beside(webrtc, pad, bin)) logger()->error("live: cannot link the {} pad", what);
  return bin;
}

// Streaming thread: an incoming ingest pad goes to its depayloader and appsink.
void link_ingest_pad(const std::shared_ptr<Fanout>& fanout, GstElement* webrtc, GstPad* pad) {
  const std::string media = webrtc::pad_media(pad);
  // The depayloader makes access units by RTP timestamp and marker (avc), which holds even for a sender
  // that puts SPS/PPS between a frame's slices (rtph264pay config-interval=-1 does): asked for
  // byte-stream access units it splits such a frame in two. h264parse then puts SPS/PPS once before
  // every IDR access unit for the viewers, whose payloaders insert none (docs/live.md, "Slices").
  const char* desc = media == "video"   ? "rtph264depay ! video/x-h264,stream-format=avc,alignment=au ! "
                                          "h264parse config-interval=-1 ! "
                                          "video/x-h264,stream-format=byte-stream,alignment=au ! "
                                          "appsink name=sink sync=false max-buffers=60 drop=true"
                     : media == "audio" ? "rtpopusdepay ! appsink name=sink sync=false max-buffers=60 drop=true"
                                        : "fakesink sync=false async=false";
  link_bin(webrtc, pad, desc, "ingest's " + media, [&](GstElement* bin) {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
    if (sink == nullptr) return;
    GstAppSinkCallbacks cb{};
    cb.new_sample = media == "video" ? on_video_sample : on_audio_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, fanout.get(), nullptr);
    if (media == "video") {
      std::lock_guard lock(fanout->m);
      if (fanout->video_sink != nullptr) gst_object_unref(fanout->video_sink);
      fanout->video_sink = sink;  // the ref from get_by_name
    } else {
      gst_object_unref(sink);
    }
  });
  if (media == "video") fanout->request_keyframe();
}

// What a talking viewer's appsink callback reaches: the fan-out (it may be gone) and who the viewer is.
struct TalkContext {
  std::weak_ptr<Fanout> fanout;
  std::string viewer_id;
};

GstFlowReturn on_talk_sample(GstAppSink* sink, gpointer data) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  const auto* ctx = static_cast<TalkContext*>(data);
  if (auto f = ctx->fanout.lock()) f->push_talk(ctx->viewer_id, sample);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// Streaming thread: a viewer's incoming pad. Its audio (a talk-capable viewer's microphone) is
// depayloaded into an appsink that forwards it while the viewer holds the floor; anything else is dropped.
void link_viewer_pad(const std::weak_ptr<Fanout>& fanout, const std::string& viewer_id, GstElement* webrtc,
                     GstPad* pad) {
  const std::string media = webrtc::pad_media(pad);
  if (media != "audio") {
    webrtc::link_beside(webrtc, pad, webrtc::new_fakesink());
    return;
  }
  link_bin(webrtc, pad, "rtpopusdepay ! appsink name=talk sync=false max-buffers=25 drop=true", "viewer's talk",
           [&](GstElement* bin) {
             GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "talk");
             GstAppSinkCallbacks cb{};
             cb.new_sample = on_talk_sample;
             gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, new TalkContext{fanout, viewer_id},
                                        [](gpointer p) { delete static_cast<TalkContext*>(p); });
             gst_object_unref(sink);
           });
}

// The H.264 payload type to answer with: packetization-mode=1, constrained baseline preferred (what
// every browser decodes), else any packetization-mode=1.
int pick_h264(const webrtc::SdpMedia& m) {
  const int baseline = m.payload_for("H264", "profile-level-id=42e01f");
  if (baseline >= 0) {
    const auto it = std::find_if(m.fmtp.begin(), m.fmtp.end(), [&](const auto& f) { return f.first == baseline; });
    if (it != m.fmtp.end() && it->second.find("packetization-mode=1") != std::string::npos) return baseline;
  }
  return m.payload_for("H264", "packetization-mode=1");
}

}  // namespace

struct Viewer {
  std::string id;
  access::Principal who;
  bool video_only = false;
  bool talk = false;        // may take the floor (access::LiveRights::talk)
  bool talk_audio = false;  // offered audio sendrecv and was answered so: its microphone reaches the hub
  GstElement* pipeline = nullptr;
  std::unique_ptr<webrtc::Peer> peer;
  util::TimePoint since{};
  SteadyClock::time_point since_steady{};
  std::unique_ptr<net::steady_timer> limit;
  bool answered = false;
};

// The talk floor of one live stream: who talks (one viewer at most) and whether talkback is muted.
// It lives as long as the live does (a replacing ingest of the same live takes it over).
struct Talk {
  std::string viewer_id;  // "" nobody talks
  access::Principal who;
  SteadyClock::time_point since{};
  std::unique_ptr<net::steady_timer> expiry;  // a floor not renewed is dropped
  bool muted = false;
};

struct Ingest {
  std::string unit_id;
  std::string live_id;
  bool hub_started = false;
  bool answered = false;
  bool talkback = false;  // the unit's offer receives audio (it plays talkback)
  Talk talk;
  GstElement* pipeline = nullptr;
  std::unique_ptr<webrtc::Peer> peer;
  std::shared_ptr<Fanout> fanout;
  std::map<std::string, std::unique_ptr<Viewer>> viewers;
  std::unique_ptr<net::steady_timer> grace;
  std::unique_ptr<net::steady_timer> limit;
  util::TimePoint until{};
};

struct Pending {
  std::string live_id;
  std::vector<std::function<void(const std::string& error)>> waiters;  // "" once the ingest is up
  std::unique_ptr<net::steady_timer> timer;
};

struct Live::State : std::enable_shared_from_this<Live::State> {
  State(net::io_context& i, store::Store& s, audit::Auditor& a, LiveOptions o, LiveHooks h)
      : io(i), strand(net::make_strand(i)), store(s), auditor(a), options(std::move(o)), hooks(std::move(h)) {}

  net::io_context& io;
  Strand strand;
  store::Store& store;
  audit::Auditor& auditor;
  LiveOptions options;
  LiveHooks hooks;
  std::map<std::string, std::unique_ptr<Ingest>> ingests;
  std::map<std::string, std::unique_ptr<Pending>> pending;
  // Per unit, what the lesson under way holds: the teacher's consent, whom they invited (a manual
  // session) and who asks to watch. A session is its observation's id ("" for a manual one); a new
  // lesson, or 12 hours, starts afresh. In memory only: a hub restart asks the teacher again.
  struct Ask {
    std::string name;
    util::TimePoint since;
  };
  struct Session {
    std::string key;
    util::TimePoint started{};
    bool consent = false;
    std::vector<std::string> invited;
    std::map<std::string, Ask> asks;  // user id ->
    std::set<std::string> removed;    // whose view the teacher ended: not let back in unless accepted again
  };
  std::map<std::string, Session> sessions;
  bool stopped = false;

  template <typename F>
  void on_strand(F f) {
    net::post(strand, [self = shared_from_this(), f = std::move(f)]() mutable {
      if (!self->stopped) f();
    });
  }

  webrtc::PeerOptions peer_options() const {
    webrtc::PeerOptions o;
    o.ice_addresses = options.ice_addresses;
    return o;
  }

  // The unit's session for the lesson `f` describes, started afresh when the lesson changed.
  Session& session(const std::string& unit_id, const access::LiveFacts& f) {
    Session& ses = sessions[unit_id];
    const std::string key = f.observation_id.value_or("");
    const auto now = util::now_utc();
    if (ses.started == util::TimePoint{} || ses.key != key || now - ses.started >= std::chrono::hours(12)) {
      ses = Session{};
      ses.key = key;
      ses.started = now;
    }
    return ses;
  }

  access::LiveFacts facts(const std::string& unit_id) {
    access::LiveFacts f = lesson_facts(unit_id);
    // Only a real unit in a room gets a session: any signed-in user may name any id in a URL.
    if (f.in_room && !f.observation_id) f.invited_ids = session(unit_id, f).invited;
    return f;
  }

  access::LiveFacts lesson_facts(const std::string& unit_id) {
    access::LiveFacts f;
    const auto unit = store.unit(unit_id);
    if (!unit || unit->revoked || !unit->room_id) return f;
    const auto room = store.room(*unit->room_id);
    if (!room) return f;
    f.in_room = true;
    f.default_teacher_id = room->default_teacher_id;
    const auto now = util::now_utc();
    store::ObservationFilter filter;
    filter.room_id = *unit->room_id;
    filter.from = now;
    filter.to = now;
    for (const auto& o : store.observations(filter)) {
      if (o.start <= now && now < o.end) {
        f.observation_id = o.id;
        f.observation_teacher_id = o.teacher_id;
        f.observation_coach_ids = o.coach_ids;
        f.observation_live_allowed = o.live_allowed;
        break;
      }
    }
    return f;
  }

  bool consent_holds(const std::string& unit_id, const access::LiveFacts& f) {
    return f.observation_live_allowed || session(unit_id, f).consent;
  }

  void give_consent(const std::string& unit_id, const access::LiveFacts& f) {
    Session& ses = session(unit_id, f);
    ses.consent = true;
    for (const auto& [id, a] : ses.asks) ses.removed.erase(id);  // accepting someone's request lets them back
    ses.asks.clear();
  }

  void publish(const std::string& unit_id) {
    if (!hooks.publish_status) return;
    protocol::LiveStatus s;
    s.unit_id = unit_id;
    if (auto it = ingests.find(unit_id); it != ingests.end()) {
      s.live_id = it->second->live_id;
      s.viewers = static_cast<std::uint32_t>(it->second->viewers.size());
      s.until = it->second->until;
      const Talk& t = it->second->talk;
      if (!t.viewer_id.empty()) s.talker = t.who.display_name;
      s.talkback_muted = t.muted;
    }
    hooks.publish_status(s);
  }

  // ---- ingest ----

  void ingest(const access::Principal& unit, std::string live_id, std::string offer, http::Reply reply) {
    const std::string unit_id = unit.id;
    bool hub_started = false;
    std::shared_ptr<Fanout> fanout;
    std::map<std::string, std::unique_ptr<Viewer>> viewers;
    Talk talk;
    if (auto it = ingests.find(unit_id); it != ingests.end()) {
      if (live_id.empty() || live_id != it->second->live_id) {
        reply(http::problem(409, "another live stream of this unit is running (" + it->second->live_id + ")"));
        return;
      }
      // The unit reconnects the same live: the new ingest replaces the old, viewers stay.
      logger()->info("live: {} replaces its ingest {}", unit_id, live_id);
      hub_started = it->second->hub_started;
      fanout = it->second->fanout;
      viewers = std::move(it->second->viewers);
      talk = std::move(it->second->talk);
      stop_pipeline(it->second->pipeline);
      it->second->peer.reset();
      ingests.erase(it);
      fanout->reset_targets();
    }
    if (auto p = pending.find(unit_id); p != pending.end() && (live_id.empty() || live_id == p->second->live_id)) {
      live_id = p->second->live_id;
      hub_started = true;
    }
    if (live_id.empty()) {
      // The teacher started live on the unit itself: that is their consent for this lesson.
      live_id = util::uuid_v4();
      give_consent(unit_id, facts(unit_id));
      auditor.record(unit, "live.start", "unit", unit_id, "started on the unit");
    }
    if (!fanout) {
      fanout = std::make_shared<Fanout>();
      fanout->key_interval = options.keyframe_interval;
    }
    auto in = std::make_unique<Ingest>();
    in->unit_id = unit_id;
    in->live_id = live_id;
    in->hub_started = hub_started;
    in->fanout = fanout;
    in->viewers = std::move(viewers);
    in->talk = std::move(talk);
    in->until = util::now_utc() + options.max_live;
    in->pipeline = gst_pipeline_new(("ingest-" + unit_id).c_str());
    gst_object_ref_sink(in->pipeline);
    auto opts = peer_options();
    opts.on_pad_added = [fanout](GstElement* webrtc, GstPad* pad) { link_ingest_pad(fanout, webrtc, pad); };
    opts.on_state = [self = shared_from_this(), unit_id, live_id](GstWebRTCPeerConnectionState s) {
      if (s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
        self->end_live(unit_id, live_id, "the unit's connection failed");
    };
    auto peer = webrtc::Peer::create(strand, GST_BIN(in->pipeline), "ingest", opts);
    if (!peer) {
      stop_pipeline(in->pipeline);
      reply(http::problem(500, peer.error().message));
      return;
    }
    in->peer = std::move(*peer);
    if (auto st = add_talk_sender(*in, offer); !st) {
      in->peer.reset();
      stop_pipeline(in->pipeline);
      reply(http::problem(500, st.error().message));
      return;
    }
    if (gst_element_set_state(in->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      in->peer.reset();
      stop_pipeline(in->pipeline);
      reply(http::problem(500, "the ingest pipeline does not start"));
      return;
    }
    in->limit = std::make_unique<net::steady_timer>(strand, options.max_live);
    in->limit->async_wait([self = shared_from_this(), unit_id, live_id](boost::system::error_code ec) {
      if (!ec && !self->stopped) self->end_live(unit_id, live_id, "the live time limit passed");
    });
    Ingest& ref = *in;
    ingests[unit_id] = std::move(in);
    ref.peer->answer(offer, [self = shared_from_this(), unit_id, live_id, reply](Result<std::string> answer) {
      auto it = self->ingests.find(unit_id);
      if (it == self->ingests.end() || it->second->live_id != live_id) {
        reply(http::problem(409, "the live stream ended while it was being set up"));
        return;
      }
      if (!answer) {
        self->drop_ingest(unit_id);
        self->fail_pending(unit_id, "the unit's offer was refused: " + answer.error().message);
        reply(http::problem(400, answer.error().message, "body"));
        return;
      }
      it->second->answered = true;
      logger()->info("live: ingest {} of {} answered", live_id, unit_id);
      reply(sdp_response(201, *answer, "/api/v1/unit/live/" + live_id));
      self->run_pending(unit_id);
      self->publish(unit_id);
      if (it->second->viewers.empty()) self->arm_grace(*it->second);
    });
  }

  // When the unit's offer receives audio (sendrecv, or recvonly without a microphone), the ingest sends
  // the talker's audio back on that m-line: appsrc -> rtpopuspay with the unit's own Opus payload type
  // and a pinned SSRC (caps pinned as the viewers' are), linked before the answer is made, so webrtcbin
  // answers sendrecv (sendonly to a recvonly offer). Nobody talking: nothing is pushed, nothing is sent.
  Status add_talk_sender(Ingest& in, const std::string& offer) {
    const auto media = webrtc::parse_sdp(offer);
    if (!media) return ok_status();
    int pt = -1;
    for (const auto& m : *media) {
      if (m.kind == "audio" && (m.direction == "sendrecv" || m.direction == "recvonly")) {
        pt = m.payload_for("opus");
        break;
      }
    }
    if (pt < 0) return ok_status();  // live.talkback = "off" on the unit: no talkback
    const std::string desc = fmt::format(
        "appsrc name=talk is-live=true format=time do-timestamp=true max-bytes=200000 leaky-type=downstream ! "
        "rtpopuspay pt={0} ssrc={1} ! capsfilter name=trtp caps=application/x-rtp,media=audio,"
        "encoding-name=OPUS,clock-rate=48000,payload={0},ssrc=(uint){1}",
        pt, kTalkSsrc);
    GError* err = nullptr;
    GstElement* bin = gst_parse_bin_from_description(desc.c_str(), TRUE, &err);
    if (bin == nullptr) {
      const std::string why = err != nullptr ? err->message : "?";
      if (err != nullptr) g_error_free(err);
      return Error{"cannot build the talkback sender: " + why};
    }
    if (err != nullptr) g_error_free(err);
    gst_bin_add(GST_BIN(in.pipeline), bin);
    GstPad* src = gst_element_get_static_pad(bin, "src");
    const bool linked =
        webrtc::link_sending(in.peer->element(), src, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, false);
    gst_object_unref(src);
    if (!linked) return Error{"cannot link the talkback sender to the ingest"};
    GstElement* appsrc = gst_bin_get_by_name(GST_BIN(bin), "talk");
    in.fanout->set_talk_src(appsrc);
    gst_object_unref(appsrc);
    in.talkback = true;
    return ok_status();
  }

  // Removes an ingest without telling the unit (its POST failed, or it DELETEd).
  void drop_ingest(const std::string& unit_id) {
    auto it = ingests.find(unit_id);
    if (it == ingests.end()) return;
    auto in = std::move(it->second);
    ingests.erase(it);
    for (auto& [id, v] : in->viewers) close_viewer(*in, *v, "live ended");
    in->viewers.clear();
    stop_pipeline(in->pipeline);
    in->peer.reset();
    publish(unit_id);
  }

  // Ends live: every viewer, the ingest, and tells the unit to stop.
  void end_live(const std::string& unit_id, const std::string& live_id, const std::string& why) {
    auto it = ingests.find(unit_id);
    if (it == ingests.end() || it->second->live_id != live_id) return;
    logger()->info("live: {} ends live {}: {}", unit_id, live_id, why);
    send(unit_id, protocol::CommandAction::stream_stop, live_id, why);
    drop_ingest(unit_id);
  }

  void send(const std::string& unit_id, protocol::CommandAction action, const std::string& live_id,
            const std::string& reason) {
    if (!hooks.send_command) return;
    protocol::Command c;
    c.id = util::uuid_v4();
    c.action = action;
    c.issued_at = util::now_utc();
    c.expires_at = c.issued_at + std::chrono::seconds(30);
    c.args.live_id = live_id;
    if (action == protocol::CommandAction::stream_start) {
      c.args.max_s = static_cast<std::uint32_t>(options.max_live.count());
      c.args.reason = reason;
    }
    if (!hooks.send_command(unit_id, c)) logger()->warn("live: cannot send {} to {}", to_string(action), unit_id);
  }

  void arm_grace(Ingest& in) {
    if (!in.hub_started) return;  // started on the unit: it runs until the teacher stops it or the limit
    in.grace = std::make_unique<net::steady_timer>(strand, options.grace);
    in.grace->async_wait(
        [self = shared_from_this(), unit_id = in.unit_id, live_id = in.live_id](boost::system::error_code ec) {
          if (ec || self->stopped) return;
          auto it = self->ingests.find(unit_id);
          if (it != self->ingests.end() && it->second->viewers.empty())
            self->end_live(unit_id, live_id, "the last viewer left");
        });
  }

  // ---- waiting for the unit ----

  void ensure_started(const std::string& unit_id, const std::string& reason,
                      std::function<void(const std::string&)> waiter) {
    if (auto it = ingests.find(unit_id); it != ingests.end() && it->second->answered) {
      waiter("");
      return;
    }
    auto& p = pending[unit_id];
    if (!p) {
      p = std::make_unique<Pending>();
      p->live_id = util::uuid_v4();
      if (!hooks.send_command) {
        pending.erase(unit_id);
        waiter("the unit cannot be reached (the hub runs without MQTT)");
        return;
      }
      send(unit_id, protocol::CommandAction::stream_start, p->live_id, reason);
      p->timer = std::make_unique<net::steady_timer>(strand, options.ingest_wait);
      p->timer->async_wait([self = shared_from_this(), unit_id, live_id = p->live_id](boost::system::error_code ec) {
        if (ec || self->stopped) return;
        auto it = self->pending.find(unit_id);
        if (it != self->pending.end() && it->second->live_id == live_id)
          self->fail_pending(unit_id, "the unit did not start live in time");
      });
    }
    p->waiters.push_back(std::move(waiter));
  }

  void run_pending(const std::string& unit_id) {
    auto it = pending.find(unit_id);
    if (it == pending.end()) return;
    auto p = std::move(it->second);
    pending.erase(it);
    for (auto& w : p->waiters) w("");
  }

  void fail_pending(const std::string& unit_id, const std::string& why) {
    auto it = pending.find(unit_id);
    if (it == pending.end()) return;
    auto p = std::move(it->second);
    pending.erase(it);
    for (auto& w : p->waiters) w(why);
  }

  // ---- viewers ----

  void watch(const access::Principal& who, const std::string& unit_id, const std::string& offer, http::Reply reply) {
    const auto f = facts(unit_id);
    const auto rights = access::live_rights(who, f);
    if (!rights.any()) {
      auditor.record(who, "live.refused", "unit", unit_id, "not allowed to watch");
      reply(http::problem(403, "you may not watch this room live"));
      return;
    }
    if (rights.moderate) give_consent(unit_id, f);
    if (session(unit_id, f).removed.count(who.id) != 0) {
      auditor.record(who, "live.refused", "unit", unit_id, "the teacher ended their view");
      reply(http::problem(403, "the teacher ended your view of this lesson; ask again to be let back"));
      return;
    }
    if (rights.needs_consent && !consent_holds(unit_id, f)) {
      reply(http::problem(409, "the teacher has not accepted live for this lesson"));
      return;
    }
    auto media = webrtc::parse_sdp(offer);
    if (!media) {
      reply(http::problem(400, media.error().message, "body"));
      return;
    }
    const std::string reason = rights.preview    ? "technician's framing preview"
                               : rights.moderate ? "the teacher watches"
                                                 : "coach watches, teacher accepted";
    ensure_started(unit_id, reason,
                   [self = shared_from_this(), who, unit_id, offer, rights, reply](const std::string& error) {
                     if (!error.empty()) {
                       reply(http::problem(504, error));
                       return;
                     }
                     self->add_viewer(who, unit_id, offer, rights, reply);
                   });
  }

  void add_viewer(const access::Principal& who, const std::string& unit_id, const std::string& offer,
                  const access::LiveRights& rights, const http::Reply& reply) {
    auto it = ingests.find(unit_id);
    if (it == ingests.end()) {
      reply(http::problem(409, "the live stream ended"));
      return;
    }
    Ingest& in = *it->second;
    const auto media = webrtc::parse_sdp(offer);
    int video_pt = -1;
    int audio_pt = -1;
    std::string audio_direction;
    for (const auto& m : *media) {
      if (m.kind == "video" && video_pt < 0) video_pt = pick_h264(m);
      if (m.kind == "audio" && audio_pt < 0) {
        audio_pt = m.payload_for("opus");
        audio_direction = m.direction;
      }
    }
    if (video_pt < 0) {
      reply(http::problem(400, "the offer has no H.264 video with packetization-mode=1", "body"));
      return;
    }
    const bool video_only = rights.preview;
    if (video_only) audio_pt = -1;

    auto v = std::make_unique<Viewer>();
    v->id = util::uuid_v4();
    v->who = who;
    v->video_only = video_only || audio_pt < 0;
    v->talk = rights.talk;
    // Only a viewer allowed to talk gets its microphone answered; everyone else's audio is sendonly.
    v->talk_audio = rights.talk && audio_pt >= 0 && audio_direction == "sendrecv";
    v->since = util::now_utc();
    v->since_steady = SteadyClock::now();
    std::string desc = fmt::format(
        "appsrc name=v is-live=true format=time do-timestamp=true max-bytes=4000000 leaky-type=downstream ! "
        "rtph264pay pt={0} ssrc={1} config-interval=0 aggregate-mode=zero-latency ! "
        "capsfilter name=vrtp caps=application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={0},"
        "ssrc=(uint){1},packetization-mode=(string)1",
        video_pt, kVideoSsrc);
    if (audio_pt >= 0) {
      desc += fmt::format(
          " appsrc name=a is-live=true format=time do-timestamp=true max-bytes=400000 leaky-type=downstream ! "
          "rtpopuspay pt={0} ssrc={1} ! capsfilter name=artp caps=application/x-rtp,media=audio,"
          "encoding-name=OPUS,clock-rate=48000,payload={0},ssrc=(uint){1}",
          audio_pt, kAudioSsrc);
    }
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
    if (pipeline == nullptr || err != nullptr) {
      if (err != nullptr) g_error_free(err);
      if (pipeline != nullptr) gst_object_unref(pipeline);
      reply(http::problem(500, "cannot build the viewer's pipeline"));
      return;
    }
    v->pipeline = pipeline;
    auto opts = peer_options();
    const std::string viewer_id = v->id;
    opts.on_pad_added = [fanout = std::weak_ptr<Fanout>(in.fanout), viewer_id](GstElement* webrtc, GstPad* pad) {
      link_viewer_pad(fanout, viewer_id, webrtc, pad);
    };
    opts.on_state = [self = shared_from_this(), unit_id, viewer_id](GstWebRTCPeerConnectionState s) {
      if (s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED || s == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
        self->remove_viewer(unit_id, viewer_id, "the connection was lost");
    };
    auto peer = webrtc::Peer::create(strand, GST_BIN(pipeline), "viewer", opts);
    if (!peer) {
      stop_pipeline(v->pipeline);
      reply(http::problem(500, peer.error().message));
      return;
    }
    v->peer = std::move(*peer);
    const auto link = [&](const char* name, bool nack, GstWebRTCRTPTransceiverDirection direction) -> bool {
      GstElement* caps = gst_bin_get_by_name(GST_BIN(pipeline), name);
      GstPad* src = gst_element_get_static_pad(caps, "src");
      const bool ok = webrtc::link_sending(v->peer->element(), src, direction, nack);
      gst_object_unref(src);
      gst_object_unref(caps);
      return ok;
    };
    const auto sendonly = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    if (!link("vrtp", true, sendonly) ||
        (audio_pt >= 0 &&
         !link("artp", false, v->talk_audio ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV : sendonly))) {
      v->peer.reset();
      stop_pipeline(v->pipeline);
      reply(http::problem(500, "cannot link the viewer's pipeline"));
      return;
    }
    GstElement* vsrc = gst_bin_get_by_name(GST_BIN(pipeline), "v");
    GstElement* asrc = audio_pt >= 0 ? gst_bin_get_by_name(GST_BIN(pipeline), "a") : nullptr;
    {
      // The viewer's PLI/FIR arrives as an upstream force-key-unit at its appsrc: ask the unit.
      GstPad* pad = gst_element_get_static_pad(vsrc, "src");
      std::weak_ptr<Fanout> weak = in.fanout;
      gst_pad_add_probe(
          pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
          [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
            GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info);
            if (e != nullptr && gst_video_event_is_force_key_unit(e)) {
              if (auto f = static_cast<std::weak_ptr<Fanout>*>(data)->lock()) f->request_keyframe();
            }
            return GST_PAD_PROBE_OK;
          },
          new std::weak_ptr<Fanout>(weak), [](gpointer data) { delete static_cast<std::weak_ptr<Fanout>*>(data); });
      gst_object_unref(pad);
    }
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      gst_object_unref(vsrc);
      if (asrc != nullptr) gst_object_unref(asrc);
      v->peer.reset();
      stop_pipeline(v->pipeline);
      reply(http::problem(500, "the viewer's pipeline does not start"));
      return;
    }
    in.fanout->add(viewer_id, vsrc, asrc);
    gst_object_unref(vsrc);
    if (asrc != nullptr) gst_object_unref(asrc);
    if (in.grace) in.grace->cancel();
    if (rights.preview) {
      v->limit = std::make_unique<net::steady_timer>(strand, options.preview);
      v->limit->async_wait([self = shared_from_this(), unit_id, viewer_id](boost::system::error_code ec) {
        if (!ec && !self->stopped) self->remove_viewer(unit_id, viewer_id, "the preview time passed");
      });
    }
    Viewer& ref = *v;
    in.viewers[viewer_id] = std::move(v);
    ref.peer->answer(offer, [self = shared_from_this(), unit_id, viewer_id, reply](Result<std::string> answer) {
      Viewer* viewer = self->find_viewer(unit_id, viewer_id);
      if (viewer == nullptr) {
        reply(http::problem(409, "the live stream ended while the view was being set up"));
        return;
      }
      if (!answer) {
        self->remove_viewer(unit_id, viewer_id, "");
        reply(http::problem(400, answer.error().message, "body"));
        return;
      }
      viewer->answered = true;
      self->auditor.record(viewer->who, viewer->video_only ? "live.preview.start" : "live.view.start", "unit", unit_id,
                           "viewer " + viewer_id +
                               (viewer->video_only   ? ", video only"
                                : viewer->talk_audio ? ", video and audio, microphone for talkback"
                                                     : ", video and audio"));
      reply(sdp_response(201, *answer, "/api/v1/live/" + unit_id + "/whep/" + viewer_id));
      self->publish(unit_id);
    });
  }

  Viewer* find_viewer(const std::string& unit_id, const std::string& viewer_id) {
    auto it = ingests.find(unit_id);
    if (it == ingests.end()) return nullptr;
    auto v = it->second->viewers.find(viewer_id);
    return v == it->second->viewers.end() ? nullptr : v->second.get();
  }

  // Stops a viewer's pipeline and audits how long they watched; the caller removes it from the map.
  void close_viewer(Ingest& in, Viewer& v, const std::string& why) {
    if (in.talk.viewer_id == v.id) end_talk(in, why.empty() ? "the view ended" : why);
    in.fanout->remove(v.id);
    if (v.limit) v.limit->cancel();
    v.peer.reset();
    stop_pipeline(v.pipeline);
    if (v.answered) {
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - v.since_steady);
      auditor.record(v.who, v.video_only ? "live.preview.end" : "live.view.end", "unit", in.unit_id,
                     fmt::format("viewer {}, from {}, watched {} s{}", v.id, util::to_rfc3339_seconds(v.since),
                                 secs.count(), why.empty() ? "" : "; " + why));
    }
  }

  bool remove_viewer(const std::string& unit_id, const std::string& viewer_id, const std::string& why) {
    auto it = ingests.find(unit_id);
    if (it == ingests.end()) return false;
    Ingest& in = *it->second;
    auto v = in.viewers.find(viewer_id);
    if (v == in.viewers.end()) return false;
    auto viewer = std::move(v->second);
    in.viewers.erase(v);
    close_viewer(in, *viewer, why);
    publish(unit_id);
    if (in.viewers.empty()) arm_grace(in);
    return true;
  }

  // ---- talkback ----

  // Releases the floor (nothing sent to the unit from now on) and audits how long they talked; the
  // caller publishes.
  void end_talk(Ingest& in, const std::string& why) {
    if (in.talk.viewer_id.empty()) return;
    in.fanout->set_talker("");
    if (in.talk.expiry) in.talk.expiry->cancel();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - in.talk.since);
    auditor.record(in.talk.who, "live.talk.end", "unit", in.unit_id,
                   fmt::format("talked {:.1f} s; {}", static_cast<double>(ms.count()) / 1000.0, why));
    in.talk.viewer_id.clear();
    in.talk.who = {};
  }

  // The floor drops by itself when its holder stops renewing it (a page that vanished mid-sentence).
  void arm_talk_expiry(Ingest& in) {
    in.talk.expiry = std::make_unique<net::steady_timer>(strand, options.talk_floor);
    in.talk.expiry->async_wait(
        [self = shared_from_this(), unit_id = in.unit_id, viewer_id = in.talk.viewer_id](boost::system::error_code ec) {
          if (ec || self->stopped) return;
          auto it = self->ingests.find(unit_id);
          if (it == self->ingests.end() || it->second->talk.viewer_id != viewer_id) return;
          self->end_talk(*it->second, "the floor was not renewed");
          self->publish(unit_id);
        });
  }

  // POST /api/v1/live/{unit_id}/talk: take (or renew) or release the floor.
  http::Response talk(const access::Principal& who, const std::string& unit_id, bool talking) {
    const auto f = facts(unit_id);
    const auto rights = access::live_rights(who, f);
    if (!rights.talk) return http::problem(403, "you may not talk into this room's earpiece");
    auto it = ingests.find(unit_id);
    if (it == ingests.end() || !it->second->answered) return http::problem(409, "no live stream of this room runs");
    Ingest& in = *it->second;
    const bool holds = !in.talk.viewer_id.empty() && in.talk.who.id == who.id;
    if (!talking) {
      if (holds) end_talk(in, "released");
      publish(unit_id);
      return http::json(200, status_json(unit_id, who.id, rights, f));
    }
    if (in.talk.muted) return http::problem(409, "the teacher has muted talkback");
    if (!in.talkback) return http::problem(409, "this unit plays no talkback (its live.talkback is \"off\")");
    if (!in.talk.viewer_id.empty() && !holds) {
      return http::problem(409, in.talk.who.display_name + " is talking; wait until they release the floor");
    }
    // The caller's own live view with sendrecv audio: their microphone reaches the hub only through it.
    const Viewer* mine = nullptr;
    for (const auto& [id, v] : in.viewers) {
      if (v->who.id == who.id && v->talk_audio && v->answered) mine = v.get();
    }
    if (mine == nullptr) {
      return http::problem(409, "talking needs your live view with sendrecv audio (your microphone) open first");
    }
    if (!holds) {
      in.talk.viewer_id = mine->id;
      in.talk.who = who;
      in.talk.since = SteadyClock::now();
      in.fanout->set_talker(mine->id);
      auditor.record(who, "live.talk.start", "unit", unit_id, "viewer " + mine->id);
    }
    arm_talk_expiry(in);
    publish(unit_id);
    return http::json(200, status_json(unit_id, who.id, rights, f));
  }

  // Mutes or unmutes talkback at once (the talker loses the floor); `by` is the teacher or the unit.
  void set_muted(Ingest& in, bool muted, const access::Principal& by, const std::string& how) {
    if (in.talk.muted == muted) return;
    in.talk.muted = muted;
    if (muted) end_talk(in, "talkback muted " + how);
    auditor.record(by, muted ? "live.talkback.mute" : "live.talkback.unmute", "unit", in.unit_id, how);
    publish(in.unit_id);
  }

  protocol::Json status_json(const std::string& unit_id, const std::string& who_id, const access::LiveRights& rights,
                             const access::LiveFacts& f) {
    protocol::Json j = {{"unit_id", unit_id},
                        {"state", "off"},
                        {"consent", consent_holds(unit_id, f)},
                        {"talker", nullptr},
                        {"talkback_muted", false}};
    if (const auto unit = store.unit(unit_id); unit && unit->room_id) {
      if (const auto room = store.room(*unit->room_id)) j["room_name"] = room->name;
    }
    protocol::Json may = protocol::Json::array();
    if (rights.watch) may.push_back("watch");
    if (rights.preview) may.push_back("preview");
    if (rights.talk) may.push_back("talk");
    if (rights.moderate) may.push_back("moderate");
    j["you_may"] = may;
    j["lesson"] = f.observation_id ? protocol::Json(*f.observation_id) : protocol::Json(nullptr);
    if (rights.moderate) {
      const Session& ses = session(unit_id, f);
      protocol::Json asks = protocol::Json::array();
      for (const auto& [id, a] : ses.asks)
        asks.push_back({{"user_id", id}, {"name", a.name}, {"since", util::to_rfc3339_seconds(a.since)}});
      j["requests"] = asks;
      j["invited"] = ses.invited;
    } else if (rights.needs_consent) {
      const Session& ses = session(unit_id, f);
      j["asked"] = ses.asks.count(who_id) != 0;
      j["removed"] = ses.removed.count(who_id) != 0;
    }
    if (pending.count(unit_id) != 0) j["state"] = "starting";
    auto it = ingests.find(unit_id);
    if (it == ingests.end()) {
      j["viewer_count"] = 0;
      return j;
    }
    const Ingest& in = *it->second;
    j["state"] = in.answered ? "live" : "starting";
    j["talkback"] = in.talkback;
    j["talkback_muted"] = in.talk.muted;
    if (!in.talk.viewer_id.empty()) {
      j["talker"] = {{"user_id", in.talk.who.id}, {"name", in.talk.who.display_name}};
    }
    j["you_talk"] = !in.talk.viewer_id.empty() && !who_id.empty() && in.talk.who.id == who_id;
    j["live_id"] = in.live_id;
    j["until"] = util::to_rfc3339_seconds(in.until);
    j["viewer_count"] = in.viewers.size();
    if (rights.moderate) {
      protocol::Json list = protocol::Json::array();
      for (const auto& [id, v] : in.viewers) {
        list.push_back({{"viewer_id", id},
                        {"user_id", v->who.id},
                        {"name", v->who.display_name},
                        {"role", std::string(access::to_string(v->who.caller))},
                        {"since", util::to_rfc3339_seconds(v->since)},
                        {"video_only", v->video_only}});
      }
      j["viewers"] = list;
    }
    return j;
  }
};

Live::Live(net::io_context& io, store::Store& store, audit::Auditor& auditor, LiveOptions options, LiveHooks hooks)
    : state_(std::make_shared<State>(io, store, auditor, std::move(options), std::move(hooks))) {
  webrtc::ensure_gstreamer();
}

// stop() ran while the I/O threads did (Service::stop); nothing posted runs after this.
Live::~Live() { state_->stopped = true; }

void Live::stop() {
  auto s = state_;
  if (s->stopped) return;
  std::promise<void> done;
  net::post(s->strand, [s, &done] {
    if (!s->stopped) {
      std::vector<std::string> units;
      for (const auto& [id, in] : s->ingests) units.push_back(id);
      for (const auto& id : units) {
        s->send(id, protocol::CommandAction::stream_stop, s->ingests[id]->live_id, "the hub is stopping");
        s->drop_ingest(id);
      }
      for (const auto& [id, p] : s->pending) {
        for (auto& w : p->waiters) w("the hub is stopping");
      }
      s->pending.clear();
      s->stopped = true;
    }
    done.set_value();
  });
  // Without running I/O threads nothing live can be running either.
  (void)done.get_future().wait_for(std::chrono::seconds(10));
}

std::size_t Live::viewers(const std::string& unit_id) {
  std::promise<std::size_t> p;
  net::post(state_->strand, [s = state_, unit_id, &p] {
    auto it = s->ingests.find(unit_id);
    p.set_value(it == s->ingests.end() ? 0 : it->second->viewers.size());
  });
  return p.get_future().get();
}

bool Live::ingest_running(const std::string& unit_id) {
  std::promise<bool> p;
  net::post(state_->strand, [s = state_, unit_id, &p] {
    auto it = s->ingests.find(unit_id);
    p.set_value(it != s->ingests.end() && it->second->answered);
  });
  return p.get_future().get();
}

void Live::add_routes(http::Router& router) {
  using access::Access;
  using access::Caller;
  auto s = state_;

  // Before /api/v1/live/{unit_id}: the first matching route wins.
  router.add(
      "GET", "/api/v1/live/ice", Access::any_user(),
      [s](http::Request& req) {
        protocol::Json servers = protocol::Json::array();
        const auto& o = s->options;
        if (!o.turn_server.empty() && !o.turn_secret.empty()) {
          const auto c = auth::turn_credentials(o.turn_secret, req.principal.id, util::now_utc(), o.turn_credential);
          servers.push_back(
              {{"urls", {"turn:" + o.turn_server + "?transport=udp", "turn:" + o.turn_server + "?transport=tcp"}},
               {"username", c.username},
               {"credential", c.credential}});
        }
        auto res = http::json(200, {{"ice_servers", servers}});
        res.headers.set("Cache-Control", "no-store");
        return res;
      },
      "ICE servers for the live page (TURN with short-lived credentials when configured)");

  router
      .add_async(
          "POST", "/api/v1/unit/live", Access::unit(),
          [s](http::Request& req, const http::Reply& reply) {
            if (!is_sdp(req)) {
              reply(http::problem(415, "the offer must be SDP (Content-Type: application/sdp)"));
              return;
            }
            if (auto parsed = webrtc::parse_sdp(req.body); !parsed) {
              reply(http::problem(400, parsed.error().message, "body"));
              return;
            }
            const std::string live_id = req.header("Classcam-Live-Id");
            if (!live_id.empty() && !valid_live_id(live_id)) {
              reply(http::problem(400, "not a live id", "Classcam-Live-Id"));
              return;
            }
            s->on_strand(
                [s, who = req.principal, live_id, offer = req.body, reply] { s->ingest(who, live_id, offer, reply); });
          },
          "A unit offers its live stream (SDP); the answer comes back in the 201")
      .with_body_limit(64 * 1024);

  router.add_async(
      "DELETE", "/api/v1/unit/live/{live_id}", Access::unit(),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand([s, who = req.principal, live_id = req.param("live_id"), reply] {
          auto it = s->ingests.find(who.id);
          if (it != s->ingests.end() && it->second->live_id == live_id) {
            s->auditor.record(who, "live.stop", "unit", who.id, "the unit ended live " + live_id);
            s->drop_ingest(who.id);
          }
          reply(http::no_content());  // already gone is fine: the unit only wants it ended
        });
      },
      "A unit ends its live stream");

  router
      .add_async(
          "POST", "/api/v1/live/{unit_id}/whep", Access::any_user(),
          [s](http::Request& req, const http::Reply& reply) {
            if (!is_sdp(req)) {
              reply(http::problem(415, "the offer must be SDP (Content-Type: application/sdp)"));
              return;
            }
            s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), offer = req.body, reply] {
              s->watch(who, unit_id, offer, reply);
            });
          },
          "Watch a unit live (WHEP): a recvonly SDP offer; the answer comes back in the 201")
      .with_body_limit(64 * 1024);

  router.add_async(
      "DELETE", "/api/v1/live/{unit_id}/whep/{viewer_id}", Access::any_user(),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand(
            [s, who = req.principal, unit_id = req.param("unit_id"), viewer_id = req.param("viewer_id"), reply] {
              Viewer* v = s->find_viewer(unit_id, viewer_id);
              if (v == nullptr || v->who.id != who.id) {
                reply(http::problem(404, "no such view"));
                return;
              }
              s->remove_viewer(unit_id, viewer_id, "left");
              reply(http::no_content());
            });
      },
      "Leave a live view");

  router.add_async(
      "GET", "/api/v1/live/{unit_id}", Access::any_user(),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), reply] {
          const auto f = s->facts(unit_id);
          const auto rights = access::live_rights(who, f);
          if (!rights.any()) {
            reply(http::problem(403, "you may not watch this room live"));
            return;
          }
          reply(http::json(200, s->status_json(unit_id, who.id, rights, f)));
        });
      },
      "A unit's live state: viewers (for the teacher), consent, until");

  router.add_async(
      "DELETE", "/api/v1/live/{unit_id}/viewers/{viewer_id}", Access::only({Caller::teacher}),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand(
            [s, who = req.principal, unit_id = req.param("unit_id"), viewer_id = req.param("viewer_id"), reply] {
              if (!access::live_rights(who, s->facts(unit_id)).moderate) {
                reply(http::problem(403, "only the lesson's teacher ends other people's views"));
                return;
              }
              Viewer* v = s->find_viewer(unit_id, viewer_id);
              if (v == nullptr) {
                reply(http::problem(404, "no such view"));
                return;
              }
              s->auditor.record(who, "live.view.ended", "unit", unit_id, "ended the view of " + v->who.display_name);
              // Ended means ended: the page would otherwise dial straight back in.
              if (v->who.id != who.id) s->session(unit_id, s->facts(unit_id)).removed.insert(v->who.id);
              s->remove_viewer(unit_id, viewer_id, "ended by the teacher");
              reply(http::no_content());
            });
      },
      "The teacher ends someone's live view");

  router.add_async(
      "POST", "/api/v1/live/{unit_id}/consent", Access::only({Caller::teacher}),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), reply] {
          const auto f = s->facts(unit_id);
          const auto rights = access::live_rights(who, f);
          if (!rights.moderate) {
            reply(http::problem(403, "only the lesson's teacher consents to live"));
            return;
          }
          s->give_consent(unit_id, f);
          s->auditor.record(who, "live.consent", "unit", unit_id, f.observation_id.value_or("manual session"));
          reply(http::json(200, s->status_json(unit_id, who.id, rights, f)));
        });
      },
      "The teacher accepts live for the lesson under way");

  router.add_async(
      "POST", "/api/v1/live/{unit_id}/requests", Access::only({Caller::coach, Caller::teacher}),
      [s](http::Request& req, const http::Reply& reply) {
        s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), reply] {
          const auto f = s->facts(unit_id);
          const auto rights = access::live_rights(who, f);
          if (!rights.needs_consent) {
            reply(rights.any() ? http::problem(409, "you need no one's consent to watch this room live")
                               : http::problem(403, "you may not watch this room live"));
            return;
          }
          if (!s->consent_holds(unit_id, f) || s->session(unit_id, f).removed.count(who.id) != 0) {
            auto& asks = s->session(unit_id, f).asks;
            if (asks.count(who.id) == 0) {
              asks[who.id] = State::Ask{who.display_name, util::now_utc()};
              s->auditor.record(who, "live.request", "unit", unit_id, f.observation_id.value_or("manual session"));
            }
          }
          reply(http::json(200, s->status_json(unit_id, who.id, rights, f)));
        });
      },
      "An invited coach asks the teacher to accept live for the lesson under way");

  router
      .add_async(
          "POST", "/api/v1/live/{unit_id}/invites", Access::only({Caller::teacher}),
          [s](http::Request& req, const http::Reply& reply) {
            const auto body = http::json_body(req);
            const std::string user_id = protocol::Reader(body, "").string("user_id", 64);
            s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), user_id, reply] {
              const auto f = s->facts(unit_id);
              const auto rights = access::live_rights(who, f);
              if (!rights.moderate) {
                reply(http::problem(403, "only the room's teacher invites people to watch live"));
                return;
              }
              if (f.observation_id) {
                reply(
                    http::problem(409, "an observation is under way: its invited coaches watch; invite people to it"));
                return;
              }
              const auto user = s->store.user(user_id);
              if (!user || user->disabled || (user->role != store::Role::coach && user->role != store::Role::teacher) ||
                  user_id == who.id) {
                reply(http::problem(400, "no coach or teacher " + user_id + " to invite", "user_id"));
                return;
              }
              auto& ses = s->session(unit_id, f);
              if (std::find(ses.invited.begin(), ses.invited.end(), user_id) == ses.invited.end())
                ses.invited.push_back(user_id);
              ses.removed.erase(user_id);
              ses.consent = true;  // inviting someone to watch is consenting to it
              s->auditor.record(who, "live.invite", "unit", unit_id, "invited " + user->display_name + " to watch");
              reply(http::json(200, s->status_json(unit_id, who.id, rights, s->facts(unit_id))));
            });
          },
          "The room's teacher invites a coach to watch a manual session live")
      .with_body_limit(4096);

  // Talkback (docs/live.md "Talkback"): one talker at a time, the teacher or the unit mutes it.
  router
      .add_async(
          "POST", "/api/v1/live/{unit_id}/talk", Access::any_user(),
          [s](http::Request& req, const http::Reply& reply) {
            const auto body = http::json_body(req);
            const bool talking = protocol::Reader(body, "").boolean("talking");
            s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), talking, reply] {
              reply(s->talk(who, unit_id, talking));
            });
          },
          "Take ({\"talking\": true}, renewed by repeating it) or release ({\"talking\": false}) the talk floor")
      .with_body_limit(1024);

  router
      .add_async(
          "POST", "/api/v1/live/{unit_id}/mute", Access::only({Caller::teacher}),
          [s](http::Request& req, const http::Reply& reply) {
            const auto body = http::json_body(req);
            const bool muted = protocol::Reader(body, "").boolean("muted");
            s->on_strand([s, who = req.principal, unit_id = req.param("unit_id"), muted, reply] {
              const auto f = s->facts(unit_id);
              const auto rights = access::live_rights(who, f);
              if (!rights.moderate) {
                reply(http::problem(403, "only the lesson's teacher mutes talkback"));
                return;
              }
              auto it = s->ingests.find(unit_id);
              if (it == s->ingests.end()) {
                reply(http::problem(409, "no live stream of this room runs"));
                return;
              }
              s->set_muted(*it->second, muted, who, "by the teacher on the page");
              reply(http::json(200, s->status_json(unit_id, who.id, rights, f)));
            });
          },
          "The teacher mutes ({\"muted\": true}) or unmutes talkback; the talker loses the floor")
      .with_body_limit(1024);

  router
      .add_async(
          "POST", "/api/v1/unit/live/{live_id}/mute", Access::unit(),
          [s](http::Request& req, const http::Reply& reply) {
            const auto body = http::json_body(req);
            const bool muted = protocol::Reader(body, "").boolean("muted");
            s->on_strand([s, who = req.principal, live_id = req.param("live_id"), muted, reply] {
              auto it = s->ingests.find(who.id);
              if (it == s->ingests.end() || it->second->live_id != live_id) {
                reply(http::problem(404, "no live " + live_id + " of this unit runs"));
                return;
              }
              s->set_muted(*it->second, muted, who, "on the unit");
              reply(http::no_content());
            });
          },
          "The unit muted or unmuted talkback (button or classcamctl)")
      .with_body_limit(1024);
}

}  // namespace classcam::hub::live
