#include "hub/auth/tokens.hpp"

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"

namespace classcam::hub::auth {

NewSecret new_secret(std::string_view prefix) {
  NewSecret s;
  s.value = std::string(prefix) + util::random_hex(32);
  s.hash = secret_hash(s.value);
  return s;
}

std::string secret_hash(std::string_view value) { return util::sha256_hex(value); }

}  // namespace classcam::hub::auth
