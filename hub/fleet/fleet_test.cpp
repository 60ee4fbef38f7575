// What the fleet does with messages, fed directly (no broker): a message is believed only when its
// topic, its body and the database agree on the unit.
#include "hub/fleet/fleet.hpp"

#include <gtest/gtest.h>

#include "common/protocol/topics.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using protocol::Channel;

namespace {

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto tls = tls::ensure_local_material(dir / "tls", {"127.0.0.1"});
    fleet::FleetOptions o;
    o.host = "127.0.0.1";
    o.port = 1;  // never started: the handlers are called directly
    o.ca_file = tls.ca_cert;
    o.hub_password = "unused";
    fleet = std::make_unique<fleet::Fleet>(io, *store, o);
    for (const auto* id : {"unit-a", "unit-b"}) {
      ASSERT_FALSE(store::refusal(store->create_unit(id, id, std::nullopt, std::string("hash-") + id)));
    }
  }

  std::string state(const std::string& unit_id, protocol::RecorderState s) {
    protocol::UnitState m;
    m.unit_id = unit_id;
    m.state = s;
    m.since = util::now_utc();
    if (s == protocol::RecorderState::error) m.reason = "spool full";
    return protocol::encode(m);
  }

  test::TempDir dir{"fleet-test"};
  std::unique_ptr<store::Store> store = store::Store::open_sqlite(dir / "hub.db");
  boost::asio::io_context io;
  std::unique_ptr<fleet::Fleet> fleet;
};

TEST_F(FleetTest, StateFromTheUnitsOwnTopicCountsAndTheWillMarksItOffline) {
  fleet->handle_message(protocol::topic("unit-a", Channel::state), state("unit-a", protocol::RecorderState::error));
  auto a = *store->unit("unit-a");
  EXPECT_TRUE(a.online);
  EXPECT_EQ(a.state, "error");
  EXPECT_EQ(a.last_error, "spool full");
  ASSERT_TRUE(a.last_seen_at);
  const auto seen = *a.last_seen_at;

  fleet->handle_message(protocol::topic("unit-a", Channel::state), state("unit-a", protocol::RecorderState::offline));
  a = *store->unit("unit-a");
  EXPECT_FALSE(a.online);
  EXPECT_EQ(a.state, "offline");
  EXPECT_EQ(a.last_seen_at, seen) << "the will is the broker speaking, not the unit";
}

TEST_F(FleetTest, ABodyNamingAnotherUnitUnknownUnitsAndGarbageChangeNothing) {
  fleet->handle_message(protocol::topic("unit-a", Channel::state), state("unit-b", protocol::RecorderState::recording));
  fleet->handle_message(protocol::topic("unit-z", Channel::state), state("unit-z", protocol::RecorderState::idle));
  fleet->handle_message(protocol::topic("unit-a", Channel::telemetry), "{not json");
  fleet->handle_message(protocol::topic("unit-a", Channel::state), "");  // a retained message cleared
  fleet->handle_message("classcam/v1/units/unit-a/other", state("unit-a", protocol::RecorderState::idle));
  for (const auto* id : {"unit-a", "unit-b"}) {
    const auto u = *store->unit(id);
    EXPECT_FALSE(u.online) << id;
    EXPECT_FALSE(u.state) << id;
    EXPECT_FALSE(u.telemetry_json) << id;
    EXPECT_FALSE(u.last_seen_at) << id;
  }
  EXPECT_FALSE(store->unit("unit-z"));
}

TEST_F(FleetTest, AResultSettlesOnlyItsOwnUnitsCommandAndOnlyOnce) {
  store::UnitCommand c;
  c.id = "123e4567-e89b-42d3-a456-426614174000";
  c.unit_id = "unit-a";
  c.action = "start";
  c.args_json = "{}";
  c.issued_at = util::now_utc();
  store->create_command(c);

  protocol::CommandResult r;
  r.command_id = c.id;
  r.unit_id = "unit-b";
  r.action = protocol::CommandAction::start;
  r.status = protocol::CommandStatus::failed;
  r.detail = "forged";
  r.at = util::now_utc();
  fleet->handle_message(protocol::topic("unit-b", Channel::results), protocol::encode(r));
  EXPECT_EQ(store->command("unit-a", c.id)->state, store::CommandState::sent);

  r.unit_id = "unit-a";
  r.status = protocol::CommandStatus::rejected;
  r.detail = "already recording";
  fleet->handle_message(protocol::topic("unit-a", Channel::results), protocol::encode(r));
  r.status = protocol::CommandStatus::ok;  // a later copy cannot rewrite the outcome
  r.detail = "";
  fleet->handle_message(protocol::topic("unit-a", Channel::results), protocol::encode(r));
  const auto settled = *store->command("unit-a", c.id);
  EXPECT_EQ(settled.state, store::CommandState::rejected);
  EXPECT_EQ(settled.detail, "already recording");
}

}  // namespace
