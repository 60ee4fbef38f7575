#include "hub/auth/turn.hpp"

#include "common/util/hash.hpp"

namespace classcam::hub::auth {

TurnCredentials turn_credentials(std::string_view secret, std::string_view opaque_id, util::TimePoint now,
                                 std::chrono::seconds ttl) {
  TurnCredentials c;
  c.expires = now + ttl;
  const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(c.expires.time_since_epoch()).count();
  c.username = std::to_string(expiry) + ":" + std::string(opaque_id);
  c.credential = util::base64_encode(util::hmac_sha1(secret, c.username));
  return c;
}

}  // namespace classcam::hub::auth
