#include "hub/auth/credentials.hpp"

#include <cctype>

namespace classcam::hub::auth {

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  // RFC 9110 11.1: the scheme is case-insensitive ("bearer", "BEARER"), and one or more spaces follow it.
  constexpr std::string_view bearer = "bearer";
  if (authorization.size() <= bearer.size()) return std::nullopt;
  for (std::size_t i = 0; i < bearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != bearer[i]) return std::nullopt;
  }
  auto rest = authorization.substr(bearer.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  return rest;
}

}  // namespace classcam::hub::auth
