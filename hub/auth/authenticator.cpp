#include "hub/auth/authenticator.hpp"

#include "common/log/log.hpp"
#include "hub/auth/cookies.hpp"
#include "hub/auth/credentials.hpp"
#include "hub/auth/password.hpp"
#include "hub/auth/tokens.hpp"

namespace classcam::hub::auth {

using access::Caller;
using access::Principal;

Caller caller_for(store::Role role) {
  switch (role) {
    case store::Role::admin: return Caller::admin;
    case store::Role::technician: return Caller::technician;
    case store::Role::teacher: return Caller::teacher;
    case store::Role::coach: return Caller::coach;
  }
  return Caller::anonymous;
}

Principal principal_for(const store::User& user) {
  Principal p;
  p.caller = caller_for(user.role);
  p.id = user.id;
  p.login = user.login;
  p.display_name = user.display_name;
  return p;
}

Authenticator::Authenticator(store::Store& store, std::chrono::hours session_lifetime,
                             std::uint32_t failures_per_minute)
    : store_(store), session_lifetime_(session_lifetime), limiter_(failures_per_minute, std::chrono::seconds(60)) {}

Principal Authenticator::authenticate(std::string_view cookie_header, std::string_view authorization,
                                      const std::string& address) {
  Principal p;
  p.address = address;
  if (const auto bearer = bearer_token(authorization)) {
    const std::string_view token = *bearer;
    const std::string hash = secret_hash(token);
    if (token.substr(0, kUnitTokenPrefix.size()) == kUnitTokenPrefix) {
      if (auto unit = store_.unit_for_token(hash)) {
        p.caller = Caller::unit;
        p.id = unit->id;
        p.login = unit->id;
        p.display_name = unit->name;
        p.room_id = unit->room_id;
        p.via = Principal::Via::unit_token;
        // Last seen to the minute: a write (and an fsync) on every upload request would cost more than it tells.
        const auto now = util::now_utc();
        if (!unit->last_seen_at || now - *unit->last_seen_at > std::chrono::minutes(1) ||
            unit->last_address != address) {
          store_.touch_unit(unit->id, now, address);
        }
      }
    } else if (token.substr(0, kUserTokenPrefix.size()) == kUserTokenPrefix) {
      if (auto user = store_.user_for_api_token(hash, util::now_utc())) {
        auto q = principal_for(*user);
        q.address = address;
        q.via = Principal::Via::api_token;
        return q;
      }
    }
    return p;
  }
  if (auto value = cookie_value(cookie_header, kSessionCookie)) {
    const std::string hash = secret_hash(*value);
    if (auto user = store_.user_for_session(hash, util::now_utc())) {
      auto q = principal_for(*user);
      q.address = address;
      q.via = Principal::Via::session;
      q.credential_hash = hash;
      return q;
    }
  }
  return p;
}

std::variant<Authenticator::LoginOk, Authenticator::LoginRefused> Authenticator::login(const std::string& login,
                                                                                       const std::string& password,
                                                                                       const std::string& address) {
  const auto now = RateLimiter::Clock::now();
  const std::string login_key = "login:" + login;
  const std::string addr_key = "addr:" + address;
  std::chrono::seconds wait1{0};
  std::chrono::seconds wait2{0};
  const bool ok1 = limiter_.allowed(login_key, now, &wait1);
  const bool ok2 = limiter_.allowed(addr_key, now, &wait2);
  if (!ok1 || !ok2) {
    log::get("auth")->warn("login for \"{}\" from {} refused: too many failed attempts", login, address);
    return LoginRefused{true, std::max(wait1, wait2)};
  }
  const auto user = store_.user_by_login(login);
  bool good = false;
  if (user) {
    const auto hash = store_.password_hash(user->id);
    good = hash && verify_password(*hash, password) && !user->disabled;
  } else {
    verify_dummy(password);
  }
  if (!good) {
    limiter_.record_failure(login_key, now);
    limiter_.record_failure(addr_key, now);
    log::get("auth")->info("failed login for \"{}\" from {}", login, address);
    return LoginRefused{};
  }
  limiter_.reset(login_key);
  const auto secret = new_secret(kSessionPrefix);
  store_.create_login_session(secret.hash, user->id, util::now_utc() + session_lifetime_, address);
  return LoginOk{*user, secret.value, std::chrono::duration_cast<std::chrono::seconds>(session_lifetime_)};
}

void Authenticator::logout(const Principal& p) {
  if (p.via == Principal::Via::session && !p.credential_hash.empty()) store_.delete_login_session(p.credential_hash);
}

}  // namespace classcam::hub::auth
