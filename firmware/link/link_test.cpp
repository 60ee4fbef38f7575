// MqttLink against a real Mosquitto (TLS, passwords, ACL) on a free loopback port, with a TcpProxy in
// between to cut the network.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <map>
#include <mutex>

#include "common/protocol/topics.hpp"
#include "firmware/link/mqtt_link.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tcp_proxy.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

const char* kAcl =
    "user classcam-hub\n"
    "topic readwrite classcam/#\n"
    "pattern read classcam/v1/units/%c/commands\n"
    "pattern read classcam/v1/units/%c/schedule\n"
    "pattern write classcam/v1/units/%c/state\n"
    "pattern write classcam/v1/units/%c/telemetry\n"
    "pattern write classcam/v1/units/%c/events\n"
    "pattern write classcam/v1/units/%c/results\n";

test::Broker::Options broker_options() { return {{{"classcam-hub", "hub-secret"}, {"room-12", "unit-secret"}}, kAcl}; }

using HubClient = test::MqttClient;

struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard = boost::asio::make_work_guard(io);
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_one_for(20ms);
    }
    return true;
  }
};

link::MqttSettings settings(const test::Broker& b, std::uint16_t port, const std::string& password = "unit-secret") {
  link::MqttSettings s;
  s.unit_id = "room-12";
  s.host = "127.0.0.1";
  s.port = port;
  s.username = "room-12";
  s.password = password;
  s.ca_file = b.ca_file();
  s.keepalive = 5s;
  s.reconnect_min = 100ms;
  s.reconnect_max = 1s;
  return s;
}

protocol::UnitState state(protocol::RecorderState st) {
  protocol::UnitState s;
  s.unit_id = "room-12";
  s.state = st;
  s.since = util::now_utc();
  return s;
}

protocol::Event error_event(const std::string& message) {
  protocol::Event e;
  e.unit_id = "room-12";
  e.at = util::now_utc();
  e.type = protocol::EventType::error;
  e.message = message;
  return e;
}

std::string state_topic() { return protocol::topic("room-12", protocol::Channel::state); }
std::string events_topic() { return protocol::topic("room-12", protocol::Channel::events); }

std::optional<protocol::RecorderState> last_state(HubClient& hub) {
  const auto all = hub.on(state_topic());
  if (all.empty()) return std::nullopt;
  auto s = protocol::decode<protocol::UnitState>(all.back());
  return s ? std::optional(s->state) : std::nullopt;
}

}  // namespace

TEST(MqttLink, PublishesRetainedStateReceivesCommandsAndSchedulesAndSaysOfflineOnStop) {
  test::Broker broker(broker_options());
  HubClient hub(broker, "classcam-hub", "hub-secret");
  Loop loop;
  std::vector<protocol::Command> commands;
  std::vector<protocol::Schedule> schedules;
  std::vector<std::string> bad;
  link::MqttLink link(loop.io, settings(broker, broker.port()),
                      {[&](const protocol::Command& c) { commands.push_back(c); },
                       [&](const std::string&, const Error& e) { bad.push_back(e.message); },
                       [&](const protocol::Schedule& s) { schedules.push_back(s); }, nullptr, nullptr});
  link.publish(state(protocol::RecorderState::idle));
  link.start();
  ASSERT_TRUE(loop.run_until([&] { return link.status().connected; }, 10s)) << link.status().last_error;
  ASSERT_TRUE(loop.run_until([&] { return last_state(hub) == protocol::RecorderState::idle; }, 10s));

  protocol::Command c;
  c.id = "123e4567-e89b-42d3-a456-426614174000";
  c.action = protocol::CommandAction::bookmark;
  c.issued_at = util::now_utc();
  c.args.label = "group work";
  hub.publish(protocol::topic("room-12", protocol::Channel::commands), protocol::encode(c));
  hub.publish(protocol::topic("room-12", protocol::Channel::commands), R"({"protocol": "1.0", "id": "x"})");
  protocol::Schedule s;
  s.unit_id = "room-12";
  s.revision = 7;
  hub.publish(protocol::topic("room-12", protocol::Channel::schedule), protocol::encode(s), true);
  ASSERT_TRUE(loop.run_until([&] { return commands.size() == 1 && schedules.size() == 1 && bad.size() == 1; }, 10s));
  EXPECT_EQ(commands[0], c);
  EXPECT_EQ(schedules[0].revision, 7);

  link.publish(error_event("audio device gone"));
  ASSERT_TRUE(loop.run_until([&] { return hub.on(events_topic()).size() == 1; }, 10s));
  link.stop();
  ASSERT_TRUE(loop.run_until([&] { return last_state(hub) == protocol::RecorderState::offline; }, 10s));
}

TEST(MqttLink, ACutConnectionFiresTheWillThenReconnectsRestatesAndDeliversWhatWaited) {
  test::Broker broker(broker_options());
  test::TcpProxy proxy(broker.port());
  HubClient hub(broker, "classcam-hub", "hub-secret");
  Loop loop;
  int ups = 0;
  int downs = 0;
  link::MqttLink link(loop.io, settings(broker, proxy.port()),
                      {nullptr, nullptr, nullptr, [&](bool up) { up ? ++ups : ++downs; }, nullptr});
  link.publish(state(protocol::RecorderState::recording));
  link.start();
  ASSERT_TRUE(loop.run_until([&] { return last_state(hub) == protocol::RecorderState::recording; }, 10s));

  // The network goes away: the broker notices (keepalive or the reset) and publishes the will.
  proxy.set_blocked(true);
  proxy.cut();
  ASSERT_TRUE(loop.run_until([&] { return last_state(hub) == protocol::RecorderState::offline; }, 20s));
  ASSERT_TRUE(loop.run_until([&] { return downs == 1; }, 20s));
  // Events while away wait in the outbox.
  for (int i = 0; i < 5; ++i) link.publish(error_event("while away " + std::to_string(i)));
  loop.run_until([] { return false; }, 500ms);
  EXPECT_EQ(link.status().outbox, 5u);
  EXPECT_FALSE(link.status().last_error.empty());

  proxy.set_blocked(false);
  ASSERT_TRUE(loop.run_until([&] { return ups == 2; }, 20s)) << link.status().last_error;
  ASSERT_TRUE(loop.run_until([&] { return last_state(hub) == protocol::RecorderState::recording; }, 10s));
  ASSERT_TRUE(loop.run_until([&] { return hub.on(events_topic()).size() == 5; }, 10s));
  EXPECT_EQ(protocol::decode<protocol::Event>(hub.on(events_topic())[0])->message, "while away 0");
  EXPECT_EQ(link.status().connects, 2u);
}

TEST(MqttLink, KeepsReconnectingThroughABrokerRestart) {
  test::Broker broker(broker_options());
  Loop loop;
  link::MqttLink link(loop.io, settings(broker, broker.port()), {});
  link.start();
  ASSERT_TRUE(loop.run_until([&] { return link.status().connected; }, 10s));
  broker.stop();
  ASSERT_TRUE(loop.run_until([&] { return !link.status().connected; }, 10s));
  loop.run_until([] { return false; }, 2s);  // several failed attempts
  broker.start();
  ASSERT_TRUE(loop.run_until([&] { return link.status().connected; }, 10s)) << link.status().last_error;
}

TEST(MqttLink, AWrongPasswordIsReportedAndRetried) {
  test::Broker broker(broker_options());
  Loop loop;
  link::MqttLink link(loop.io, settings(broker, broker.port(), "wrong"), {});
  link.start();
  ASSERT_TRUE(loop.run_until([&] { return !link.status().last_error.empty(); }, 10s));
  loop.run_until([] { return false; }, 500ms);
  EXPECT_FALSE(link.status().connected);
  EXPECT_NE(link.status().last_error.find("refused"), std::string::npos) << link.status().last_error;
}

TEST(MqttLink, TheAclKeepsAUnitToItsOwnTopics) {
  // What the link relies on: a unit can neither read nor write another unit's topics.
  test::Broker broker({{{"classcam-hub", "hub-secret"}, {"room-12", "unit-secret"}, {"room-13", "other"}}, kAcl});
  HubClient hub(broker, "classcam-hub", "hub-secret");
  const auto r = test::run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "--cafile",
                            broker.ca_file().string(), "-i", "room-13", "-u", "room-13", "-P", "other", "-q", "1", "-t",
                            state_topic(), "-m", protocol::encode(state(protocol::RecorderState::error))});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(hub.on(state_topic()).empty()) << "room-13 wrote to room-12's state";
}
