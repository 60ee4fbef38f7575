// The daemon in-process with a fake button and LED and a real test-source pipeline: the button
// gestures and the LED, end to end through the session controller and the spool.
#include "firmware/daemon/daemon.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include "common/util/time.hpp"
#include "common/util/uuid.hpp"
#include "firmware/daemon/daemon_test_support.hpp"
#include "firmware/gpio/fake.hpp"
#include "firmware/spool/manifest.hpp"
#include "tests/support/mp4.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using daemon::testkit::Harness;
using daemon::testkit::start_session;
using daemon::testkit::test_config;
using protocol::RecorderState;

namespace {

spool::Manifest manifest_of(const std::filesystem::path& spool_dir, const std::string& id) {
  return spool::parse_manifest(test::read_file(spool_dir / "sessions" / id / "manifest.jsonl"));
}

}  // namespace

TEST(Daemon, ButtonPressStartsShortPressBookmarksLongPressStopsAndTheLedFollows) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  Harness h(cfg);
  EXPECT_FALSE(h.led_->on());

  // Press: recording starts at once (on the press, not the release).
  h.button_->press();
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::recording; }, 20s));
  EXPECT_TRUE(h.led_->on());
  const std::string id = *h.daemon_->controller().unit_state().session_id;
  h.button_->release();  // the release of the starting press is not a bookmark
  h.run_for(1200ms);

  // Short press: a bookmark.
  h.button_->press();
  h.run_for(150ms);
  h.button_->release();
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->controller().progress()->bookmarks == 1; }, 10s));
  h.run_for(300ms);

  // Long press: stops while the button is still held.
  h.button_->press();
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::idle; }, 20s));
  EXPECT_FALSE(h.led_->on());
  h.button_->release();

  EXPECT_EQ(h.led_->history(), (std::vector<bool>{false, true, false})) << "lit exactly while recording";
  const auto m = manifest_of(cfg.spool.dir, id);
  ASSERT_TRUE(m.session);
  EXPECT_EQ(m.session->trigger, protocol::Trigger::button);
  ASSERT_EQ(m.bookmarks.size(), 1u);
  EXPECT_EQ(m.bookmarks[0].source, protocol::Trigger::button);
  EXPECT_GT(m.bookmarks[0].offset_ms, 1000);
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "stopped with the button");
  EXPECT_GE(m.segments.size(), 2u);
  EXPECT_EQ(m.end->segment_count, m.segments.size());
}

TEST(Daemon, BookmarkAndStopAreRefusedWhenIdle) {
  test::TempDir dir;
  Harness h(test_config(dir));
  std::optional<Result<protocol::Bookmark>> b;
  h.daemon_->controller().bookmark("x", protocol::Trigger::local, [&](const Result<protocol::Bookmark>& r) { b = r; });
  ASSERT_TRUE(b && !b->ok());
  EXPECT_NE(b->error().message.find("not recording"), std::string::npos);
  std::optional<Result<protocol::SessionInfo>> s;
  h.daemon_->controller().stop("x", [&](const Result<protocol::SessionInfo>& r) { s = r; });
  ASSERT_TRUE(s && !s->ok());
  EXPECT_EQ(h.state(), RecorderState::idle);
  // A short press while idle starts, never bookmarks.
  h.button_->press();
  h.run_for(50ms);
  h.button_->release();
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::recording; }, 20s));
  EXPECT_EQ(h.daemon_->controller().progress()->bookmarks, 0u);
}

TEST(Daemon, MaxSessionLengthStopsByItself) {
  test::TempDir dir;
  auto cfg = test_config(dir);
  Harness h(cfg);
  const auto started = start_session(h, {protocol::Trigger::hub, "timed", std::nullopt, 2});
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::idle; }, 20s));
  const auto m = manifest_of(cfg.spool.dir, started.session_id);
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "reached the requested duration");
  EXPECT_EQ(m.session->trigger, protocol::Trigger::hub);
}

TEST(Daemon, FileSourceReplaysAMediaFileAndTheSessionEndsWithIt) {
  test::TempDir dir;
  const auto media = dir / "lesson.mp4";
  const auto made = test::run({"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=75", "pattern=ball", "!",
                               "video/x-raw,width=320,height=240,framerate=25/1", "!", "x264enc", "!", "mp4mux", "!",
                               "filesink", "location=" + media.string()});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto cfg = test_config(dir);
  cfg.video.source = "file";
  cfg.video.file = media;
  cfg.audio.source = "none";
  Harness h(cfg);
  const auto started = start_session(h);
  // The file lasts 3 s; the session ends by itself when it does.
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::idle; }, 20s));
  const auto m = manifest_of(cfg.spool.dir, started.session_id);
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "the source ended");
  std::int64_t ns = 0;
  for (const auto& s : m.segments) ns += s.duration_ns;
  EXPECT_NEAR(static_cast<double>(ns) / 1e9, 3.0, 0.2);
}

TEST(Daemon, AudioOnlyRoomsRecordSoundAndNoPicture) {
  test::TempDir dir;
  auto cfg = test_config(dir);
  cfg.video.enabled = false;
  cfg.audio.codec = "opus";
  Harness h(cfg);
  std::optional<Result<std::string>> snap;
  h.daemon_->controller().snapshot([&](const Result<std::string>& r) { snap = r; });
  ASSERT_TRUE(snap && !snap->ok());
  EXPECT_NE(snap->error().message.find("sound only"), std::string::npos) << snap->error().message;

  const auto started = start_session(h);
  EXPECT_FALSE(started.video);
  ASSERT_TRUE(started.audio);
  EXPECT_EQ(started.audio->codec, protocol::AudioCodec::opus);
  h.run_for(2500ms);
  std::optional<Result<protocol::SessionInfo>> stopped;
  h.daemon_->controller().stop("test", [&](const Result<protocol::SessionInfo>& r) { stopped = r; });
  ASSERT_TRUE(h.run_until([&] { return stopped.has_value(); }, 20s));
  const auto m = manifest_of(cfg.spool.dir, started.session_id);
  ASSERT_GE(m.segments.size(), 2u);
  const auto first = cfg.spool.dir / "sessions" / started.session_id / m.segments[0].file;
  const auto streams = test::run(
      {"ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0", first.string()});
  EXPECT_EQ(streams.output, "opus,audio\n") << "sound only, in Opus";
}

TEST(Daemon, ScheduleStopsAManualSessionAndRecordsBackToBackSlotsWithTheirObservationIds) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  test::write_file(cfg.unit.state_dir / "unit_id", "room-12\n");
  // The stored schedule (as the link leaves it): A starts in 2 s, B follows A back-to-back.
  const auto t0 = util::now_utc();
  protocol::Schedule s;
  s.unit_id = "room-12";
  s.revision = 5;
  s.observations = {{"obs-a", "Year 8 maths", t0 + 2500ms, t0 + 5500ms, std::nullopt, std::nullopt},
                    {"obs-b", "Year 9 maths", t0 + 5500ms, t0 + 8500ms, std::nullopt, std::nullopt}};
  ASSERT_TRUE(schedule::ScheduleStore(cfg.unit.state_dir / "schedule.json").save(s));

  Harness h(cfg);
  const auto manual = start_session(h, {protocol::Trigger::local, "impromptu", std::nullopt, std::nullopt});
  std::vector<std::string> sessions;  // in the order they recorded
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto st = h.daemon_->controller().unit_state();
        if (st.session_id && (sessions.empty() || sessions.back() != *st.session_id))
          sessions.push_back(*st.session_id);
        return util::now_utc() > t0 + 8500ms && st.state == RecorderState::idle;
      },
      40s));
  ASSERT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions[0], manual.session_id);
  const auto m0 = manifest_of(cfg.spool.dir, sessions[0]);
  ASSERT_TRUE(m0.end && m0.end->end_reason);
  EXPECT_EQ(*m0.end->end_reason, "stopped: scheduled observation \"Year 8 maths\" starts");
  const auto ma = manifest_of(cfg.spool.dir, sessions[1]);
  const auto mb = manifest_of(cfg.spool.dir, sessions[2]);
  ASSERT_TRUE(ma.session && mb.session && ma.end && mb.end);
  EXPECT_EQ(ma.session->trigger, protocol::Trigger::schedule);
  EXPECT_EQ(ma.session->observation_id, "obs-a");
  EXPECT_EQ(ma.session->title, "Year 8 maths");
  EXPECT_EQ(ma.end->end_reason, "scheduled end (next observation starts)");
  EXPECT_EQ(mb.session->observation_id, "obs-b");
  EXPECT_EQ(mb.end->end_reason, "scheduled end");
  EXPECT_GE(ma.segments.size(), 2u);
  EXPECT_GE(mb.segments.size(), 2u);
}

TEST(Daemon, StartsAndRecordsWhenTheSpoolHoldsCorruptAndUnreadableFiles) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  std::string id;
  {
    // A lesson cut off by a power cut on a failing card: its open segment has a second header with
    // other track ids (once `classcamd: map::at`), the next one cannot be read at all (once an
    // std::ios_base::failure): both ended start-up before READY.
    spool::Spool sp(cfg.spool);
    ASSERT_TRUE(sp.open().ok());
    protocol::SessionInfo s;
    s.session_id = util::uuid_v4();
    s.unit_id = "unenrolled";
    s.trigger = protocol::Trigger::local;
    s.started_at = util::now_utc();
    s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 160, 120, 30, 300};
    ASSERT_TRUE(sp.begin_session(s).ok());
    id = s.session_id;
    const std::string good = test::record_fmp4(dir / "recorded.mp4", 2);
    test::write_file(sp.session_dir(id) / "seg-00000.mp4.part", good + test::renumbered_moov(good, 5));
    std::filesystem::create_directories(sp.session_dir(id) / "seg-00001.mp4.part");
  }
  std::unique_ptr<Harness> h;
  ASSERT_NO_THROW(h = std::make_unique<Harness>(cfg));
  EXPECT_EQ(h->state(), RecorderState::idle);
  const auto m = manifest_of(cfg.spool.dir, id);
  ASSERT_TRUE(m.ended());
  ASSERT_EQ(m.segments.size(), 1u);
  EXPECT_TRUE(m.segments[0].recovered);
  std::string notes;
  for (const auto& n : m.notes) notes += n + "\n";
  EXPECT_NE(notes.find("seg-00001.mp4.part"), std::string::npos) << notes;
  // And the classroom records.
  const auto session = start_session(*h);
  h->run_for(1500ms);
  std::optional<Result<protocol::SessionInfo>> stopped;
  h->daemon_->controller().stop("test", [&](const Result<protocol::SessionInfo>& r) { stopped = r; });
  ASSERT_TRUE(h->run_until([&] { return stopped.has_value(); }, 20s));
  ASSERT_TRUE(stopped->ok()) << stopped->error().message;
  EXPECT_GE(manifest_of(cfg.spool.dir, session.session_id).segments.size(), 1u);
}

TEST(Daemon, WritesItsMetricsForTheTextfileCollectorWithTheSegmentsItClosed) {
  test::TempDir dir;
  auto cfg = test_config(dir);
  std::filesystem::create_directories(dir / "textfile");
  cfg.metrics.textfile = dir / "textfile" / "classcamd.prom";
  cfg.metrics.interval_s = 1;
  Harness h(cfg);
  ASSERT_TRUE(h.run_until([&] { return std::filesystem::exists(cfg.metrics.textfile); }, 10s));
  EXPECT_NE(test::read_file(cfg.metrics.textfile).find("classcam_unit_state{state=\"idle\"} 1\n"), std::string::npos);
  (void)start_session(h, {protocol::Trigger::hub, "timed", std::nullopt, 3});
  ASSERT_TRUE(h.run_until([&] { return h.state() == RecorderState::idle; }, 20s));
  // The next writes carry the closed segments (a 3 s session of 1 s segments closes at least two).
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto t = test::read_file(cfg.metrics.textfile);
        const auto at = t.find("\nclasscam_unit_segments_closed_total ");
        return at != std::string::npos && std::stoi(t.substr(at + 37)) >= 2 &&
               t.find("classcam_unit_state{state=\"idle\"} 1\n") != std::string::npos;
      },
      10s))
      << test::read_file(cfg.metrics.textfile);
}
