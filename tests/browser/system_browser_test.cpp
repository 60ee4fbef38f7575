// The whole system in the browser: classcam-hub and its Mosquitto, and classcamd with test sources,
// all as real processes. A technician enrols the unit with the pairing code the page shows (typed into
// `classcamctl enroll`) and sees it online with its health; a teacher schedules an observation, the
// unit records and uploads it; the teacher shares it, the coach plays it and comments at a timestamp,
// the teacher sees the comment; the technician sees the unit go offline when its daemon stops. The
// browser steps are in system.mjs.
//
// Threading: the main thread waits for node; a helper thread does what people do at the unit
// (classcamctl enroll with the code from the page, stopping the daemon) when system.mjs asks by
// creating a file.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/e2e/processes.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

fs::path browser_dir() { return fs::path(CLASSCAM_SOURCE_DIR) / "tests/browser"; }

}  // namespace

TEST(BrowserSystem, AUnitEnrolledFromThePageRecordsALessonACoachWatches) {
  if (!fs::exists(browser_dir() / "node_modules/playwright-core"))
    GTEST_FAIL() << "playwright-core is missing: run `npm ci` in tests/browser (scripts/test does it)";
  test::TempDir dir{"browser-system"};
  e2e::HubProcess hub(dir / "hub", true);
  hub.start();
  if (HasFatalFailure()) return;
  std::map<std::string, std::string> passwords;
  for (const auto& [login, role, name] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"khan", "teacher", "Ms Khan"}, {"jones", "coach", "Mr Jones"}, {"tech", "technician", "Sam Tech"}}) {
    const auto r = hub.admin({"user", "add", "--login", login, "--role", role, "--name", name});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    passwords[login] = e2e::field(r.output, "password");
    ASSERT_FALSE(passwords[login].empty()) << r.output;
  }
  ASSERT_EQ(hub.admin({"room", "add", "--name", "Room 12", "--default-teacher", "khan"}).exit_code, 0);
  const auto added = hub.admin({"unit", "add", "--name", "Room 12 camera", "--room", "Room 12", "--id", "room-12"});
  ASSERT_EQ(added.exit_code, 0) << added.output;

  e2e::UnitProcess unit(dir / "unit");
  unit.start();
  if (HasFatalFailure()) return;

  std::atomic<bool> done{false};
  std::string helper_log;
  std::thread helper([&] {
    bool enrolled = false;
    bool stopped = false;
    while (!done) {
      if (!enrolled && fs::exists(dir / "code")) {
        const auto r = unit.ctl({"enroll", "--hub", hub.url(), "--code", test::read_file(dir / "code")});
        helper_log += "classcamctl enroll: exit " + std::to_string(r.exit_code) + ": " + r.output + "\n";
        enrolled = true;
      }
      if (!stopped && fs::exists(dir / "stop-unit")) {
        helper_log += "classcamd stopped: exit " + std::to_string(unit.stop()) + "\n";
        stopped = true;
      }
      std::this_thread::sleep_for(50ms);
    }
  });

  const e2e::Json config = {
      {"url", hub.url()},
      {"people",
       {{"teacher", {{"login", "khan"}, {"password", passwords["khan"]}}},
        {"coach", {{"login", "jones"}, {"password", passwords["jones"]}}},
        {"technician", {{"login", "tech"}, {"password", passwords["tech"]}}}}},
      {"unit", "room-12"},
      {"room", "Room 12"},
      {"dir", dir.path().string()},
  };
  test::write_file(dir / "system.json", config.dump(2));
  test::Process node({"node", (browser_dir() / "system.mjs").string(), (dir / "system.json").string()},
                     dir / "node.log");
  const auto status = node.wait(540s);
  done = true;
  helper.join();
  std::cout << node.output() << helper_log;
  ASSERT_TRUE(status.has_value()) << "the browser steps did not finish in 540 s";
  EXPECT_EQ(test::exit_code(*status), 0) << "a browser step failed (see above); the unit said:\n" << unit.output();
}
