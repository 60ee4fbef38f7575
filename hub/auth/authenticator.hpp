#pragma once
// Turns request credentials into a Principal, and runs logins. Credentials, in order:
//   - Authorization: Bearer ct_... (a unit's token) or Bearer cu_... (a person's API token);
//   - the __Host-classcam_session cookie (a browser login).
// Everything secret is stored as a hash; a missing or unknown credential yields an anonymous
// principal (the router then answers 401 where a route needs more).
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

class Authenticator {
 public:
  Authenticator(store::Store& store, std::chrono::hours session_lifetime, std::uint32_t failures_per_minute);

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
                                            const std::string& address);
  void logout(const access::Principal& p);

 private:
  store::Store& store_;
  std::chrono::hours session_lifetime_;
  RateLimiter limiter_;
};

}  // namespace classcam::hub::auth
