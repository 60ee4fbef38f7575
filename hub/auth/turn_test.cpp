// TURN credentials checked by a real coturn (tests/support/turn.hpp): what the hub hands a browser
// allocates a relay; the same pair after its expiry, or under another secret, does not.
#include "hub/auth/turn.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/turn.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

// A TURN allocation with a given user name and password (the long-term mechanism a browser uses).
void allocate(const test::TurnServer& turn, const hub::auth::TurnCredentials& c) {
  test::run({"turnutils_uclient", "-u", c.username, "-w", c.credential, "-p", std::to_string(turn.port()), "-n", "1",
             "-e", "127.0.0.1", "-r", std::to_string(test::free_port()), "127.0.0.1"},
            4s);
}

}  // namespace

TEST(TurnCredentials, NameCarriesTheExpiryAndTheOpaqueId) {
  const auto now = util::TimePoint(std::chrono::seconds(1'800'000'000));
  const auto c = hub::auth::turn_credentials("secret", "u-42", now, 600s);
  EXPECT_EQ(c.username, "1800000600:u-42");
  EXPECT_EQ(c.expires, now + 600s);
  // base64(HMAC-SHA1("secret", "1800000600:u-42")), as coturn computes it.
  EXPECT_EQ(c.credential.size(), 28u);
  EXPECT_NE(c.credential, hub::auth::turn_credentials("other", "u-42", now, 600s).credential);
}

TEST(TurnCredentials, ARealCoturnAcceptsThemUntilTheyExpire) {
  test::TurnServer turn({});
  allocate(turn, hub::auth::turn_credentials(turn.options().secret, "u-42", util::now_utc(), 300s));
  ASSERT_TRUE(test::wait_until([&] { return turn.allocations() >= 1; }, 5s)) << turn.log();
  const int good = turn.allocations();
  allocate(turn, hub::auth::turn_credentials(turn.options().secret, "u-42", util::now_utc() - 1h, 300s));
  allocate(turn, hub::auth::turn_credentials("not-the-secret", "u-43", util::now_utc(), 300s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(turn.allocations(), good) << "an expired pair and a foreign secret get no relay\n" << turn.log();
}
