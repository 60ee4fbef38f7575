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

TEST(RateLimiter, BlocksAfterTheLimitUntilTheWindowSlides) {
  RateLimiter rl(3, 60s);
  const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(rl.allowed("k", t0 + std::chrono::seconds(i)));
    rl.record_failure("k", t0 + std::chrono::seconds(i));
  }
  std::chrono::seconds wait{0};
  EXPECT_FALSE(rl.allowed("k", t0 + 10s, &wait));
  EXPECT_EQ(wait, 50s);
  EXPECT_TRUE(rl.allowed("other", t0 + 10s)) << "keys are independent";
  EXPECT_TRUE(rl.allowed("k", t0 + 60s)) << "the first failure has left the window";
  rl.reset("k");
  EXPECT_TRUE(rl.allowed("k", t0 + 10s));
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

namespace {
class AuthenticatorTest : public ::testing::Test {
 protected:
  test::TempDir dir{"auth-test"};
  std::unique_ptr<store::Store> store = store::Store::open_sqlite(dir / "hub.db");
  Authenticator auth{*store, 12h, 3};
  store::User teacher = std::get<store::User>(
      store->create_user("khan", "Ms Khan", store::Role::teacher, hash_password("the right password")));
};
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

TEST_F(AuthenticatorTest, WrongPasswordsAreRateLimitedPerLogin) {
  for (int i = 0; i < 3; ++i) {
    const auto r = auth.login("khan", "wrong", "10.0.0." + std::to_string(i));
    ASSERT_TRUE(std::holds_alternative<Authenticator::LoginRefused>(r));
    EXPECT_FALSE(std::get<Authenticator::LoginRefused>(r).rate_limited);
  }
  const auto r = auth.login("khan", "the right password", "10.0.0.9");
  ASSERT_TRUE(std::holds_alternative<Authenticator::LoginRefused>(r));
  EXPECT_TRUE(std::get<Authenticator::LoginRefused>(r).rate_limited) << "even the right password waits";
  EXPECT_GT(std::get<Authenticator::LoginRefused>(r).retry_after.count(), 0);
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
