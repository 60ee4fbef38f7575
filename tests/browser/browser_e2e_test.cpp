// The hub's web pages in a real browser: a hub in this process (real TLS, SQLite, tus uploads of
// real H.264/AAC segments from GStreamer test sources), then pages.mjs drives Debian's Chromium
// through playwright-core as each kind of person. This file prepares the hub and the people; the
// browser steps and their assertions are in pages.mjs, whose exit code is the verdict.
//
// Needs `scripts/deps browser` (chromium, node) and `npm ci` in tests/browser (scripts/test does both).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/util/hash.hpp"
#include "common/util/time.hpp"
#include "hub/testing/media.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/process.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using hub::testkit::HttpsClient;
using Json = protocol::Json;

namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;

fs::path browser_dir() { return fs::path(CLASSCAM_SOURCE_DIR) / "tests/browser"; }

Headers creation(const protocol::SegmentEntry& e) {
  return {{"Tus-Resumable", "1.0.0"},
          {"Content-Type", "application/offset+octet-stream"},
          {"Upload-Length", std::to_string(e.size_bytes)},
          {"Upload-Metadata", "session_id " + util::base64_encode(e.session_id) + ",index " +
                                  util::base64_encode(std::to_string(e.index)) + ",entry " +
                                  util::base64_encode(protocol::encode(e))}};
}

// Uploads `count` of the segments (creation-with-upload); ends the session when `end` is set.
void upload(HttpsClient& unit, const hub::testkit::MadeSegments& media, protocol::SessionInfo info, std::size_t count,
            bool end) {
  const auto put = [&] {
    const auto r = unit.request("PUT", "/api/v1/unit/sessions/" + info.session_id, protocol::encode(info),
                                {{"Content-Type", "application/json"}});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  };
  put();
  for (std::size_t i = 0; i < count; ++i) {
    const auto r = unit.request("POST", "/api/v1/uploads", test::read_file(media.files[i]), creation(media.entries[i]));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  if (end) {
    info.ended_at = util::now_utc();
    info.segment_count = static_cast<std::uint32_t>(media.files.size());
    put();
  }
}

Json recording_of(HttpsClient& c, const std::string& session_id) {
  const Json list = c.request("GET", "/api/v1/recordings").json();
  for (const auto& rec : list["recordings"]) {
    if (rec.value("session_id", "") == session_id) return rec;
  }
  return Json::object();
}

class BrowserPages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(browser_dir() / "node_modules/playwright-core")) {
      GTEST_FAIL() << "playwright-core is missing: run `npm ci` in tests/browser (scripts/test does it)";
    }
    if (!fs::exists("/usr/bin/chromium")) GTEST_FAIL() << "no /usr/bin/chromium: run `scripts/deps browser`";
  }
};

TEST_F(BrowserPages, EveryRoleUsesItsPagesInChromium) {
  // A school far from the browser's zone: the pages must show and take times in the school's.
  auto cfg = hub::testkit::test_config("unused");
  cfg.hub.timezone = "Pacific/Auckland";
  hub::testkit::TestHub hub(cfg);
  auto admin = hub.add_person("boss", hub::store::Role::admin);
  auto teacher = hub.add_person("khan", hub::store::Role::teacher);
  auto coach = hub.add_person("jones", hub::store::Role::coach);
  auto outsider = hub.add_person("patel", hub::store::Role::coach);
  auto tech = hub.add_person("tech", hub::store::Role::technician);
  auto as_admin = hub.client(admin.token);
  for (const auto& [p, name] : std::vector<std::pair<hub::store::User, std::string>>{{admin.user, "Dr Boss"},
                                                                                     {teacher.user, "Ms Khan"},
                                                                                     {coach.user, "Mr Jones"},
                                                                                     {outsider.user, "Mx Patel"},
                                                                                     {tech.user, "Sam Tech"}}) {
    ASSERT_EQ(as_admin
                  .request("PATCH", "/api/v1/users/" + p.id, Json{{"display_name", name}}.dump(),
                           {{"Content-Type", "application/json"}})
                  .status,
              200);
  }
  const auto room = hub.add_room("Room 12", teacher.user.id);
  hub.add_room("Science lab");
  const auto unit = hub.add_unit("room-12", room.id);

  // A finished lesson (joined into one MP4) and one still uploading (a joined-so-far preview).
  const auto media = hub::testkit::make_segments(hub.dir() / "spool-a", "lesson-a", 6);
  const auto live = hub::testkit::make_segments(hub.dir() / "spool-b", "lesson-b", 4);
  const auto live_info = hub::testkit::session_info("room-12", "lesson-b");
  {
    auto as_unit = hub.client(unit.token);
    upload(as_unit, media, hub::testkit::session_info("room-12", "lesson-a"), media.files.size(), true);
    upload(as_unit, live, live_info, 2, false);
  }
  auto as_teacher = hub.client(teacher.token);
  Json ready;
  ASSERT_TRUE(test::wait_until(
      [&] {
        ready = recording_of(as_teacher, "lesson-a");
        return ready.value("state", "") == "ready";
      },
      120s))
      << ready.dump();
  const Json uploading = recording_of(as_teacher, "lesson-b");
  ASSERT_EQ(uploading.value("state", ""), "recording") << uploading.dump();
  const std::string title_body = Json{{"title", "Year 8 maths"}}.dump();
  ASSERT_EQ(as_teacher
                .request("PATCH", "/api/v1/recordings/" + ready["id"].get<std::string>(), title_body,
                         {{"Content-Type", "application/json"}})
                .status,
            200);
  // The uploading one is shared by the API, the finished one by the teacher in the browser.
  ASSERT_EQ(
      as_teacher.request("PUT", "/api/v1/recordings/" + uploading["id"].get<std::string>() + "/shares/" + coach.user.id)
          .status,
      201);

  const Json config = {
      {"url", "https://127.0.0.1:" + std::to_string(hub.port())},
      {"people",
       {{"admin", {{"login", "boss"}, {"password", admin.password}}},
        {"teacher", {{"login", "khan"}, {"password", teacher.password}}},
        {"coach", {{"login", "jones"}, {"password", coach.password}}},
        {"outsider", {{"login", "patel"}, {"password", outsider.password}}},
        {"technician", {{"login", "tech"}, {"password", tech.password}}}}},
      {"recording", ready["id"]},
      {"uploading", uploading["id"]},
      {"unit", "room-12"},
      {"room", "Room 12"},
      {"dir", hub.dir().string()},
  };
  const auto config_file = hub.dir() / "browser.json";
  test::write_file(config_file, config.dump(2));
  // The rest of the uploading lesson arrives when the browser asks for it (by creating a file), while
  // the coach is watching the preview.
  std::atomic<bool> done{false};
  std::string helper_error;
  std::thread helper([&] {
    while (!done && !fs::exists(hub.dir() / "upload-more")) std::this_thread::sleep_for(50ms);
    if (done) return;
    auto as_unit = hub.client(unit.token);
    upload(as_unit, live, live_info, live.files.size(), true);
    if (::testing::Test::HasFailure()) helper_error = "uploading the rest of the live lesson failed";
  });
  test::Process node({"node", (browser_dir() / "pages.mjs").string(), config_file.string()}, hub.dir() / "node.log");
  const auto status = node.wait(300s);
  done = true;
  helper.join();
  EXPECT_EQ(helper_error, "");
  const std::string out = node.output();
  std::cout << out;
  ASSERT_TRUE(status.has_value()) << "the browser steps did not finish in 300 s";
  EXPECT_EQ(test::exit_code(*status), 0) << "a browser step failed (see above)";
}

}  // namespace
