#pragma once
// Turns request credentials into a Principal, and runs logins. Credentials, in order:
//   - Authorization: Bearer ct_... (a unit's token) or Bearer cu_... (a person's API token);
//   - the __Host-classcam_session cookie (a browser login).
// Everything secret is stored as a hash; a missing or unknown credential yields an anonymous
// principal (the router then answers 401 where a route needs more).
//
// Sign-in attempts are slowed per login and per client address (rate_limiter.hpp): a login past its
// free failures waits, doubling, before its password is checked again; an address (a whole school
// behind one NAT shares one) has a much larger allowance, so one person's typos or one guesser cannot
// shut everyone else out. While a key waits the attempt is refused (429) without checking the password
// and without counting.
//
// Threading: safe from any thread. login() runs Argon2id (~0.1 s of CPU): call it from the worker pool.
#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "hub/access/principal.hpp"
#include "hub/auth/rate_limiter.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::auth {

access::Caller caller_for(store::Role role);
access::Principal principal_for(const store::User& user);

struct LoginLimits {
  BackoffPolicy per_login;
  BackoffPolicy per_address{100, std::chrono::seconds(36), std::chrono::seconds(1), std::chrono::seconds(900)};
};

class Authenticator {
 public:
  Authenticator(store::Store& store, std::chrono::hours session_lifetime, const LoginLimits& limits);

  access::Principal authenticate(std::string_view cookie_header, std::string_view authorization,
                                 const std::string& address);

  struct LoginOk {
    store::User user;
    std::string session_value;  // goes into the cookie
    std::chrono::seconds max_age;
  };
  struct LoginRefused {
    bool rate_limited = false;
    std::chrono::seconds retry_after{0};
  };
  std::variant<LoginOk, LoginRefused> login(const std::string& login, const std::string& password,
                                            const std::string& address, util::TimePoint now = util::now_utc());
  void logout(const access::Principal& p);

 private:
  store::Store& store_;
  std::chrono::hours session_lifetime_;
  RateLimiter per_login_;
  RateLimiter per_address_;
};

}  // namespace classcam::hub::auth
