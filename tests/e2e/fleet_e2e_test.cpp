// The product end to end: classcam-hub with the Mosquitto broker it manages, and two classcamd units
// with test sources, enrolled with pairing codes the way a technician does it. Observations scheduled
// through the API are recorded by the units from their own clocks, uploaded with tus and joined by the
// hub; the tests stop the hub (and with it the broker) in the middle of slots and uploads and check that
// nothing is lost, and that one unit's credentials cannot reach another unit's topics.
#include <gtest/gtest.h>

#include <thread>

#include "common/util/time.hpp"
#include "tests/e2e/processes.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using e2e::HubProcess;
using e2e::Json;
using e2e::UnitProcess;
namespace fs = std::filesystem;

namespace {

std::string at(std::chrono::seconds from_now) { return util::to_rfc3339(util::now_utc() + from_now); }

// ffprobe's duration of a media file in seconds; negative when it does not play.
double media_seconds(const fs::path& f) {
  const auto r =
      test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", f.string()});
  if (r.exit_code != 0) return -1;
  try {
    return std::stod(r.output);
  } catch (const std::exception&) {
    return -1;
  }
}

class FleetE2E : public ::testing::Test {
 protected:
  test::TempDir dir{"fleet-e2e"};
  HubProcess hub{dir.path() / "hub", true};
  std::string admin_token, teacher_token, tech_token;
  std::vector<std::unique_ptr<UnitProcess>> units;
  std::map<std::string, std::string> room_of;  // unit id -> room id

  void SetUp() override {
    fs::create_directories(dir.path() / "hub");
    hub.start();
    if (HasFatalFailure()) return;
    ASSERT_EQ(hub.admin({"user", "add", "--login", "khan", "--role", "teacher", "--name", "Ms Khan"}).exit_code, 0);
    ASSERT_EQ(hub.admin({"user", "add", "--login", "sam", "--role", "technician", "--name", "Sam"}).exit_code, 0);
    teacher_token = token_of("khan");
    tech_token = token_of("sam");
    admin_token = token_of("admin");
    for (const std::string id : {"room-a", "room-b"}) {
      const auto room = hub.admin({"room", "add", "--name", id + " room", "--default-teacher", "khan"});
      ASSERT_EQ(room.exit_code, 0) << room.output;
      const auto unit = hub.admin({"unit", "add", "--name", id + " camera", "--room", id + " room", "--id", id});
      ASSERT_EQ(unit.exit_code, 0) << unit.output;
      fs::create_directories(dir.path() / id);
      units.push_back(std::make_unique<UnitProcess>(dir.path() / id));
      units.back()->start();
      if (HasFatalFailure()) return;
      enroll(id, *units.back());
      if (HasFatalFailure()) return;
    }
    const Json rooms = hub.get(teacher_token, "/api/v1/rooms");
    for (const auto& r : rooms["rooms"])
      for (const auto& u : r.value("unit_ids", Json::array())) room_of[u.get<std::string>()] = r["id"];
    ASSERT_EQ(room_of.size(), 2u) << rooms.dump();
  }

  std::string token_of(const std::string& login) {
    const auto t = hub.admin({"token", "create", "--login", login});
    EXPECT_EQ(t.exit_code, 0) << t.output;
    return t.output.substr(0, t.output.find('\n'));
  }

  // A technician gets a pairing code (over the API) and types it on the unit.
  void enroll(const std::string& id, UnitProcess& unit) {
    auto c = hub.client(tech_token);
    const auto r =
        c.request("POST", "/api/v1/units/" + id + "/pairing-code", "{}", {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string code = r.json()["code"];
    const auto e = unit.ctl({"enroll", "--hub", hub.url(), "--code", code});
    ASSERT_EQ(e.exit_code, 0) << e.output << unit.output();
    ASSERT_TRUE(test::wait_until([&] { return unit_json(id).value("online", false); }, 30s))
        << unit_json(id).dump() << unit.output() << hub.output();
  }

  Json unit_json(const std::string& id) { return hub.get(tech_token, "/api/v1/units/" + id); }

  // Schedules an observation in `unit`'s room; its id.
  std::string schedule(const std::string& unit, const std::string& title, std::chrono::seconds in,
                       std::chrono::seconds length) {
    auto c = hub.client(teacher_token);
    const Json body = {{"room_id", room_of[unit]}, {"title", title}, {"start", at(in)}, {"end", at(in + length)}};
    const auto r = c.request("POST", "/api/v1/observations", body.dump(), {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // The teacher's recording of `observation` once it is `ready` (joined); null JSON on timeout.
  Json wait_ready(const std::string& observation, std::chrono::seconds timeout) {
    Json found = Json::object();
    test::wait_until(
        [&] {
          const Json list = hub.get(teacher_token, "/api/v1/recordings");
          for (const auto& r : list.value("recordings", Json::array()))
            if (r.value("observation_id", Json()) == observation) found = r;
          return found.value("state", "") == "ready";
        },
        timeout);
    return found;
  }

  // Downloads the joined recording and returns its duration as ffprobe reads it.
  double play(const Json& recording) {
    auto c = hub.client(teacher_token);
    const auto r = c.request("GET", recording["media_url"].get<std::string>());
    EXPECT_EQ(r.status, 200);
    const fs::path f = dir.path() / (recording["id"].get<std::string>() + ".mp4");
    test::write_file(f, r.body);
    return media_seconds(f);
  }

  std::size_t backlog(UnitProcess& u) {
    return u.status().value("/upload/backlog_segments"_json_pointer, std::size_t{999});
  }
};

}  // namespace

TEST_F(FleetE2E, ScheduledObservationsAreRecordedByBothUnitsUploadedAndPlay) {
  const std::string a = schedule("room-a", "Year 8 maths", 4s, 8s);
  const std::string b = schedule("room-b", "Year 9 science", 4s, 8s);
  for (const auto& [obs, unit] : {std::pair{a, "room-a"}, std::pair{b, "room-b"}}) {
    const Json rec = wait_ready(obs, 60s);
    ASSERT_EQ(rec.value("state", ""), "ready") << rec.dump() << hub.output();
    EXPECT_EQ(rec.value("unit_id", ""), unit);
    EXPECT_EQ(rec.value("owner_name", ""), "Ms Khan");
    const double s = play(rec);
    EXPECT_GT(s, 6.0) << "the joined recording plays and covers the slot";
    EXPECT_LT(s, 11.0);
  }
  // Every segment confirmed by the hub, so nothing is waiting on the units.
  for (auto& u : units) EXPECT_TRUE(test::wait_until([&] { return backlog(*u) == 0; }, 20s)) << u->status().dump();
}

TEST_F(FleetE2E, HubAndBrokerDownDuringASlotAndKilledMidUploadLoseNothing) {
  const std::string a = schedule("room-a", "Recorded while the hub is away", 3s, 14s);
  // Stop the hub (and so its broker) just after the slot starts: the unit records from its own clock.
  ASSERT_TRUE(test::wait_until(
      [&] { return units[0]->status().value("/state/state"_json_pointer, std::string()) == "recording"; }, 20s));
  EXPECT_EQ(hub.stop(), 0);
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(units[0]->status().value("/state/state"_json_pointer, std::string()), "recording")
      << "a broker outage never disturbs a recording";
  hub.start();
  // Then crash it (kill -9) twice while segments are uploading.
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(2500ms);
    hub.kill9();
    std::this_thread::sleep_for(1s);
    hub.start();
    ASSERT_FALSE(HasFatalFailure());
  }
  const Json rec = wait_ready(a, 90s);
  ASSERT_EQ(rec.value("state", ""), "ready") << rec.dump() << units[0]->output();
  const double s = play(rec);
  EXPECT_GT(s, 12.0) << "the whole slot arrived";
  // The unit reported again once the broker was back.
  EXPECT_TRUE(test::wait_until([&] { return unit_json("room-a").value("online", false); }, 30s));
  EXPECT_TRUE(test::wait_until([&] { return backlog(*units[0]) == 0; }, 20s));
}

TEST_F(FleetE2E, AUnitsCredentialsCannotReachAnotherUnitAndARevokedUnitIsRefused) {
  const Json enrol_a = Json::parse(test::read_file(units[0]->state_dir() / "enrollment.json"));
  const Json enrol_b = Json::parse(test::read_file(units[1]->state_dir() / "enrollment.json"));
  const std::string ca = (units[0]->state_dir() / "hub-ca.pem").string();
  const std::string port = std::to_string(hub.broker_port());
  // mosquitto_sub/mosquitto_pub logged in with a unit's enrolled credentials, then `more` arguments.
  auto client = [&](const std::string& tool, const Json& who, std::vector<std::string> more) {
    std::vector<std::string> argv = {tool,
                                     "-h",
                                     "127.0.0.1",
                                     "-p",
                                     port,
                                     "--cafile",
                                     ca,
                                     "-i",
                                     who["mqtt_username"].get<std::string>() + "-probe",
                                     "-u",
                                     who["mqtt_username"],
                                     "-P",
                                     who["mqtt_password"]};
    argv.insert(argv.end(), more.begin(), more.end());
    return test::run(argv, 10s);
  };
  auto sub = [&](const Json& who, const std::string& topic) {
    return client("mosquitto_sub", who, {"-t", topic, "-C", "1", "-W", "3", "-v"});
  };
  // Unit B's retained schedule exists (B receives it) ...
  schedule("room-b", "Later", 3600s, 600s);
  const auto own = sub(enrol_b, "classcam/v1/units/room-b/schedule");
  EXPECT_EQ(own.exit_code, 0) << own.output;
  EXPECT_NE(own.output.find("\"revision\""), std::string::npos) << own.output;
  // ... but unit A's credentials never see it, nor B's state.
  for (const std::string t :
       {"classcam/v1/units/room-b/schedule", "classcam/v1/units/room-b/state", "classcam/v1/units/#"}) {
    const auto other = sub(enrol_a, t);
    EXPECT_EQ(other.output.find("room-b"), std::string::npos) << t << ": " << other.output;
  }
  // A cannot speak for B: a forged "offline" state on B's topic is dropped by the broker.
  const auto pub =
      client("mosquitto_pub", enrol_a,
             {"-q", "1", "-r", "-t", "classcam/v1/units/room-b/state", "-m",
              R"({"protocol":"1.0","unit_id":"room-b","state":"offline","since":"2026-11-23T09:00:00.000Z"})"});
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(unit_json("room-b").value("online", false)) << "forged message reached the hub: " << pub.output;

  // Revoke B: its MQTT credentials and its API token stop working at once.
  auto c = hub.client(tech_token);
  const auto r = c.request("POST", "/api/v1/units/room-b/revoke", "{}", {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto refused = sub(enrol_b, "classcam/v1/units/room-b/schedule");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_EQ(refused.output.find("\"revision\""), std::string::npos) << refused.output;
  auto as_b = hub.client(enrol_b["api_token"]);
  EXPECT_EQ(as_b.request("GET", "/api/v1/unit/schedule").status, 401);
  EXPECT_TRUE(test::wait_until([&] { return !unit_json("room-b").value("online", true); }, 20s))
      << unit_json("room-b").dump();
  // A is untouched.
  EXPECT_TRUE(unit_json("room-a").value("online", false));
}
