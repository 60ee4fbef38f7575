// The daemon enrolled with a real Mosquitto (TLS, passwords): what the hub sees and what its commands
// and schedules do, through the real session controller and a test-source pipeline.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <thread>

#include "common/protocol/topics.hpp"
#include "firmware/control/client.hpp"
#include "firmware/daemon/daemon.hpp"
#include "firmware/daemon/daemon_test_support.hpp"
#include "firmware/enroll/enrollment.hpp"
#include "firmware/gpio/fake.hpp"
#include "hub/broker/broker.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using protocol::RecorderState;

namespace {

constexpr const char* kUnit = "room-12";

config::UnitConfig test_config(const test::TempDir& dir) {
  auto c = daemon::testkit::test_config(dir);
  c.telemetry.interval_s = 1;
  return c;
}

void enrol(const config::UnitConfig& c, const test::Broker& b) {
  protocol::EnrollResponse e;
  e.unit_id = kUnit;
  e.unit_name = "Room 12 camera";
  e.api_token = "ct_test";
  e.mqtt_host = "127.0.0.1";
  e.mqtt_port = b.port();
  e.mqtt_username = kUnit;
  e.mqtt_password = "unit-secret";
  e.hub_url = "https://127.0.0.1:1";
  e.ca_pem = test::read_file(b.ca_file());
  ASSERT_TRUE(enroll::save_enrollment(c.unit.state_dir, e));
}

using daemon::testkit::Harness;

std::string topic(protocol::Channel c) { return protocol::topic(kUnit, c); }

protocol::Command command(protocol::CommandAction a, const std::string& id) {
  protocol::Command c;
  c.id = id;
  c.action = a;
  c.issued_at = util::now_utc();
  c.expires_at = c.issued_at + 120s;
  return c;
}

std::vector<protocol::CommandResult> results_for(const test::MqttClient& hub, const std::string& id) {
  std::vector<protocol::CommandResult> out;
  for (const auto& p : hub.on(topic(protocol::Channel::results))) {
    auto r = protocol::decode<protocol::CommandResult>(p);
    if (r && r->command_id == id) out.push_back(*r);
  }
  return out;
}

std::vector<protocol::EventType> event_types(const test::MqttClient& hub) {
  std::vector<protocol::EventType> out;
  for (const auto& p : hub.on(topic(protocol::Channel::events))) {
    if (auto e = protocol::decode<protocol::Event>(p)) out.push_back(e->type);
  }
  return out;
}

test::Broker::Options users() { return {{{"classcam-hub", "hub-secret"}, {kUnit, "unit-secret"}}, ""}; }

}  // namespace

TEST(DaemonLink, CommandsRunOnceExpireOrAreRejectedAndSchedulesAreStored) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  test::Broker broker(users());
  enrol(cfg, broker);
  test::MqttClient hub(broker, "classcam-hub", "hub-secret");
  protocol::Schedule s;
  s.unit_id = kUnit;
  s.revision = 3;
  s.observations = {{"obs-9", "Later", util::now_utc() + 1h, util::now_utc() + 2h, std::nullopt, std::nullopt}};
  hub.publish(topic(protocol::Channel::schedule), protocol::encode(s), true);

  Harness h(cfg);
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->agent() && h.daemon_->agent()->link_status().connected; }, 10s));
  // The retained schedule arrives on subscribe and is stored.
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto& in_force = h.daemon_->schedule_runner().schedule();
        return in_force && in_force->revision == 3;
      },
      10s));
  ASSERT_TRUE(h.run_until([&] { return std::filesystem::exists(cfg.unit.state_dir / "schedule.json"); }, 5s));

  const std::string start_id = "11111111-1111-4111-8111-111111111111";
  auto start = command(protocol::CommandAction::start, start_id);
  start.args.title = "Impromptu";
  hub.publish(topic(protocol::Channel::commands), protocol::encode(start));
  ASSERT_TRUE(h.run_until([&] { return results_for(hub, start_id).size() == 1; }, 20s));
  const auto first = results_for(hub, start_id)[0];
  EXPECT_EQ(first.status, protocol::CommandStatus::ok) << first.detail;
  ASSERT_TRUE(first.session_id);
  EXPECT_EQ(h.state(), RecorderState::recording);

  // A resent copy is not run again: the same result comes back.
  hub.publish(topic(protocol::Channel::commands), protocol::encode(start));
  ASSERT_TRUE(h.run_until([&] { return results_for(hub, start_id).size() == 2; }, 10s));
  EXPECT_EQ(results_for(hub, start_id)[1], first);
  EXPECT_EQ(*h.daemon_->controller().unit_state().session_id, *first.session_id);

  auto late = command(protocol::CommandAction::stop, "22222222-2222-4222-8222-222222222222");
  late.issued_at = util::now_utc() - 10min;
  late.expires_at = util::now_utc() - 8min;
  hub.publish(topic(protocol::Channel::commands), protocol::encode(late));
  auto stream = command(protocol::CommandAction::stream_start, "33333333-3333-4333-8333-333333333333");
  hub.publish(topic(protocol::Channel::commands), protocol::encode(stream));
  hub.publish(topic(protocol::Channel::commands),
              R"({"protocol": "1.0", "id": "44444444-4444-4444-8444-444444444444", "action": "dance"})");
  ASSERT_TRUE(h.run_until(
      [&] {
        return results_for(hub, late.id).size() == 1 && results_for(hub, stream.id).size() == 1 &&
               results_for(hub, "44444444-4444-4444-8444-444444444444").size() == 1;
      },
      10s));
  EXPECT_EQ(results_for(hub, late.id)[0].status, protocol::CommandStatus::expired);
  EXPECT_EQ(h.state(), RecorderState::recording) << "an expired stop is not run";
  // Live is tried once (one branch, however the controller's observers call back) and fails: this
  // test's hub URL leads nowhere. The failure is the live's alone: the recording goes on.
  EXPECT_EQ(results_for(hub, stream.id)[0].status, protocol::CommandStatus::failed);
  EXPECT_NE(results_for(hub, stream.id)[0].detail.find("the hub cannot be reached for live"), std::string::npos)
      << results_for(hub, stream.id)[0].detail;
  EXPECT_EQ(h.state(), RecorderState::recording) << "a failed live does not touch the recording";
  EXPECT_EQ(results_for(hub, "44444444-4444-4444-8444-444444444444")[0].status, protocol::CommandStatus::rejected);

  const auto stop = command(protocol::CommandAction::stop, "55555555-5555-4555-8555-555555555555");
  hub.publish(topic(protocol::Channel::commands), protocol::encode(stop));
  ASSERT_TRUE(h.run_until([&] { return results_for(hub, stop.id).size() == 1; }, 20s));
  EXPECT_EQ(results_for(hub, stop.id)[0].status, protocol::CommandStatus::ok);
  EXPECT_EQ(results_for(hub, stop.id)[0].session_id, first.session_id);

  // What the hub heard: the session's start, its segments, its end; state and telemetry retained.
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto t = event_types(hub);
        return !t.empty() && t.back() == protocol::EventType::session_ended;
      },
      10s));
  const auto types = event_types(hub);
  EXPECT_EQ(types.front(), protocol::EventType::session_started);
  EXPECT_GE(std::count(types.begin(), types.end(), protocol::EventType::segment_closed), 1);
  ASSERT_TRUE(h.run_until([&] { return !hub.on(topic(protocol::Channel::telemetry)).empty(); }, 5s));
  const auto tel = protocol::decode<protocol::Telemetry>(hub.on(topic(protocol::Channel::telemetry)).back());
  ASSERT_TRUE(tel);
  EXPECT_GT(tel->disk_total_bytes, 0u);
  EXPECT_GT(tel->uptime_s, 0u);
  EXPECT_FALSE(tel->software_version.empty());
  EXPECT_EQ(tel->spool_set_aside_segments, 0u) << "the unit says how many segments are set aside";

  // Answered commands survive a restart of classcamd: a resend after it gets the stored answer.
  h.stop();
  Harness again(cfg);
  ASSERT_TRUE(again.run_until([&] { return again.daemon_->agent()->link_status().connected; }, 10s));
  hub.publish(topic(protocol::Channel::commands), protocol::encode(start));
  ASSERT_TRUE(again.run_until([&] { return results_for(hub, start_id).size() == 3; }, 10s));
  EXPECT_EQ(results_for(hub, start_id)[2], first);
  EXPECT_EQ(again.state(), RecorderState::idle);
}

TEST(DaemonLink, ABrokerOutageDoesNotDisturbARecordingAndTheHubHearsAllOfItAfterwards) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  test::Broker broker(users());
  enrol(cfg, broker);
  Harness h(cfg);
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->agent()->link_status().connected; }, 10s));
  std::optional<Result<protocol::SessionInfo>> started;
  h.daemon_->controller().start({}, [&](const Result<protocol::SessionInfo>& r) { started = r; });
  ASSERT_TRUE(h.run_until([&] { return started.has_value(); }, 20s));
  ASSERT_TRUE(*started);

  broker.stop();
  ASSERT_TRUE(h.run_until([&] { return !h.daemon_->agent()->link_status().connected; }, 10s));
  const auto before = h.daemon_->controller().progress()->segments_closed;
  h.run_until([&] { return false; }, 3500ms);
  EXPECT_EQ(h.state(), RecorderState::recording);
  EXPECT_GE(h.daemon_->controller().progress()->segments_closed, before + 2) << "segments kept closing";
  std::optional<Result<protocol::SessionInfo>> stopped;
  h.daemon_->controller().stop("test", [&](const Result<protocol::SessionInfo>& r) { stopped = r; });
  ASSERT_TRUE(h.run_until([&] { return stopped.has_value(); }, 20s));
  h.run_until([&] { return false; }, 300ms);
  EXPECT_GT(h.daemon_->agent()->link_status().outbox, 2u);

  broker.start();
  test::MqttClient hub(broker, "classcam-hub", "hub-secret");
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->agent()->link_status().connected; }, 20s));
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto t = event_types(hub);
        return !t.empty() && t.back() == protocol::EventType::session_ended;
      },
      10s));
  const auto state = protocol::decode<protocol::UnitState>(hub.on(topic(protocol::Channel::state)).back());
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, RecorderState::idle);
}

TEST(DaemonLink, ARecordedSessionReachesTheHubAndIsJoined) {
  test::TempDir dir;
  auto cfg = test_config(dir);
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  log::init({});  // the test hub quietened every logger
  test::Broker broker(users());
  {
    protocol::EnrollResponse e;
    e.unit_id = kUnit;
    e.unit_name = "Room 12 camera";
    e.api_token = unit.token;
    e.mqtt_host = "127.0.0.1";
    e.mqtt_port = broker.port();
    e.mqtt_username = kUnit;
    e.mqtt_password = "unit-secret";
    e.hub_url = "https://127.0.0.1:" + std::to_string(hub.port());
    // The hub's CA signs both certificates in production; here broker and hub have their own, so the
    // unit trusts both.
    e.ca_pem = test::read_file(hub.ca_file()) + test::read_file(broker.ca_file());
    ASSERT_TRUE(enroll::save_enrollment(cfg.unit.state_dir, e));
  }
  Harness h(cfg);
  ASSERT_NE(h.daemon_->agent(), nullptr);
  ASSERT_NE(h.daemon_->uploader(), nullptr);
  std::optional<Result<protocol::SessionInfo>> started;
  h.daemon_->controller().start({}, [&](const Result<protocol::SessionInfo>& r) { started = r; });
  ASSERT_TRUE(h.run_until([&] { return started.has_value(); }, 20s));
  ASSERT_TRUE(*started);
  h.run_until([] { return false; }, 3s);
  std::optional<Result<protocol::SessionInfo>> stopped;
  h.daemon_->controller().stop("test", [&](const Result<protocol::SessionInfo>& r) { stopped = r; });
  ASSERT_TRUE(h.run_until([&] { return stopped.has_value(); }, 20s));
  ASSERT_TRUE(*stopped);
  const auto count = *(*stopped)->segment_count;
  ASSERT_GE(count, 3u);

  // Every segment confirmed, the end announced, the hub joins them into one recording.
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto rec = hub.store().recording_by_session(unit.unit.id, (*started)->session_id);
        return rec && rec->state == hub::store::RecordingState::ready;
      },
      60s))
      << h.daemon_->uploader()->status().last_error;
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->uploader()->status().uploaded_segments == count; }, 10s));
  EXPECT_EQ(h.daemon_->uploader()->status().backlog_segments, 0u);
}

TEST(DaemonLink, EnrolsWithTheRealHubThenRecordsOnItsCommandAndUploads) {
  test::TempDir dir;
  test::TempDir unused;
  const auto cfg = test_config(dir);
  hub::testkit::TestHub hub(hub::testkit::test_config_with_broker(unused.path()));
  const auto tech = hub.add_person("tech", hub::store::Role::technician);
  hub.add_unit(kUnit, hub.add_room("Room 12").id);
  ASSERT_TRUE(hub.service().broker()->wait_ready(10s));
  log::init({});
  auto as_tech = hub.client(tech.token);
  const auto pc = as_tech.request("POST", "/api/v1/units/" + std::string(kUnit) + "/pairing-code");
  ASSERT_EQ(pc.status, 201) << pc.body;
  const std::string code = pc.json()["code"];

  Harness h(cfg);
  EXPECT_EQ(h.daemon_->agent(), nullptr) << "not enrolled yet";
  // classcamctl enroll, over the control socket (blocking: from another thread while the loop runs).
  std::optional<std::variant<control::Json, control::CallError>> answer;
  std::thread ctl([&] {
    control::Request r;
    r.cmd = control::Command::enroll;
    r.hub = "https://127.0.0.1:" + std::to_string(hub.port());
    r.code = code;
    answer = control::call(cfg.control.socket, control::encode_request(r), 30s);
  });
  ASSERT_TRUE(h.run_until([&] { return answer.has_value(); }, 40s));
  ctl.join();
  ASSERT_TRUE(std::holds_alternative<control::Json>(*answer));
  const auto& reply = std::get<control::Json>(*answer);
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  EXPECT_EQ(reply["unit_id"], kUnit);
  EXPECT_EQ(std::filesystem::status(cfg.unit.state_dir / "enrollment.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // Linked without a restart: the hub sees it online.
  ASSERT_NE(h.daemon_->agent(), nullptr);
  ASSERT_TRUE(h.run_until([&] { return h.daemon_->agent()->link_status().connected; }, 20s))
      << h.daemon_->agent()->link_status().last_error;
  ASSERT_TRUE(h.run_until(
      [&] { return as_tech.request("GET", "/api/v1/units/" + std::string(kUnit)).json().value("online", false); },
      20s));

  // A start from the hub, then a stop: both answered ok, the session uploaded and joined.
  auto command = [&](const std::string& action) {
    const auto r = as_tech.request("POST", "/api/v1/units/" + std::string(kUnit) + "/commands",
                                   control::Json{{"action", action}, {"args", control::Json::object()}}.dump(),
                                   {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string id = r.json()["id"];
    std::string state;
    h.run_until(
        [&] {
          state = as_tech.request("GET", "/api/v1/units/" + std::string(kUnit) + "/commands/" + id)
                      .json()
                      .value("state", "");
          return state != "sent";
        },
        30s);
    return state;
  };
  EXPECT_EQ(command("start"), "ok");
  ASSERT_EQ(h.state(), RecorderState::recording);
  const auto session_id = *h.daemon_->controller().unit_state().session_id;
  h.run_until([] { return false; }, 2500ms);
  EXPECT_EQ(command("stop"), "ok");
  // A snapshot for the hub: taken idle, uploaded with the unit's token, served to staff.
  EXPECT_EQ(command("snapshot"), "ok");
  const auto jpeg = as_tech.request("GET", "/api/v1/units/" + std::string(kUnit) + "/snapshot");
  EXPECT_EQ(jpeg.status, 200);
  EXPECT_EQ(jpeg.header("Content-Type"), "image/jpeg");
  ASSERT_TRUE(h.run_until(
      [&] {
        const auto rec = hub.store().recording_by_session(kUnit, session_id);
        return rec && rec->state == hub::store::RecordingState::ready;
      },
      60s))
      << h.daemon_->uploader()->status().last_error;
}
