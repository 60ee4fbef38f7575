#pragma once
// The login session cookie. Its name has the __Host- prefix, so browsers accept it only when Secure,
// with Path=/ and no Domain: it cannot be set or read by another host or over plain HTTP.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace classcam::hub::auth {

inline constexpr std::string_view kSessionCookie = "__Host-classcam_session";

// Set-Cookie value for a new session: HttpOnly, Secure, SameSite=Strict, Path=/, Max-Age.
std::string session_cookie(std::string_view value, std::chrono::seconds max_age);
// Set-Cookie value that removes the session cookie.
std::string expired_session_cookie();
// The value of cookie `name` in a Cookie request header, if present.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace classcam::hub::auth
