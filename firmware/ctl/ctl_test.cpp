// classcamctl against a canned daemon: what it sends, what it prints, how it exits.
#include "firmware/ctl/ctl.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "common/util/hash.hpp"
#include "common/util/time.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::ctl;

namespace {

struct Fake {
  Json response;
  std::optional<control::CallError> failure;
  Json last_request;
  std::filesystem::path last_socket;
  std::chrono::milliseconds last_timeout{0};
  Caller caller() {
    return [this](const std::filesystem::path& socket, const Json& req,
                  std::chrono::milliseconds timeout) -> std::variant<Json, control::CallError> {
      last_socket = socket;
      last_request = req;
      last_timeout = timeout;
      if (failure) return *failure;
      return response;
    };
  }
};

struct Run {
  int code;
  std::string out, err;
};

Run run_ctl(Fake& fake, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = run(args, out, err, fake.caller());
  return {code, out.str(), err.str()};
}

Json session() {
  return Json::parse(R"({"session_id":"3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b","unit_id":"room-12",
  "title":"Year 8 maths","trigger":"local","started_at":"2026-11-23T09:00:00.000Z","segment_duration_ms":2000,
  "ended_at":"2026-11-23T09:00:10.500Z","segment_count":6,"end_reason":"stopped with classcamctl"})");
}

}  // namespace

TEST(Ctl, StatusWhileRecording) {
  Fake fake;
  fake.response = Json::parse(R"({"ok":true,"unit":{"id":"room-12","name":"Room 12"},
    "state":{"unit_id":"room-12","state":"recording","since":"2026-11-23T09:00:00.120Z","streaming":false},
    "progress":{"segments":375,"bookmarks":2,"recorded_ms":750000},
    "capture":{"video":"test","resolution":"1920x1080@30","encoder":"x264enc","audio":"alsa"},
    "spool":{"used_bytes":812000000,"limit_bytes":12000000000,"backlog_segments":4,"backlog_bytes":4200000},
    "led":true})");
  fake.response["session"] = session();
  const auto r = run_ctl(fake, {"status"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"status"})"));
  EXPECT_EQ(fake.last_socket, "/run/classcam/classcamd.sock");
  EXPECT_NE(r.out.find("Room 12 (room-12): recording since "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  session   3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b \"Year 8 maths\", started by local\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  recorded  0:12:30 in 375 segments, 2 bookmarks\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  capture   video test 1920x1080@30 (x264enc), audio alsa\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  spool     812 MB used of 12 GB allowed; 4 segments (4.2 MB) waiting for upload\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  LED       on\n"), std::string::npos) << r.out;
}

TEST(Ctl, StatusInTheErrorStateShowsTheReason) {
  Fake fake;
  fake.response = Json::parse(R"({"ok":true,"unit":{"id":"unenrolled","name":"classroom unit"},
    "state":{"unit_id":"unenrolled","state":"error","since":"2026-11-23T09:31:02.000Z",
             "reason":"libcamera found no camera (no camera). Check the camera cable"},
    "capture":{"error":"libcamera found no camera (no camera). Check the camera cable"},"led":false})");
  const auto r = run_ctl(fake, {"status"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("classroom unit (unenrolled): error since "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  reason    libcamera found no camera"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  capture   not possible: libcamera found no camera"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  LED       off"), std::string::npos) << r.out;
}

TEST(Ctl, StartStopBookmarkPrintWhatHappened) {
  Fake fake;
  fake.response = {{"ok", true}, {"session", session()}};
  auto r = run_ctl(fake, {"--socket", "/tmp/x.sock", "start", "--title", "Year 8 maths"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(fake.last_socket, "/tmp/x.sock");
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"start","title":"Year 8 maths"})"));
  EXPECT_EQ(r.out, "Recording: session 3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b \"Year 8 maths\"\n");

  r = run_ctl(fake, {"stop"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "Stopped session 3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b \"Year 8 maths\": 6 segments, 0:00:10 (stopped with "
            "classcamctl)\n");

  fake.response = Json::parse(R"({"ok":true,"bookmark":{"id":"6c0a3b58-2f55-4c1e-8d39-0f7f64a1d2b7",
    "session_id":"3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b","at":"2026-11-23T09:12:30.000Z","offset_ms":749880,
    "label":"group work","source":"local"}})");
  r = run_ctl(fake, {"bookmark", "group work"});
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"bookmark","label":"group work"})"));
  EXPECT_EQ(r.out, "Bookmark at 0:12:29 \"group work\"\n");
}

TEST(Ctl, JsonPrintsTheDaemonsAnswer) {
  Fake fake;
  fake.response = {{"ok", true}, {"session", session()}};
  const auto r = run_ctl(fake, {"--json", "stop"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(Json::parse(r.out), fake.response);
}

TEST(Ctl, SnapshotIsWrittenToTheFileAsked) {
  test::TempDir dir;
  Fake fake;
  const std::string jpeg = "\xFF\xD8 not really a jpeg \xFF\xD9";
  fake.response = {{"ok", true}, {"bytes", jpeg.size()}, {"jpeg_base64", util::base64_encode(jpeg)}};
  const auto file = (dir / "frame.jpg").string();
  auto r = run_ctl(fake, {"snapshot", "-o", file});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(test::read_file(file), jpeg);
  EXPECT_EQ(r.out, "Snapshot saved to " + file + " (" + std::to_string(jpeg.size()) + " B)\n");

  r = run_ctl(fake, {"--json", "snapshot", "-o", file});
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j["file"], file);
  EXPECT_FALSE(j.contains("jpeg_base64")) << "the picture went to the file, not into the JSON";

  r = run_ctl(fake, {"snapshot", "-o", "-"});
  EXPECT_EQ(r.out, jpeg);
}

TEST(Ctl, RefusalsAndAnAbsentDaemonHaveTheirOwnExitCodes) {
  Fake fake;
  fake.response = {{"ok", false}, {"error", "not recording"}};
  auto r = run_ctl(fake, {"stop"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.err, "classcamctl: stop refused: not recording\n");
  EXPECT_EQ(r.out, "");

  r = run_ctl(fake, {"--json", "stop"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(Json::parse(r.out), fake.response);

  fake.failure = control::CallError{control::ClientError::not_running,
                                    "classcamd is not running (nothing listens on /run/classcam/classcamd.sock)"};
  r = run_ctl(fake, {"status"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.err, "classcamctl: classcamd is not running (nothing listens on /run/classcam/classcamd.sock)\n");
}

TEST(Ctl, UsageErrors) {
  Fake fake;
  fake.response = {{"ok", true}};
  EXPECT_EQ(run_ctl(fake, {}).code, kExitUsage);
  const auto unknown = run_ctl(fake, {"record"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_NE(unknown.err.find("unknown command 'record'"), std::string::npos);
  EXPECT_EQ(run_ctl(fake, {"stop", "now"}).code, kExitUsage);
  EXPECT_EQ(run_ctl(fake, {"start", "--title"}).code, kExitUsage);
  const auto help = run_ctl(fake, {"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("exit codes"), std::string::npos);
}

TEST(Ctl, ConfigGivesTheSocket) {
  test::TempDir dir;
  test::write_file(dir / "c.toml", "[control]\nsocket = \"/tmp/somewhere.sock\"\n");
  Fake fake;
  fake.response = {{"ok", true}};
  run_ctl(fake, {"--config", (dir / "c.toml").string(), "status"});
  EXPECT_EQ(fake.last_socket, "/tmp/somewhere.sock");
  test::write_file(dir / "bad.toml", "[control]\nsockett = 1\n");
  const auto r = run_ctl(fake, {"--config", (dir / "bad.toml").string(), "status"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("sockett"), std::string::npos) << r.err;
}

TEST(Ctl, Durations) {
  EXPECT_EQ(format_duration(0), "0:00:00");
  EXPECT_EQ(format_duration(750'000), "0:12:30");
  EXPECT_EQ(format_duration(3'723'000), "1:02:03");
}

TEST(Ctl, EnrollAsksTheDaemonAndStatusShowsHubLinkAndUploads) {
  Fake fake;
  fake.response = Json::parse(
      R"({"ok":true,"unit_id":"room-12","unit_name":"Room 12 camera","hub_url":"https://hub.school:8443"})");
  auto r = run_ctl(fake, {"enroll", "--hub", "https://hub.school:8443", "--code", "7KQ2M-XH4TD"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"enroll","hub":"https://hub.school:8443","code":"7KQ2M-XH4TD"})"));
  EXPECT_EQ(r.out, "Enrolled with https://hub.school:8443 as room-12 (\"Room 12 camera\"); connecting to the hub\n");
  EXPECT_EQ(run_ctl(fake, {"enroll", "--hub", "https://x"}).code, kExitUsage);

  fake.response = Json::parse(R"({"ok":true,"unit":{"id":"room-12","name":"Room 12"},
    "state":{"unit_id":"room-12","state":"idle","since":"2026-11-23T09:00:00.120Z","streaming":false},
    "enrolment":{"enrolled":true,"hub_url":"https://hub.school:8443","unit_id":"room-12"},
    "link":{"broker":"hub.school:8883","connected":false,"last_error":"cannot connect: Connection refused","outbox":3},
    "upload":{"state":"retrying in 4.0 s","backlog_segments":12,"backlog_bytes":12000000,"rate_bps":0,
              "last_error":"cannot connect to hub.school:8443: Connection refused"},
    "schedule":{"revision":4,"next":{"id":"obs-1","title":"Year 8 maths","start":"2026-11-23T10:00:00.000Z",
                                     "end":"2026-11-23T10:50:00.000Z"}}})");
  r = run_ctl(fake, {"status"});
  EXPECT_NE(r.out.find("  hub       https://hub.school:8443 (unit room-12)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  mqtt      not connected to hub.school:8883: cannot connect: Connection refused (3 messages "
                       "waiting)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  upload    retrying in 4.0 s; 12 segments (12 MB) to send\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  schedule  next: \"Year 8 maths\" at "), std::string::npos) << r.out;

  fake.response["enrolment"] = Json{{"enrolled", false}};
  fake.response.erase("upload");
  r = run_ctl(fake, {"status"});
  EXPECT_NE(r.out.find("  hub       not enrolled (classcamctl enroll --hub URL --code CODE)\n"), std::string::npos)
      << r.out;
}

TEST(Ctl, LiveStartAndStop) {
  Fake fake;
  fake.response = {{"ok", true}, {"live_id", "7d0e4c2a-live"}};
  auto r = run_ctl(fake, {"live", "start", "--max-s", "600"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"live_start","max_s":600})"));
  EXPECT_EQ(r.out, "Live: 7d0e4c2a-live (the LED shows it)\n");
  r = run_ctl(fake, {"live", "start"});
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"live_start"})"));
  fake.response = {{"ok", true}};
  r = run_ctl(fake, {"live", "stop"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"live_stop"})"));
  EXPECT_EQ(r.out, "Live stopped\n");
  fake.response = {{"ok", true}, {"talkback_muted", true}};
  r = run_ctl(fake, {"live", "mute"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"live_mute"})"));
  EXPECT_EQ(r.out, "Talkback muted\n");
  fake.response = {{"ok", true}, {"talkback_muted", false}};
  r = run_ctl(fake, {"live", "unmute"});
  EXPECT_EQ(fake.last_request, Json::parse(R"({"cmd":"live_unmute"})"));
  EXPECT_EQ(r.out, "Talkback plays again\n");
  EXPECT_EQ(run_ctl(fake, {"live", "mute", "now"}).code, kExitUsage);
  fake.response = {{"ok", false}, {"error", "not enrolled: live needs the hub (classcamctl enroll)"}};
  r = run_ctl(fake, {"live", "start"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_NE(r.err.find("not enrolled"), std::string::npos) << r.err;
  EXPECT_EQ(run_ctl(fake, {"live", "start", "--max-s", "soon"}).code, kExitUsage);
  EXPECT_EQ(run_ctl(fake, {"live"}).code, kExitUsage);
}
