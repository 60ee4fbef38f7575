#include "firmware/spool/manifest.hpp"

#include <gtest/gtest.h>

#include "firmware/spool/durable.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::spool;

namespace {

protocol::SessionInfo info() {
  protocol::SessionInfo s;
  s.session_id = "3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b";
  s.unit_id = "room-12";
  s.title = "Year 8 maths";
  s.trigger = protocol::Trigger::button;
  s.started_at = *util::parse_rfc3339("2026-11-23T09:00:00.120Z");
  s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 1920, 1080, 30, 4000};
  s.audio = protocol::AudioFormat{protocol::AudioCodec::aac, 48000, 1, 96};
  return s;
}

protocol::SegmentEntry segment(std::uint32_t i) {
  protocol::SegmentEntry e;
  e.session_id = info().session_id;
  e.index = i;
  e.file = "seg-0000" + std::to_string(i) + ".mp4";
  e.start_utc = info().started_at + std::chrono::seconds(2 * i);
  e.start_pts_ns = 2'000'000'000LL * i;
  e.duration_ns = 2'000'000'000;
  e.size_bytes = 1000 + i;
  e.sha256 = std::string(64, 'a');
  return e;
}

}  // namespace

TEST(Manifest, EveryRecordRoundTrips) {
  protocol::Bookmark b;
  b.id = "6c0a3b58-2f55-4c1e-8d39-0f7f64a1d2b7";
  b.session_id = info().session_id;
  b.at = info().started_at + std::chrono::seconds(3);
  b.offset_ms = 3000;
  b.label = "group work";
  auto ended = info();
  ended.ended_at = info().started_at + std::chrono::seconds(4);
  ended.end_reason = "stopped";
  ended.segment_count = 2;
  const OpenedSegment open{1, "seg-00001.mp4", 2'000'000'000, info().started_at + std::chrono::seconds(2)};

  const std::string text = session_record(info()) + "\n" + open_record(open) + "\n" + segment_record(segment(0)) +
                           "\n" + segment_record(segment(1)) + "\n" + bookmark_record(b) + "\n" +
                           uploaded_record(0, info().started_at) + "\n" + evicted_record(0, info().started_at) + "\n" +
                           note_record("recovered", info().started_at) + "\n" + end_record(ended) + "\n";
  const Manifest m = parse_manifest(text);
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
  ASSERT_TRUE(m.session);
  EXPECT_EQ(*m.session, info());
  EXPECT_EQ(m.opened.at(1), open);
  ASSERT_EQ(m.segments.size(), 2u);
  EXPECT_EQ(m.segments[1], segment(1));
  ASSERT_EQ(m.bookmarks.size(), 1u);
  EXPECT_EQ(m.bookmarks[0], b);
  EXPECT_EQ(m.uploaded, std::set<std::uint32_t>{0});
  EXPECT_EQ(m.evicted, std::set<std::uint32_t>{0});
  EXPECT_EQ(m.notes, std::vector<std::string>{"recovered"});
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(*m.end, ended);
  EXPECT_EQ(m.next_index(), 2u);
}

TEST(Manifest, TornLastLineIsSkippedAndEverythingBeforeItKept) {
  const std::string full = session_record(info()) + "\n" + segment_record(segment(0)) + "\n";
  const std::string torn_line = segment_record(segment(1));
  for (std::size_t cut = 1; cut < torn_line.size(); cut += 7) {
    const Manifest m = parse_manifest(full + torn_line.substr(0, cut));
    ASSERT_TRUE(m.session);
    ASSERT_EQ(m.segments.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(m.segments[0], segment(0));
    ASSERT_EQ(m.problems.size(), 1u);
    EXPECT_NE(m.problems[0].find("line 3: torn"), std::string::npos) << m.problems[0];
  }
}

TEST(Manifest, BadLinesAreReportedNotFatal) {
  const std::string text = session_record(info()) + "\nnot json\n{\"record\":\"wat\"}\n{\"record\":\"segment\"}\n" +
                           segment_record(segment(0)) + "\n";
  const Manifest m = parse_manifest(text);
  EXPECT_EQ(m.segments.size(), 1u);
  ASSERT_EQ(m.problems.size(), 3u);
  EXPECT_EQ(m.problems[0], "line 2: not a JSON object");
  EXPECT_NE(m.problems[1].find("unknown record type \"wat\""), std::string::npos) << m.problems[1];
  EXPECT_NE(m.problems[2].find("segment"), std::string::npos) << m.problems[2];
}

TEST(Manifest, RefusesANewerManifestVersion) {
  const Manifest m = parse_manifest(R"({"record":"session","manifest":99,"session":{}})"
                                    "\n");
  EXPECT_FALSE(m.session);
  ASSERT_EQ(m.problems.size(), 1u);
  EXPECT_NE(m.problems[0].find("newer than this build"), std::string::npos) << m.problems[0];
}

TEST(Manifest, AppendAfterATornLineStartsANewLine) {
  test::TempDir dir;
  const auto file = dir / "manifest.jsonl";
  test::write_file(file, session_record(info()) + "\n" + segment_record(segment(0)).substr(0, 20));
  ASSERT_TRUE(append_line_durably(file, segment_record(segment(1))).ok());
  const Manifest m = parse_manifest(test::read_file(file));
  ASSERT_EQ(m.segments.size(), 1u);
  EXPECT_EQ(m.segments[0], segment(1));
  EXPECT_EQ(m.problems.size(), 1u);
}
