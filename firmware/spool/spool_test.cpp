#include "firmware/spool/spool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "firmware/spool/fmp4.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::spool;
namespace fs = std::filesystem;

namespace {

config::UnitConfig::Spool spool_config(const fs::path& dir, std::uint64_t max_bytes = 0) {
  config::UnitConfig::Spool c;
  c.dir = dir;
  c.max_bytes = max_bytes;
  c.max_percent = 99;
  return c;
}

protocol::SessionInfo new_session(util::TimePoint started = util::now_utc()) {
  protocol::SessionInfo s;
  s.session_id = util::uuid_v4();
  s.unit_id = "room-12";
  s.trigger = protocol::Trigger::local;
  s.started_at = started;
  s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 160, 120, 30, 300};
  return s;
}

// A real fragmented MP4 from GStreamer: `seconds` of 160x120 video in 500 ms fragments.
fs::path make_fmp4(const fs::path& file, int seconds) {
  const auto r = test::run({"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=" + std::to_string(30 * seconds), "!",
                            "video/x-raw,format=I420,width=160,height=120,framerate=30/1", "!", "x264enc",
                            "key-int-max=30", "!", "video/x-h264,profile=high", "!", "h264parse", "!", "mp4mux",
                            "fragment-duration=500", "!", "filesink", "location=" + file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return file;
}

void write_bytes(const fs::path& p, std::size_t n, char c = 'x') { test::write_file(p, std::string(n, c)); }

}  // namespace

TEST(Fmp4, ScanOfACompleteFileGivesItsDuration) {
  test::TempDir dir;
  const auto f = make_fmp4(dir / "a.mp4", 2);
  const auto scan = scan_fmp4(f);
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_TRUE(scan->playable());
  EXPECT_FALSE(scan->torn());
  EXPECT_TRUE(scan->has_video);
  EXPECT_GE(scan->complete_fragments, 3u);
  EXPECT_NEAR(static_cast<double>(scan->duration_ns()) / 1e9, 2.0, 0.05);
}

TEST(Fmp4, ATornFileKeepsItsCompleteFragments) {
  test::TempDir dir;
  const auto f = make_fmp4(dir / "a.mp4", 2);
  const auto full = scan_fmp4(f);
  ASSERT_TRUE(full.ok());
  fs::resize_file(f, full->file_size - 100);
  const auto torn = scan_fmp4(f);
  ASSERT_TRUE(torn.ok());
  EXPECT_TRUE(torn->torn());
  EXPECT_TRUE(torn->playable());
  EXPECT_EQ(torn->complete_fragments, full->complete_fragments - 1);
  EXPECT_LT(torn->duration_ns(), full->duration_ns());
  EXPECT_GT(torn->duration_ns(), 1'000'000'000);

  fs::resize_file(f, 500);  // inside the moov: nothing playable
  const auto header = scan_fmp4(f);
  ASSERT_TRUE(header.ok());
  EXPECT_FALSE(header->playable());

  test::write_file(dir / "b.mp4", "this is not an mp4 file at all");
  EXPECT_FALSE(scan_fmp4(dir / "b.mp4").ok());
}

TEST(Spool, ClosingASegmentRenamesHashesAndRecordsIt) {
  test::TempDir dir;
  Spool spool(spool_config(dir.path()));
  ASSERT_TRUE(spool.open().ok());
  const auto info = new_session();
  ASSERT_TRUE(spool.begin_session(info).ok());
  const auto sdir = spool.session_dir(info.session_id);
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        spool.segment_opened(info.session_id, {i, Spool::segment_name(i), 2'000'000'000LL * i, info.started_at}).ok());
    write_bytes(sdir / Spool::temp_name(i), 1000 + i);
    auto e = spool.close_segment(info.session_id, i, 2'000'000'000LL * i, 2'000'000'000, info.started_at);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->file, Spool::segment_name(i));
    EXPECT_EQ(e->size_bytes, 1000u + i);
    EXPECT_EQ(e->sha256, *util::file_digest_hex(sdir / e->file));
    EXPECT_FALSE(fs::exists(sdir / Spool::temp_name(i)));
  }
  EXPECT_FALSE(spool.close_segment(info.session_id, 1, 0, 0, info.started_at).ok()) << "closing twice";
  const auto ended = spool.end_session(info.session_id, util::now_utc(), "stopped");
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->segment_count, 3u);

  // What is on disk reads back the same.
  const Manifest m = parse_manifest(test::read_file(sdir / "manifest.jsonl"));
  EXPECT_TRUE(m.problems.empty());
  ASSERT_EQ(m.segments.size(), 3u);
  EXPECT_EQ(m.segments, spool.manifest(info.session_id)->segments);
  EXPECT_EQ(m.end->end_reason, "stopped");
}

TEST(Spool, PendingListsUnuploadedSegmentsInOrderAndUploadsPersist) {
  test::TempDir dir;
  std::string first_id;
  std::string second_id;
  {
    Spool spool(spool_config(dir.path()));
    ASSERT_TRUE(spool.open().ok());
    const auto t0 = util::now_utc();
    auto a = new_session(t0);
    auto b = new_session(t0 + std::chrono::minutes(1));
    first_id = a.session_id;
    second_id = b.session_id;
    // Created newest first: order must come from started_at, not creation or id.
    for (const auto& s : {b, a}) {
      ASSERT_TRUE(spool.begin_session(s).ok());
      for (std::uint32_t i = 0; i < 2; ++i) {
        write_bytes(spool.session_dir(s.session_id) / Spool::temp_name(i), 100);
        ASSERT_TRUE(spool.close_segment(s.session_id, i, 0, 1, s.started_at).ok());
      }
    }
    ASSERT_TRUE(spool.mark_uploaded(first_id, 0).ok());
    ASSERT_TRUE(spool.mark_uploaded(first_id, 0).ok()) << "idempotent";
    EXPECT_FALSE(spool.mark_uploaded(first_id, 7).ok());
    EXPECT_FALSE(spool.mark_uploaded("no-such-session", 0).ok());
  }
  Spool reopened(spool_config(dir.path()));
  ASSERT_TRUE(reopened.open().ok());
  const auto pending = reopened.pending();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].entry.session_id, first_id);
  EXPECT_EQ(pending[0].entry.index, 1u);
  EXPECT_EQ(pending[1].entry.session_id, second_id);
  EXPECT_EQ(pending[1].entry.index, 0u);
  EXPECT_TRUE(fs::exists(pending[2].path));
  const auto u = reopened.usage();
  EXPECT_EQ(u.backlog_segments, 3u);
  EXPECT_EQ(u.backlog_bytes, 300u);
  EXPECT_EQ(u.evictable_bytes, 100u);
}

TEST(Spool, MakeRoomEvictsOnlyUploadedSegmentsOldestFirst) {
  test::TempDir dir;
  Spool spool(spool_config(dir.path(), 10'000));
  ASSERT_TRUE(spool.open().ok());
  const auto t0 = util::now_utc();
  auto older = new_session(t0);
  auto newer = new_session(t0 + std::chrono::minutes(5));
  for (const auto& s : {older, newer}) {
    ASSERT_TRUE(spool.begin_session(s).ok());
    for (std::uint32_t i = 0; i < 3; ++i) {
      write_bytes(spool.session_dir(s.session_id) / Spool::temp_name(i), 1000);
      ASSERT_TRUE(spool.close_segment(s.session_id, i, 0, 1, s.started_at).ok());
      ASSERT_TRUE(spool.mark_uploaded(s.session_id, i).ok());
    }
  }
  const auto before = spool.usage();
  EXPECT_GT(before.used_bytes, 6000u);
  EXPECT_EQ(before.limit_bytes, 10'000u);

  // Needs ~2 segments evicted: the two oldest of the older session.
  const std::uint64_t reserve = 10'000 - before.used_bytes + 1500;
  auto ev = spool.make_room(reserve);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->evicted_segments, 2u);
  const auto sdir = spool.session_dir(older.session_id);
  EXPECT_FALSE(fs::exists(sdir / Spool::segment_name(0)));
  EXPECT_FALSE(fs::exists(sdir / Spool::segment_name(1)));
  EXPECT_TRUE(fs::exists(sdir / Spool::segment_name(2)));
  EXPECT_EQ(spool.manifest(older.session_id)->evicted, (std::set<std::uint32_t>{0, 1}));
  EXPECT_LE(spool.usage().used_bytes + reserve, 10'000u);
}

TEST(Spool, FullWhenOnlyUnuploadedDataIsThereAndNothingIsDeleted) {
  test::TempDir dir;
  Spool spool(spool_config(dir.path(), 5'000));
  ASSERT_TRUE(spool.open().ok());
  const auto s = new_session();
  ASSERT_TRUE(spool.begin_session(s).ok());
  for (std::uint32_t i = 0; i < 3; ++i) {
    write_bytes(spool.session_dir(s.session_id) / Spool::temp_name(i), 1000);
    ASSERT_TRUE(spool.close_segment(s.session_id, i, 0, 1, s.started_at).ok());
  }
  ASSERT_TRUE(spool.mark_uploaded(s.session_id, 0).ok());
  const auto r = spool.make_room(4'000);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("spool full"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("spool.max_bytes"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("2 segments not yet uploaded"), std::string::npos) << r.error().message;
  for (std::uint32_t i = 0; i < 3; ++i)
    EXPECT_TRUE(fs::exists(spool.session_dir(s.session_id) / Spool::segment_name(i)));
}

TEST(Spool, OneDaemonPerSpool) {
  test::TempDir dir;
  Spool a(spool_config(dir.path()));
  ASSERT_TRUE(a.open().ok());
  Spool b(spool_config(dir.path()));
  const auto st = b.open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("in use by another classcamd"), std::string::npos) << st.error().message;
}

TEST(Spool, RecoveryKeepsCompleteFragmentsOfTheOpenSegmentAndDeletesNothing) {
  test::TempDir dir;
  test::TempDir media;
  const auto full = make_fmp4(media / "full.mp4", 2);
  const auto full_scan = scan_fmp4(full);
  ASSERT_TRUE(full_scan.ok());
  std::string id;
  fs::path sdir;
  {
    Spool spool(spool_config(dir.path()));
    ASSERT_TRUE(spool.open().ok());
    const auto s = new_session();
    id = s.session_id;
    sdir = spool.session_dir(id);
    ASSERT_TRUE(spool.begin_session(s).ok());
    // Segment 0 closed normally; segment 1 renamed but its manifest line never written; segment 2 open
    // and torn mid-fragment; segment 3 open with only part of its header.
    fs::copy_file(full, sdir / Spool::temp_name(0));
    ASSERT_TRUE(spool.close_segment(id, 0, 0, full_scan->duration_ns(), s.started_at).ok());
    fs::copy_file(full, sdir / Spool::segment_name(1));
    ASSERT_TRUE(
        spool.segment_opened(id, {2, Spool::segment_name(2), 4'000'000'000, s.started_at + std::chrono::seconds(4)})
            .ok());
    fs::copy_file(full, sdir / Spool::temp_name(2));
    fs::resize_file(sdir / Spool::temp_name(2), full_scan->file_size - 300);
    fs::copy_file(full, sdir / Spool::temp_name(3));
    fs::resize_file(sdir / Spool::temp_name(3), 200);
    // The spool goes away without an end record, as in a crash.
  }
  const auto bytes_before = [&] {
    std::uint64_t n = 0;
    for (const auto& e : fs::directory_iterator(sdir)) {
      if (e.path().filename() != "manifest.jsonl") n += e.file_size();
    }
    return n;
  }();

  Spool spool(spool_config(dir.path()));
  ASSERT_TRUE(spool.open().ok());
  const auto recovered = spool.recover();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].session_id, id);
  ASSERT_EQ(recovered[0].recovered.size(), 2u);
  EXPECT_EQ(recovered[0].segments, 3u);

  const Manifest* m = spool.manifest(id);
  ASSERT_TRUE(m->ended());
  EXPECT_EQ(m->end->segment_count, 3u);
  EXPECT_NE(m->end->end_reason->find("recovered"), std::string::npos);
  const auto& seg2 = m->segments.back();
  EXPECT_EQ(seg2.index, 2u);
  EXPECT_TRUE(seg2.recovered);
  EXPECT_EQ(seg2.start_pts_ns, 4'000'000'000) << "start comes from the open record";
  EXPECT_GT(seg2.duration_ns, 1'000'000'000);
  EXPECT_LT(seg2.duration_ns, full_scan->duration_ns());
  EXPECT_EQ(seg2.sha256, *util::file_digest_hex(sdir / seg2.file));
  const auto rescan = scan_fmp4(sdir / seg2.file);
  ASSERT_TRUE(rescan.ok());
  EXPECT_FALSE(rescan->torn()) << "the recovered segment is a clean file";
  EXPECT_TRUE(fs::exists(sdir / "seg-00002.mp4.torn"));
  EXPECT_TRUE(fs::exists(sdir / Spool::temp_name(3))) << "the unplayable part is kept";

  // Every byte is still there: in segments, in the torn tail, in the unplayable part.
  std::uint64_t bytes_after = 0;
  for (const auto& e : fs::directory_iterator(sdir)) {
    if (e.path().filename() != "manifest.jsonl") bytes_after += e.file_size();
  }
  EXPECT_EQ(bytes_after, bytes_before);
}
