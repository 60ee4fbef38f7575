// The unit end to end: the real classcamd (test sources, small pictures) driven by the real classcamctl,
// each test with its own spool, state directory and socket in a TempDir.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "common/util/hash.hpp"
#include "common/util/time.hpp"
#include "firmware/spool/manifest.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string daemon_binary() { return std::string(CLASSCAM_BINARY_DIR) + "/firmware/daemon/classcamd"; }
std::string ctl_binary() { return std::string(CLASSCAM_BINARY_DIR) + "/firmware/ctl/classcamctl"; }

class Unit {
 public:
  // `spool_options` go into the [spool] section (which names the TempDir), `extra_config` after it.
  explicit Unit(const std::string& extra_config = "", const std::string& spool_options = "") {
    config_ = dir_ / "classcamd.toml";
    test::write_file(config_, "[unit]\nstate_dir = \"" + (dir_ / "state").string() + "\"\n" + "[spool]\ndir = \"" +
                                  spool().string() + "\"\n" + spool_options + "\n" + "[control]\nsocket = \"" +
                                  socket().string() + "\"\n" + extra_config + "\n");
  }
  // Video and audio sections: a small test picture and a tone, unless the test says otherwise.
  static std::string small(const std::string& more = "") {
    return "[video]\nsource = \"test\"\nwidth = 320\nheight = 240\n[audio]\nsource = \"test\"\n"
           "[encoder]\npreset = \"ultrafast\"\nbitrate_kbps = 500\n" +
           more;
  }

  // `prefix` runs classcamd through another program, e.g. prlimit.
  void start_daemon(std::vector<std::string> prefix = {}) {
    prefix.insert(prefix.end(), {daemon_binary(), "--config", config_.string()});
    daemon_ = std::make_unique<test::Process>(prefix, dir_ / ("classcamd-" + std::to_string(++runs_) + ".log"));
    ASSERT_TRUE(test::wait_until([&] { return ctl({"status"}).exit_code == 0; }, 20s)) << daemon_->output();
  }
  test::Process& daemon() { return *daemon_; }

  test::RunResult ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv = {ctl_binary(), "--socket", socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, timeout);
  }
  Json ctl_json(const std::vector<std::string>& args) {
    std::vector<std::string> a = {"--json"};
    a.insert(a.end(), args.begin(), args.end());
    const auto r = ctl(a);
    return Json::parse(r.output, nullptr, false);
  }

  fs::path spool() const { return dir_ / "spool"; }
  fs::path socket() const { return dir_ / "classcamd.sock"; }
  fs::path session_dir(const std::string& id) const { return spool() / "sessions" / id; }
  spool::Manifest manifest(const std::string& id) const {
    return spool::parse_manifest(test::read_file(session_dir(id) / "manifest.jsonl"));
  }
  std::vector<std::string> sessions() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(spool() / "sessions")) out.push_back(e.path().filename().string());
    return out;
  }
  const test::TempDir& dir() const { return dir_; }

 private:
  test::TempDir dir_{"classcam-e2e"};
  fs::path config_;
  std::unique_ptr<test::Process> daemon_;
  int runs_ = 0;
};

// ffprobe's view of a segment: whether it plays and the media it holds (end - start of its video).
struct Probe {
  bool ok = false;
  bool video = false, audio = false;
  double seconds = 0;
};
Probe probe(const fs::path& f) {
  const auto r = test::run(
      {"ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time,duration", "-of", "json", f.string()});
  Probe p;
  if (r.exit_code != 0) return p;
  const Json j = Json::parse(r.output, nullptr, false);
  if (j.is_discarded()) return p;
  for (const auto& s : j.value("streams", Json::array())) {
    const std::string type = s.value("codec_type", "");
    const double start = std::stod(s.value("start_time", "0"));
    const double duration = std::stod(s.value("duration", "0"));  // for fragmented MP4: the end time
    if (type == "video") {
      p.video = true;
      p.seconds = duration - start;
    }
    if (type == "audio") p.audio = true;
  }
  p.ok = p.video || p.audio;
  return p;
}

void sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

double total_seconds(const spool::Manifest& m) {
  std::int64_t ns = 0;
  for (const auto& s : m.segments) ns += s.duration_ns;
  return static_cast<double>(ns) / 1e9;
}

// Every closed segment: contiguous index, plays, its checksum and size match the manifest.
void expect_segments_intact(const Unit& u, const spool::Manifest& m) {
  for (std::size_t i = 0; i < m.segments.size(); ++i) {
    const auto& s = m.segments[i];
    EXPECT_EQ(s.index, i) << "indexes are contiguous";
    const fs::path f = u.session_dir(s.session_id) / s.file;
    ASSERT_TRUE(fs::exists(f)) << f;
    EXPECT_EQ(*util::file_digest_hex(f), s.sha256) << f;
    EXPECT_EQ(fs::file_size(f), s.size_bytes) << f;
    const auto p = probe(f);
    EXPECT_TRUE(p.ok && p.video && p.audio) << f << " does not play with video and audio";
    EXPECT_NEAR(p.seconds, static_cast<double>(s.duration_ns) / 1e9, 0.1) << f;
  }
}

}  // namespace

TEST(UnitE2E, TenSecondRecordingPlaysAndItsManifestMatches) {
  Unit u(Unit::small());
  u.start_daemon();
  const auto started = u.ctl({"start", "--title", "Year 8 maths"});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  EXPECT_NE(started.output.find("Recording: session "), std::string::npos) << started.output;
  sleep_for(10s);
  const auto stopped = u.ctl({"stop"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;

  ASSERT_EQ(u.sessions().size(), 1u);
  const auto m = u.manifest(u.sessions()[0]);
  EXPECT_TRUE(m.problems.empty());
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "stopped with classcamctl");
  EXPECT_EQ(m.session->title, "Year 8 maths");
  EXPECT_EQ(m.end->segment_count, m.segments.size());
  EXPECT_GE(m.segments.size(), 5u);
  EXPECT_NEAR(total_seconds(m), 10.0, 0.5);
  expect_segments_intact(u, m);
  for (std::size_t i = 0; i + 1 < m.segments.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(m.segments[i].duration_ns) / 1e9, 2.0, 0.05) << "segment " << i;
    EXPECT_FALSE(m.segments[i].recovered);
  }
  for (const auto& e : fs::directory_iterator(u.session_dir(m.session->session_id))) {
    EXPECT_NE(e.path().extension(), ".part") << e.path();
  }
  const Json status = u.ctl_json({"status"});
  EXPECT_EQ(status["state"]["state"], "idle");
  EXPECT_EQ(status["spool"]["backlog_segments"], m.segments.size());
}

TEST(UnitE2E, KillNineThenRestartRecoversAndLosesAtMostOneSecond) {
  Unit u(Unit::small());
  u.start_daemon();
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  sleep_for(5s);
  const std::string id = u.sessions().at(0);
  // What is on disk just before the kill: nothing of it may disappear.
  std::map<std::string, std::uintmax_t> before;
  for (const auto& e : fs::directory_iterator(u.session_dir(id))) before[e.path().filename().string()] = e.file_size();
  const auto killed_at = util::now_utc();
  u.daemon().kill9();

  u.start_daemon();  // recovery runs before the daemon answers
  const Json status = u.ctl_json({"status"});
  EXPECT_EQ(status["state"]["state"], "idle");
  const auto m = u.manifest(id);
  ASSERT_TRUE(m.ended()) << "recovery marks the session ended";
  EXPECT_NE(m.end->end_reason->find("recovered"), std::string::npos) << *m.end->end_reason;
  ASSERT_FALSE(m.segments.empty());
  EXPECT_TRUE(m.segments.back().recovered) << "the open segment was kept";
  expect_segments_intact(u, m);

  // Lost = wall time from the first recorded frame to the kill, minus the media kept.
  const double span =
      static_cast<double>(util::to_unix_ms(killed_at) - util::to_unix_ms(m.segments[0].start_utc)) / 1000;
  const double kept = total_seconds(m);
  EXPECT_GT(span, 4.0);
  EXPECT_LE(span - kept, 1.0) << "kept " << kept << " s of " << span << " s";
  RecordProperty("kill9_lost_ms", static_cast<int>((span - kept) * 1000));

  // Nothing deleted: every file is still there (an open segment under its final name now), and every byte.
  std::uintmax_t bytes_before = 0;
  std::uintmax_t bytes_after = 0;
  for (const auto& [name, size] : before) {
    if (name == "manifest.jsonl") continue;
    bytes_before += size;
    const std::string final_name = name.size() > 5 && name.ends_with(".part") ? name.substr(0, name.size() - 5) : name;
    EXPECT_TRUE(fs::exists(u.session_dir(id) / final_name)) << final_name;
  }
  for (const auto& e : fs::directory_iterator(u.session_dir(id))) {
    if (e.path().filename() != "manifest.jsonl") bytes_after += e.file_size();
  }
  EXPECT_GE(bytes_after, bytes_before);
  // A new recording works after the recovery.
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  ASSERT_EQ(u.ctl({"stop"}).exit_code, 0);
}

TEST(UnitE2E, FullSpoolStopsTheRecordingWithAnErrorAndKeepsEverything) {
  // Recording keeps room for two segments (~370 kB at these bit rates) in reserve: 600 kB lets a
  // recording start but not go on for long.
  Unit u(Unit::small(), "max_bytes = 600000");
  u.start_daemon();
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  // The unit stops by itself and says why.
  Json status;
  ASSERT_TRUE(test::wait_until(
      [&] {
        status = u.ctl_json({"status"});
        return status.value("state", Json::object()).value("state", "") == "error";
      },
      30s))
      << status.dump();
  const std::string reason = status["state"]["reason"];
  EXPECT_NE(reason.find("spool full"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not yet uploaded"), std::string::npos) << reason;
  EXPECT_EQ(status["led"], false);

  const auto id = u.sessions().at(0);
  const auto m = u.manifest(id);
  ASSERT_TRUE(m.ended());
  EXPECT_NE(m.end->end_reason->find("spool is full"), std::string::npos) << *m.end->end_reason;
  ASSERT_FALSE(m.segments.empty());
  expect_segments_intact(u, m);  // the un-uploaded recording is whole

  // Starting again is refused with the same clear reason, and still nothing is deleted.
  const auto again = u.ctl({"start"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("spool full"), std::string::npos) << again.output;
  expect_segments_intact(u, u.manifest(id));
}

TEST(UnitE2E, SnapshotsDuringARecordingDropNoSegment) {
  Unit u(Unit::small());
  u.start_daemon();
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  const auto t0 = std::chrono::steady_clock::now();
  sleep_for(1500ms);
  for (int i = 0; i < 3; ++i) {
    const auto jpg = u.dir() / ("snap-" + std::to_string(i) + ".jpg");
    const auto r = u.ctl({"snapshot", "-o", jpg.string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto size =
        test::run({"ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", jpg.string()});
    EXPECT_EQ(size.output, "320,240\n") << "a real JPEG of the (unscaled) picture";
    sleep_for(700ms);
  }
  sleep_for(2s);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(u.ctl({"stop"}).exit_code, 0);
  const auto m = u.manifest(u.sessions().at(0));
  expect_segments_intact(u, m);
  for (std::size_t i = 0; i + 1 < m.segments.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(m.segments[i].duration_ns) / 1e9, 2.0, 0.05) << "segment " << i << " is whole";
  }
  EXPECT_NEAR(total_seconds(m), elapsed, 0.5) << "no time is missing from the recording";
}

TEST(UnitE2E, SnapshotWhenIdleUsesAShortPreview) {
  Unit u(Unit::small());
  u.start_daemon();
  const auto jpg = u.dir() / "idle.jpg";
  const auto r = u.ctl({"snapshot", "-o", jpg.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Snapshot saved to"), std::string::npos);
  EXPECT_EQ(test::read_file(jpg).substr(0, 2), "\xFF\xD8");
  EXPECT_EQ(u.ctl_json({"status"})["state"]["state"], "idle");
  EXPECT_TRUE(fs::is_empty(u.spool() / "sessions")) << "a snapshot records nothing";
}

TEST(UnitE2E, LibcameraWithNoCameraGivesAClearError) {
  Unit u("[video]\nsource = \"libcamera\"\n[audio]\nsource = \"none\"\n");
  u.start_daemon();
  const auto r = u.ctl({"start"}, 20s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("start refused: libcamera found no camera"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Check the camera cable"), std::string::npos) << r.output;
  const auto status = u.ctl({"status"});
  EXPECT_NE(status.output.find(": error since"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("reason    libcamera found no camera"), std::string::npos) << status.output;
  EXPECT_TRUE(u.daemon().running()) << "the daemon stays up to say what is wrong";
}

TEST(UnitE2E, SigtermFinalisesTheCurrentSegmentBeforeExit) {
  Unit u(Unit::small());
  u.start_daemon();
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  sleep_for(3s);
  const int status = u.daemon().stop(SIGTERM, 20s);
  EXPECT_EQ(test::exit_code(status), 0) << u.daemon().output();
  const auto m = u.manifest(u.sessions().at(0));
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "classcamd stopped (SIGTERM)");
  for (const auto& s : m.segments) EXPECT_FALSE(s.recovered) << "closed by the daemon, not by recovery";
  EXPECT_GT(total_seconds(m), 2.5);
  expect_segments_intact(u, m);
  EXPECT_FALSE(fs::exists(u.socket())) << "the socket is removed on exit";
}

TEST(UnitE2E, CtlSaysWhenTheDaemonIsNotRunning) {
  Unit u;
  const auto r = u.ctl({"status"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("classcamd is not running"), std::string::npos) << r.output;
}

TEST(UnitE2E, AFloodOfLocalClientsNeverStopsARecording) {
  // classcamd with 256 file descriptors, recording; 600 local clients connect and say nothing, one
  // more sends requests and never reads the answers. Once every descriptor went to them, the next
  // segment could not be opened and the lesson stopped (and accept spun at 89 % CPU).
  Unit u(Unit::small());
  u.start_daemon({"prlimit", "--nofile=256:256"});
  ASSERT_EQ(u.ctl({"start"}).exit_code, 0);
  auto connect_one = [&] {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", u.socket().c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  };
  std::vector<int> flood;
  for (int i = 0; i < 600; ++i) {
    const int fd = connect_one();
    if (fd >= 0) flood.push_back(fd);
  }
  const int deaf = connect_one();
  ASSERT_GE(deaf, 0);
  timeval tv{0, 100'000};
  ::setsockopt(deaf, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const std::string status = "{\"cmd\":\"status\"}\n";
  for (int i = 0; i < 2000; ++i) {
    if (::send(deaf, status.data(), status.size(), MSG_NOSIGNAL) <= 0) break;
  }
  sleep_for(5s);  // not an assertion: the flood goes on for several segments
  for (const int fd : flood) ::close(fd);
  ::close(deaf);

  // A normal client is answered once the flood is gone, and the lesson is still being recorded.
  Json st;
  ASSERT_TRUE(test::wait_until(
      [&] {
        st = u.ctl_json({"status"});
        return !st.is_discarded() && st.value("ok", false);
      },
      30s))
      << u.daemon().output();
  EXPECT_EQ(st["state"]["state"], "recording") << st.dump();
  const std::string id = u.sessions().at(0);
  ASSERT_EQ(u.ctl({"stop"}).exit_code, 0) << u.daemon().output();
  const auto m = u.manifest(id);
  ASSERT_TRUE(m.ended());
  EXPECT_EQ(m.end->end_reason, "stopped with classcamctl");
  EXPECT_GE(total_seconds(m), 4.5) << "recorded all through the flood";
  expect_segments_intact(u, m);
}
