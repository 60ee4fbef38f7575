// A real TLS hub, a real webrtcbin "unit" posting its offer as classcamd does, and real receiving
// webrtcbin viewers posting WHEP offers; the frames counted are decoded pictures that went through the
// hub's fan-out.
#include "hub/live/live.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gst/video/video.h>
#include <sys/resource.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "common/protocol/topics.hpp"
#include "common/webrtc/peer.hpp"
#include "hub/app/service.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/broker/broker.hpp"
#include "hub/broker/files.hpp"
#include "hub/fleet/fleet.hpp"
#include "hub/testing/mqtt_client.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/tone.hpp"

namespace classcam::hub::live {
namespace {

using testkit::TestHub;

// A long GOP (10 s): a viewer that decodes within a few seconds got a keyframe it asked for.
constexpr const char* kUnit =
    "videotestsrc is-live=true pattern=ball motion=sweep ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 bitrate=300 ! "
    "video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 pt=96 ssrc=4242 "
    "aggregate-mode=zero-latency ! capsfilter name=vrtp "
    "caps=application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,ssrc=(uint)4242 "
    "audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111 "
    "ssrc=4343 ! capsfilter name=artp "
    "caps=application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,ssrc=(uint)4343";

// A unit as an x264 with sliced threads makes it (two or more slices a frame) behind a payloader that
// puts SPS/PPS before every IDR slice, i.e. between the slices (older classcamd did): an all-white
// picture, so a slice lost anywhere shows as a dark (zero, green in RGB) band.
constexpr const char* kSlicedUnit =
    "videotestsrc is-live=true pattern=white ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=veryfast threads=4 key-int-max=30 bitrate=300 ! "
    "video/x-h264,profile=high ! h264parse ! video/x-h264,stream-format=avc ! rtph264pay config-interval=-1 pt=96 "
    "ssrc=4242 aggregate-mode=zero-latency ! capsfilter name=vrtp "
    "caps=application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,ssrc=(uint)4242 "
    "audiotestsrc is-live=true wave=silence ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111 "
    "ssrc=4343 ! capsfilter name=artp "
    "caps=application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,ssrc=(uint)4343";

// One io_context thread for the test's peers.
struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    work.reset();
    io.stop();
    thread.join();
  }
  void run(const std::function<void()>& f) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
};

struct Pipeline {
  GstElement* p = nullptr;
  ~Pipeline() {
    if (p != nullptr) {
      gst_element_set_state(p, GST_STATE_NULL);
      gst_object_unref(p);
    }
  }
};

void link_send(GstElement* pipeline, const char* name, GstElement* webrtc, GstWebRTCRTPTransceiverDirection dir,
               bool nack) {
  GstElement* caps = gst_bin_get_by_name(GST_BIN(pipeline), name);
  GstPad* src = gst_element_get_static_pad(caps, "src");
  EXPECT_TRUE(webrtc::link_sending(webrtc, src, dir, nack));
  gst_object_unref(src);
  gst_object_unref(caps);
}

// An offerer peer: offer() on the loop, the SDP back to the test thread.
std::string make_offer(Loop& loop, webrtc::Peer& peer) {
  std::promise<Result<std::string>> p;
  loop.run([&] { peer.offer([&p](Result<std::string> r) { p.set_value(std::move(r)); }); });
  auto r = p.get_future().get();
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : "";
}

Status accept(Loop& loop, webrtc::Peer& peer, const std::string& answer) {
  std::promise<Status> p;
  loop.run([&] { peer.accept_answer(answer, [&p](Status s) { p.set_value(std::move(s)); }); });
  return p.get_future().get();
}

using SteadyTime = std::chrono::steady_clock::time_point;

// Decoded audio as it arrives (16-bit mono 48 kHz), each buffer with its arrival time: what the unit's
// earpiece would play.
struct Heard {
  std::mutex m;
  std::vector<std::pair<SteadyTime, std::vector<std::int16_t>>> buffers;

  // Streaming thread: links `pad` to a decoder whose PCM is kept here.
  void link(GstElement* webrtc, GstPad* pad) {
    GstElement* bin = gst_parse_bin_from_description(
        "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
        "fakesink name=ear signal-handoffs=true sync=false async=false",
        TRUE, nullptr);
    GstElement* ear = gst_bin_get_by_name(GST_BIN(bin), "ear");
    g_signal_connect(ear, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* buf, GstPad*, gpointer data) {
                       auto* h = static_cast<Heard*>(data);
                       GstMapInfo map;
                       if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return;
                       const auto* s = reinterpret_cast<const std::int16_t*>(map.data);
                       std::vector<std::int16_t> pcm(s, s + map.size / 2);
                       gst_buffer_unmap(buf, &map);
                       std::lock_guard lock(h->m);
                       h->buffers.emplace_back(std::chrono::steady_clock::now(), std::move(pcm));
                     }),
                     this);
    gst_object_unref(ear);
    webrtc::link_beside(webrtc, pad, bin);
  }

  // The tone at `freq` in what arrived between `from` and `to`.
  test::ToneLevel level(double freq, SteadyTime from, SteadyTime to) {
    std::vector<std::int16_t> pcm;
    {
      std::lock_guard lock(m);
      for (const auto& [at, b] : buffers) {
        if (at >= from && at < to) pcm.insert(pcm.end(), b.begin(), b.end());
      }
    }
    return test::tone_level(pcm.data(), pcm.size(), 48000, freq);
  }
  test::ToneLevel last(double freq, std::chrono::milliseconds window) {
    const auto now = std::chrono::steady_clock::now();
    return level(freq, now - window, now);
  }
};

struct Unit {
  Heard heard;  // talkback; first, so it outlives the pipeline that fills it
  Pipeline pipeline;
  std::unique_ptr<webrtc::Peer> peer;
};

std::unique_ptr<Unit> make_unit(Loop& loop, const char* description = kUnit) {
  auto u = std::make_unique<Unit>();
  GError* err = nullptr;
  u->pipeline.p = gst_parse_launch(description, &err);
  EXPECT_EQ(err, nullptr);
  webrtc::PeerOptions o;
  o.ice_addresses = {"127.0.0.1"};
  // The unit plays the talkback it receives (the earpiece); nothing else comes in.
  o.on_pad_added = [heard = &u->heard](GstElement* webrtc, GstPad* pad) { heard->link(webrtc, pad); };
  loop.run([&] {
    auto peer = webrtc::Peer::create(loop.io, GST_BIN(u->pipeline.p), "unit", o);
    if (peer) u->peer = std::move(*peer);
  });
  EXPECT_TRUE(u->peer);
  link_send(u->pipeline.p, "vrtp", u->peer->element(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, true);
  link_send(u->pipeline.p, "artp", u->peer->element(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, false);
  gst_element_set_state(u->pipeline.p, GST_STATE_PLAYING);
  return u;
}

struct Viewer {
  Pipeline pipeline;
  std::unique_ptr<webrtc::Peer> peer;
  std::atomic<int> frames{0};
  std::atomic<int> audio{0};
  std::atomic<int> damaged{0};  // decoded pictures whose every row is not white (see kSlicedUnit)
  std::atomic<std::int64_t> first_frame_ms{-1};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// The darkest row's mean luma of a GRAY8 picture.
int darkest_row(GstBuffer* buf, GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  GstVideoInfo info;
  const bool ok = caps != nullptr && gst_video_info_from_caps(&info, caps);
  if (caps != nullptr) gst_caps_unref(caps);
  GstMapInfo map;
  if (!ok || !gst_buffer_map(buf, &map, GST_MAP_READ)) return -1;
  int darkest = 255;
  const int w = GST_VIDEO_INFO_WIDTH(&info);
  const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y) {
    long sum = 0;
    for (int x = 0; x < w; ++x) sum += map.data[y * stride + x];
    darkest = std::min<int>(darkest, static_cast<int>(sum / w));
  }
  gst_buffer_unmap(buf, &map);
  return darkest;
}

// `mic_hz` > 0: a coach's browser with a microphone sending that tone, its audio offered sendrecv.
std::unique_ptr<Viewer> make_viewer(Loop& loop, bool with_audio = true, bool decode = true, int mic_hz = 0,
                                    unsigned latency_ms = 40) {
  auto v = std::make_unique<Viewer>();
  if (mic_hz > 0) {
    const std::string mic = fmt::format(
        "audiotestsrc is-live=true samplesperbuffer=240 wave=sine freq={} volume=0.5 ! "
        "audio/x-raw,rate=48000,channels=1 ! volume name=micvol ! opusenc frame-size=20 ! rtpopuspay pt=109 ssrc=5151 "
        "! capsfilter name=mic "
        "caps=application/x-rtp,media=audio,encoding-name=OPUS,payload=109,clock-rate=48000,ssrc=(uint)5151",
        mic_hz);
    v->pipeline.p = gst_parse_launch(mic.c_str(), nullptr);
  } else {
    v->pipeline.p = gst_pipeline_new("viewer");
  }
  webrtc::PeerOptions o;
  o.ice_addresses = {"127.0.0.1"};
  o.latency_ms = latency_ms;
  Viewer* self = v.get();
  o.on_pad_added = [self, decode](GstElement* webrtc, GstPad* pad) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
    const std::string media = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
    gst_caps_unref(caps);
    const bool video = media == "video";
    GstElement* bin = gst_parse_bin_from_description(
        video ? (decode ? "rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=GRAY8 ! "
                          "fakesink name=count signal-handoffs=true sync=false"
                        : "rtph264depay ! fakesink name=count signal-handoffs=true sync=false")
              : (decode ? "rtpopusdepay ! opusdec ! fakesink name=count signal-handoffs=true sync=false"
                        : "rtpopusdepay ! fakesink name=count signal-handoffs=true sync=false"),
        TRUE, nullptr);
    GstElement* count = gst_bin_get_by_name(GST_BIN(bin), "count");
    if (video) {
      g_signal_connect(count, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* buf, GstPad* sink_pad, gpointer data) {
                         auto* s = static_cast<Viewer*>(data);
                         // -1 for encoded buffers (a viewer that does not decode).
                         if (const int d = darkest_row(buf, sink_pad); d >= 0 && d < 200) ++s->damaged;
                         if (s->frames++ == 0) {
                           s->first_frame_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - s->started)
                                                   .count();
                         }
                       }),
                       self);
    } else {
      g_signal_connect(count, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer data) {
                         ++static_cast<Viewer*>(data)->audio;
                       }),
                       self);
    }
    gst_object_unref(count);
    webrtc::link_beside(webrtc, pad, bin);
  };
  loop.run([&] {
    auto peer = webrtc::Peer::create(loop.io, GST_BIN(v->pipeline.p), "viewer", o);
    if (peer) v->peer = std::move(*peer);
  });
  EXPECT_TRUE(v->peer);
  // A browser-like recvonly offer: VP8 first, H.264 on a payload type of its own choosing.
  GstCaps* vcaps = gst_caps_from_string(
      "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
      "packetization-mode=(string)1,profile-level-id=(string)42e01f");
  GstWebRTCRTPTransceiver* t = nullptr;
  g_signal_emit_by_name(v->peer->element(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, vcaps,
                        &t);
  gst_caps_unref(vcaps);
  if (t != nullptr) gst_object_unref(t);
  if (mic_hz > 0) {
    link_send(v->pipeline.p, "mic", v->peer->element(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, false);
  } else if (with_audio) {
    GstCaps* acaps =
        gst_caps_from_string("application/x-rtp,media=audio,encoding-name=OPUS,payload=109,clock-rate=48000");
    g_signal_emit_by_name(v->peer->element(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, acaps,
                          &t);
    gst_caps_unref(acaps);
    if (t != nullptr) gst_object_unref(t);
  }
  gst_element_set_state(v->pipeline.p, GST_STATE_PLAYING);
  return v;
}

template <typename P>
bool wait_for(P pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::size_t audits(TestHub& hub, const std::string& action) {
  store::AuditFilter f;
  f.action = action;
  return hub.store().audit_entries(f).size();
}

class LiveTest : public ::testing::Test {
 protected:
  explicit LiveTest(std::optional<config::HubConfig> config = std::nullopt) : hub(std::move(config)) {}
  void SetUp() override {
    webrtc::ensure_gstreamer();
    teacher = hub.add_person("ms-khan", store::Role::teacher);
    coach = hub.add_person("mr-coach", store::Role::coach);
    tech = hub.add_person("tech", store::Role::technician);
    admin = hub.add_person("boss", store::Role::admin);
    room = hub.add_room("Room 12", teacher.user.id);
    unit = hub.add_unit("room-12", room.id);
  }

  // The unit offers (started on the unit itself: no Classcam-Live-Id) and applies the answer.
  std::string start_unit_live(Unit& u) {
    const std::string offer = make_offer(loop, *u.peer);
    auto c = hub.client(unit.token);
    const auto res = c.request("POST", "/api/v1/unit/live", offer, {{"Content-Type", "application/sdp"}});
    EXPECT_EQ(res.status, 201) << res.body;
    EXPECT_EQ(res.header("Content-Type"), "application/sdp");
    const auto st = accept(loop, *u.peer, res.body);
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    return res.header("Location");
  }

  // An observation under way in Room 12, the teacher's, with these invited; it is the one created.
  store::Observation lesson_under_way(std::vector<std::string> coach_ids, bool live_allowed = false) {
    store::Observation o;
    o.room_id = room.id;
    o.teacher_id = teacher.user.id;
    o.title = "observed lesson";
    o.start = util::now_utc() - std::chrono::minutes(1);
    o.end = util::now_utc() + std::chrono::hours(1);
    o.coach_ids = std::move(coach_ids);
    o.live_allowed = live_allowed;
    auto made = hub.store().create_observation(o);
    EXPECT_TRUE(std::holds_alternative<store::Observation>(made));
    return std::holds_alternative<store::Observation>(made) ? std::get<store::Observation>(made) : o;
  }

  testkit::HttpResponse whep(Loop& l, Viewer& v, const std::string& token) {
    const std::string offer = make_offer(l, *v.peer);
    auto c = hub.client(token);
    auto res = c.request("POST", "/api/v1/live/room-12/whep", offer, {{"Content-Type", "application/sdp"}});
    if (res.status == 201) {
      const auto st = accept(l, *v.peer, res.body);
      EXPECT_TRUE(st) << (st ? "" : st.error().message);
    }
    return res;
  }

  Loop loop;
  TestHub hub;
  TestHub::Person teacher, coach, tech, admin;
  store::Room room;
  TestHub::NewUnit unit;
};

TEST_F(LiveTest, UnitIngestFansOutToViewersWithoutReencodingAndAuditsEachView) {
  auto u = make_unit(loop);
  const std::string ingest = start_unit_live(*u);
  EXPECT_EQ(ingest.rfind("/api/v1/unit/live/", 0), 0u) << ingest;
  ASSERT_TRUE(wait_for([&] { return hub.service().live().ingest_running("room-12"); }, std::chrono::seconds(5)));

  auto v1 = make_viewer(loop);
  const auto r1 = whep(loop, *v1, teacher.token);
  ASSERT_EQ(r1.status, 201) << r1.body;
  const std::string where1 = r1.header("Location");
  EXPECT_EQ(where1.rfind("/api/v1/live/room-12/whep/", 0), 0u) << where1;
  ASSERT_TRUE(wait_for([&] { return v1->frames >= 30; }, std::chrono::seconds(15))) << v1->frames;
  EXPECT_TRUE(wait_for([&] { return v1->audio >= 10; }, std::chrono::seconds(5))) << v1->audio;

  // A second viewer joins mid-GOP (10 s GOP): its keyframe request reaches the unit.
  auto v2 = make_viewer(loop);
  const auto r2 = whep(loop, *v2, teacher.token);
  ASSERT_EQ(r2.status, 201) << r2.body;
  ASSERT_TRUE(wait_for([&] { return v2->frames >= 10; }, std::chrono::seconds(8))) << v2->frames;
  std::printf("second viewer: first decoded frame %lld ms after its offer was made\n",
              static_cast<long long>(v2->first_frame_ms.load()));
  EXPECT_LT(v2->first_frame_ms.load(), 4000);
  EXPECT_EQ(hub.service().live().viewers("room-12"), 2u);

  // The teacher sees who watches.
  auto c = hub.client(teacher.token);
  const auto st = c.request("GET", "/api/v1/live/room-12");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(st.json()["state"], "live");
  EXPECT_EQ(st.json()["viewers"].size(), 2u);

  // The first viewer leaves; the second keeps playing.
  EXPECT_EQ(c.request("DELETE", where1).status, 204);
  EXPECT_EQ(hub.service().live().viewers("room-12"), 1u);
  const int before = v2->frames;
  EXPECT_TRUE(wait_for([&] { return v2->frames >= before + 15; }, std::chrono::seconds(5)));
  EXPECT_EQ(audits(hub, "live.view.start"), 2u);
  EXPECT_EQ(audits(hub, "live.view.end"), 1u);

  // The unit ends live: the remaining view ends (audited) and the ingest is gone.
  auto uc = hub.client(unit.token);
  EXPECT_EQ(uc.request("DELETE", ingest).status, 204);
  EXPECT_FALSE(hub.service().live().ingest_running("room-12"));
  EXPECT_EQ(audits(hub, "live.view.end"), 2u);
}

TEST_F(LiveTest, OnlyTheTeacherAndConsentedInvitedCoachesWatchTechniciansPreviewVideoOnly) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  // Not invited to anything here: refused on the API, and audited.
  auto vc = make_viewer(loop);
  const auto rc = whep(loop, *vc, coach.token);
  EXPECT_EQ(rc.status, 403) << rc.body;
  auto va = make_viewer(loop);
  EXPECT_EQ(whep(loop, *va, admin.token).status, 403);
  EXPECT_EQ(hub.client(coach.token).request("GET", "/api/v1/live/room-12").status, 403);
  EXPECT_GE(audits(hub, "live.refused"), 2u);

  // A technician's framing preview: video only.
  auto vt = make_viewer(loop);
  const auto rt = whep(loop, *vt, tech.token);
  ASSERT_EQ(rt.status, 201) << rt.body;
  EXPECT_EQ(rt.body.find("a=sendonly", rt.body.find("m=audio")), std::string::npos) << rt.body;
  EXPECT_TRUE(wait_for([&] { return vt->frames >= 10; }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(vt->audio.load(), 0);
  EXPECT_EQ(audits(hub, "live.preview.start"), 1u);
  // A unit's offer that is not SDP is refused, naming why.
  const auto bad =
      hub.client(unit.token).request("POST", "/api/v1/unit/live", "hello", {{"Content-Type", "application/sdp"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// The hub's fan-out keeps every frame whole whatever slices the unit's encoder makes: with SPS/PPS
// between a frame's slices, a byte-stream parser at the ingest split each frame in two and viewers
// decoded only its last slice (the rest of the picture green).
TEST_F(LiveTest, FramesOfManySlicesReachViewersWhole) {
  auto u = make_unit(loop, kSlicedUnit);
  start_unit_live(*u);
  // A roomy jitter buffer: a packet late on a loaded machine must not pass for a lost slice.
  auto v = make_viewer(loop, true, true, 0, 300);
  ASSERT_EQ(whep(loop, *v, teacher.token).status, 201);
  ASSERT_TRUE(wait_for([&] { return v->frames >= 60; }, std::chrono::seconds(15))) << v->frames;
  EXPECT_EQ(v->damaged.load(), 0) << "of " << v->frames << " decoded pictures";
}

// The consent rules (docs/live.md, "The school's rules"): an invited coach asks and the teacher
// accepts; an observation scheduled with live allowed needs no asking; in a manual session the room's
// teacher invites, which is consent; a coach outside all of it stays out.
TEST_F(LiveTest, CoachesAskTheTeacherAcceptsLiveAllowedNeedsNoAskingManualSessionsInvite) {
  const auto post = [&](const TestHub::Person& who, const std::string& path, const std::string& body = "{}") {
    return hub.client(who.token).request("POST", "/api/v1/live/room-12" + path, body,
                                         {{"Content-Type", "application/json"}});
  };
  const auto status = [&](const TestHub::Person& who) {
    return hub.client(who.token).request("GET", "/api/v1/live/room-12");
  };
  const auto other = hub.add_person("ms-other", store::Role::coach);

  // A manual session: the room's teacher invites a coach (refused for nonsense and for non-teachers).
  EXPECT_EQ(status(coach).status, 403);
  EXPECT_EQ(post(teacher, "/invites", R"({"user_id": "nobody"})").status, 400);
  EXPECT_EQ(post(teacher, "/invites", R"({"user": 1})").status, 400);
  EXPECT_EQ(post(coach, "/invites", R"({"user_id": ")" + other.user.id + "\"}").status, 403);
  const auto invited = post(teacher, "/invites", R"({"user_id": ")" + coach.user.id + "\"}");
  ASSERT_EQ(invited.status, 200) << invited.body;
  EXPECT_EQ(invited.json()["invited"], protocol::Json::array({coach.user.id}));
  const auto seen = status(coach);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_TRUE(seen.json()["consent"]) << "inviting is consenting";
  EXPECT_EQ(seen.json()["you_may"], protocol::Json::array({"watch", "talk"}));
  EXPECT_EQ(status(other).status, 403);
  EXPECT_EQ(audits(hub, "live.invite"), 1u);

  // An observation starts: the manual session's invites end with it; its invited coach asks.
  const auto obs_id = lesson_under_way({other.user.id}).id;
  EXPECT_EQ(status(coach).status, 403);
  EXPECT_EQ(post(teacher, "/invites", R"({"user_id": ")" + coach.user.id + "\"}").status, 409)
      << "an observation's coaches are invited to the observation";
  auto v = make_viewer(loop, true, false);
  EXPECT_EQ(whep(loop, *v, other.token).status, 409) << "no consent yet";
  const auto asked = post(other, "/requests");
  ASSERT_EQ(asked.status, 200) << asked.body;
  EXPECT_TRUE(asked.json()["asked"]);
  EXPECT_FALSE(asked.json()["consent"]);
  const auto teachers = status(teacher).json();
  ASSERT_EQ(teachers["requests"].size(), 1u) << teachers.dump();
  EXPECT_EQ(teachers["requests"][0]["user_id"], other.user.id);
  EXPECT_EQ(post(teacher, "/requests").status, 409) << "the teacher needs nobody's consent";
  ASSERT_EQ(post(teacher, "/consent").status, 200);
  EXPECT_TRUE(status(other).json()["consent"]);
  EXPECT_TRUE(status(teacher).json()["requests"].empty());
  EXPECT_EQ(audits(hub, "live.request"), 1u);
  EXPECT_EQ(audits(hub, "live.consent"), 1u);

  // Scheduled with live allowed: a lesson whose coach needs no consent on the day.
  ASSERT_TRUE(std::holds_alternative<store::Observation>(hub.store().cancel_observation(obs_id)));
  lesson_under_way({coach.user.id}, true);
  const auto allowed = status(coach);
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_TRUE(allowed.json()["consent"]);
  EXPECT_EQ(post(coach, "/requests").json().value("asked", true), false) << "nothing to ask for";
}

// A viewer that goes away without its DELETE (a closed laptop) is dropped once its connection stops
// answering, and its view's end is audited, instead of being listed as watching for ever.
TEST_F(LiveTest, AViewerThatVanishesIsDroppedAndAudited) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  auto v = make_viewer(loop, true, false);
  ASSERT_EQ(whep(loop, *v, teacher.token).status, 201);
  ASSERT_TRUE(wait_for([&] { return v->frames >= 10; }, std::chrono::seconds(10)));
  ASSERT_EQ(hub.service().live().viewers("room-12"), 1u);
  const auto gone = std::chrono::steady_clock::now();
  loop.run([&] { v->peer.reset(); });
  gst_element_set_state(v->pipeline.p, GST_STATE_NULL);
  ASSERT_TRUE(wait_for([&] { return hub.service().live().viewers("room-12") == 0; }, std::chrono::seconds(120)));
  std::printf("a vanished viewer was dropped after %lld s\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - gone).count()));
  EXPECT_EQ(audits(hub, "live.view.end"), 1u);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Ten viewers all keep receiving; and, printed for docs/hub.md, the fan-out cost: the process's CPU
// (hub, the unit's encoder and the receiving viewers together, so an upper bound for the hub) with 1 and
// with 10 receive-only viewers that do not decode.
TEST_F(LiveTest, TenViewersCostLittleMoreThanOne) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  std::vector<std::unique_ptr<Viewer>> viewers;
  const auto add = [&] {
    viewers.push_back(make_viewer(loop, true, false));
    const auto r = whep(loop, *viewers.back(), teacher.token);
    ASSERT_EQ(r.status, 201) << r.body;
  };
  const auto measure = [&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // set-up done
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 100.0 * (cpu_seconds() - c0) / wall;  // % of one core
  };
  add();
  ASSERT_TRUE(wait_for([&] { return viewers[0]->frames >= 10; }, std::chrono::seconds(10)));
  const double one = measure();
  for (int i = 1; i < 10; ++i) add();
  for (auto& v : viewers) EXPECT_TRUE(wait_for([&] { return v->frames >= 10; }, std::chrono::seconds(10)));
  const double ten = measure();
  const std::vector<int> before = [&] {
    std::vector<int> f;
    for (auto& v : viewers) f.push_back(v->frames);
    return f;
  }();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (std::size_t i = 0; i < viewers.size(); ++i) EXPECT_GT(viewers[i]->frames, before[i] + 10) << i;
  std::printf(
      "process CPU, 320x240@30 + Opus: 1 viewer %.1f %% of a core, 10 viewers %.1f %%: %.2f %% per extra viewer "
      "(hub and receiving viewer together)\n",
      one, ten, (ten - one) / 9);
  EXPECT_EQ(hub.service().live().viewers("room-12"), 10u);
  // The figure is printed, not asserted: performance goals live in benchmarks (issue 12's goal, the hub
  // alone <= 3 % of a core per extra viewer, is for bench/live.sh), never in timed unit tests.
}

// Talkback: an observation under way with two invited coaches, the teacher started live on the unit.
class TalkTest : public LiveTest {
 protected:
  using LiveTest::LiveTest;
  void SetUp() override {
    LiveTest::SetUp();
    coach2 = hub.add_person("ms-coach", store::Role::coach);
    outsider = hub.add_person("mr-outsider", store::Role::coach);
    lesson_under_way({coach.user.id, coach2.user.id});
  }

  testkit::HttpResponse post_json(const std::string& token, const std::string& path, const std::string& body) {
    return hub.client(token).request("POST", path, body, {{"Content-Type", "application/json"}});
  }
  testkit::HttpResponse talk(const TestHub::Person& who, bool talking) {
    return post_json(who.token, "/api/v1/live/room-12/talk",
                     talking ? R"({"talking": true})" : R"({"talking": false})");
  }
  testkit::HttpResponse mute(const TestHub::Person& who, bool muted) {
    return post_json(who.token, "/api/v1/live/room-12/mute", muted ? R"({"muted": true})" : R"({"muted": false})");
  }

  // Waits for the tone at `hz` to arrive at the unit (over the last 200 ms); false after 5 s.
  static bool hears(Unit& u, double hz) {
    return wait_for([&] { return u.heard.last(hz, std::chrono::milliseconds(200)).present(); },
                    std::chrono::seconds(5));
  }
  // Nothing of `hz` over `window`, once what was in flight had 300 ms to drain.
  static test::ToneLevel quiet_level(Unit& u, double hz,
                                     std::chrono::milliseconds window = std::chrono::milliseconds(700)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto from = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    return u.heard.level(hz, from, std::chrono::steady_clock::now());
  }

  TestHub::Person coach2, outsider;
};

TEST_F(TalkTest, OnlyTheFloorHoldersMicrophoneReachesTheUnit) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  // Two coaches with microphones: 1 kHz and 1.5 kHz, so the unit's ear tells whose audio it gets.
  auto v1 = make_viewer(loop, true, true, 1000);
  const auto r1 = whep(loop, *v1, coach.token);
  ASSERT_EQ(r1.status, 201) << r1.body;
  const std::string audio_answer = r1.body.substr(r1.body.find("m=audio"));
  EXPECT_NE(audio_answer.find("a=sendrecv"), std::string::npos) << "a talk-capable coach's microphone is answered";
  auto v2 = make_viewer(loop, true, true, 1500);
  ASSERT_EQ(whep(loop, *v2, coach2.token).status, 201);
  ASSERT_TRUE(wait_for([&] { return v1->frames >= 10 && v2->frames >= 10; }, std::chrono::seconds(10)));

  // Nobody holds the floor: nothing of either microphone reaches the unit.
  EXPECT_FALSE(quiet_level(*u, 1000).present());
  EXPECT_FALSE(quiet_level(*u, 1500).present());

  const auto took = talk(coach, true);
  ASSERT_EQ(took.status, 200) << took.body;
  EXPECT_EQ(took.json()["talker"]["name"], coach.user.display_name);
  EXPECT_EQ(took.json()["you_talk"], true);
  EXPECT_TRUE(hears(*u, 1000)) << "the floor holder's tone never reached the unit";
  EXPECT_FALSE(u->heard.last(1500, std::chrono::milliseconds(500)).present()) << "another viewer's audio was sent";
  // The page's state, for everyone allowed to watch.
  const auto st = hub.client(teacher.token).request("GET", "/api/v1/live/room-12");
  EXPECT_EQ(st.json()["talker"]["user_id"], coach.user.id);
  EXPECT_EQ(st.json()["talkback_muted"], false);

  // One talker at a time: the other coach is told who talks.
  const auto busy = talk(coach2, true);
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_NE(busy.body.find(coach.user.display_name), std::string::npos) << busy.body;
  // Renewing one's own floor is fine.
  EXPECT_EQ(talk(coach, true).status, 200);

  // Released: silence, then the other coach's tone once they take it.
  EXPECT_EQ(talk(coach, false).status, 200);
  EXPECT_FALSE(quiet_level(*u, 1000).present());
  ASSERT_EQ(talk(coach2, true).status, 200);
  EXPECT_TRUE(hears(*u, 1500));
  EXPECT_FALSE(u->heard.last(1000, std::chrono::milliseconds(500)).present());

  // The teacher mutes: the talker loses the floor at once and nobody may take it.
  const auto muted = mute(teacher, true);
  ASSERT_EQ(muted.status, 200) << muted.body;
  EXPECT_EQ(muted.json()["talkback_muted"], true);
  EXPECT_TRUE(muted.json()["talker"].is_null());
  EXPECT_FALSE(quiet_level(*u, 1500).present());
  const auto refused = talk(coach, true);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("muted"), std::string::npos) << refused.body;
  EXPECT_EQ(mute(coach, false).status, 403) << "only the teacher unmutes";
  ASSERT_EQ(mute(teacher, false).status, 200);

  // Leaving the view releases the floor.
  ASSERT_EQ(talk(coach, true).status, 200);
  EXPECT_TRUE(hears(*u, 1000));
  EXPECT_EQ(hub.client(coach.token).request("DELETE", r1.header("Location")).status, 204);
  EXPECT_TRUE(hub.client(teacher.token).request("GET", "/api/v1/live/room-12").json()["talker"].is_null());
  EXPECT_FALSE(quiet_level(*u, 1000).present());

  EXPECT_EQ(audits(hub, "live.talk.start"), 3u);
  EXPECT_EQ(audits(hub, "live.talk.end"), 3u);
  EXPECT_EQ(audits(hub, "live.talkback.mute"), 1u);
  EXPECT_EQ(audits(hub, "live.talkback.unmute"), 1u);
  store::AuditFilter f;
  f.action = "live.talk.end";
  const auto ends = hub.store().audit_entries(f);
  ASSERT_FALSE(ends.empty());
  EXPECT_NE(ends.front().detail.find("talked "), std::string::npos) << ends.front().detail;
}

TEST_F(TalkTest, TheFloorIsRefusedWithoutRightsMicrophoneOrAValidBody) {
  auto u = make_unit(loop);
  // No live yet.
  EXPECT_EQ(talk(coach, true).status, 409);
  start_unit_live(*u);
  // Not invited (no teacher asked them), a technician, an admin, the teacher (who moderates, not talks).
  EXPECT_EQ(talk(outsider, true).status, 403);
  EXPECT_EQ(talk(tech, true).status, 403);
  EXPECT_EQ(talk(admin, true).status, 403);
  EXPECT_EQ(talk(teacher, true).status, 403);
  EXPECT_EQ(mute(tech, true).status, 403);
  // An invited coach without a view, then with a receive-only one: no microphone to forward.
  const auto no_view = talk(coach, true);
  EXPECT_EQ(no_view.status, 409);
  EXPECT_NE(no_view.body.find("sendrecv"), std::string::npos) << no_view.body;
  auto v = make_viewer(loop);
  const auto r = whep(loop, *v, coach.token);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find("a=sendrecv", r.body.find("m=audio")), std::string::npos) << r.body;
  EXPECT_EQ(talk(coach, true).status, 409);
  // Bodies that say nothing sensible are refused naming the field.
  const auto bad = post_json(coach.token, "/api/v1/live/room-12/talk", R"({"talking": "yes"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("talking"), std::string::npos) << bad.body;
  const auto missing = post_json(teacher.token, "/api/v1/live/room-12/mute", "{}");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_NE(missing.body.find("muted"), std::string::npos) << missing.body;
  EXPECT_EQ(audits(hub, "live.talk.start"), 0u);
}

// Printed, for docs/live.md: a coach's tone (5 ms source buffers) from the moment it starts at the
// coach's webrtcbin, through the hub's floor, to the first decoded 10 ms of it at the unit's webrtcbin.
TEST_F(TalkTest, TalkbackThroughTheHubArrivesAndItsLatencyIsPrinted) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  auto v = make_viewer(loop, true, true, 1000);
  GstElement* mic = gst_bin_get_by_name(GST_BIN(v->pipeline.p), "micvol");
  ASSERT_NE(mic, nullptr);
  g_object_set(mic, "mute", TRUE, nullptr);
  ASSERT_EQ(whep(loop, *v, coach.token).status, 201);
  ASSERT_EQ(talk(coach, true).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the silent stream flows to the unit
  const auto on = std::chrono::steady_clock::now();
  g_object_set(mic, "mute", FALSE, nullptr);
  gst_object_unref(mic);
  std::optional<SteadyTime> first;
  ASSERT_TRUE(wait_for(
      [&] {
        std::lock_guard lock(u->heard.m);
        for (const auto& [at, pcm] : u->heard.buffers) {
          if (at < on || pcm.size() < 480) continue;
          if (test::tone_level(pcm.data(), 480, 48000, 1000).present() ||
              test::tone_level(pcm.data() + pcm.size() - 480, 480, 48000, 1000).present()) {
            first = at;
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(5)))
      << "the tone never arrived";
  std::printf("talkback through the hub (coach webrtcbin -> hub -> unit webrtcbin, decoded): %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(*first - on).count()));
}

// A page that stops renewing its floor (gone mid-sentence) loses it after live.talk_floor_s.
class ShortFloorTest : public TalkTest {
 protected:
  ShortFloorTest() : TalkTest(config()) {}
  static config::HubConfig config() {
    auto c = testkit::test_config("unused");
    c.live.talk_floor_s = 1;
    return c;
  }
};

TEST_F(ShortFloorTest, AFloorNotRenewedDrops) {
  auto u = make_unit(loop);
  start_unit_live(*u);
  auto v = make_viewer(loop, true, true, 1000);
  ASSERT_EQ(whep(loop, *v, coach.token).status, 201);
  ASSERT_EQ(talk(coach, true).status, 200);
  EXPECT_TRUE(hears(*u, 1000));
  // Renewed within the second: still talking after more than a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_EQ(talk(coach, true).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(hub.client(coach.token).request("GET", "/api/v1/live/room-12").json()["talker"].is_null());
  // Not renewed: dropped, and the tone stops.
  EXPECT_TRUE(wait_for(
      [&] { return hub.client(coach.token).request("GET", "/api/v1/live/room-12").json()["talker"].is_null(); },
      std::chrono::seconds(3)));
  EXPECT_FALSE(quiet_level(*u, 1000).present());
  store::AuditFilter f;
  f.action = "live.talk.end";
  const auto ends = hub.store().audit_entries(f);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_NE(ends.front().detail.find("not renewed"), std::string::npos) << ends.front().detail;
}

// The unit mutes from its button or classcamctl: it tells the hub, which drops the floor and refuses it.
TEST_F(TalkTest, TheUnitMutesTalkbackThroughTheHub) {
  auto u = make_unit(loop);
  const std::string ingest = start_unit_live(*u);
  auto v = make_viewer(loop, true, true, 1000);
  ASSERT_EQ(whep(loop, *v, coach.token).status, 201);
  ASSERT_EQ(talk(coach, true).status, 200);
  EXPECT_TRUE(hears(*u, 1000));
  auto uc = hub.client(unit.token);
  const auto m = uc.request("POST", ingest + "/mute", R"({"muted": true})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(m.status, 204) << m.body;
  const auto st = hub.client(teacher.token).request("GET", "/api/v1/live/room-12");
  EXPECT_EQ(st.json()["talkback_muted"], true);
  EXPECT_TRUE(st.json()["talker"].is_null());
  EXPECT_FALSE(quiet_level(*u, 1000).present());
  EXPECT_EQ(talk(coach, true).status, 409);
  EXPECT_EQ(uc.request("POST", "/api/v1/unit/live/not-this-one/mute", R"({"muted": false})",
                       {{"Content-Type", "application/json"}})
                .status,
            404);
  EXPECT_EQ(uc.request("POST", ingest + "/mute", R"({"muted": false})", {{"Content-Type", "application/json"}}).status,
            204);
  EXPECT_EQ(talk(coach, true).status, 200);
  EXPECT_EQ(audits(hub, "live.talkback.mute"), 1u);
}

// Over a real Mosquitto: a teacher's viewer makes the hub send stream_start; the "unit" answers with its
// offer under that live_id; the view plays; LiveStatus counts the viewer; the last viewer's leaving makes
// the hub send stream_stop after the grace period.
TEST(LiveMqtt, AViewerStartsLiveOverMqttAndTheLastOneLeavingStopsIt) {
  webrtc::ensure_gstreamer();
  auto cfg = testkit::test_config_with_broker("unused");
  cfg.live.grace_s = 1;
  cfg.live.ingest_wait_s = 10;
  Loop loop;
  TestHub hub(cfg);
  const auto teacher = hub.add_person("ms-khan", store::Role::teacher);
  const auto room = hub.add_room("Room 12", teacher.user.id);
  hub.add_unit("room-12", room.id);
  // Enrol it as a pairing code would: its own API token and MQTT password.
  const auto token = auth::new_secret(auth::kUnitTokenPrefix);
  const auto mqtt_pw = broker::new_unit_password();
  ASSERT_FALSE(store::refusal(
      hub.store().set_pairing_code("room-12", "code-hash", std::nullopt, util::now_utc() + std::chrono::minutes(5))));
  ASSERT_FALSE(store::refusal(
      hub.store().enroll_with_code("code-hash", util::now_utc(), token.hash, broker::hash_password(mqtt_pw))));
  ASSERT_NE(hub.service().broker(), nullptr);
  hub.service().broker()->apply_credentials();
  testkit::MqttClient mqtt("room-12", false);
  ASSERT_TRUE(
      wait_for([&] { return mqtt.connect(hub.service().config().broker.port, hub.ca_file(), "room-12", mqtt_pw) == 0; },
               std::chrono::seconds(10)));
  const auto commands = protocol::topic("room-12", protocol::Channel::commands);
  const auto live_topic = protocol::topic("room-12", protocol::Channel::live);
  ASSERT_EQ(mqtt.subscribe(commands), 1);
  ASSERT_EQ(mqtt.subscribe(live_topic), 1);
  ASSERT_TRUE(wait_for([&] { return hub.service().fleet()->connected(); }, std::chrono::seconds(10)));

  auto u = make_unit(loop);
  auto v = make_viewer(loop);
  const std::string viewer_offer = make_offer(loop, *v->peer);
  auto watching = std::async(std::launch::async, [&] {
    auto c = hub.client(teacher.token);
    return c.request("POST", "/api/v1/live/room-12/whep", viewer_offer, {{"Content-Type", "application/sdp"}});
  });
  const auto start_msg = mqtt.wait_message(commands, std::chrono::seconds(10));
  ASSERT_TRUE(start_msg);
  const auto start = protocol::decode<protocol::Command>(start_msg->payload);
  ASSERT_TRUE(start) << start.error().message;
  EXPECT_EQ(start->action, protocol::CommandAction::stream_start);
  ASSERT_TRUE(start->args.live_id);
  EXPECT_EQ(start->args.max_s, cfg.live.max_s);

  const std::string offer = make_offer(loop, *u->peer);
  auto uc = hub.client(token.value);
  const auto in = uc.request("POST", "/api/v1/unit/live", offer,
                             {{"Content-Type", "application/sdp"}, {"Classcam-Live-Id", *start->args.live_id}});
  ASSERT_EQ(in.status, 201) << in.body;
  EXPECT_EQ(in.header("Location"), "/api/v1/unit/live/" + *start->args.live_id);
  ASSERT_TRUE(accept(loop, *u->peer, in.body));
  const auto watched = watching.get();
  ASSERT_EQ(watched.status, 201) << watched.body;
  ASSERT_TRUE(accept(loop, *v->peer, watched.body));
  EXPECT_TRUE(wait_for([&] { return v->frames >= 30; }, std::chrono::seconds(10))) << v->frames;

  const auto has_status = [&](std::uint32_t viewers) {
    for (const auto& m : mqtt.messages()) {
      if (m.topic != live_topic) continue;
      const auto st = protocol::decode<protocol::LiveStatus>(m.payload);
      if (st && st->viewers == viewers && st->live_id == *start->args.live_id) return true;
    }
    return false;
  };
  EXPECT_TRUE(wait_for([&] { return has_status(1); }, std::chrono::seconds(5)));
  // The teacher mutes talkback: the retained LiveStatus says so (the unit obeys it).
  auto tc0 = hub.client(teacher.token);
  ASSERT_EQ(
      tc0.request("POST", "/api/v1/live/room-12/mute", R"({"muted": true})", {{"Content-Type", "application/json"}})
          .status,
      200);
  EXPECT_TRUE(wait_for(
      [&] {
        for (const auto& m : mqtt.messages()) {
          const auto st = protocol::decode<protocol::LiveStatus>(m.payload);
          if (m.topic == live_topic && st && st->talkback_muted && !st->talker) return true;
        }
        return false;
      },
      std::chrono::seconds(5)))
      << "no LiveStatus with talkback_muted";

  // The teacher leaves: after the grace period the unit is told to stop.
  auto tc = hub.client(teacher.token);
  EXPECT_EQ(tc.request("DELETE", watched.header("Location")).status, 204);
  const auto stopped = [&] {
    for (const auto& m : mqtt.messages()) {
      if (m.topic != commands) continue;
      const auto c = protocol::decode<protocol::Command>(m.payload);
      if (c && c->action == protocol::CommandAction::stream_stop && c->args.live_id == start->args.live_id) return true;
    }
    return false;
  };
  EXPECT_TRUE(wait_for(stopped, std::chrono::seconds(5)));
  EXPECT_FALSE(hub.service().live().ingest_running("room-12"));
}

}  // namespace
}  // namespace classcam::hub::live
