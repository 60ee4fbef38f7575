// Real GStreamer pipelines with test sources: the recorder, privacy zones in the decoded output,
// snapshots, and the libcamera "no camera" path.
#include "firmware/capture/recorder.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <mutex>

#include "firmware/capture/keyframes.hpp"
#include "firmware/capture/plan.hpp"
#include "firmware/capture/probe.hpp"
#include "firmware/capture/snapshot.hpp"
#include "firmware/capture/time_strip.hpp"
#include "firmware/spool/fmp4.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::capture;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

config::UnitConfig small_config() {
  auto c = config::default_unit_config();
  c.video.source = "test";
  c.video.width = 320;
  c.video.height = 240;
  c.audio.source = "test";
  c.encoder.kind = "x264";
  c.encoder.preset = "ultrafast";
  c.encoder.bitrate_kbps = 500;
  c.recording.segment_ms = 1000;
  return c;
}

Plan recording_plan(const config::UnitConfig& c) {
  const auto sel = select(c, probe(c));
  EXPECT_TRUE(sel.ok()) << sel.error().message;
  return plan_recording(c, *sel);
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  // Without outstanding work run_one_for() returns at once and leaves the context stopped.
  if (io.stopped()) io.restart();
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_one_for(50ms);
  }
  return true;
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  run_until(
      io, [&] { return std::chrono::steady_clock::now() >= until; }, d + 1s);
}

double probe_duration(const fs::path& f) {
  const auto r = test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                            "default=noprint_wrappers=1:nokey=1", f.string()});
  if (r.exit_code != 0) return -1;
  try {
    return std::stod(r.output);
  } catch (...) {
    return -1;
  }
}

// The luma plane of one decoded frame (ffmpeg), `width` x `height` bytes.
std::string decode_gray(const fs::path& media, const fs::path& out) {
  const auto r = test::run({"ffmpeg", "-v", "error", "-y", "-i", media.string(), "-frames:v", "1", "-f", "rawvideo",
                            "-pix_fmt", "gray", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return test::read_file(out);
}

// Collects the muxed stream as the spool would receive it.
void start(Recorder& r) {
  const auto st = r.start();
  ASSERT_TRUE(st.ok()) << st.error().message;
}

struct Recording {
  std::string bytes;
  std::size_t samples = 0;
  bool started = false, eos = false;
  std::string error;
  Recorder::Events events() {
    return {[this] { started = true; },
            [this](SamplePtr s) {
              GstMapInfo map;
              GstBuffer* b = gst_sample_get_buffer(s.get());
              ASSERT_TRUE(gst_buffer_map(b, &map, GST_MAP_READ));
              bytes.append(reinterpret_cast<const char*>(map.data), map.size);
              gst_buffer_unmap(b, &map);
              ++samples;
            },
            [this] { eos = true; },
            [this](const std::string& e) { error = e; },
            {}};
  }
  fs::path save(const fs::path& file) const {
    test::write_file(file, bytes);
    return file;
  }
};

}  // namespace

TEST(Recorder, StreamsFragmentsWhileRecordingAndFlushesTheLastOnStop) {
  test::TempDir dir;
  boost::asio::io_context io;
  Recording rec;
  Recorder r(io, recording_plan(small_config()), {}, rec.events());
  ASSERT_NO_FATAL_FAILURE(start(r));
  ASSERT_TRUE(run_until(
      io, [&] { return rec.started || !rec.error.empty(); }, 20s));
  ASSERT_EQ(rec.error, "");
  EXPECT_TRUE(r.utc_at_running_zero().has_value());
  // Fragments reach us while recording, not only at the end: that is what a crash can keep.
  ASSERT_TRUE(run_until(
      io, [&] { return rec.bytes.find("moof") != std::string::npos && rec.bytes.size() > 20000; }, 20s));
  run_for(io, 1500ms);
  const std::size_t before_stop = rec.bytes.size();
  r.stop();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.eos; }, 10s))
      << "no EOS after stop";
  EXPECT_GT(rec.bytes.size(), before_stop) << "the last fragment is flushed on stop";

  const auto file = rec.save(dir / "stream.mp4");
  const auto scan = spool::scan_fmp4(file);
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_TRUE(scan->playable());
  EXPECT_FALSE(scan->torn());
  EXPECT_TRUE(scan->has_video);
  EXPECT_GT(scan->complete_fragments, 20u) << "100 ms fragments";
  EXPECT_GT(probe_duration(file), 1.5);
}

TEST(Recorder, PrivacyZonePixelsAreBlackInTheDecodedOutput) {
  test::TempDir dir;
  auto c = small_config();
  c.audio.source = "none";
  // The left quarter, top half: the white and yellow bars of the test pattern, and its clock.
  c.video.privacy_zones = {{0.0, 0.0, 0.25, 0.5}};
  boost::asio::io_context io;
  Recording rec;
  Recorder r(io, recording_plan(c), c.video.privacy_zones, rec.events());
  ASSERT_NO_FATAL_FAILURE(start(r));
  ASSERT_TRUE(run_until(
      io, [&] { return rec.started; }, 20s));
  run_for(io, 1500ms);
  r.stop();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.eos; }, 10s));

  const std::string y = decode_gray(rec.save(dir / "stream.mp4"), dir / "frame.gray");
  ASSERT_EQ(y.size(), 320u * 240u);
  auto luma = [&](int xx, int yy) { return static_cast<int>(static_cast<unsigned char>(y[yy * 320 + xx])); };
  // Inside the zone (2 px in from its edges, where the codec may smear the neighbouring bars): black.
  int inside_max = 0;
  for (int yy = 0; yy < 118; ++yy) {
    for (int xx = 0; xx < 78; ++xx) inside_max = std::max(inside_max, luma(xx, yy));
  }
  EXPECT_LE(inside_max, 20) << "privacy zone not black in the recording";
  // Next to it (cyan and green bars) and below it: the picture is there.
  EXPECT_GT(luma(100, 60), 100);
  EXPECT_GT(luma(40, 150), 100);
}

TEST(Recorder, TheLatencyStripCarriesTheCaptureTimeThroughTheEncoder) {
  test::TempDir dir;
  auto c = small_config();
  c.audio.source = "none";
  boost::asio::io_context io;
  Recording rec;
  const auto ms = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
  const auto before = ms();
  Recorder r(io, recording_plan(c), {}, rec.events(), /*latency_strip=*/true);
  ASSERT_NO_FATAL_FAILURE(start(r));
  ASSERT_TRUE(run_until(
      io, [&] { return rec.started; }, 20s));
  run_for(io, 1000ms);
  r.stop();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.eos; }, 10s));
  const auto after = ms();
  const std::string y = decode_gray(rec.save(dir / "stream.mp4"), dir / "frame.gray");
  ASSERT_EQ(y.size(), 320u * 240u);
  const auto t = read_time(reinterpret_cast<const std::uint8_t*>(y.data()), 320, 320, 240);
  ASSERT_TRUE(t.has_value()) << "no strip in the decoded first frame";
  EXPECT_GE(*t, before);
  EXPECT_LE(*t, after);
}

TEST(Recorder, SnapshotDuringARecordingIsAJpegWithTheZonesBlackedOut) {
  test::TempDir dir;
  auto c = small_config();
  c.video.privacy_zones = {{0.0, 0.0, 0.25, 0.5}};
  boost::asio::io_context io;
  Recording rec;
  Recorder r(io, recording_plan(c), c.video.privacy_zones, rec.events());
  ASSERT_NO_FATAL_FAILURE(start(r));
  ASSERT_TRUE(run_until(
      io, [&] { return rec.samples > 10; }, 20s));
  const std::size_t samples_before = rec.samples;
  SamplePtr frame;
  bool got = false;
  r.grab_frame([&](SamplePtr s) {
    frame = std::move(s);
    got = true;
  });
  ASSERT_TRUE(run_until(
      io, [&] { return got; }, 5s));
  ASSERT_TRUE(frame);
  const auto jpeg = encode_jpeg(frame.get(), 160, 90);
  ASSERT_TRUE(jpeg.ok()) << jpeg.error().message;
  ASSERT_GT(jpeg->size(), 100u);
  EXPECT_EQ(jpeg->substr(0, 2), "\xFF\xD8");
  test::write_file(dir / "snap.jpg", *jpeg);
  const std::string y = decode_gray(dir / "snap.jpg", dir / "snap.gray");
  ASSERT_EQ(y.size(), 160u * 120u) << "scaled to snapshot width, aspect kept";
  EXPECT_LE(static_cast<unsigned char>(y[20 * 160 + 15]), 24);
  EXPECT_GT(static_cast<unsigned char>(y[70 * 160 + 50]), 100);  // the cyan bar, below the clock
  // The recording went on while the snapshot was taken and encoded.
  run_for(io, 500ms);
  EXPECT_GT(rec.samples, samples_before + 10);
  r.stop();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.eos; }, 10s));
}

TEST(Recorder, PreviewSnapshotWhenIdle) {
  auto c = small_config();
  c.video.privacy_zones = {{0.5, 0.5, 0.5, 0.5}};
  const auto sel = select(c, probe(c));
  ASSERT_TRUE(sel.ok());
  const auto p = plan_preview(c, *sel);
  const auto frame = preview_frame(p.description, p.warmup_frames, c.video.privacy_zones, 5s);
  ASSERT_TRUE(frame.ok()) << frame.error().message;
  const auto jpeg = encode_jpeg(frame->get(), 640, 85);
  ASSERT_TRUE(jpeg.ok()) << jpeg.error().message;
  test::TempDir dir;
  test::write_file(dir / "snap.jpg", *jpeg);
  const std::string y = decode_gray(dir / "snap.jpg", dir / "snap.gray");
  ASSERT_EQ(y.size(), 320u * 240u) << "never scaled up";
  EXPECT_LE(static_cast<unsigned char>(y[200 * 320 + 250]), 24);
}

TEST(Recorder, LibcameraWithNoCameraFailsFastWithAClearMessage) {
  bool found = true;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string detail = probe_libcamera("", found);
  EXPECT_FALSE(found);
  EXPECT_NE(detail.find("no camera"), std::string::npos) << detail;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "the probe has a 3 s bound; it must not hang";

  // Forcing the libcamera pipeline anyway ends in an error event, not a hang.
  auto c = small_config();
  c.video.source = "libcamera";
  const auto sel = select(c, probe(c));
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.error().message.find("libcamera found no camera"), std::string::npos) << sel.error().message;

  Selection forced;
  forced.video = VideoSource::libcamera;
  forced.encoder = VideoEncoder::x264;
  test::TempDir dir;
  boost::asio::io_context io;
  Recording rec;
  Recorder r(io, plan_recording(c, forced), {}, rec.events());
  ASSERT_NO_FATAL_FAILURE(start(r));
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.error.empty(); }, 10s));
  EXPECT_NE(rec.error.find("camera"), std::string::npos) << rec.error;
  EXPECT_EQ(rec.samples, 0u);
}

namespace {

// Keyframes out of the encoder (at the tee after h264parse), as running times relative to the first.
struct EncodedKeyframes {
  std::mutex mu;
  std::vector<std::int64_t> ns;
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
    if (GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_OK;
    const std::int64_t rt = buffer_running_time(pad, b);
    if (rt < 0) return GST_PAD_PROBE_OK;
    auto* self = static_cast<EncodedKeyframes*>(data);
    std::lock_guard lock(self->mu);
    self->ns.push_back(rt);
    return GST_PAD_PROBE_OK;
  }
  std::vector<double> seconds() {
    std::lock_guard lock(mu);
    std::vector<double> out;
    for (const auto n : ns) out.push_back((n - ns.front()) / 1e9);
    return out;
  }
};

// Records 3.4 s with `encoder` (1 s grid); at 1.5 s (running time) asks for one keyframe the way the
// live branch does, with a request event pushed up from the tee.
std::vector<double> grid_keyframes(const std::string& encoder, bool request) {
  auto c = small_config();
  c.encoder.kind = encoder;
  c.video.framerate = 30;
  boost::asio::io_context io;
  Recording rec;
  Recorder r(io, recording_plan(c), {}, rec.events());
  EncodedKeyframes keys;
  start(r);
  ElementPtr tee(gst_bin_get_by_name(GST_BIN(r.pipeline()), kVideoTeeElement));
  PadPtr tee_sink(gst_element_get_static_pad(tee.get(), "sink"));
  gst_pad_add_probe(tee_sink.get(), GST_PAD_PROBE_TYPE_BUFFER, &EncodedKeyframes::on_buffer, &keys, nullptr);
  const auto at = [&](std::int64_t ns) {
    return run_until(
        io, [&] { return r.running_time_ns().value_or(0) >= ns || !rec.error.empty(); }, 20s);
  };
  EXPECT_TRUE(at(1'500'000'000));
  if (request) {
    // No minimum interval: with 1000 ms, 0.5 s after the grid's keyframe it would wait for the next
    // grid point, which then serves it.
    EXPECT_TRUE(gst_pad_push_event(tee_sink.get(), keyframe_request_event(0ms)));
  }
  EXPECT_TRUE(at(3'400'000'000));
  r.stop();
  EXPECT_TRUE(run_until(
      io, [&] { return rec.eos || !rec.error.empty(); }, 10s));
  EXPECT_EQ(rec.error, "");
  return keys.seconds();
}

std::string list(const std::vector<double>& v) {
  std::string out;
  for (const double s : v) out += fmt::format(" {:.3f}", s);
  return out;
}

}  // namespace

// The grid works with each software encoder here (v4l2h264enc, the Pi's, is a GstVideoEncoder too and
// honours the same event): keyframes every segment_ms from the first frame, one extra on request, and
// the grid's next keyframe where it was.
TEST(KeyframeGrid, KeyframesOnTheGridAndOneExtraOnRequestWithX264AndOpenh264) {
  ensure_gstreamer();
  for (const std::string encoder : {"x264", "openh264"}) {
    const auto plain = grid_keyframes(encoder, false);
    const auto asked = grid_keyframes(encoder, true);
    std::printf("[ figures  ] %s keyframes (s):%s; with a request at 1.5 s:%s\n", encoder.c_str(), list(plain).c_str(),
                list(asked).c_str());
    ASSERT_EQ(plain.size(), 4u) << encoder << list(plain);
    for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_NEAR(plain[i], static_cast<double>(i), 1e-3) << encoder;
    ASSERT_EQ(asked.size(), 5u) << encoder << list(asked);
    EXPECT_NEAR(asked[2], 1.5, 0.1) << encoder << ": the extra keyframe comes at once";
    for (const std::size_t i : {0u, 1u, 3u, 4u}) {
      EXPECT_NEAR(asked[i], static_cast<double>(i < 2 ? i : i - 1), 1e-3) << encoder << ": the grid stays";
    }
  }
}
