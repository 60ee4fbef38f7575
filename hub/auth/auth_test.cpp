#include <gtest/gtest.h>

#include <regex>

#include "hub/auth/authenticator.hpp"
#include "hub/auth/cookies.hpp"
#include "hub/auth/credentials.hpp"
#include "hub/auth/password.hpp"
#include "hub/auth/tokens.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace classcam::hub::auth;
using namespace std::chrono_literals;

TEST(Password, HashesWithArgon2idAndVerifies) {
  const auto h = hash_password("correct horse battery");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "correct horse battery"));
  EXPECT_FALSE(verify_password(h, "correct horse batterY"));
  EXPECT_FALSE(verify_password("not a hash", "x"));
  EXPECT_NE(hash_password("correct horse battery"), h) << "salted";
}

TEST(Password, GeneratedPasswordsAreLongAndUnambiguous) {
  const auto p = generate_password();
  EXPECT_TRUE(std::regex_match(p, std::regex("[a-hjkmnp-z2-9]{5}(-[a-hjkmnp-z2-9]{5}){3}"))) << p;
  EXPECT_NE(generate_password(), p);
  EXPECT_FALSE(password_problem(p));
  EXPECT_TRUE(password_problem("short"));
}

TEST(Tokens, AreRandomPrefixedAndStoredHashed) {
  const auto a = new_secret(kUnitTokenPrefix);
  EXPECT_EQ(a.value.rfind("ct_", 0), 0u);
  EXPECT_EQ(a.value.size(), 3u + 64u);
  EXPECT_EQ(a.hash, secret_hash(a.value));
  EXPECT_EQ(a.hash.find(a.value), std::string::npos);
  EXPECT_NE(new_secret(kUnitTokenPrefix).value, a.value);
}

namespace {
const util::TimePoint t0 = util::from_unix_ms(1'900'000'000'000);
}  // namespace

TEST(RateLimiter, FreeFailuresThenDoublingWaitsUpToTheLongestAndTheyAreForgivenSlowly) {
  test::TempDir dir{"limiter-test"};
  auto store = store::Store::open_sqlite(dir / "hub.db");
  RateLimiter rl(*store, "login", {3, 600s, 1s, 8s});
  auto t = t0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rl.wait("k", t), 0s);
    EXPECT_EQ(rl.record_failure("k", t), 0s) << "free failure " << i;
  }
  // Each further failure doubles the wait before the next attempt, up to the longest.
  for (const auto expected : {1s, 2s, 4s, 8s, 8s}) {
    EXPECT_EQ(rl.record_failure("k", t), expected);
    EXPECT_EQ(rl.wait("k", t), expected);
    EXPECT_EQ(rl.wait("k", t + expected - 1s), 1s) << "rounded up";
    t += expected;
    EXPECT_EQ(rl.wait("k", t), 0s) << "after the wait the next attempt is checked";
  }
  EXPECT_EQ(rl.wait("other", t), 0s) << "keys are independent";
  EXPECT_EQ(RateLimiter(*store, "address", {3, 600s, 1s, 8s}).wait("k", t0), 0s) << "and so are kinds";
  // Quiet time forgives one failure per 600 s: 8 failures, 3 forgiven, leaves 5 + this one = 6 > 3.
  EXPECT_EQ(rl.record_failure("k", t + 1800s), 4s);
  EXPECT_EQ(rl.record_failure("k", t + 1800s + 3600s * 24), 0s) << "a day later it starts over";
  rl.reset("k");
  EXPECT_FALSE(store->throttle("login:k"));
}

TEST(RateLimiter, CountsSurviveARestart) {
  test::TempDir dir{"limiter-test"};
  {
    auto store = store::Store::open_sqlite(dir / "hub.db");
    RateLimiter rl(*store, "login", {1, 600s, 30s, 900s});
    rl.record_failure("khan", t0);
    EXPECT_EQ(rl.record_failure("khan", t0), 30s);
  }
  auto store = store::Store::open_sqlite(dir / "hub.db");
  RateLimiter rl(*store, "login", {1, 600s, 30s, 900s});
  EXPECT_EQ(rl.wait("khan", t0 + 10s), 20s);
  EXPECT_EQ(rl.record_failure("khan", t0 + 30s), 60s) << "the count went on from where it was";
}

TEST(Cookies, SessionCookieIsHttpOnlySecureStrictAndHostScoped) {
  const auto c = session_cookie("cs_abc", 3600s);
  EXPECT_EQ(c.rfind("__Host-classcam_session=cs_abc;", 0), 0u) << c;
  for (const char* flag : {"; HttpOnly", "; Secure", "; SameSite=Strict", "; Path=/", "; Max-Age=3600"}) {
    EXPECT_NE(c.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(c.find("Domain"), std::string::npos);
  EXPECT_NE(expired_session_cookie().find("Max-Age=0"), std::string::npos);
}

TEST(Cookies, FindsTheValueAmongOthers) {
  EXPECT_EQ(cookie_value("a=1; __Host-classcam_session=cs_x;b=2", kSessionCookie), "cs_x");
  EXPECT_EQ(cookie_value("a=1", kSessionCookie), std::nullopt);
  EXPECT_EQ(cookie_value("x__Host-classcam_session=no", kSessionCookie), std::nullopt);
  EXPECT_EQ(cookie_value("a=\"quoted\"", "a"), "quoted");
}

TEST(Credentials, ReadsTheBearerToken) {
  EXPECT_EQ(bearer_token("Bearer ct_abc"), "ct_abc");
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt) << "an empty token";
  EXPECT_EQ(bearer_token("Bearerct_abc"), std::nullopt);
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearer_token(""), std::nullopt);
}

TEST(Credentials, TheBearerSchemeIsCaseInsensitive) {
  // RFC 9110 11.1: clients such as some MDM tools send "bearer" or "BEARER".
  EXPECT_EQ(bearer_token("bearer ct_abc"), "ct_abc");
  EXPECT_EQ(bearer_token("BEARER ct_abc"), "ct_abc");
  EXPECT_EQ(bearer_token("bEaReR  ct_abc"), "ct_abc") << "more than one space";
  EXPECT_EQ(bearer_token("bearer   "), std::nullopt) << "only spaces";
  EXPECT_EQ(bearer_token("bearerx ct_abc"), std::nullopt);
}

namespace {
LoginLimits test_limits() {
  LoginLimits l;
  l.per_login = {3, 900s, 1s, 900s};
  l.per_address = {100, 36s, 1s, 900s};
  return l;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  test::TempDir dir{"auth-test"};
  std::unique_ptr<store::Store> store = store::Store::open_sqlite(dir / "hub.db");
  Authenticator auth{*store, 12h, test_limits()};
  store::User teacher = std::get<store::User>(
      store->create_user("khan", "Ms Khan", store::Role::teacher, hash_password("the right password")));
};

bool signed_in(const std::variant<Authenticator::LoginOk, Authenticator::LoginRefused>& r) {
  return std::holds_alternative<Authenticator::LoginOk>(r);
}
const Authenticator::LoginRefused& refused(const std::variant<Authenticator::LoginOk, Authenticator::LoginRefused>& r) {
  return std::get<Authenticator::LoginRefused>(r);
}
}  // namespace

TEST_F(AuthenticatorTest, LoginGivesASessionThatAuthenticatesAndLogoutEnds) {
  const auto r = auth.login("khan", "the right password", "127.0.0.1");
  ASSERT_TRUE(std::holds_alternative<Authenticator::LoginOk>(r));
  const auto& ok = std::get<Authenticator::LoginOk>(r);
  EXPECT_EQ(ok.max_age, 12h);
  const std::string cookie = std::string(kSessionCookie) + "=" + ok.session_value;
  const auto p = auth.authenticate(cookie, "", "127.0.0.1");
  EXPECT_EQ(p.caller, access::Caller::teacher);
  EXPECT_EQ(p.id, teacher.id);
  auth.logout(p);
  EXPECT_EQ(auth.authenticate(cookie, "", "127.0.0.1").caller, access::Caller::anonymous);
}

TEST_F(AuthenticatorTest, WrongPasswordsSlowALoginDownAndTheRightOneWorksOnceTheWaitIsOver) {
  auto t = t0;
  for (int i = 0; i < 3; ++i) {
    const auto r = auth.login("khan", "wrong", "10.0.0." + std::to_string(i), t);
    ASSERT_FALSE(signed_in(r));
    EXPECT_FALSE(refused(r).rate_limited);
    EXPECT_EQ(refused(r).retry_after, 0s);
  }
  const auto fourth = auth.login("khan", "wrong", "10.0.0.4", t);
  EXPECT_FALSE(refused(fourth).rate_limited);
  EXPECT_EQ(refused(fourth).retry_after, 1s) << "the next attempt waits";
  const auto early = auth.login("khan", "the right password", "10.0.0.9", t);
  ASSERT_FALSE(signed_in(early));
  EXPECT_TRUE(refused(early).rate_limited) << "during the wait, unchecked";
  EXPECT_EQ(refused(early).retry_after, 1s);
  // Waiting attempts do not count: the wait after the next failure is 2 s, not more.
  t += 1s;
  EXPECT_EQ(refused(auth.login("khan", "wrong", "10.0.0.4", t)).retry_after, 2s);
  t += 2s;
  EXPECT_TRUE(signed_in(auth.login("khan", "the right password", "10.0.0.9", t))) << "the right one after the wait";
  EXPECT_EQ(refused(auth.login("khan", "wrong", "10.0.0.4", t)).retry_after, 0s) << "a success starts it over";
}

TEST_F(AuthenticatorTest, OneAddressForAWholeSchoolIsNotShutOutByItsTypos) {
  // 12 people behind one NAT address each get their login or password wrong once...
  for (int i = 0; i < 12; ++i) {
    EXPECT_FALSE(refused(auth.login("person-" + std::to_string(i), "typo", "192.0.2.1", t0)).rate_limited);
  }
  // ... and the next person still signs in at once.
  EXPECT_TRUE(signed_in(auth.login("khan", "the right password", "192.0.2.1", t0)));
}

TEST_F(AuthenticatorTest, TheWaitSurvivesARestart) {
  for (int i = 0; i < 4; ++i) (void)auth.login("khan", "wrong", "10.0.0.1", t0);
  store.reset();
  store = store::Store::open_sqlite(dir / "hub.db");
  Authenticator again(*store, 12h, test_limits());
  const auto r = again.login("khan", "the right password", "10.0.0.1", t0);
  ASSERT_FALSE(signed_in(r));
  EXPECT_TRUE(refused(r).rate_limited);
  EXPECT_TRUE(signed_in(again.login("khan", "the right password", "10.0.0.1", t0 + 1s)));
}

TEST_F(AuthenticatorTest, UnknownLoginsAreRefusedLikeWrongPasswords) {
  const auto r = auth.login("nobody", "whatever", "127.0.0.1");
  ASSERT_TRUE(std::holds_alternative<Authenticator::LoginRefused>(r));
  EXPECT_FALSE(std::get<Authenticator::LoginRefused>(r).rate_limited);
}

TEST_F(AuthenticatorTest, BearerTokensForUnitsAndScripts) {
  const auto room = std::get<store::Room>(store->create_room("Room 12", std::nullopt));
  const auto unit_secret = new_secret(kUnitTokenPrefix);
  ASSERT_EQ(store::refusal(store->create_unit("room-12", "Camera", room.id, unit_secret.hash)), nullptr);
  const auto u = auth.authenticate("", "Bearer " + unit_secret.value, "127.0.0.1");
  EXPECT_EQ(u.caller, access::Caller::unit);
  EXPECT_EQ(u.id, "room-12");
  EXPECT_EQ(u.room_id, room.id);

  const auto api = new_secret(kUserTokenPrefix);
  store->create_api_token(teacher.id, "script", api.hash);
  EXPECT_EQ(auth.authenticate("", "Bearer " + api.value, "127.0.0.1").caller, access::Caller::teacher);

  (void)store->update_unit("room-12", {.revoked = true});
  EXPECT_EQ(auth.authenticate("", "Bearer " + unit_secret.value, "127.0.0.1").caller, access::Caller::anonymous);
  EXPECT_EQ(auth.authenticate("", "Bearer ct_forged", "127.0.0.1").caller, access::Caller::anonymous);
  EXPECT_EQ(auth.authenticate("", "Basic abc", "127.0.0.1").caller, access::Caller::anonymous);
}
