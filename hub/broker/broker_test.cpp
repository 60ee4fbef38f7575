// The broker with a real Mosquitto on a free loopback port: logins from the database, reload on
// SIGHUP, restart after kill -9. ACLs with a real client are in tests/e2e/link_hub_e2e_test.cpp.
#include "hub/broker/broker.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include "common/protocol/topics.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

TEST(BrokerFiles, PasswordHashesAreMosquittoPbkdf2) {
  const auto h = hub::broker::hash_password("secret-1");
  EXPECT_EQ(h.rfind("$7$101$", 0), 0U) << h;
  EXPECT_TRUE(hub::broker::check_password("secret-1", h));
  EXPECT_FALSE(hub::broker::check_password("secret-2", h));
  EXPECT_NE(h, hub::broker::hash_password("secret-1")) << "each hash has its own salt";
}

TEST(BrokerFiles, AclConfinesEachUnitToItsOwnTopics) {
  const auto acl = hub::broker::acl_text({{"room-1", "$7$x"}, {"room-2", "$7$y"}});
  EXPECT_NE(acl.find("user classcam-hub\ntopic readwrite #\n"), std::string::npos);
  EXPECT_NE(acl.find("user room-1\ntopic write classcam/v1/units/room-1/state\n"), std::string::npos);
  EXPECT_NE(acl.find("topic read classcam/v1/units/room-2/schedule\n"), std::string::npos);
  // A unit subscribes to its own LiveStatus (docs/live.md).
  EXPECT_NE(acl.find("topic read classcam/v1/units/room-2/live\n"), std::string::npos);
  EXPECT_EQ(acl.find('+'), std::string::npos);
  EXPECT_EQ(acl.find("room-1/#"), std::string::npos);
}

TEST(BrokerFiles, ClientIdsAreTheLoginsAndNoUnitLogsInAsTheHub) {
  const auto conf = hub::broker::config_text({"/b"}, {"127.0.0.1", 8883, "/ca.pem", ""});
  EXPECT_NE(conf.find("\nuse_username_as_clientid true\n"), std::string::npos) << conf;
  EXPECT_GT(conf.find("use_username_as_clientid"), conf.find("\nlistener ")) << "a listener option";
  // A unit row named like the hub's login (the store refuses it; this is the second line of defence).
  const std::vector<hub::store::BrokerCredential> units = {{"classcam-hub", "$7$unit"}, {"room-1", "$7$x"}};
  const auto passwd = hub::broker::passwd_text("$7$hub", units);
  EXPECT_EQ(passwd, "classcam-hub:$7$hub\nroom-1:$7$x\n");
  const auto acl = hub::broker::acl_text(units);
  EXPECT_EQ(acl.find("user classcam-hub"), acl.rfind("user classcam-hub"));
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.hub.state_dir = dir / "state";
    cfg.broker.listen = "127.0.0.1";
    cfg.broker.port = test::free_port();
    std::filesystem::create_directories(cfg.hub.state_dir);
    hub::tls::ensure_local_material(cfg.hub.state_dir / "tls", {"localhost", "127.0.0.1"});
    store = hub::store::Store::open_sqlite(cfg.hub.state_dir / "hub.db");
  }

  // mosquitto_pub with a login; its exit code says whether the broker took the login.
  int publish(const std::string& user, const std::string& password, const std::string& topic) {
    return test::run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(cfg.broker.port), "--cafile",
                      (cfg.hub.state_dir / "tls/ca.pem").string(), "-u", user, "-P", password, "-t", topic, "-m", "x",
                      "-q", "1"},
                     10s)
        .exit_code;
  }

  test::TempDir dir{"broker-test"};
  config::HubConfig cfg = config::default_hub_config();
  std::unique_ptr<hub::store::Store> store;
};

TEST_F(BrokerTest, HubLogsInUnknownLoginsAreRefusedEnrolledUnitsGetInAndRevokedOnesNot) {
  hub::broker::Broker b(cfg, *store, cfg.hub.state_dir / "tls");
  b.start();
  ASSERT_TRUE(b.wait_ready(10s)) << test::read_file(b.layout().log());
  const auto hub_pw = hub::broker::hub_password(cfg.hub.state_dir);
  EXPECT_EQ(publish("classcam-hub", hub_pw, "classcam/v1/units/u1/commands"), 0);
  EXPECT_NE(publish("classcam-hub", "wrong", "classcam/v1/units/u1/commands"), 0);
  EXPECT_NE(publish("u1", "anything", protocol::topic("u1", protocol::Channel::state)), 0);

  ASSERT_FALSE(hub::store::refusal(store->create_unit("u1", "Unit 1", std::nullopt, "h1")));
  const auto unit_pw = hub::broker::new_unit_password();
  ASSERT_FALSE(hub::store::refusal(
      store->set_pairing_code("u1", "code-hash", std::nullopt, util::now_utc() + std::chrono::minutes(5))));
  ASSERT_FALSE(hub::store::refusal(
      store->enroll_with_code("code-hash", util::now_utc(), "token-hash", hub::broker::hash_password(unit_pw))));
  b.apply_credentials();
  EXPECT_TRUE(test::wait_until(
      [&] { return publish("u1", unit_pw, protocol::topic("u1", protocol::Channel::state)) == 0; }, 5s));

  ASSERT_FALSE(hub::store::refusal(store->revoke_unit("u1")));
  b.apply_credentials();
  EXPECT_TRUE(test::wait_until(
      [&] { return publish("u1", unit_pw, protocol::topic("u1", protocol::Channel::state)) != 0; }, 5s));
  const auto pid = b.pid();
  b.stop();
  EXPECT_NE(::kill(pid, 0), 0) << "stopped by PID";
}

TEST_F(BrokerTest, KilledBrokerIsRestarted) {
  hub::broker::Broker b(cfg, *store, cfg.hub.state_dir / "tls");
  b.start();
  ASSERT_TRUE(b.wait_ready(10s));
  const auto first = b.pid();
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);
  EXPECT_TRUE(test::wait_until([&] { return b.pid() > 0 && b.pid() != first; }, 10s));
  EXPECT_TRUE(b.wait_ready(10s));
  EXPECT_EQ(b.starts(), 2);
  EXPECT_EQ(publish("classcam-hub", hub::broker::hub_password(cfg.hub.state_dir), "t"), 0);
}

}  // namespace
