// The credentials a request carries, as the authenticator reads them: the session cookie out of a Cookie
// header (RFC 6265 pairs) and the token of an Authorization header. What they return is part of what
// was sent; a cookie set among others is found.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/auth/cookies.hpp"
#include "hub/auth/credentials.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam::hub::auth;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string name = in.ConsumeBool() ? std::string(kSessionCookie) : in.ConsumeRandomLengthString(64);
  const std::string header = in.ConsumeRemainingBytesAsString();

  if (const auto v = cookie_value(header, name)) {
    check(header.find(*v) != std::string::npos, "a cookie value that is not in the header");
  }
  // Our own cookie after whatever else the browser sends.
  const std::string mine = "cs_0123456789abcdef";
  if (!name.empty() && name.find_first_of("=; ") == std::string::npos && header.find(';') == std::string::npos) {
    std::string_view first = header;
    while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
    const bool first_is_it = first.find('=') != std::string_view::npos && first.substr(0, first.find('=')) == name;
    if (!first_is_it) {
      check(cookie_value(header + "; " + name + "=" + mine, name) == mine, "a cookie after another is not found");
    }
  }

  if (const auto token = bearer_token(header)) {
    check(!token->empty(), "an empty bearer token");
    check(header.size() > token->size() && header.substr(header.size() - token->size()) == *token,
          "the token is not the end of the header");
  }
  return 0;
}
