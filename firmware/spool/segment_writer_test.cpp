// The segment writer and Spool::write on a real fragmented-MP4 stream from GStreamer's mp4mux, fed in
// chunks of awkward sizes as the recorder would deliver it.
#include "firmware/spool/segment_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "firmware/spool/fmp4.hpp"
#include "firmware/spool/spool.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::spool;
namespace fs = std::filesystem;

namespace {

// 3.5 s of 30 fps video (a keyframe every second) and AAC audio, as one streamable fragmented MP4 with
// 100 ms fragments: what the recorder's mp4mux produces.
std::string make_stream(const fs::path& dir, bool audio = true) {
  std::vector<std::string> args = {"gst-launch-1.0",
                                   "-q",
                                   "videotestsrc",
                                   "num-buffers=105",
                                   "!",
                                   "video/x-raw,format=I420,width=160,height=120,framerate=30/1",
                                   "!",
                                   "x264enc",
                                   "key-int-max=30",
                                   "tune=zerolatency",
                                   "!",
                                   "video/x-h264,profile=high",
                                   "!",
                                   "h264parse",
                                   "!",
                                   "mp4mux",
                                   "name=m",
                                   "fragment-duration=100",
                                   "streamable=true",
                                   "!",
                                   "filesink",
                                   "location=" + (dir / "stream.mp4").string()};
  if (audio) {
    for (const char* a : {"audiotestsrc", "num-buffers=350", "samplesperbuffer=480", "!", "audioconvert", "!",
                          "audio/x-raw,rate=48000,channels=1", "!", "avenc_aac", "!", "m."}) {
      args.emplace_back(a);
    }
  }
  const auto r = test::run(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return test::read_file(dir / "stream.mp4");
}

template <typename F>
void feed_in_chunks(const std::string& stream, F&& feed) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> size(1, 20000);
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(size(rng), stream.size() - at);
    feed(std::string_view(stream).substr(at, n));
    at += n;
  }
}

}  // namespace

TEST(SegmentWriter, CutsAtKeyframesIntoPlayableFilesWithTheSameHeader) {
  test::TempDir dir;
  const std::string stream = make_stream(dir.path());
  SegmentWriter w(dir.path(), 1000);
  std::vector<WriterEvent> events;
  feed_in_chunks(stream, [&](std::string_view chunk) {
    auto r = w.feed(chunk);
    ASSERT_TRUE(r.ok()) << r.error().message;
    events.insert(events.end(), r->begin(), r->end());
  });
  const auto last = w.finish();
  ASSERT_TRUE(last);
  events.push_back(*last);

  std::vector<WriterEvent> closed;
  for (const auto& e : events) {
    if (e.kind == WriterEvent::Kind::closed) closed.push_back(e);
  }
  ASSERT_EQ(closed.size(), 4u) << "3.5 s in 1 s segments";
  std::string header;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < closed.size(); ++i) {
    EXPECT_EQ(closed[i].index, i);
    if (i > 0) {
      EXPECT_EQ(closed[i].start_ns, closed[i - 1].end_ns) << "segments follow each other without a gap";
    }
    total += closed[i].end_ns - closed[i].start_ns;
    const auto file = dir / Spool::temp_name(static_cast<std::uint32_t>(i));
    const auto scan = scan_fmp4(file);
    ASSERT_TRUE(scan.ok()) << scan.error().message;
    EXPECT_TRUE(scan->playable());
    EXPECT_FALSE(scan->torn());
    EXPECT_TRUE(scan->has_video);
    EXPECT_NEAR(static_cast<double>(scan->duration_ns()) / 1e9, i < 3 ? 1.0 : 0.5, 0.05) << i;
    // Every file starts with the same init segment.
    const std::string bytes = test::read_file(file);
    const std::string this_header = bytes.substr(0, bytes.find("moof") - 4);
    if (i == 0) header = this_header;
    EXPECT_EQ(this_header, header) << i;
    const auto probe =
        test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file.string()});
    EXPECT_EQ(probe.exit_code, 0) << probe.output;
  }
  EXPECT_NEAR(static_cast<double>(total) / 1e9, 3.5, 0.05);
}

TEST(SegmentWriter, AudioOnlyStreamsAreCutToo) {
  test::TempDir dir;
  const auto r =
      test::run({"gst-launch-1.0", "-q", "audiotestsrc", "num-buffers=250", "samplesperbuffer=480", "!", "audioconvert",
                 "!", "audio/x-raw,rate=48000,channels=1", "!", "opusenc", "!", "mp4mux", "fragment-duration=100",
                 "streamable=true", "!", "filesink", "location=" + (dir / "a.mp4").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  SegmentWriter w(dir.path(), 1000);
  int closed = 0;
  feed_in_chunks(test::read_file(dir / "a.mp4"), [&](std::string_view chunk) {
    const auto events = w.feed(chunk);
    ASSERT_TRUE(events.ok()) << events.error().message;
    for (const auto& e : events.value()) closed += e.kind == WriterEvent::Kind::closed ? 1 : 0;
  });
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(closed + 1, 3) << "2.5 s of sound in 1 s segments";
}

TEST(SpoolWrite, ASessionWrittenThroughTheSpoolHasAManifestThatMatchesItsFiles) {
  test::TempDir media;
  const std::string stream = make_stream(media.path());
  test::TempDir dir;
  config::UnitConfig::Spool cfg;
  cfg.dir = dir.path();
  Spool spool(cfg);
  ASSERT_TRUE(spool.open().ok());
  protocol::SessionInfo info;
  info.session_id = util::uuid_v4();
  info.unit_id = "room-1";
  info.started_at = util::now_utc();
  info.segment_duration_ms = 1000;
  info.video = protocol::VideoFormat{protocol::VideoCodec::h264, 160, 120, 30, 300};
  ASSERT_TRUE(spool.begin_session(info).ok());
  TimeBase tb{std::chrono::system_clock::now(), 5'000'000'000};
  std::size_t opened = 0;
  feed_in_chunks(stream, [&](std::string_view chunk) {
    auto r = spool.write(info.session_id, chunk, tb);
    ASSERT_TRUE(r.ok()) << r.error().message;
    opened += r->opened.size();
  });
  ASSERT_TRUE(spool.finish_session(info.session_id, "stopped").ok());
  const Manifest* m = spool.manifest(info.session_id);
  ASSERT_TRUE(m->ended());
  EXPECT_EQ(opened, 4u);
  ASSERT_EQ(m->segments.size(), 4u);
  EXPECT_EQ(m->end->segment_count, 4u);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& e = m->segments[i];
    EXPECT_EQ(e.index, i);
    EXPECT_FALSE(e.recovered);
    EXPECT_EQ(e.sha256, *util::file_digest_hex(spool.session_dir(info.session_id) / e.file));
    EXPECT_EQ(e.start_pts_ns, m->opened.at(e.index).start_pts_ns);
    total += e.duration_ns;
  }
  EXPECT_GE(m->segments[0].start_pts_ns, 5'000'000'000) << "running time from the time base";
  EXPECT_EQ(m->segments[1].start_pts_ns - m->segments[0].start_pts_ns, m->segments[0].duration_ns);
  EXPECT_NEAR(static_cast<double>(total) / 1e9, 3.5, 0.05);
  for (const auto& f : fs::directory_iterator(spool.session_dir(info.session_id))) {
    EXPECT_NE(f.path().extension(), ".part") << "every segment was closed";
  }
}
