#pragma once
// Short-lived TURN credentials for browsers, in the shared-secret "REST API" scheme coturn implements
// (use-auth-secret / static-auth-secret): the user name is "<expiry as Unix seconds>:<opaque id>" and
// the password is base64(HMAC-SHA1(secret, user name)). The TURN server checks both without asking the
// hub, and refuses the pair once the expiry has passed, so a leaked credential is worth minutes, not a
// school year. The id is the principal's opaque id, never a name: the TURN server's log holds no person.
#include <chrono>
#include <string>
#include <string_view>

#include "common/util/time.hpp"

namespace classcam::hub::auth {

struct TurnCredentials {
  std::string username;
  std::string credential;
  util::TimePoint expires;
};

TurnCredentials turn_credentials(std::string_view secret, std::string_view opaque_id, util::TimePoint now,
                                 std::chrono::seconds ttl);

}  // namespace classcam::hub::auth
