// The live sender against a real receiving webrtcbin behind a real HTTPS endpoint (TestIngest, acting
// as the hub): the non-trickle offer as docs/live.md states it, the answer applied, decoded frames at
// the far end, DELETE on stop, a refusal that leaves the recording alone, live without a recording.
#include "firmware/live/sender.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gst/app/gstappsink.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "firmware/capture/plan.hpp"
#include "firmware/capture/probe.hpp"
#include "firmware/capture/recorder.hpp"
#include "firmware/live/test_ingest.hpp"
#include "tests/support/tempdir.hpp"
#include "tests/support/tone.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

config::UnitConfig small_config() {
  auto c = config::default_unit_config();
  c.video.source = "test";
  c.video.width = 320;
  c.video.height = 240;
  c.video.framerate = 30;
  c.audio.source = "test";
  c.encoder.kind = "x264";
  c.encoder.preset = "veryfast";  // the default: x264 then makes High profile, as recordings are
  c.encoder.bitrate_kbps = 400;
  c.recording.segment_ms = 1000;
  return c;
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  if (io.stopped()) io.restart();
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_one_for(20ms);
  }
  return true;
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// A capture pipeline (recording or live-only) running on `io`; `bytes` is the recording's muxed stream.
struct Capture {
  boost::asio::io_context& io;
  std::size_t samples = 0;
  std::string bytes;
  bool started = false, eos = false;
  std::string error, live_error;
  std::unique_ptr<capture::Recorder> rec;
  Capture(boost::asio::io_context& i, const capture::Plan& plan) : io(i) {
    rec = std::make_unique<capture::Recorder>(
        io, plan, std::vector<config::PrivacyZone>{},
        capture::Recorder::Events{[this] { started = true; },
                                  [this](capture::SamplePtr s) {
                                    ++samples;
                                    GstBuffer* buf = gst_sample_get_buffer(s.get());
                                    GstMapInfo map;
                                    if (buf != nullptr && gst_buffer_map(buf, &map, GST_MAP_READ)) {
                                      bytes.append(reinterpret_cast<const char*>(map.data), map.size);
                                      gst_buffer_unmap(buf, &map);
                                    }
                                  },
                                  [this] { eos = true; }, [this](const std::string& e) { error = e; },
                                  [this](const std::string& e) { live_error = e; }});
    EXPECT_TRUE(rec->start().ok());
    EXPECT_TRUE(run_until(
        io, [&] { return started || !error.empty(); }, 20s));
    EXPECT_EQ(error, "");
  }
};

capture::Plan plan_of(bool recording, std::uint32_t segment_ms = 1000) {
  auto c = small_config();
  c.recording.segment_ms = segment_ms;
  auto sel = capture::select(c, capture::probe(c));
  EXPECT_TRUE(sel.ok()) << sel.error().message;
  return recording ? capture::plan_recording(c, *sel) : capture::plan_live(c, *sel);
}

live::SenderOptions options(const live::testing::TestIngest& ingest, const std::string& live_id) {
  live::SenderOptions o;
  o.hub = *net::parse_url(ingest.url());
  o.ca_file = ingest.ca_file();
  o.token = ingest.token();
  o.live_id = live_id;
  o.ice_addresses = {"127.0.0.1"};
  return o;
}

// The Sender's events, recorded into the test's `connected` (the live id) and `failed` (why).
live::Sender::Events events(std::string& connected, std::string& failed) {
  return {[&connected](const std::string& id) { connected = id; }, [&failed](const std::string& e) { failed = e; }};
}

}  // namespace

TEST(LiveSender, OffersTheRecordingsStreamToTheHubAndTheFarEndDecodesIt) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  boost::asio::io_context io;
  Capture cap(io, plan_of(true));
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), options(ingest, "3f2c6a9e-live"), events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  EXPECT_EQ(connected, "3f2c6a9e-live");
  EXPECT_EQ(sender.location(), "/api/v1/unit/live/3f2c6a9e-live");

  // The request as docs/live.md states it.
  const auto reqs = ingest.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& post = reqs[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.target, "/api/v1/unit/live");
  EXPECT_EQ(post.header("Authorization"), "Bearer " + ingest.token());
  EXPECT_EQ(post.header("Content-Type"), "application/sdp");
  EXPECT_EQ(post.header("Classcam-Live-Id"), "3f2c6a9e-live");
  const std::string& offer = post.body;
  if (getenv("LIVE_DUMP")) std::cerr << offer << "\n----\n" << ingest.last_answer();
  const auto video = offer.substr(offer.find("m=video"), offer.find("m=audio") - offer.find("m=video"));
  const auto audio = offer.substr(offer.find("m=audio"));
  EXPECT_TRUE(contains(video, "a=sendonly")) << video;
  EXPECT_TRUE(contains(video, "H264/90000")) << video;
  EXPECT_TRUE(contains(video, "packetization-mode=1")) << video;
  // The recording's own High-profile stream (profile_idc 100), not a second encode.
  EXPECT_TRUE(contains(video, "profile-level-id=64")) << video;
  EXPECT_TRUE(contains(video, "nack pli")) << video;
  EXPECT_TRUE(contains(video, "ccm fir")) << video;
  EXPECT_TRUE(contains(video, "rtx/90000")) << video;
  EXPECT_TRUE(contains(video, "a=ssrc:" + std::to_string(sender.branch()->video_ssrc()))) << video;
  EXPECT_TRUE(contains(audio, "OPUS/48000/2")) << audio;
  // live.talkback = "off" (the default): the unit receives no audio, so the hub offers no talk floor.
  EXPECT_TRUE(contains(audio, "a=sendonly")) << audio;
  EXPECT_FALSE(contains(audio, "nack")) << "no NACK on audio: " << audio;
  EXPECT_TRUE(contains(audio, "a=ssrc:" + std::to_string(sender.branch()->audio_ssrc()))) << audio;
  // Non-trickle: the candidates are in the offer, and only on the configured address.
  EXPECT_TRUE(contains(offer, "a=candidate:")) << offer;
  EXPECT_TRUE(contains(offer, "127.0.0.1")) << offer;
  EXPECT_FALSE(contains(offer, "192.0.2.")) << offer;
  EXPECT_TRUE(contains(offer, "a=group:BUNDLE")) << offer;

  // The far end decodes the recording's own H.264 (no second encode) and the Opus audio.
  EXPECT_TRUE(run_until(
      io, [&] { return ingest.video_frames() >= 30 && ingest.audio_frames() >= 25; }, 20s))
      << ingest.video_frames() << " video frames, " << ingest.audio_frames() << " audio frames decoded";
  const std::size_t samples_live = cap.samples;

  bool stopped = false;
  sender.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(
      io, [&] { return stopped && ingest.deletes() == 1; }, 10s));
  EXPECT_FALSE(ingest.receiving());
  capture::ElementPtr bin(gst_bin_get_by_name(GST_BIN(cap.rec->pipeline()), capture::kLiveBinElement));
  EXPECT_EQ(bin, nullptr);
  const auto last = ingest.requests().back();
  EXPECT_EQ(last.method, "DELETE");
  EXPECT_EQ(last.target, "/api/v1/unit/live/3f2c6a9e-live");
  // The recording went on throughout and ends normally.
  EXPECT_TRUE(run_until(
      io, [&] { return cap.samples > samples_live + 5; }, 5s));
  cap.rec->stop();
  EXPECT_TRUE(run_until(
      io, [&] { return cap.eos; }, 10s));
  EXPECT_EQ(cap.error, "");
  EXPECT_EQ(cap.live_error, "");
}

TEST(LiveSender, RecordingEndsNormallyWhileLiveIsRunning) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  boost::asio::io_context io;
  Capture cap(io, plan_of(true));
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), options(ingest, "a1"), events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return ingest.video_frames() >= 10 || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  // The muxed stream's end is the recording's end, whatever the live branch's sinks do.
  cap.rec->stop();
  EXPECT_TRUE(run_until(
      io, [&] { return cap.eos; }, 10s))
      << "no EOS with a live branch attached";
  EXPECT_EQ(cap.error, "");
}

TEST(LiveSender, ARefusedOfferFailsLiveAndLeavesTheRecordingAlone) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  ingest.refuse_with(409);
  boost::asio::io_context io;
  Capture cap(io, plan_of(true));
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), options(ingest, "b2"), events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  EXPECT_EQ(connected, "");
  EXPECT_TRUE(contains(failed, "409")) << failed;
  EXPECT_EQ(sender.phase(), live::Sender::Phase::failed);
  ASSERT_TRUE(run_until(
      io,
      [&] {
        capture::ElementPtr bin(gst_bin_get_by_name(GST_BIN(cap.rec->pipeline()), capture::kLiveBinElement));
        return bin == nullptr;
      },
      5s))
      << "the branch is removed after a failure";
  const std::size_t before = cap.samples;
  EXPECT_TRUE(run_until(
      io, [&] { return cap.samples > before + 5; }, 5s));
  EXPECT_EQ(cap.error, "");
  EXPECT_EQ(ingest.deletes(), 0);
}

TEST(LiveSender, LiveWithoutARecordingAndWithoutALiveIdTakesTheHubsId) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  boost::asio::io_context io;
  Capture cap(io, plan_of(false));
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), options(ingest, ""), events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  EXPECT_EQ(connected, "hub-made-1");
  EXPECT_EQ(ingest.requests().at(0).header("Classcam-Live-Id"), "");
  EXPECT_TRUE(run_until(
      io, [&] { return ingest.video_frames() >= 30; }, 20s))
      << ingest.video_frames();
  bool stopped = false;
  sender.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(
      io, [&] { return stopped && ingest.deletes() == 1; }, 10s));
  cap.rec->abort();
}

namespace {

// The recording's audio, decoded to 16-bit mono 48 kHz (qtdemux, whatever codec the plan chose).
std::vector<std::int16_t> recorded_audio(const std::filesystem::path& file) {
  const std::string desc = "filesrc location=\"" + file.string() +
                           "\" ! qtdemux name=d d.audio_0 ! queue ! decodebin ! audioconvert ! audioresample ! "
                           "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink name=out sync=false "
                           "d.video_0 ! queue ! fakesink sync=false";
  GstElement* p = gst_parse_launch(desc.c_str(), nullptr);
  if (p == nullptr) return {};
  GstElement* out = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  std::vector<std::int16_t> pcm;
  while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 5 * GST_SECOND)) {
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
      const auto* s = reinterpret_cast<const std::int16_t*>(map.data);
      pcm.insert(pcm.end(), s, s + map.size / 2);
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
  }
  gst_object_unref(out);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return pcm;
}

// 10 ms blocks with the tone.
std::size_t blocks_with_tone(const std::vector<std::int16_t>& pcm, double hz, std::size_t from = 0) {
  return test::tone_samples(pcm, 48000, hz, from) / 480;
}

}  // namespace

// The hub's talkback (a 1 kHz tone from the test ingest) plays in the file sink while a recording runs
// (its microphone: a 440 Hz test tone), and is not in the recording. Prints the talkback latency: the
// tone's start at the sender to its first 10 ms in the sink's file.
TEST(LiveTalkback, TheHubsTalkbackPlaysInTheSinkAndIsNeverRecorded) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  ingest.send_talkback(1000);
  boost::asio::io_context io;
  Capture cap(io, plan_of(true));
  auto o = options(ingest, "talk-1");
  const auto wav = dir.path() / "earpiece.wav";
  o.talkback = "file:" + wav.string();
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), o, events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  const std::string offer = ingest.requests().at(0).body;
  EXPECT_TRUE(contains(offer.substr(offer.find("m=audio")), "a=sendrecv")) << "talkback on: the unit receives audio";

  // The silent tone flows first (the playout is linked and writing), then it starts.
  ASSERT_TRUE(run_until(
      io, [&] { return test::read_wav(wav).samples.size() >= 4800; }, 10s))
      << "nothing reached the file sink";
  const std::size_t before = test::read_wav(wav).samples.size();
  EXPECT_EQ(blocks_with_tone(test::read_wav(wav).samples, 1000), 0u) << "a tone before the hub sent one";
  const auto on = ingest.talk(true);
  ASSERT_TRUE(on);
  // Polled every 2 ms (run_until's 20 ms would blur the figure).
  std::optional<std::chrono::steady_clock::time_point> heard;
  io.restart();
  while (!heard && std::chrono::steady_clock::now() < *on + 5s) {
    io.poll();
    if (blocks_with_tone(test::read_wav(wav).samples, 1000, before) > 0) heard = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(heard) << "the talkback tone never reached the file sink";
  std::printf("talkback latency (tone on at the sender -> first 10 ms of it in the sink's file): %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(*heard - *on).count()));
  run_until(
      io, [] { return false; }, 2s);
  const auto played = test::read_wav(wav);
  EXPECT_EQ(played.rate, 48000u);
  EXPECT_GE(blocks_with_tone(played.samples, 1000, before), 150u) << "most of 2 s of tone is played";

  cap.rec->stop();
  ASSERT_TRUE(run_until(
      io, [&] { return cap.eos; }, 10s));
  sender.stop();
  const auto rec = dir.path() / "recording.mp4";
  {
    std::ofstream f(rec, std::ios::binary);
    f << cap.bytes;
  }
  const auto recorded = recorded_audio(rec);
  ASSERT_GE(recorded.size(), 48000u) << "the recording's audio did not decode";
  // The room's microphone is in the recording; the earpiece's tone is not, in any 10 ms of it.
  EXPECT_GT(blocks_with_tone(recorded, 440), recorded.size() / 480 / 2);
  EXPECT_EQ(blocks_with_tone(recorded, 1000), 0u) << "talkback was recorded";
}

// An earpiece that is not there (this machine has no sound card) is logged once and talkback is not
// played: live itself goes on, video and the talkback's arrival included.
TEST(LiveTalkback, AnAlsaDeviceThatCannotBeOpenedLeavesLiveRunning) {
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  ingest.send_talkback(1000);
  boost::asio::io_context io;
  Capture cap(io, plan_of(false));
  auto o = options(ingest, "talk-2");
  o.talkback = "alsa:hw:CARD=NoSuchHeadset";
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), o, events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  ASSERT_TRUE(ingest.talk(true));
  const auto frames = ingest.video_frames();
  EXPECT_TRUE(run_until(
      io, [&] { return ingest.video_frames() >= frames + 30; }, 10s));
  EXPECT_EQ(failed, "") << "a missing earpiece ended live";
  EXPECT_EQ(cap.live_error, "");
  EXPECT_EQ(sender.phase(), live::Sender::Phase::connected);
  sender.stop();
  cap.rec->abort();
}

TEST(LiveSender, AViewerJoiningMidGopGetsAKeyframeWithinASecondAndAHalf) {
  // 10 s segments: without a keyframe on request a viewer joining 2.5 s in would wait ~7.5 s.
  capture::ensure_gstreamer();
  test::TempDir dir;
  live::testing::TestIngest ingest(dir.path());
  boost::asio::io_context io;
  Capture cap(io, plan_of(true, 10'000));
  ASSERT_TRUE(run_until(
      io, [&] { return cap.rec->running_time_ns().value_or(0) >= 2'500'000'000; }, 10s));
  std::string connected, failed;
  live::Sender sender(io, cap.rec->pipeline(), options(ingest, "mid-gop"), events(connected, failed));
  ASSERT_TRUE(sender.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return !connected.empty() || !failed.empty(); }, 20s));
  ASSERT_EQ(failed, "");
  const auto joined = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> first_frame;
  // As a receiver does when it has nothing to decode: PLI, again every 500 ms until a keyframe came.
  auto last_request = joined - 1s;
  EXPECT_TRUE(run_until(
      io,
      [&] {
        if (!first_frame && ingest.video_frames() > 0) first_frame = std::chrono::steady_clock::now();
        if (ingest.first_keyframe_at()) return true;
        if (std::chrono::steady_clock::now() - last_request >= 500ms && ingest.request_keyframe()) {
          last_request = std::chrono::steady_clock::now();
        }
        return false;
      },
      15s));
  const auto first = ingest.first_keyframe_at().value_or(std::chrono::steady_clock::now());
  const auto frames_at_key = ingest.video_frames();
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(first - joined).count();
  EXPECT_TRUE(run_until(
      io, [&] { return ingest.video_frames() > frames_at_key; }, 5s));
  if (!first_frame) first_frame = std::chrono::steady_clock::now();
  const auto frame_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*first_frame - joined).count();
  std::printf(
      "[ figures  ] joined %.1f s into a 10 s GOP: first keyframe %lld ms after the answer, first decoded frame "
      "%lld ms (%llu decoded before the keyframe)\n",
      cap.rec->running_time_ns().value_or(0) / 1e9 - wait_ms / 1e3, static_cast<long long>(wait_ms),
      static_cast<long long>(frame_ms), static_cast<unsigned long long>(frames_at_key));
  EXPECT_LE(wait_ms, 1500) << "ms from joining to the first keyframe";
  // And from it on the picture decodes.
  EXPECT_TRUE(run_until(
      io, [&] { return ingest.video_frames() >= frames_at_key + 15; }, 5s))
      << ingest.video_frames() << " frames decoded";
  bool stopped = false;
  sender.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(
      io, [&] { return stopped; }, 10s));
  cap.rec->stop();
  EXPECT_TRUE(run_until(
      io, [&] { return cap.eos; }, 10s));
  EXPECT_EQ(cap.error, "");
}
