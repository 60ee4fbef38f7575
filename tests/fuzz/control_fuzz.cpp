// One line on the control socket (classcamctl, or any local process): parse_request accepts or refuses
// it with a message, never crashes. The reply it leads to must serialise (the server writes it as JSON),
// and an accepted request must survive encode_request and parse_request unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/control/protocol.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using classcam::fuzz::check;

namespace {
bool same(const control::Request& a, const control::Request& b) {
  return a.cmd == b.cmd && a.title == b.title && a.label == b.label && a.hub == b.hub && a.code == b.code &&
         a.max_s == b.max_s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto r = control::parse_request(line);
  if (!r) {
    check(!r.error().message.empty(), "a refusal that says nothing");
    (void)control::error_response(r.error().message).dump();
    return 0;
  }
  (void)control::ok_response({{"cmd", control::to_string(r->cmd)}}).dump();
  const auto again = control::parse_request(control::encode_request(*r).dump());
  check(again.ok(), "an accepted request does not parse once re-encoded");
  check(same(*again, *r), "a request changed on a round trip");
  return 0;
}
