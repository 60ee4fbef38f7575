#include "hub/auth/credentials.hpp"

namespace classcam::hub::auth {

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.size() <= bearer.size() || authorization.substr(0, bearer.size()) != bearer) return std::nullopt;
  return authorization.substr(bearer.size());
}

}  // namespace classcam::hub::auth
