#include "firmware/enroll/enroll.hpp"

#include <fmt/format.h>

#include "common/protocol/pairing_code.hpp"
#include "common/util/version.hpp"
#include "firmware/net/https_client.hpp"
#include "firmware/spool/durable.hpp"

namespace classcam::enroll {

namespace {

// The hub's problem+json "detail" (or the body) for a refusal, so the technician reads the hub's words.
std::string refusal(const net::Response& r) {
  const auto j = protocol::Json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("detail") && j["detail"].is_string()) return j["detail"].get<std::string>();
  if (j.is_object() && j.contains("title") && j["title"].is_string()) return j["title"].get<std::string>();
  return fmt::format("HTTP {}", r.status);
}

}  // namespace

Result<protocol::EnrollResponse> enroll_with_hub(const std::string& hub_url, const std::string& typed_code,
                                                 const std::string& hostname,
                                                 const std::filesystem::path& scratch_dir) {
  auto code = protocol::parse_pairing_code(typed_code);
  if (!code) return Error{"pairing code: " + code.error().message};
  auto url = net::parse_url(hub_url);
  if (!url) return url.error();

  net::HttpsClient insecure(*url, {{}, false}, std::chrono::seconds(20));
  auto ca = insecure.request("GET", "/api/v1/enroll/ca");
  if (!ca) return Error{"cannot reach the hub: " + ca.error().message};
  if (ca->status != 200) return Error{"the hub did not hand out its CA certificate: " + refusal(*ca)};
  if (!protocol::pins_ca(*code, ca->body)) return Error{kNotPinned};

  if (auto st = spool::make_durable_dir(scratch_dir); !st) return st.error();
  const auto ca_file = scratch_dir / ".hub-ca.pending.pem";
  std::error_code ec;
  std::filesystem::remove(ca_file, ec);
  if (auto st = spool::write_new_file_durably(ca_file, ca->body); !st) return st.error();
  net::HttpsClient verified(*url, {ca_file, true}, std::chrono::seconds(20));
  protocol::EnrollRequest req{code->text(), hostname, std::string(kVersion)};
  auto r = verified.request("POST", "/api/v1/enroll", {{"Content-Type", "application/json"}}, protocol::encode(req));
  std::filesystem::remove(ca_file, ec);
  if (!r) return Error{"enrolment request: " + r.error().message};
  if (r->status != 200) return Error{"the hub refused the enrolment: " + refusal(*r)};
  auto e = protocol::decode<protocol::EnrollResponse>(r->body);
  if (!e) return Error{"the hub's enrolment answer is not valid: " + e.error().message};
  if (!protocol::pins_ca(*code, e->ca_pem)) return Error{kNotPinned};
  return *e;
}

}  // namespace classcam::enroll
