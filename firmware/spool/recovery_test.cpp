// Recovery and the fMP4 reader against corrupt files: each crafted from a real GStreamer recording
// (test sources, the recorder's muxer settings) by changing a few bytes, as a failing SD card would.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "firmware/spool/durable.hpp"
#include "firmware/spool/fmp4.hpp"
#include "firmware/spool/spool.hpp"
#include "tests/support/mp4.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::spool;
using namespace classcam::test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kHourNs = 3'600'000'000'000;

std::string recorded_fmp4(const test::TempDir& dir, int seconds) {
  return test::record_fmp4(dir / "recorded.mp4", seconds);
}

config::UnitConfig::Spool spool_config(const fs::path& dir) {
  config::UnitConfig::Spool c;
  c.dir = dir;
  c.max_percent = 99;
  return c;
}

protocol::SessionInfo new_session() {
  protocol::SessionInfo s;
  s.session_id = util::uuid_v4();
  s.unit_id = "room-12";
  s.trigger = protocol::Trigger::local;
  s.started_at = util::now_utc();
  s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 160, 120, 30, 300};
  return s;
}

// A session left as a crash leaves it (no end record); `files` are written into its directory.
std::string crashed_session(const fs::path& spool_dir, const std::map<std::string, std::string>& files) {
  Spool spool(spool_config(spool_dir));
  EXPECT_TRUE(spool.open().ok());
  const auto s = new_session();
  EXPECT_TRUE(spool.begin_session(s).ok());
  for (const auto& [name, bytes] : files) test::write_file(spool.session_dir(s.session_id) / name, bytes);
  return s.session_id;
}

std::uint64_t bytes_in(const fs::path& dir) {
  std::uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != "manifest.jsonl") n += e.file_size();
  }
  return n;
}

std::string notes_of(const Manifest& m) {
  std::string all;
  for (const auto& n : m.notes) all += n + "\n";
  return all;
}

// Runs `body` in a child process whose address space is capped at `limit` bytes; true if it returned
// true there. What a test needs beyond the cap fails with bad_alloc in the child, not in the test.
bool within_address_space(std::uint64_t limit, const std::function<bool()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    rlimit r{limit, limit};
    ::setrlimit(RLIMIT_AS, &r);
    int code = 3;
    try {
      code = body() ? 0 : 1;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST(Fmp4Corrupt, ATrunSampleCountThatDoesNotFitItsBoxEndsTheCompletePart) {
  test::TempDir dir;
  std::string b = recorded_fmp4(dir, 3);
  const std::size_t fragments = top_boxes_of(b, "moof").size();
  ASSERT_GE(fragments, 6u);
  // Fragment 3 of the video: its sample_count says 4 billion samples in a box of a few hundred bytes.
  const Box moof = video_moof(b, 3);
  const Box trun = child(b, *video_traf(b, moof), "trun");
  put32(b, trun.at + 12, 0xffffffff);
  test::write_file(dir / "a.mp4", b);

  const auto scan = scan_fmp4(dir / "a.mp4");
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_EQ(scan->complete_size, moof.at) << "the complete part ends before the corrupt fragment";
  EXPECT_TRUE(scan->torn());
  EXPECT_TRUE(scan->playable());
  EXPECT_LT(scan->complete_fragments, fragments);
  EXPECT_NE(scan->problem.find("sample_count"), std::string::npos) << scan->problem;
}

TEST(Fmp4Corrupt, ACountOfSamplesWithoutPerSampleFieldsCannotMakeAnAbsurdDuration) {
  test::TempDir dir;
  std::string b = recorded_fmp4(dir, 3);
  // The video's trex gets a default duration and one trun loses its per-sample fields, with a count
  // of 4 billion: a loop over the samples would take seconds and add up to years of media.
  const Box moof = video_moof(b, 2);
  corrupt_trun_count(b, 2);
  test::write_file(dir / "a.mp4", b);

  const auto scan = scan_fmp4(dir / "a.mp4");
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_GE(scan->duration_ns(), 0);
  EXPECT_LE(scan->duration_ns(), kHourNs) << "a segment is never an hour long (the hub refuses it)";
  EXPECT_EQ(scan->complete_size, moof.at);
  EXPECT_FALSE(scan->problem.empty());
}

TEST(Fmp4Corrupt, ADecodeTimeThatJumpsAheadEndsTheCompletePart) {
  test::TempDir dir;
  std::string b = recorded_fmp4(dir, 3);
  const Box moof = video_moof(b, 4);
  const Box tfdt = child(b, *video_traf(b, moof), "tfdt");
  if (b[tfdt.at + 8] == 1) {
    put32(b, tfdt.at + 12, 0x00010000);  // a 64-bit time: its high word, 2^48 ticks later
  } else {
    put32(b, tfdt.at + 12, be32(b, tfdt.at + 12) | 0x40000000);  // 2^30 ticks later: days
  }
  test::write_file(dir / "a.mp4", b);

  const auto scan = scan_fmp4(dir / "a.mp4");
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_EQ(scan->complete_size, moof.at);
  EXPECT_GT(scan->duration_ns(), 1'000'000'000);
  EXPECT_LT(scan->duration_ns(), 3'000'000'000);
}

TEST(Fmp4Corrupt, ASecondMoovWithOtherTracksEndsTheCompletePartAndThrowsNothing) {
  test::TempDir dir;
  std::string b = recorded_fmp4(dir, 2);
  const std::size_t clean_size = b.size();
  // A second header whose tracks are numbered differently, after the fragments (as when a card's
  // blocks come back from another file).
  const std::string other = renumbered_moov(b, 10);
  b += other;
  b += b.substr(video_moof(b, 0).at, 4000);  // and the start of a fragment after it
  test::write_file(dir / "a.part", b);

  const auto scan = scan_fmp4(dir / "a.part");
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_EQ(scan->complete_size, clean_size);
  EXPECT_TRUE(scan->playable());
  EXPECT_NE(scan->problem.find("moov"), std::string::npos) << scan->problem;
}

TEST(Recovery, CorruptAndUnreadableFilesAreKeptAndNotedAndRecoveryGoesOn) {
  test::TempDir dir;
  test::TempDir media;
  const std::string good = recorded_fmp4(media, 2);
  // The second header's tracks are not the first's: the reader once died on tracks.at().
  const std::string second_moov = good + renumbered_moov(good, 76);
  const auto spool_dir = dir / "spool";
  const std::string a = crashed_session(spool_dir, {{"seg-00000.mp4.part", second_moov}});
  const std::string b = crashed_session(spool_dir, {{"seg-00000.mp4", good}, {"seg-00002.mp4.part", good}});
  // Session b's segment 1 cannot be read at all: a directory where a file should be (what a read error
  // of a failing card looks like to the reader: open works, read fails).
  fs::create_directories(Spool::session_dir_in(spool_dir, b) / "seg-00001.mp4.part");
  const std::string c = crashed_session(spool_dir, {{"seg-00000.mp4.part", good.substr(0, good.size() - 200)}});
  const auto before = bytes_in(spool_dir);

  Spool spool(spool_config(spool_dir));
  ASSERT_TRUE(spool.open().ok());
  std::vector<RecoveredSession> recovered;
  ASSERT_NO_THROW(recovered = spool.recover());
  EXPECT_EQ(recovered.size(), 3u);
  for (const auto& id : {a, b, c}) {
    const Manifest* m = spool.manifest(id);
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->ended()) << id;
  }
  // a: the part before the second header is a segment; the rest is kept beside it.
  const Manifest* ma = spool.manifest(a);
  ASSERT_EQ(ma->segments.size(), 1u);
  EXPECT_EQ(ma->segments[0].size_bytes, good.size());
  EXPECT_EQ(test::read_file(Spool::session_dir_in(spool_dir, a) / "seg-00000.mp4.torn"),
            second_moov.substr(good.size()));
  EXPECT_NE(notes_of(*ma).find("moov"), std::string::npos) << notes_of(*ma);
  // b: segments 0 and 2 are in; the unreadable one is named in the manifest and left where it is.
  const Manifest* mb = spool.manifest(b);
  EXPECT_EQ(mb->segments.size(), 2u);
  EXPECT_NE(notes_of(*mb).find("seg-00001.mp4.part"), std::string::npos) << notes_of(*mb);
  EXPECT_TRUE(fs::is_directory(Spool::session_dir_in(spool_dir, b) / "seg-00001.mp4.part"));
  // c: an ordinary torn segment, recovered as before.
  EXPECT_EQ(spool.manifest(c)->segments.size(), 1u);
  EXPECT_EQ(bytes_in(spool_dir), before) << "not a byte deleted";
}

TEST(Fmp4Scan, ReadsABigFileThroughABoundedBuffer) {
  test::TempDir dir;
  std::string b = recorded_fmp4(dir, 2);
  // The last mdat becomes 2 GiB (its samples at the start, then zeros: a sparse file, cheap on disk).
  const Box last = top_boxes_of(b, "mdat").back();
  constexpr std::uint64_t kBig = 2ULL << 30;
  std::string head = b.substr(0, last.at + last.size);
  put32(head, last.at, 1);  // size 1: a 64-bit size follows the type; the box grows by 8 bytes
  std::string large(8, '\0');
  std::uint64_t size = last.size + 8 + kBig;
  for (int i = 7; i >= 0; --i) {
    large[static_cast<std::size_t>(i)] = static_cast<char>(size & 0xff);
    size >>= 8;
  }
  head.insert(last.at + 8, large);
  test::write_file(dir / "big.mp4", head);
  fs::resize_file(dir / "big.mp4", head.size() + kBig);
  {
    std::ofstream out(dir / "big.mp4", std::ios::binary | std::ios::app);
    out << b.substr(last.at + last.size);  // what came after the last mdat (mfra)
  }
  const std::uint64_t expected_size = b.size() + 8 + kBig;
  const std::uint64_t fragments = top_boxes_of(b, "moof").size();
  // 512 MiB of address space: far less than the file, plenty for the test binary and the reader.
  EXPECT_TRUE(within_address_space(512ULL << 20, [&] {
    const auto scan = scan_fmp4(dir / "big.mp4");
    return scan.ok() && !scan->torn() && scan->file_size == expected_size && scan->complete_fragments == fragments;
  }));
}

TEST(Recovery, AHugeTornTailIsKeptThroughABoundedBuffer) {
  test::TempDir dir;
  test::TempDir media;
  const std::string good = recorded_fmp4(media, 2);
  const auto spool_dir = dir / "spool";
  // 1.5 GiB after the last whole fragment: zeros (sparse), then the bytes of a fragment.
  const std::string id = crashed_session(spool_dir, {{"seg-00000.mp4.part", good}});
  const auto part = Spool::session_dir_in(spool_dir, id) / "seg-00000.mp4.part";
  constexpr std::uint64_t kGap = 3ULL << 29;
  fs::resize_file(part, good.size() + kGap);
  {
    std::ofstream out(part, std::ios::binary | std::ios::app);
    out << good.substr(good.size() - 5000);
  }
  const auto before = bytes_in(spool_dir);
  EXPECT_TRUE(within_address_space(512ULL << 20, [&] {
    Spool spool(spool_config(spool_dir));
    if (!spool.open().ok()) return false;
    const auto r = spool.recover();
    return r.size() == 1 && r[0].recovered.size() == 1;
  }));
  const auto sdir = Spool::session_dir_in(spool_dir, id);
  EXPECT_EQ(fs::file_size(sdir / "seg-00000.mp4"), good.size());
  EXPECT_EQ(fs::file_size(sdir / "seg-00000.mp4.torn"), kGap + 5000);
  EXPECT_EQ(bytes_in(spool_dir), before);
  std::ifstream torn(sdir / "seg-00000.mp4.torn", std::ios::binary);
  torn.seekg(static_cast<std::streamoff>(kGap));
  std::string tail(5000, '\0');
  torn.read(tail.data(), 5000);
  EXPECT_EQ(tail, good.substr(good.size() - 5000)) << "the tail's bytes are the part's";
}

TEST(Recovery, SegmentCountIsTheNumberOfDistinctIndicesNotOfRecords) {
  // A manifest line whose fdatasync reported an error was still written: the segment was then
  // recorded a second time (by recovery, in the same or the next run).
  test::TempDir dir;
  test::TempDir media;
  const std::string good = recorded_fmp4(media, 1);
  const auto spool_dir = dir / "spool";
  std::string id;
  {
    Spool spool(spool_config(spool_dir));
    ASSERT_TRUE(spool.open().ok());
    const auto s = new_session();
    id = s.session_id;
    ASSERT_TRUE(spool.begin_session(s).ok());
    for (std::uint32_t i = 0; i < 3; ++i) {
      test::write_file(spool.session_dir(id) / Spool::temp_name(i), good);
      ASSERT_TRUE(spool.close_segment(id, i, 1'000'000'000LL * i, 1'000'000'000, s.started_at).ok());
    }
    const auto manifest = spool.session_dir(id) / "manifest.jsonl";
    const auto again = spool.manifest(id)->segments;
    ASSERT_TRUE(append_line_durably(manifest, segment_record(again[1])).ok());
    ASSERT_TRUE(append_line_durably(manifest, segment_record(again[2])).ok());
    ASSERT_TRUE(append_line_durably(manifest, segment_record(again[2])).ok());
  }
  Spool spool(spool_config(spool_dir));
  ASSERT_TRUE(spool.open().ok());
  EXPECT_EQ(spool.pending().size(), 3u) << "each segment is uploaded once";
  EXPECT_EQ(spool.usage().backlog_segments, 3u);
  const auto recovered = spool.recover();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].segments, 3u);
  EXPECT_EQ(recovered[0].recorded_ns, 3'000'000'000);
  const auto m = parse_manifest(test::read_file(Spool::session_dir_in(spool_dir, id) / "manifest.jsonl"));
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->segment_count, 3u) << "the hub waits for exactly segment_count segments";
}
