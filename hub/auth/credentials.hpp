#pragma once
// The Authorization header, read without the store (tests/fuzz feeds it arbitrary bytes). The cookie is
// read by cookie_value (cookies.hpp).
#include <optional>
#include <string_view>

namespace classcam::hub::auth {

// The token of "Authorization: Bearer <token>"; nullopt for another scheme or an empty token. The
// view points into `authorization`.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace classcam::hub::auth
