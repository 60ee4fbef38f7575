// The hub side of issue 5 end to end: a hub in the test process running a real Mosquitto on a free
// loopback port, units played by real MQTT clients (libmosquitto) and real HTTPS requests.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "common/protocol/messages.hpp"
#include "common/protocol/pairing_code.hpp"
#include "common/protocol/topics.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/broker/broker.hpp"
#include "hub/fleet/fleet.hpp"
#include "hub/testing/mqtt_client.hpp"
#include "hub/testing/test_hub.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace std::chrono_literals;
using protocol::Channel;
using testkit::HttpsClient;
using testkit::MqttClient;
using testkit::TestHub;
using Json = protocol::Json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers json_headers() { return {{"Content-Type", "application/json"}}; }

class LinkHubTest : public ::testing::Test {
 protected:
  TestHub hub{testkit::test_config_with_broker("unused")};
  TestHub::Person tech = hub.add_person("tech", store::Role::technician);
  TestHub::Person teacher = hub.add_person("khan", store::Role::teacher);
  store::Room room_a = hub.add_room("Room A", teacher.user.id);
  store::Room room_b = hub.add_room("Room B");
  HttpsClient as_tech = hub.client(tech.token);
  HttpsClient as_teacher = hub.client(teacher.token);

  void SetUp() override {
    hub.add_unit("unit-a", room_a.id);
    hub.add_unit("unit-b", room_b.id);
    ASSERT_TRUE(hub.service().broker()->wait_ready(10s));
  }

  std::uint16_t mqtt_port() { return hub.service().config().broker.port; }

  std::string pairing_code(const std::string& unit) {
    const auto r = as_tech.request("POST", "/api/v1/units/" + unit + "/pairing-code");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["code"];
  }

  testkit::HttpResponse enroll(const std::string& code) {
    protocol::EnrollRequest req{code, "classcam-test", "0.0.0-test"};
    return hub.client().request("POST", "/api/v1/enroll", protocol::encode(req), json_headers());
  }

  protocol::EnrollResponse enrolled(const std::string& unit) {
    const auto r = enroll(pairing_code(unit));
    EXPECT_EQ(r.status, 200) << r.body;
    return *protocol::decode<protocol::EnrollResponse>(r.body);
  }

  Json unit_json(const std::string& id) { return as_tech.request("GET", "/api/v1/units/" + id).json(); }
};

TEST_F(LinkHubTest, EnrolmentPinsTheCaAndSpendsTheCodeOnce) {
  const std::string code = pairing_code("unit-a");
  const auto parsed = protocol::parse_pairing_code(code);
  ASSERT_TRUE(parsed) << code;

  // The unit fetches the CA without trusting anything yet, and checks it against the code.
  HttpsClient unverified("127.0.0.1", hub.port(), {});
  const auto ca = unverified.request("GET", "/api/v1/enroll/ca");
  ASSERT_EQ(ca.status, 200);
  EXPECT_EQ(ca.header("Content-Type"), "application/x-pem-file");
  EXPECT_TRUE(protocol::pins_ca(*parsed, ca.body));
  // Another CA (a machine in the middle) does not match the code.
  test::TempDir other;
  const auto mitm = tls::ensure_local_material(other.path(), {"127.0.0.1"});
  EXPECT_FALSE(protocol::pins_ca(*parsed, test::read_file(mitm.ca_cert)));

  const auto r = enroll(code);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto e = *protocol::decode<protocol::EnrollResponse>(r.body);
  EXPECT_EQ(e.unit_id, "unit-a");
  EXPECT_EQ(e.mqtt_username, "unit-a");
  EXPECT_EQ(e.mqtt_port, mqtt_port());
  EXPECT_EQ(e.ca_pem, ca.body);
  EXPECT_EQ(hub.client(e.api_token).request("GET", "/api/v1/unit/schedule").status, 200);
  EXPECT_EQ(unit_json("unit-a")["enrolled"], true);

  const auto again = enroll(code);
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find("already used"), std::string::npos) << again.body;

  // A well-formed code nobody issued, and something that is not a code at all.
  const auto wrong = enroll(protocol::make_pairing_code(ca.body).text());
  EXPECT_EQ(wrong.status, 403);
  EXPECT_NE(wrong.body.find("not recognised"), std::string::npos) << wrong.body;
  EXPECT_EQ(enroll("hello").status, 403);

  // An expired code says so.
  const auto expired = protocol::make_pairing_code(ca.body);
  ASSERT_FALSE(store::refusal(
      hub.store().set_pairing_code("unit-b", auth::secret_hash(expired.secret), std::nullopt, util::now_utc() - 1min)));
  const auto late = enroll(expired.text());
  EXPECT_EQ(late.status, 403);
  EXPECT_NE(late.body.find("pairing code expired; ask for a new one"), std::string::npos) << late.body;

  // Teachers cannot make codes.
  EXPECT_EQ(as_teacher.request("POST", "/api/v1/units/unit-a/pairing-code").status, 403);
}

TEST_F(LinkHubTest, OperatorCommandPrintsACodeThatEnrols) {
  // `classcam-hub unit pair` works on the same state directory as the running hub.
  const std::string hub_binary = std::string(CLASSCAM_BINARY_DIR) + "/hub/app/classcam-hub";
  const auto state = hub.service().config().hub.state_dir.string();
  const auto r = test::run({hub_binary, "--state-dir", state, "unit", "pair", "--id", "unit-b"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto at = r.output.find("pairing code: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string code = r.output.substr(at + 14, 35);
  EXPECT_TRUE(protocol::parse_pairing_code(code)) << code;
  EXPECT_NE(r.output.find("expires: "), std::string::npos);
  const auto e = enroll(code);
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(protocol::decode<protocol::EnrollResponse>(e.body)->unit_id, "unit-b");
  const auto unknown = test::run({hub_binary, "--state-dir", state, "unit", "pair", "--id", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("no unit nope"), std::string::npos) << unknown.output;
}

TEST_F(LinkHubTest, UnitsAreConfinedToTheirOwnTopicsAndARevokedUnitIsOut) {
  const auto a = enrolled("unit-a");
  const auto b = enrolled("unit-b");
  // What the hub hears is watched through the hub itself: a second connection with the hub's login
  // would take over its client id (the broker ties client ids to logins) and disconnect it.
  ASSERT_TRUE(test::wait_until([&] { return hub.service().fleet()->connected(); }, 10s));

  MqttClient unit_a("unit-a");
  ASSERT_EQ(unit_a.connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password), 0);
  EXPECT_EQ(unit_a.subscribe(protocol::topic("unit-a", Channel::commands)), 1);
  EXPECT_EQ(unit_a.subscribe(protocol::topic("unit-a", Channel::schedule)), 1);
  // Another unit's topics and wildcards: Mosquitto 2.0 grants the SUBACK but delivers nothing the ACL
  // does not allow (newer brokers may refuse with 128); what matters is what arrives, checked below.
  const int other = unit_a.subscribe(protocol::topic("unit-b", Channel::commands));
  const int wide = unit_a.subscribe("classcam/v1/units/#");
  EXPECT_TRUE(other == 128 || other == 1) << other;
  EXPECT_TRUE(wide == 128 || wide == 1) << wide;

  MqttClient unit_b("unit-b");
  ASSERT_EQ(unit_b.connect(mqtt_port(), hub.ca_file(), b.mqtt_username, b.mqtt_password), 0);
  EXPECT_EQ(unit_b.subscribe(protocol::topic("unit-b", Channel::commands)), 1);

  // The hub commands B: B gets it, A does not.
  const auto to_b =
      as_tech.request("POST", "/api/v1/units/unit-b/commands", R"({"action": "snapshot"})", json_headers());
  ASSERT_EQ(to_b.status, 202) << to_b.body;
  ASSERT_TRUE(unit_b.wait_message(protocol::topic("unit-b", Channel::commands), 5s));
  EXPECT_FALSE(unit_a.wait_message(protocol::topic("unit-b", Channel::commands), 300ms));
  // ... while a command for A does reach A (through the same subscriptions).
  ASSERT_EQ(
      as_tech.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "snapshot"})", json_headers()).status,
      202);
  ASSERT_TRUE(unit_a.wait_message(protocol::topic("unit-a", Channel::commands), 5s));
  // A publishes as B and onto B's commands: the broker drops both.
  const auto state_of = [](const std::string& unit, protocol::RecorderState st) {
    protocol::UnitState u;
    u.unit_id = unit;
    u.state = st;
    u.since = util::now_utc();
    return protocol::encode(u);
  };
  unit_a.publish(protocol::topic("unit-b", Channel::state), state_of("unit-b", protocol::RecorderState::recording), 1,
                 false);
  unit_a.publish(protocol::topic("unit-b", Channel::commands), "{\"forged\": true}", 1, false);
  // A's own state goes through (sent after the forgery, so once the hub has it, it would have had that).
  ASSERT_TRUE(
      unit_a.publish(protocol::topic("unit-a", Channel::state), state_of("unit-a", protocol::RecorderState::idle), 1));
  ASSERT_TRUE(test::wait_until([&] { return unit_json("unit-a")["state"] == "idle"; }, 5s))
      << unit_json("unit-a").dump();
  EXPECT_NE(unit_json("unit-b")["state"], "recording") << unit_json("unit-b").dump();
  for (const auto& m : unit_a.messages()) EXPECT_NE(m.topic.find("/unit-a/"), std::string::npos) << m.topic;
  for (const auto& m : unit_b.messages()) EXPECT_EQ(m.payload.find("forged"), std::string::npos) << m.payload;

  // Unknown logins and wrong passwords are refused.
  MqttClient stranger("unit-c");
  EXPECT_NE(stranger.connect(mqtt_port(), hub.ca_file(), "unit-c", "guess"), 0);
  MqttClient liar("unit-a");
  EXPECT_NE(liar.connect(mqtt_port(), hub.ca_file(), "unit-a", b.mqtt_password), 0);

  // Revoked: kicked off the broker, no way back in, and its API token is dead.
  const auto revoke_at = std::chrono::steady_clock::now();
  const auto revoked = as_tech.request("POST", "/api/v1/units/unit-a/revoke");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json()["revoked"], true);
  EXPECT_TRUE(unit_a.wait_disconnected(5s));
  std::cout
      << "figure: revoke request to the unit's MQTT connection closed: "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoke_at).count()
      << " ms\n";
  MqttClient again("unit-a-again");
  EXPECT_NE(again.connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password), 0);
  EXPECT_EQ(hub.client(a.api_token).request("GET", "/api/v1/unit/schedule").status, 401);
  EXPECT_TRUE(unit_b.connected()) << "B is not disturbed";
  // Only a new enrolment brings it back.
  const auto patch = as_tech.request("PATCH", "/api/v1/units/unit-a", R"({"revoked": false})", json_headers());
  EXPECT_EQ(patch.status, 409);
  EXPECT_NE(patch.body.find("pairing code"), std::string::npos) << patch.body;
  const auto back = enrolled("unit-a");
  MqttClient returned("unit-a");
  EXPECT_EQ(returned.connect(mqtt_port(), hub.ca_file(), back.mqtt_username, back.mqtt_password), 0);
}

TEST_F(LinkHubTest, AUnitCannotTakeOverTheHubsOrAnotherUnitsClientId) {
  const auto a = enrolled("unit-a");
  const auto b = enrolled("unit-b");
  ASSERT_TRUE(test::wait_until([&] { return hub.service().fleet()->connected(); }, 10s));
  // A unit the way the firmware connects: client id = unit id, clean session off.
  auto victim = std::make_unique<MqttClient>("unit-a", false);
  ASSERT_EQ(victim->connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password), 0);
  ASSERT_EQ(victim->subscribe(protocol::topic("unit-a", Channel::commands)), 1);
  const auto hub_connections = hub.service().fleet()->connections();

  // Unit B's login with the hub's client id (as it is now, and as it was: "classcam-hub-<pid>"), then
  // with unit A's. Each login is valid, so the broker lets each in, as B.
  std::vector<std::unique_ptr<MqttClient>> attackers;
  for (const auto& id : {std::string(broker::kHubUser),
                         std::string(broker::kHubUser) + "-" + std::to_string(::getpid()), std::string("unit-a")}) {
    attackers.push_back(std::make_unique<MqttClient>(id, false));
    EXPECT_EQ(attackers.back()->connect(mqtt_port(), hub.ca_file(), b.mqtt_username, b.mqtt_password), 0) << id;
  }
  EXPECT_FALSE(victim->wait_disconnected(1s)) << "unit A was kicked off by a client claiming its id";
  EXPECT_TRUE(hub.service().fleet()->connected());
  EXPECT_EQ(hub.service().fleet()->connections(), hub_connections) << "the hub was disconnected";
  // ... and the hub still reaches A.
  ASSERT_EQ(
      as_tech.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "snapshot"})", json_headers()).status,
      202);
  EXPECT_TRUE(victim->wait_message(protocol::topic("unit-a", Channel::commands), 5s));
  attackers.clear();

  // The persistent session still works with the id bound to the login: a command sent while A is away
  // arrives when A comes back (without subscribing again).
  victim->disconnect();
  victim.reset();
  const auto queued =
      as_tech.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "snapshot"})", json_headers());
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string queued_id = queued.json()["id"];
  MqttClient back("unit-a", false);
  ASSERT_EQ(back.connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password), 0);
  const auto m = back.wait_message(protocol::topic("unit-a", Channel::commands), 5s);
  ASSERT_TRUE(m) << "the queued command did not arrive";
  EXPECT_NE(m->payload.find(queued_id), std::string::npos) << m->payload;
  EXPECT_EQ(hub.service().fleet()->connections(), hub_connections);
}

TEST_F(LinkHubTest, FleetShowsOnlineStateTelemetryAndCommandResults) {
  const auto a = enrolled("unit-a");
  ASSERT_TRUE(test::wait_until([&] { return hub.service().fleet()->connected(); }, 10s));
  EXPECT_EQ(unit_json("unit-a")["online"], false);

  protocol::UnitState offline;
  offline.unit_id = "unit-a";
  offline.state = protocol::RecorderState::offline;
  offline.since = util::now_utc();
  MqttClient unit("unit-a", false);
  ASSERT_EQ(unit.connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password,
                         MqttClient::Will{protocol::topic("unit-a", Channel::state), protocol::encode(offline)}),
            0);
  ASSERT_EQ(unit.subscribe(protocol::topic("unit-a", Channel::commands)), 1);
  protocol::UnitState idle;
  idle.unit_id = "unit-a";
  idle.since = util::now_utc();
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::state), protocol::encode(idle), 1, true));
  protocol::Telemetry t;
  t.unit_id = "unit-a";
  t.at = util::now_utc();
  t.disk_total_bytes = 1000;
  t.disk_free_bytes = 600;
  t.uptime_s = 42;
  t.software_version = "0.0.0-test";
  t.spool_backlog_segments = 3;
  t.spool_set_aside_segments = 1;
  t.last_error = "segment s/7 set aside (1 attempt): cannot read seg-00007.mp4: Input/output error";
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::telemetry), protocol::encode(t), 0, true));

  ASSERT_TRUE(test::wait_until(
      [&] {
        const auto j = unit_json("unit-a");
        return j["online"] == true && j["telemetry"].is_object();
      },
      5s))
      << unit_json("unit-a").dump();
  auto j = unit_json("unit-a");
  EXPECT_EQ(j["state"], "idle");
  EXPECT_EQ(j["telemetry"]["disk_free_bytes"], 600);
  // What the fleet page shows of an uploader that set a segment aside.
  EXPECT_EQ(j["telemetry"]["spool_set_aside_segments"], 1);
  EXPECT_NE(j["last_error"].get<std::string>().find("set aside"), std::string::npos) << j.dump();
  EXPECT_FALSE(j["last_seen_at"].is_null());
  const auto list = as_tech.request("GET", "/api/v1/units").json()["units"];
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(as_teacher.request("GET", "/api/v1/rooms/" + room_a.id).json()["unit_ids"], Json::array({"unit-a"}));

  // A teacher starts a recording; the unit gets the command and answers.
  const auto sent =
      as_teacher.request("POST", "/api/v1/units/unit-a/commands",
                         R"({"action": "start", "args": {"title": "Now"}, "expires_in_s": 60})", json_headers());
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.json()["state"], "sent");
  const std::string id = sent.json()["id"];
  const auto got = unit.wait_message(protocol::topic("unit-a", Channel::commands), 5s);
  ASSERT_TRUE(got);
  const auto cmd = protocol::decode<protocol::Command>(got->payload);
  ASSERT_TRUE(cmd) << got->payload;
  EXPECT_EQ(cmd->id, id);
  EXPECT_EQ(cmd->action, protocol::CommandAction::start);
  EXPECT_EQ(cmd->args.title, "Now");
  // Teachers may not ask for snapshots; nonsense actions are refused naming the field.
  EXPECT_EQ(
      as_teacher.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "snapshot"})", json_headers()).status,
      403);
  const auto bad = as_tech.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "dance"})", json_headers());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("action"), std::string::npos);

  protocol::CommandResult result;
  result.command_id = id;
  result.unit_id = "unit-a";
  result.action = protocol::CommandAction::start;
  result.status = protocol::CommandStatus::ok;
  result.at = util::now_utc();
  result.session_id = "3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b";
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::results), protocol::encode(result)));
  ASSERT_TRUE(test::wait_until(
      [&] { return as_teacher.request("GET", "/api/v1/units/unit-a/commands/" + id).json()["state"] == "ok"; }, 5s));
  const auto done = as_teacher.request("GET", "/api/v1/units/unit-a/commands/" + id).json();
  EXPECT_EQ(done["session_id"], result.session_id);
  EXPECT_FALSE(done["result_at"].is_null());
  EXPECT_EQ(as_tech.request("GET", "/api/v1/units/unit-a/commands").json()["commands"].size(), 1U);

  // Snapshot: the unit uploads the JPEG for the command; staff fetch it.
  const auto snap =
      as_tech.request("POST", "/api/v1/units/unit-a/commands", R"({"action": "snapshot"})", json_headers());
  ASSERT_EQ(snap.status, 202);
  const std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, 'x') + "\xFF\xD9";
  auto as_unit = hub.client(a.api_token);
  const auto up = as_unit.request("PUT", "/api/v1/unit/snapshots/" + snap.json()["id"].get<std::string>(), jpeg,
                                  {{"Content-Type", "image/jpeg"}});
  EXPECT_EQ(up.status, 204) << up.body;
  EXPECT_EQ(as_unit.request("PUT", "/api/v1/unit/snapshots/" + id, jpeg, {{"Content-Type", "image/jpeg"}}).status, 404)
      << "only for a snapshot command";
  const auto fetched = as_tech.request("GET", "/api/v1/units/unit-a/snapshot");
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body, jpeg);
  EXPECT_EQ(as_teacher.request("GET", "/api/v1/units/unit-a/snapshot").status, 403);

  // Events: a session the unit starts becomes a recording at once, and its bookmarks land in it.
  protocol::SessionInfo session;
  session.session_id = "3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b";
  session.unit_id = "unit-a";
  session.trigger = protocol::Trigger::hub;
  session.title = "Now";
  session.started_at = util::now_utc();
  session.audio = protocol::AudioFormat{};
  session.audio->bitrate_kbps = 64;
  protocol::Event started;
  started.unit_id = "unit-a";
  started.at = util::now_utc();
  started.type = protocol::EventType::session_started;
  started.session = session;
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::events), protocol::encode(started)));
  Json recs;
  ASSERT_TRUE(test::wait_until(
      [&] {
        recs = as_teacher.request("GET", "/api/v1/recordings").json()["recordings"];
        return recs.size() == 1;
      },
      5s));
  const std::string rec_id = recs[0]["id"];
  protocol::Event marked;
  marked.unit_id = "unit-a";
  marked.at = util::now_utc();
  marked.type = protocol::EventType::bookmark;
  marked.bookmark = protocol::Bookmark{"6c0a3b58-2f55-4c1e-8d39-0f7f64a1d2b7",
                                       session.session_id,
                                       util::now_utc(),
                                       1500,
                                       "group work",
                                       protocol::Trigger::button};
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::events), protocol::encode(marked)));
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", Channel::events), protocol::encode(marked)));  // a resend
  Json marks;
  ASSERT_TRUE(test::wait_until(
      [&] {
        marks = as_teacher.request("GET", "/api/v1/recordings/" + rec_id + "/bookmarks").json()["bookmarks"];
        return marks.size() == 1;
      },
      5s));
  EXPECT_EQ(marks[0]["label"], "group work");
  EXPECT_EQ(marks[0]["offset_ms"], 1500);

  // Gone without a goodbye: the broker publishes the will and the unit shows offline.
  unit.drop();
  ASSERT_TRUE(test::wait_until([&] { return unit_json("unit-a")["online"] == false; }, 10s))
      << unit_json("unit-a").dump();
  EXPECT_EQ(unit_json("unit-a")["state"], "offline");
}

TEST_F(LinkHubTest, SchedulesAreRetainedPerUnitAndSurviveABrokerKill) {
  const auto a = enrolled("unit-a");
  ASSERT_TRUE(test::wait_until([&] { return hub.service().fleet()->connected(); }, 10s));
  const auto start = util::now_utc() + 1h;
  const auto obs = [&](util::TimePoint s, const std::string& title) {
    return Json{
        {"room_id", room_a.id}, {"title", title}, {"start", util::to_rfc3339(s)}, {"end", util::to_rfc3339(s + 30min)}}
        .dump();
  };
  const auto first = as_teacher.request("POST", "/api/v1/observations", obs(start, "Year 8"), json_headers());
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string first_id = first.json()["id"];

  const auto schedule_of = [&](const std::string& client_id) -> std::optional<protocol::Schedule> {
    MqttClient fresh(client_id);
    if (fresh.connect(mqtt_port(), hub.ca_file(), a.mqtt_username, a.mqtt_password) != 0) return std::nullopt;
    fresh.subscribe(protocol::topic("unit-a", Channel::schedule));
    const auto m = fresh.wait_message(protocol::topic("unit-a", Channel::schedule), 5s);
    if (!m || !m->retained) return std::nullopt;
    auto s = protocol::decode<protocol::Schedule>(m->payload);
    if (!s) return std::nullopt;
    return *s;
  };
  std::optional<protocol::Schedule> s;
  ASSERT_TRUE(test::wait_until(
      [&] {
        s = schedule_of("unit-a");
        return s && s->observations.size() == 1;
      },
      10s));
  EXPECT_EQ(s->unit_id, "unit-a");
  EXPECT_EQ(s->observations[0].id, first_id);
  const auto rev = s->revision;

  // kill -9 the broker by its PID: the supervisor restarts it and the hub reconnects by itself.
  const pid_t pid = hub.service().broker()->pid();
  ASSERT_GT(pid, 0);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(
      test::wait_until([&] { return hub.service().broker()->pid() > 0 && hub.service().broker()->pid() != pid; }, 10s));
  ASSERT_TRUE(hub.service().broker()->wait_ready(10s));
  ASSERT_TRUE(test::wait_until([&] { return hub.service().fleet()->connected(); }, 15s));
  std::cout
      << "figure: broker kill -9 to the hub connected again: "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at).count()
      << " ms\n";

  const auto second = as_teacher.request("POST", "/api/v1/observations", obs(start + 1h, "Year 9"), json_headers());
  ASSERT_EQ(second.status, 201) << second.body;
  ASSERT_TRUE(test::wait_until(
      [&] {
        s = schedule_of("unit-a");
        return s && s->observations.size() == 2;
      },
      10s));
  EXPECT_GT(s->revision, rev);
  EXPECT_EQ(s->observations[1].title, "Year 9");
}

}  // namespace
