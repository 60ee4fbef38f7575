// The live branch on real capture pipelines (test picture and tone, x264, short segments): the
// recording's segments are the same with live started and stopped mid-recording as without it, RTP
// flows while the branch runs and stops with it, a live-only pipeline works, and keyframe requests
// from a receiver never reach the recording's encoder through the branch.
#include "firmware/live/branch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>

#include "firmware/capture/keyframes.hpp"
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

// Running times of the keyframes entering an element's sink pad (a probe on the streaming thread).
struct KeyframeTimes {
  std::mutex mu;
  std::vector<std::int64_t> ns;
  std::vector<std::int64_t> times() {
    std::lock_guard lock(mu);
    return ns;
  }
  void watch(GstElement* bin, const char* element) {
    capture::ElementPtr e(gst_bin_get_by_name(GST_BIN(bin), element));
    ASSERT_NE(e, nullptr) << element;
    capture::PadPtr pad(gst_element_get_static_pad(e.get(), "sink"));
    gst_pad_add_probe(
        pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad* p, GstPadProbeInfo* info, gpointer data) {
          GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
          if (GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_OK;
          const std::int64_t rt = capture::buffer_running_time(p, b);
          if (rt < 0) return GST_PAD_PROBE_OK;
          auto* self = static_cast<KeyframeTimes*>(data);
          std::lock_guard lock(self->mu);
          self->ns.push_back(rt);
          return GST_PAD_PROBE_OK;
        },
        this, nullptr);
  }
};

struct Segments {
  std::vector<std::int64_t> durations_ns;
  Counter video, audio;
  std::uint64_t video_after_stop = 0, audio_after_stop = 0;
  bool branch_removed = false;
  std::uint64_t keyframe_requests = 0;
  std::size_t vtee_pads_live = 0, vtee_pads_after = 0;
  // Running times: keyframes out of the encoder, keyframes into the live branch, requests sent.
  KeyframeTimes encoded, live;
  std::vector<std::int64_t> requests_ns;
};

struct LiveWindow {
  std::int64_t start_ns = 0, stop_ns = 0;  // running time; 0/0: no live
  // Send force-key-unit events up the branch (as rtph264pay does on a PLI) this often while live; 0: none.
  std::int64_t request_every_ns = 0;
};

// Records `length_ns` into segments of `segment_ms`; with a window, live runs inside it.
void record(const LiveWindow& window, Segments& out, std::uint32_t segment_ms = 1000,
            std::int64_t length_ns = 5'600'000'000) {
  test::TempDir dir;
  auto c = small_config();
  c.recording.segment_ms = segment_ms;
  const auto plan = capture::plan_recording(c, selection(c));
  boost::asio::io_context io;
  spool::SegmentWriter writer(dir.path(), c.recording.segment_ms);
  bool started = false, eos = false;
  std::string error;
  capture::Recorder rec(io, plan, {},
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
  out.encoded.watch(rec.pipeline(), capture::kVideoTeeElement);
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
    out.live.watch(GST_ELEMENT(branch->bin()), "live_vq");
    if (window.request_every_ns > 0) {
      // A receiver's PLI as rtph264pay sends it upstream.
      capture::ElementPtr pay(gst_bin_get_by_name(branch->bin(), "live_vpay"));
      capture::PadPtr paysink(gst_element_get_static_pad(pay.get(), "sink"));
      for (std::int64_t t = window.start_ns + window.request_every_ns; t < window.stop_ns;
           t += window.request_every_ns) {
        EXPECT_TRUE(at(t));
        out.requests_ns.push_back(rec.running_time_ns().value_or(0));
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
  EXPECT_TRUE(at(length_ns));
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
  record({1'500'000'000, 3'700'000'000, 0}, with);
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
  record({1'000'000'000, 4'000'000'000, 200'000'000}, with);
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
      io, plan, {}, {[&] { started = true; }, {}, [&] { eos = true; }, [&](const std::string& e) { error = e; }, {}});
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
  record({1, 2'500'000'000, 0}, with);
  EXPECT_EQ(with.durations_ns.size(), without.durations_ns.size());
  for (std::size_t i = 0; i + 1 < std::min(with.durations_ns.size(), without.durations_ns.size()); ++i) {
    EXPECT_EQ(with.durations_ns[i], without.durations_ns[i]) << "segment " << i;
  }
  EXPECT_GT(with.video_after_stop, 30u);
}

TEST(LiveBranch, AViewersKeyframeRequestsGetAKeyframeWithinASecondAndLeaveTheSegmentsAsTheyWere) {
  // 3 s segments, so requests fall between grid keyframes: a receiver asks every 300 ms for 7 s.
  capture::ensure_gstreamer();
  constexpr std::uint32_t kSegmentMs = 3000;
  constexpr std::int64_t kLength = 9'600'000'000, kStart = 1'000'000'000, kStop = 8'000'000'000;
  Segments without, with;
  record({}, without, kSegmentMs, kLength);
  record({kStart, kStop, 300'000'000}, with, kSegmentMs, kLength);
  // The recording: segment count and every duration as without requests, one grid keyframe per segment.
  ASSERT_GE(without.durations_ns.size(), 3u);
  EXPECT_EQ(with.durations_ns.size(), without.durations_ns.size());
  for (std::size_t i = 0; i + 1 < std::min(with.durations_ns.size(), without.durations_ns.size()); ++i) {
    EXPECT_EQ(with.durations_ns[i], without.durations_ns[i]) << "segment " << i;
    EXPECT_NEAR(static_cast<double>(with.durations_ns[i]), kSegmentMs * 1e6, 1e9 / 30 + 1) << "segment " << i;
  }
  const auto plain = without.encoded.times();
  EXPECT_EQ(plain.size(), 4u) << "keyframes at 0, 3, 6 and 9 s without requests";
  // The live stream: a keyframe within ~1 s of every request, and at most one extra per second.
  const auto live = with.live.times();
  ASSERT_FALSE(with.requests_ns.empty());
  const auto encoded = with.encoded.times();
  ASSERT_FALSE(encoded.empty());
  std::int64_t worst = 0;
  for (const auto r : with.requests_ns) {
    if (r > kStop - 1'100'000'000) continue;  // the branch stops before its keyframe would be due
    const auto it = std::find_if(live.begin(), live.end(), [&](std::int64_t k) { return k >= r - 100'000'000; });
    ASSERT_NE(it, live.end()) << "no keyframe after the request at " << r / 1e9 << " s";
    worst = std::max(worst, *it - r);
  }
  std::printf(
      "[ figures  ] %zu requests, %zu keyframes in the live stream (%zu encoded without requests), worst wait %.0f "
      "ms\n",
      with.requests_ns.size(), live.size(), plain.size(), worst / 1e6);
  std::string list;
  for (const auto k : live) list += fmt::format(" {:.3f}", (k - encoded.front()) / 1e9);
  std::printf("[ figures  ] live keyframes at (s):%s\n", list.c_str());
  EXPECT_LE(worst, 1'100'000'000) << "ms from a request to the next keyframe the branch sent";
  const auto on_grid = [&](std::int64_t k) {
    const std::int64_t grid = kSegmentMs * 1'000'000LL, off = (k - encoded.front()) % grid;
    return off < 1'000'000'000 / 60 || grid - off < 1'000'000'000 / 60;
  };
  std::int64_t last_extra = -1'000'000'000'000;
  std::size_t extras = 0;
  for (const auto k : live) {
    if (on_grid(k)) continue;
    ++extras;
    EXPECT_GE(k - last_extra, 1'000'000'000 - 1'000'000'000 / 30) << "two extra keyframes within a second";
    last_extra = k;
  }
  EXPECT_GE(extras, 3u) << "requests between grid points get keyframes of their own";
  EXPECT_LE(extras, static_cast<std::size_t>((kStop - kStart) / 1'000'000'000 + 1));
  EXPECT_GE(with.keyframe_requests, 20u);
}

TEST(LiveBranch, WithoutRequestsTheRecordingHasOneKeyframePerSegmentAsBefore) {
  // Recording quality: the grid is the old fixed interval (segment_ms x framerate frames), so a
  // recording without live requests has exactly as many keyframes, at the same frames.
  capture::ensure_gstreamer();
  Segments plain;
  record({}, plain);
  const auto k = plain.encoded.times();
  ASSERT_EQ(k.size(), 6u) << "5.6 s at one keyframe per second";
  for (std::size_t i = 0; i < k.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(k[i] - k[0]), i * 1e9, 1e6) << "keyframe " << i;
  }
}
