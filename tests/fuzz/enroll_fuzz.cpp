// Enrolment, both ends. The hub's POST /api/v1/enroll reads a JSON body (json_body), an EnrollRequest
// and the pairing code in it, before it touches the store: here the same calls, under guarded() as the
// router runs them, must refuse bad bytes with a 4xx whose problem+json is valid (never a 500). The
// unit reads what a person typed (parse_pairing_code: a code it accepts prints and reads back the same)
// and checks the CA a hub hands out, before it trusts it, against the code's pin (pins_ca).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/protocol/pairing_code.hpp"
#include "hub/http/responses.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using namespace classcam::hub;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string typed = in.ConsumeRandomLengthString(80);
  const std::string content_type = in.ConsumeBool() ? "application/json" : in.ConsumeRandomLengthString(40);
  const std::string body = in.ConsumeRemainingBytesAsString();

  // The unit: what a person typed.
  const auto code = protocol::parse_pairing_code(typed);
  if (code) {
    check(code->text().size() == 35, "a pairing code that does not print as six groups of five");
    const auto again = protocol::parse_pairing_code(code->text());
    check(again && *again == *code, "a pairing code changed on a round trip");
    // The CA the hub hands out is untrusted until it matches the pin.
    (void)protocol::pins_ca(*code, body);
  } else {
    check(!code.error().message.empty(), "a refusal that says nothing");
    (void)protocol::Json{{"error", code.error().message}}.dump();  // it goes back over the control socket
  }

  // The hub: the body of POST /api/v1/enroll.
  http::Request req;
  req.method = "POST";
  req.target = req.path = "/api/v1/enroll";
  req.headers.set("Content-Type", content_type);
  req.body = body;
  const auto res = http::guarded(req, [&] {
    const auto request = protocol::read_enroll_request(protocol::Reader(http::json_body(req), ""));
    const auto parsed = protocol::parse_pairing_code(request.code);
    if (!parsed) return http::problem(403, "pairing code not recognised: " + parsed.error().message, "code");
    return http::json(200, {{"code", parsed->text()}});
  });
  check(res.status != 500, "a bad enrolment request answered 500");
  check(protocol::Json::accept(res.body), "an enrolment answer that is not valid JSON");
  return 0;
}
