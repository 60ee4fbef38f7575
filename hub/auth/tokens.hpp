#pragma once
// Bearer tokens, session ids and feed secrets: 32 random bytes, shown once, stored only as their
// SHA-256 (they are high-entropy, so a fast hash is enough; passwords use Argon2id instead).
#include <string>
#include <string_view>

namespace classcam::hub::auth {

// Prefixes say what a token is, so a leaked one is recognisable and the hub knows where to look.
inline constexpr std::string_view kUnitTokenPrefix = "ct_";  // a unit's API token
inline constexpr std::string_view kUserTokenPrefix = "cu_";  // a person's API token (scripts)
inline constexpr std::string_view kFeedTokenPrefix = "cf_";  // a calendar feed's secret
inline constexpr std::string_view kSessionPrefix = "cs_";    // a login session cookie

struct NewSecret {
  std::string value;  // give this to the client, once
  std::string hash;   // store this
};

NewSecret new_secret(std::string_view prefix);
std::string secret_hash(std::string_view value);

}  // namespace classcam::hub::auth
