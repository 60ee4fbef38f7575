// The technician's and teacher's fleet pages against a hub with its real Mosquitto: a unit that
// speaks MQTT (a test client publishing what classcamd publishes, answering commands and uploading a
// real JPEG snapshot) shows online with its health, records on a teacher's "Start", goes offline
// when it drops off, and a second unit is enrolled with the pairing code the page shows.
//
// Threading: the test's main thread runs node (pages.mjs-style steps in fleet.mjs); one helper
// thread plays the unit (MqttClient has its own loop thread; the helper only polls its messages).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/protocol/messages.hpp"
#include "common/protocol/topics.hpp"
#include "common/util/time.hpp"
#include "hub/broker/broker.hpp"
#include "hub/testing/mqtt_client.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/process.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using hub::testkit::MqttClient;
using protocol::Channel;
using Json = protocol::Json;

namespace {

namespace fs = std::filesystem;

fs::path browser_dir() { return fs::path(CLASSCAM_SOURCE_DIR) / "tests/browser"; }

// Plays one enrolled unit until stopped: publishes state and telemetry, answers commands.
class FakeUnit {
 public:
  FakeUnit(hub::testkit::TestHub& hub, protocol::EnrollResponse e, std::string jpeg)
      : hub_(hub), e_(std::move(e)), jpeg_(std::move(jpeg)), mqtt_(e_.unit_id, false) {}

  bool connect() {
    protocol::UnitState offline;
    offline.unit_id = e_.unit_id;
    offline.state = protocol::RecorderState::offline;
    offline.since = util::now_utc();
    if (mqtt_.connect(e_.mqtt_port, hub_.ca_file(), e_.mqtt_username, e_.mqtt_password,
                      MqttClient::Will{protocol::topic(e_.unit_id, Channel::state), protocol::encode(offline)}) != 0)
      return false;
    if (mqtt_.subscribe(protocol::topic(e_.unit_id, Channel::commands)) != 1) return false;
    return publish_state(protocol::RecorderState::idle) && publish_telemetry();
  }

  bool publish_state(protocol::RecorderState s) {
    protocol::UnitState st;
    st.unit_id = e_.unit_id;
    st.state = s;
    st.since = util::now_utc();
    if (s == protocol::RecorderState::recording) st.session_id = "fleet-session-1";
    state_ = s;
    return mqtt_.publish(protocol::topic(e_.unit_id, Channel::state), protocol::encode(st), 1, true);
  }

  bool publish_telemetry() {
    protocol::Telemetry t;
    t.unit_id = e_.unit_id;
    t.at = util::now_utc();
    t.state = state_;
    t.disk_total_bytes = 31914983424;
    t.disk_free_bytes = 20401094656;
    t.spool_used_bytes = 812345678;
    t.spool_backlog_segments = 4;
    t.spool_backlog_bytes = 4194304;
    t.cpu_temp_c = 54.2;
    t.uptime_s = 86400;
    t.software_version = "0.1.0";
    return mqtt_.publish(protocol::topic(e_.unit_id, Channel::telemetry), protocol::encode(t), 0, true);
  }

  // Answers the commands that arrived since the last call.
  void serve() {
    const auto all = mqtt_.messages();
    for (; handled_ < all.size(); ++handled_) {
      if (all[handled_].topic != protocol::topic(e_.unit_id, Channel::commands)) continue;
      const auto cmd = protocol::decode<protocol::Command>(all[handled_].payload);
      if (!cmd) continue;
      protocol::CommandResult r;
      r.command_id = cmd->id;
      r.unit_id = e_.unit_id;
      r.action = cmd->action;
      r.at = util::now_utc();
      if (cmd->action == protocol::CommandAction::snapshot) {
        auto c = hub_.client(e_.api_token);
        const auto up = c.request("PUT", "/api/v1/unit/snapshots/" + cmd->id, jpeg_, {{"Content-Type", "image/jpeg"}});
        if (up.status != 204) {
          r.status = protocol::CommandStatus::failed;
          r.detail = "upload refused: " + up.body;
        }
      } else if (cmd->action == protocol::CommandAction::start) {
        publish_state(protocol::RecorderState::recording);
        r.session_id = "fleet-session-1";
      } else if (cmd->action == protocol::CommandAction::stop) {
        publish_state(protocol::RecorderState::idle);
        r.session_id = "fleet-session-1";
      }
      mqtt_.publish(protocol::topic(e_.unit_id, Channel::results), protocol::encode(r));
    }
  }

  void drop() { mqtt_.drop(); }

 private:
  hub::testkit::TestHub& hub_;
  protocol::EnrollResponse e_;
  std::string jpeg_;
  MqttClient mqtt_;
  protocol::RecorderState state_ = protocol::RecorderState::idle;
  std::size_t handled_ = 0;
};

std::optional<protocol::EnrollResponse> enroll(hub::testkit::TestHub& hub, const std::string& code) {
  protocol::EnrollRequest req{code, "classcam-browser-test", "0.1.0"};
  const auto r =
      hub.client().request("POST", "/api/v1/enroll", protocol::encode(req), {{"Content-Type", "application/json"}});
  if (r.status != 200) return std::nullopt;
  auto e = protocol::decode<protocol::EnrollResponse>(r.body);
  if (!e) return std::nullopt;
  return *e;
}

}  // namespace

TEST(BrowserFleet, TechnicianAndTeacherFollowUnitsOverARealBroker) {
  if (!fs::exists(browser_dir() / "node_modules/playwright-core"))
    GTEST_FAIL() << "playwright-core is missing: run `npm ci` in tests/browser (scripts/test does it)";
  hub::testkit::TestHub hub(hub::testkit::test_config_with_broker("unused"));
  ASSERT_TRUE(hub.service().broker()->wait_ready(10s));
  auto teacher = hub.add_person("khan", hub::store::Role::teacher);
  auto tech = hub.add_person("tech", hub::store::Role::technician);
  {
    auto as_admin = hub.client(hub.add_person("boss", hub::store::Role::admin).token);
    for (const auto& [id, name] : {std::pair{teacher.user.id, "Ms Khan"}, std::pair{tech.user.id, "Sam Tech"}}) {
      ASSERT_EQ(as_admin
                    .request("PATCH", "/api/v1/users/" + id, Json{{"display_name", name}}.dump(),
                             {{"Content-Type", "application/json"}})
                    .status,
                200);
    }
  }
  const auto room = hub.add_room("Room 12", teacher.user.id);
  hub.add_room("Science lab");
  hub.add_unit("room-12", room.id);

  // A real JPEG of a test pattern, as a unit's camera would send.
  const auto jpeg_file = hub.dir() / "snapshot.jpg";
  const auto made = test::run({"ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=1",
                               "-frames:v", "1", jpeg_file.string()});
  ASSERT_EQ(made.exit_code, 0) << made.output;

  auto as_tech = hub.client(tech.token);
  const auto code = as_tech.request("POST", "/api/v1/units/room-12/pairing-code");
  ASSERT_EQ(code.status, 201) << code.body;
  const auto enrolled = enroll(hub, code.json()["code"]);
  ASSERT_TRUE(enrolled);
  FakeUnit unit(hub, *enrolled, test::read_file(jpeg_file));
  ASSERT_TRUE(unit.connect());

  // The helper thread plays the unit, and enrols the second unit with the code the page showed.
  std::atomic<bool> done{false};
  std::string helper_error;
  std::thread helper([&] {
    std::unique_ptr<FakeUnit> second;
    bool dropped = false;
    while (!done) {
      unit.serve();
      if (!dropped && fs::exists(hub.dir() / "drop")) {
        unit.drop();
        dropped = true;
      }
      if (!second && fs::exists(hub.dir() / "code")) {
        const auto e = enroll(hub, test::read_file(hub.dir() / "code"));
        if (!e) {
          helper_error = "enrolment with the page's pairing code failed";
          fs::remove(hub.dir() / "code");
          continue;
        }
        second = std::make_unique<FakeUnit>(hub, *e, "");
        if (!second->connect()) helper_error = "the second unit could not connect to the broker";
      }
      if (second) second->serve();
      std::this_thread::sleep_for(50ms);
    }
  });

  const Json config = {
      {"url", "https://127.0.0.1:" + std::to_string(hub.port())},
      {"people",
       {{"teacher", {{"login", "khan"}, {"password", teacher.password}}},
        {"technician", {{"login", "tech"}, {"password", tech.password}}}}},
      {"unit", "room-12"},
      {"room", "Room 12"},
      {"dir", hub.dir().string()},
  };
  const auto config_file = hub.dir() / "fleet.json";
  test::write_file(config_file, config.dump(2));
  test::Process node({"node", (browser_dir() / "fleet.mjs").string(), config_file.string()}, hub.dir() / "node.log");
  const auto status = node.wait(300s);
  done = true;
  helper.join();
  std::cout << node.output();
  EXPECT_EQ(helper_error, "");
  ASSERT_TRUE(status.has_value()) << "the browser steps did not finish in 300 s";
  EXPECT_EQ(test::exit_code(*status), 0) << "a browser step failed (see above)";
}
