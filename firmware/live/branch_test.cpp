// The live branch on real capture pipelines (test picture and tone, x264, short segments): the
// recording's segments are the same with live started and stopped mid-recording as without it, RTP
// flows while the branch runs and stops with it, a live-only pipeline works, and keyframe requests
// from a receiver never reach the recording's encoder through the branch.
#include "firmware/live/branch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <atomic>
#include <functional>

#include "firmware/capture/plan.hpp"
#include "firmware/capture/probe.hpp"
#include "firmware/capture/recorder.hpp"
#include "firmware/spool/segment_writer.hpp"
#include "tests/support/tempdir.hpp"

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
  c.encoder.preset = "ultrafast";
  c.encoder.bitrate_kbps = 400;
  c.recording.segment_ms = 1000;
  return c;
}

capture::Selection selection(const config::UnitConfig& c) {
  auto sel = capture::select(c, capture::probe(c));
  EXPECT_TRUE(sel.ok()) << sel.error().message;
  return *sel;
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

// RTP packets arriving at an appsink standing in for webrtcbin.
struct Counter {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint32_t> ssrc{0};
};

GstFlowReturn count_sample(GstAppSink* sink, gpointer data) {
  auto* counter = static_cast<Counter*>(data);
  GstSample* s = gst_app_sink_pull_sample(sink);
  if (s == nullptr) return GST_FLOW_EOS;
  GstBuffer* b = gst_sample_get_buffer(s);
  GstMapInfo map;
  if (gst_buffer_map(b, &map, GST_MAP_READ)) {
    if (map.size >= 12) {
      counter->ssrc = (std::uint32_t{map.data[8]} << 24) | (std::uint32_t{map.data[9]} << 16) |
                      (std::uint32_t{map.data[10]} << 8) | map.data[11];
    }
    gst_buffer_unmap(b, &map);
  }
  counter->packets.fetch_add(1);
  gst_sample_unref(s);
  return GST_FLOW_OK;
}

// Adds an appsink to the branch's bin and links `rtp` to it.
void attach_counter(live::Branch& branch, GstPad* rtp, Counter& counter, const char* name) {
  GstElement* sink = gst_element_factory_make("appsink", name);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "emit-signals", FALSE, nullptr);
  GstAppSinkCallbacks cb{};
  cb.new_sample = &count_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &counter, nullptr);
  gst_bin_add(branch.bin(), sink);
  capture::PadPtr sinkpad(gst_element_get_static_pad(sink, "sink"));
  ASSERT_EQ(gst_pad_link(rtp, sinkpad.get()), GST_PAD_LINK_OK);
}

std::size_t tee_src_pads(GstElement* pipeline, const char* tee) {
  capture::ElementPtr t(gst_bin_get_by_name(GST_BIN(pipeline), tee));
  return t ? t->numsrcpads : 0;
}

struct Segments {
  std::vector<std::int64_t> durations_ns;
  Counter video, audio;
  std::uint64_t video_after_stop = 0, audio_after_stop = 0;
  bool branch_removed = false;
  std::uint64_t keyframe_requests = 0;
  std::size_t vtee_pads_live = 0, vtee_pads_after = 0;
};

struct LiveWindow {
  std::int64_t start_ns = 0, stop_ns = 0;  // running time; 0/0: no live
  bool keyframe_requests = false;          // send force-key-unit events up the branch while live
};

// Records ~5.6 s into 1 s segments; with a window, live runs inside it.
void record(const LiveWindow& window, Segments& out) {
  test::TempDir dir;
  const auto c = small_config();
  const auto plan = capture::plan_recording(c, selection(c));
  boost::asio::io_context io;
  spool::SegmentWriter writer(dir.path(), c.recording.segment_ms);
  bool started = false, eos = false;
  std::string error;
  capture::Recorder rec(io, plan.description, {},
                        {[&] { started = true; },
                         [&](capture::SamplePtr s) {
                           GstMapInfo map;
                           GstBuffer* b = gst_sample_get_buffer(s.get());
                           if (!gst_buffer_map(b, &map, GST_MAP_READ)) return;
                           auto ev = writer.feed({reinterpret_cast<const char*>(map.data), map.size});
                           gst_buffer_unmap(b, &map);
                           if (!ev) {
                             error = ev.error().message;
                             return;
                           }
                           for (const auto& e : *ev) {
                             if (e.kind == spool::WriterEvent::Kind::closed) {
                               out.durations_ns.push_back(e.end_ns - e.start_ns);
                             }
                           }
                         },
                         [&] { eos = true; },
                         [&](const std::string& e) { error = e; },
                         {}});
  EXPECT_TRUE(rec.start().ok());
  EXPECT_TRUE(run_until(
      io, [&] { return started || !error.empty(); }, 20s));
  EXPECT_EQ(error, "");
  const auto at = [&](std::int64_t ns) {
    return run_until(
        io, [&] { return rec.running_time_ns().value_or(0) >= ns || !error.empty(); }, 30s);
  };
  std::unique_ptr<live::Branch> branch;
  if (window.stop_ns > 0) {
    EXPECT_TRUE(at(window.start_ns));
    branch = std::make_unique<live::Branch>(io, rec.pipeline(), live::BranchOptions{});
    EXPECT_TRUE(branch->build().ok());
    attach_counter(*branch, branch->video_rtp(), out.video, "vcount");
    attach_counter(*branch, branch->audio_rtp(), out.audio, "acount");
    const auto st = branch->start();
    EXPECT_TRUE(st.ok()) << st.error().message;
    out.vtee_pads_live = tee_src_pads(rec.pipeline(), capture::kVideoTeeElement);
    if (window.keyframe_requests) {
      // A receiver's PLI as rtph264pay would send it upstream: every 200 ms while live.
      capture::ElementPtr pay(gst_bin_get_by_name(branch->bin(), "live_vpay"));
      capture::PadPtr paysink(gst_element_get_static_pad(pay.get(), "sink"));
      for (std::int64_t t = window.start_ns + 200'000'000; t < window.stop_ns; t += 200'000'000) {
        EXPECT_TRUE(at(t));
        gst_pad_push_event(paysink.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
      }
    }
    EXPECT_TRUE(at(window.stop_ns));
    bool stopped = false;
    branch->stop([&] { stopped = true; });
    EXPECT_TRUE(run_until(
        io, [&] { return stopped; }, 10s));
    out.keyframe_requests = branch->keyframe_requests();
    out.video_after_stop = out.video.packets;
    out.audio_after_stop = out.audio.packets;
    capture::ElementPtr bin(gst_bin_get_by_name(GST_BIN(rec.pipeline()), "live"));
    out.branch_removed = bin == nullptr;
    out.vtee_pads_after = tee_src_pads(rec.pipeline(), capture::kVideoTeeElement);
  }
  EXPECT_TRUE(at(5'600'000'000));
  rec.stop();
  EXPECT_TRUE(run_until(
      io, [&] { return eos || !error.empty(); }, 20s))
      << "no EOS";
  EXPECT_EQ(error, "");
  if (auto last = writer.finish()) out.durations_ns.push_back(last->end_ns - last->start_ns);
}

}  // namespace

TEST(LiveBranch, RecordingSegmentsAreTheSameWithLiveStartedAndStoppedMidRecording) {
  capture::ensure_gstreamer();
  Segments without, with;
  record({}, without);
  record({1'500'000'000, 3'700'000'000, false}, with);
  ASSERT_GE(without.durations_ns.size(), 5u);
  EXPECT_EQ(with.durations_ns.size(), without.durations_ns.size());
  // Every segment but the last (cut where stop landed) is exactly one GOP long in both runs.
  for (std::size_t i = 0; i + 1 < std::min(with.durations_ns.size(), without.durations_ns.size()); ++i) {
    EXPECT_EQ(with.durations_ns[i], without.durations_ns[i]) << "segment " << i;
    EXPECT_NEAR(static_cast<double>(with.durations_ns[i]), 1e9, 1e9 / 30 + 1) << "segment " << i;
  }
  // Live really ran: RTP from both payloaders with the pinned SSRCs, and nothing after the stop.
  EXPECT_GT(with.video_after_stop, 30u);
  EXPECT_GT(with.audio_after_stop, 50u) << "20 ms Opus packets over ~2 s";
  EXPECT_EQ(with.video.packets.load(), with.video_after_stop);
  EXPECT_EQ(with.audio.packets.load(), with.audio_after_stop);
  EXPECT_NE(with.video.ssrc.load(), 0u);
  // Stopping frees the branch: its elements are gone and the tee feeds the recording alone.
  EXPECT_EQ(with.vtee_pads_live, 2u);
  EXPECT_EQ(with.vtee_pads_after, 1u);
  EXPECT_TRUE(with.branch_removed);
}

TEST(LiveBranch, KeyframeRequestsThroughTheBranchDoNotMoveSegmentCuts) {
  capture::ensure_gstreamer();
  Segments without, with;
  record({}, without);
  record({1'000'000'000, 4'000'000'000, true}, with);
  EXPECT_EQ(with.durations_ns.size(), without.durations_ns.size());
  for (std::size_t i = 0; i + 1 < std::min(with.durations_ns.size(), without.durations_ns.size()); ++i) {
    EXPECT_EQ(with.durations_ns[i], without.durations_ns[i]) << "segment " << i;
  }
  EXPECT_GT(with.video_after_stop, 30u);
  EXPECT_GE(with.keyframe_requests, 10u) << "the requests reached the tee pad (and stopped there)";
}

TEST(LiveBranch, LiveOnlyPipelineCarriesRtpWithoutARecording) {
  capture::ensure_gstreamer();
  const auto c = small_config();
  const auto plan = capture::plan_live(c, selection(c));
  boost::asio::io_context io;
  bool started = false, eos = false;
  std::string error;
  capture::Recorder rec(
      io, plan.description, {},
      {[&] { started = true; }, {}, [&] { eos = true; }, [&](const std::string& e) { error = e; }, {}});
  ASSERT_TRUE(rec.start().ok());
  ASSERT_TRUE(run_until(
      io, [&] { return started || !error.empty(); }, 20s));
  ASSERT_EQ(error, "");
  live::Branch branch(io, rec.pipeline(), {});
  ASSERT_TRUE(branch.build().ok());
  Counter video, audio;
  attach_counter(branch, branch.video_rtp(), video, "vcount");
  attach_counter(branch, branch.audio_rtp(), audio, "acount");
  ASSERT_TRUE(branch.start().ok());
  EXPECT_TRUE(run_until(
      io, [&] { return video.packets > 30 && audio.packets > 25; }, 20s))
      << video.packets << " video, " << audio.packets << " audio packets";
  EXPECT_EQ(video.ssrc.load(), branch.video_ssrc());
  EXPECT_EQ(audio.ssrc.load(), branch.audio_ssrc());
  bool stopped = false;
  branch.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(
      io, [&] { return stopped; }, 10s));
  EXPECT_FALSE(branch.running());
  rec.stop();
  EXPECT_TRUE(run_until(
      io, [&] { return eos || !error.empty(); }, 20s));
  EXPECT_EQ(error, "");
}

TEST(LiveBranch, LiveAttachedAsTheRecordingStartsDoesNotStallIt) {
  // Seen: linking the branch while the encoder was still negotiating sent RECONFIGURE up the tee and
  // stalled the recording's video until the branch was removed.
  capture::ensure_gstreamer();
  Segments without, with;
  record({}, without);
  record({1, 2'500'000'000, false}, with);
  EXPECT_EQ(with.durations_ns.size(), without.durations_ns.size());
  for (std::size_t i = 0; i + 1 < std::min(with.durations_ns.size(), without.durations_ns.size()); ++i) {
    EXPECT_EQ(with.durations_ns[i], without.durations_ns[i]) << "segment " << i;
  }
  EXPECT_GT(with.video_after_stop, 30u);
}
