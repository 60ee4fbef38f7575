// The recordings library with real GStreamer segments, a real SQLite store, and the join run inline.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "hub/recordings/joiner.hpp"
#include "hub/recordings/library.hpp"
#include "hub/testing/media.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

// Top-level MP4 boxes in order ("ftyp", "moov", "mdat", ...).
std::vector<std::string> top_level_boxes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> out;
  std::uint64_t pos = 0;
  const auto size = fs::file_size(file);
  while (pos + 8 <= size) {
    unsigned char h[16];
    in.seekg(static_cast<std::streamoff>(pos));
    in.read(reinterpret_cast<char*>(h), 8);
    std::uint64_t len = (std::uint64_t{h[0]} << 24) | (std::uint64_t{h[1]} << 16) | (std::uint64_t{h[2]} << 8) | h[3];
    out.emplace_back(reinterpret_cast<char*>(h + 4), 4);
    if (len == 1) {
      in.read(reinterpret_cast<char*>(h + 8), 8);
      len = 0;
      for (int i = 8; i < 16; ++i) len = (len << 8) | h[i];
    }
    if (len < 8) break;
    pos += len;
  }
  return out;
}

double probe_duration(const fs::path& file) {
  const auto r =
      test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file.string()});
  return r.exit_code == 0 ? std::stod(r.output) : -1;
}

class LibraryTest : public ::testing::Test {
 protected:
  test::TempDir dir{"recordings-test"};
  std::unique_ptr<store::Store> store = store::Store::open_sqlite(dir / "hub.db");
  audit::Auditor auditor{*store};
  // Joins run inline, so each test sees their result at once.
  recordings::Library library{*store, auditor, recordings::MediaLayout{dir / "media"},
                              [](const std::function<void()>& job) { job(); }};
  store::User teacher = std::get<store::User>(store->create_user("khan", "Ms Khan", store::Role::teacher, "h"));
  store::Room room = std::get<store::Room>(store->create_room("Room 12", teacher.id));
  access::Principal unit = [this] {
    (void)store->create_unit("room-12", "Camera", room.id, "hash");
    access::Principal p;
    p.caller = access::Caller::unit;
    p.id = "room-12";
    p.room_id = room.id;
    return p;
  }();

  store::Recording announce(const protocol::SessionInfo& info) {
    auto out = library.announce(unit, info);
    if (const auto* r = store::refusal(out)) throw std::runtime_error(r->message);
    return std::get<store::Recording>(out);
  }

  // Hands a copy of a made segment to the library (the library moves what it is given).
  void accept(const store::Recording& rec, const testkit::MadeSegments& m, std::size_t i) {
    const auto copy = dir / ("incoming-" + std::to_string(i));
    fs::copy_file(m.files[i], copy, fs::copy_options::overwrite_existing);
    ASSERT_EQ(store::refusal(library.accept_segment(rec, m.entries[i], copy)), nullptr);
  }
};

}  // namespace

TEST_F(LibraryTest, JoinsAllSegmentsIntoOneFaststartMp4WithoutReencoding) {
  const auto m = testkit::make_segments(dir / "src", "s1", 3);
  ASSERT_GE(m.files.size(), 3u);
  auto info = testkit::session_info("room-12", "s1");
  auto rec = announce(info);
  EXPECT_EQ(rec.owner_id, teacher.id) << "the room's default teacher owns an unscheduled recording";
  for (std::size_t i = 0; i < m.files.size(); ++i) accept(rec, m, i);
  EXPECT_EQ(store->recording(rec.id)->state, store::RecordingState::recording) << "the end is not announced yet";

  info.ended_at = util::now_utc();
  info.segment_count = static_cast<std::uint32_t>(m.files.size());
  rec = announce(info);
  const auto done = store->recording(rec.id);
  ASSERT_EQ(done->state, store::RecordingState::ready) << done->failure.value_or("");
  const auto joined = dir / "media" / *done->joined_file;
  const auto boxes = top_level_boxes(joined);
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov, mdat) << "moov first, so a browser can start and seek before downloading everything";
  EXPECT_NEAR(probe_duration(joined), 3.0, 0.25);
  const auto decode = test::run({"ffmpeg", "-v", "error", "-i", joined.string(), "-f", "null", "-"});
  EXPECT_EQ(decode.exit_code, 0);
  EXPECT_EQ(decode.output, "") << "decodes without a single error";
  const auto codecs =
      test::run({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", joined.string()});
  EXPECT_NE(codecs.output.find("h264"), std::string::npos);
  EXPECT_NE(codecs.output.find("aac"), std::string::npos);
  EXPECT_EQ(done->segments_received, m.files.size());
}

TEST_F(LibraryTest, APreviewJoinsTheSegmentsReceivedSoFar) {
  const auto m = testkit::make_segments(dir / "src", "s2", 3);
  const auto rec = announce(testkit::session_info("room-12", "s2"));
  accept(rec, m, 0);
  accept(rec, m, 2);  // a gap: 1 is missing
  EXPECT_EQ(library.contiguous_segments(rec.id), 1u);
  accept(rec, m, 1);
  EXPECT_EQ(library.contiguous_segments(rec.id), 3u);
  std::optional<Result<fs::path>> got;
  library.preview(rec.id, 2, [&](Result<fs::path> p) { got = std::move(p); });
  ASSERT_TRUE(got && *got) << (got && !*got ? got->error().message : "no callback");
  EXPECT_NEAR(probe_duration(**got), 2.0, 0.25);
  EXPECT_EQ(store->recording(rec.id)->state, store::RecordingState::recording);
}

TEST_F(LibraryTest, OwnershipComesFromTheObservationThenTheRoomThenNobody) {
  const auto other = std::get<store::User>(store->create_user("ali", "Mr Ali", store::Role::teacher, "h"));
  store::Observation o;
  o.room_id = room.id;
  o.teacher_id = other.id;
  o.title = "Year 9 science";
  o.start = util::now_utc() - 10min;
  o.end = util::now_utc() + 40min;
  const auto obs = std::get<store::Observation>(store->create_observation(o));
  auto info = testkit::session_info("room-12", "s3");
  info.observation_id = obs.id;
  const auto scheduled = announce(info);
  EXPECT_EQ(scheduled.owner_id, other.id);
  EXPECT_EQ(scheduled.title, "Year 9 science");
  EXPECT_EQ(scheduled.observation_id, obs.id);

  EXPECT_EQ(announce(testkit::session_info("room-12", "s4")).owner_id, teacher.id);

  (void)store->update_room(room.id, {.default_teacher_id = std::optional<std::string>()});
  const auto orphan = announce(testkit::session_info("room-12", "s5"));
  EXPECT_FALSE(orphan.owner_id.has_value()) << "nobody until an admin assigns it";
}

TEST_F(LibraryTest, AnnouncementsAreCheckedAgainstTheUnitAndWhatIsStored) {
  auto info = testkit::session_info("someone-else", "s6");
  const auto wrong = library.announce(unit, info);
  ASSERT_NE(store::refusal(wrong), nullptr);
  EXPECT_EQ(store::refusal(wrong)->field, "unit_id");

  const auto m = testkit::make_segments(dir / "src", "s7", 2);
  info = testkit::session_info("room-12", "s7");
  const auto rec = announce(info);
  accept(rec, m, 0);
  accept(rec, m, 1);
  info.segment_count = 1;
  info.ended_at = util::now_utc();
  const auto fewer = library.announce(unit, info);
  ASSERT_NE(store::refusal(fewer), nullptr) << "segment 1 is stored, so there are more than 1";
  EXPECT_EQ(store::refusal(fewer)->field, "segment_count");
}

TEST_F(LibraryTest, RetentionDeletesOnlyWhatIsPastItAndAuditsEachDeletion) {
  const auto now = util::now_utc();
  auto old_info = testkit::session_info("room-12", "old");
  old_info.started_at = now - std::chrono::hours(24 * 40);
  auto young_info = testkit::session_info("room-12", "young");
  young_info.started_at = now - std::chrono::hours(24 * 10);
  const auto old_rec = announce(old_info);
  const auto young_rec = announce(young_info);
  fs::create_directories(dir / "media/recordings" / old_rec.id / "segments");
  test::write_file(dir / "media/recordings" / old_rec.id / "segments/seg-00000.mp4", "old bytes");
  fs::create_directories(dir / "media/recordings" / young_rec.id);
  test::write_file(dir / "media/recordings" / young_rec.id / "recording.mp4", "young bytes");

  EXPECT_EQ(library.apply_retention(now, 0), 0u) << "0 keeps everything";
  EXPECT_EQ(library.apply_retention(now, 30), 1u);
  EXPECT_FALSE(store->recording(old_rec.id));
  EXPECT_FALSE(fs::exists(dir / "media/recordings" / old_rec.id));
  EXPECT_TRUE(store->recording(young_rec.id));
  EXPECT_TRUE(fs::exists(dir / "media/recordings" / young_rec.id / "recording.mp4"));

  const auto entries = store->audit_entries({.action = "recording.delete"});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].target_id, old_rec.id);
  EXPECT_EQ(entries[0].actor_kind, "system");
  EXPECT_EQ(entries[0].actor_name, "retention");
  EXPECT_NE(entries[0].detail.find("older than 30 days"), std::string::npos) << entries[0].detail;
  EXPECT_EQ(library.apply_retention(now, 30), 0u) << "nothing more to do";
}

TEST_F(LibraryTest, AFailedJoinKeepsTheSegments) {
  auto info = testkit::session_info("room-12", "bad");
  const auto rec = announce(info);
  protocol::SegmentEntry e;
  e.session_id = "bad";
  e.file = "seg-00000.mp4";
  e.size_bytes = 9;
  e.sha256 = std::string(64, 'a');
  test::write_file(dir / "not-video", "not video");
  ASSERT_EQ(store::refusal(library.accept_segment(rec, e, dir / "not-video")), nullptr);
  info.segment_count = 1;
  info.ended_at = util::now_utc();
  announce(info);
  const auto after = store->recording(rec.id);
  EXPECT_EQ(after->state, store::RecordingState::failed);
  ASSERT_TRUE(after->failure.has_value());
  EXPECT_EQ(*after->failure,
            "joining the segments failed: the segments are not video the hub can join; the segments "
            "are kept")
      << "not worth retrying by itself";
  EXPECT_TRUE(fs::exists(dir / "media" / store->segment(rec.id, 0)->file)) << "recorded data is never deleted on error";
}

TEST_F(LibraryTest, AJoinStopsWhenCancelledAndLeavesNothing) {
  const auto m = testkit::make_segments(dir / "src", "s8", 2);
  std::atomic<bool> cancel{true};
  recordings::JoinProblem problem = recordings::JoinProblem::none;
  const auto st = recordings::join_segments(m.files, dir / "out.mp4", std::chrono::seconds(60), &cancel, &problem);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "cancelled");
  EXPECT_EQ(problem, recordings::JoinProblem::cancelled);
  EXPECT_FALSE(fs::exists(dir / "out.mp4"));
  EXPECT_FALSE(fs::exists(dir / ".out.mp4.joining"));
}

// A unit's segments are parts of one fragmented stream whose timestamps continue from file to file;
// the join keeps them as recorded (no gaps, no shift), so the lesson plays for as long as it was.
TEST_F(LibraryTest, AUnitsFragmentedPartsJoinIntoOneStreamOfTheRecordedLength) {
  testkit::MediaOptions o;
  o.fragmented = true;
  const auto m = testkit::make_segments(dir / "src", "s9", 4, o);
  ASSERT_GE(m.files.size(), 3u);
  const auto st = recordings::join_segments(m.files, dir / "joined.mp4", std::chrono::seconds(60));
  ASSERT_TRUE(st) << st.error().message;
  const auto r = test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1",
                            (dir / "joined.mp4").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(std::atof(r.output.c_str()), 4.0, 0.25)
      << "4 s recorded, 4 s joined; ffprobe: " << r.output << " from " << m.files.size() << " parts";
  const auto frames = test::run({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                                 "stream=nb_read_frames", "-of", "default=nw=1:nk=1", (dir / "joined.mp4").string()});
  EXPECT_EQ(std::atoi(frames.output.c_str()), 100) << "every frame, once; ffprobe: " << frames.output;
}

namespace {
// A tmpfs of `bytes` at `dir`, unmounted when this goes (before the TempDir holding it is removed).
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, std::uint64_t bytes) : dir_(dir) {
    fs::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + std::to_string(bytes)).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool grow(std::uint64_t bytes) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + std::to_string(bytes)).c_str()) == 0;
  }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};
}  // namespace

// A real full disk: the media directory on a tmpfs with room for the segments but not for their join. Both
// kinds of parts: a unit's fragmented ones (appended into one stream first) and plain MP4s (splitmuxsrc).
class FullDisk : public LibraryTest, public ::testing::WithParamInterface<bool> {};

TEST_P(FullDisk, AJoinThatFailsOnAFullDiskIsRetriedWithBackoffAndOnTheNextUploadAndNamesNoPath) {
  testkit::MediaOptions o;
  o.fragmented = GetParam();
  const auto m = testkit::make_segments(dir / "src", "full", 3, o);
  std::uint64_t bytes = 0;
  for (const auto& f : m.files) bytes += fs::file_size(f);
  SmallDisk disk(dir / "small", bytes + 64 * 1024);
  if (!disk.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN): " << disk.error();
  std::vector<std::pair<std::chrono::milliseconds, std::function<void()>>> later;
  recordings::Library small{
      *store,
      auditor,
      recordings::MediaLayout{dir / "small" / "media"},
      [](const std::function<void()>& job) { job(); },
      [&later](std::chrono::milliseconds d, std::function<void()> job) { later.emplace_back(d, std::move(job)); },
      {3, 1min, 30min}};
  auto info = testkit::session_info("room-12", "full");
  info.segment_count = static_cast<std::uint32_t>(m.files.size());
  info.ended_at = util::now_utc();
  auto announced = small.announce(unit, info);
  ASSERT_EQ(store::refusal(announced), nullptr);
  const auto rec = std::get<store::Recording>(announced);
  const auto upload = [&](std::size_t i) {
    const auto copy = dir / "small" / ("incoming-" + std::to_string(i));  // on the same disk, as tus stores it
    fs::copy_file(m.files[i], copy, fs::copy_options::overwrite_existing);
    return store::refusal(small.accept_segment(rec, m.entries[i], copy)) == nullptr;
  };
  for (std::size_t i = 0; i < m.files.size(); ++i) ASSERT_TRUE(upload(i)) << i;

  // The last segment completed it; the join ran out of disk.
  auto r = store->recording(rec.id);
  ASSERT_EQ(r->state, store::RecordingState::failed);
  EXPECT_EQ(*r->failure,
            "joining the segments failed: the hub's disk is full; the segments are kept; the hub tries again in 1 min "
            "(try 2 of 3)");
  EXPECT_EQ(r->failure->find('/'), std::string::npos) << "no path on the server: " << *r->failure;
  ASSERT_EQ(later.size(), 1U);
  EXPECT_EQ(later[0].first, 1min);
  for (const auto& s : store->segments(rec.id)) {
    EXPECT_TRUE(fs::exists(dir / "small" / "media" / s.file)) << "recorded data is kept: " << s.file;
  }
  for (const auto& e : fs::directory_iterator(dir / "small" / "media" / "recordings" / rec.id)) {
    EXPECT_EQ(e.path().filename(), "segments") << "no half-written file left behind";
  }

  // The retry, the disk still full: the next one waits twice as long, and the one after is the last.
  later[0].second();
  r = store->recording(rec.id);
  EXPECT_EQ(r->state, store::RecordingState::failed);
  ASSERT_EQ(later.size(), 2U);
  EXPECT_EQ(later[1].first, 2min);
  EXPECT_NE(r->failure->find("tries again in 2 min (try 3 of 3)"), std::string::npos) << *r->failure;
  later[1].second();
  r = store->recording(rec.id);
  EXPECT_EQ(later.size(), 2U) << "bounded: no fourth try by itself";
  EXPECT_NE(r->failure->find("tries again when the unit sends it again or the hub restarts"), std::string::npos)
      << *r->failure;

  // Room again, and the unit sends a segment again: the join runs at once and works.
  ASSERT_TRUE(disk.grow(4 * bytes + 1024 * 1024));
  ASSERT_TRUE(upload(0));
  r = store->recording(rec.id);
  ASSERT_EQ(r->state, store::RecordingState::ready) << r->failure.value_or("");
  EXPECT_FALSE(r->failure);
  EXPECT_NEAR(probe_duration(dir / "small" / "media" / *r->joined_file), 3.0, 0.25);
}

INSTANTIATE_TEST_SUITE_P(Media, FullDisk, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "fragmented" : "plain"; });
