// A request as the server hands it on after Beast has parsed it (method, target split by split_target,
// header fields, body), through web::dispatch (pages, the cross-site check) and the router (matching,
// percent-decoded parameters, authentication, access) to handlers that do what the real ones do with
// request bytes: echo parameters and the query into JSON, read a JSON body, throw HttpError naming a
// parameter or a header. The routes are the hub's own: docs/hub-api.md, which the ApiDoc test keeps
// equal to the router's table. A fake authenticator reads the real Authorization and Cookie parsers.
//
// Whatever the bytes: dispatch returns normally, the reply is called exactly once, with a real status,
// and a JSON or problem+json body is valid JSON.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hub/auth/cookies.hpp"
#include "hub/auth/credentials.hpp"
#include "hub/http/responses.hpp"
#include "hub/http/router.hpp"
#include "hub/web/site.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using namespace classcam::hub;
using classcam::fuzz::check;
using http::HttpError;
using http::Request;
using http::Response;

namespace {

struct Pattern {
  std::string method;
  std::string path;
};

std::vector<Pattern> documented_routes() {
  std::ifstream in(std::string(CLASSCAM_SOURCE_DIR) + "/docs/hub-api.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  std::vector<Pattern> out;
  const std::regex heading("^### `([A-Z]+) (/[^`]*)`", std::regex::multiline);
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), heading); it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1].str(), (*it)[2].str()});
  }
  if (out.size() < 10) fuzz::fail("docs/hub-api.md lists no routes (is CLASSCAM_SOURCE_DIR right?)");
  return out;
}

access::Access access_for(std::size_t i) {
  switch (i % 4) {
    case 0: return access::Access::anyone();
    case 1: return access::Access::any_user();
    case 2: return access::Access::unit();
    default: return access::Access::only({access::Caller::admin, access::Caller::technician});
  }
}

// What real handlers do with request bytes, one behaviour per route (by its index).
Response behave(std::size_t i, Request& req) {
  switch (i % 5) {
    case 0: return http::json(200, {{"params", req.params}, {"query", req.query}});
    case 1: {
      const std::string id = req.params.empty() ? req.path : req.params.begin()->second;
      throw HttpError(404, "no such thing: " + id, "id");
    }
    case 2: return http::json(200, http::json_body(req));
    case 3: throw HttpError(412, "Tus-Resumable " + req.header("Tus-Resumable") + " is not supported", "Tus-Resumable");
    default: {
      auto r = http::problem(409, "taken by " + req.query_param("title").value_or("nobody"), "start");
      r.headers.set("Location", "/api/v1/things/" + http::percent_encode(req.param("id")));
      return r;
    }
  }
}

access::Principal fake_authenticate(const Request& req) {
  access::Principal p;
  const std::string authorization = req.header("Authorization");
  if (const auto token = auth::bearer_token(authorization)) {
    p.caller = static_cast<access::Caller>(static_cast<unsigned char>(token->front()) % 6);
    p.id = std::string(*token);
  } else if (const auto cookie = auth::cookie_value(req.header("Cookie"), auth::kSessionCookie)) {
    p.caller = static_cast<access::Caller>(1 + cookie->size() % 4);
    p.id = *cookie;
  }
  return p;
}

struct Fixture {
  std::vector<Pattern> patterns = documented_routes();
  http::Router router{fake_authenticate};
  Fixture() {
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      if (i % 3 == 0) {
        // Work finished later, as on the worker pool: the handler replies itself.
        router.add_async(
            patterns[i].method, patterns[i].path, access_for(i),
            [i](Request& req, const http::Reply& reply) { reply(http::guarded(req, [&] { return behave(i, req); })); });
      } else {
        router.add(patterns[i].method, patterns[i].path, access_for(i), [i](Request& req) { return behave(i, req); });
      }
    }
  }
};

const char* const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
const char* const kHeaders[] = {"Host",          "Origin",          "Sec-Fetch-Site",  "Content-Type",
                                "Authorization", "Cookie",          "Tus-Resumable",   "Range",
                                "If-Range",      "Upload-Metadata", "Upload-Checksum", "Upload-Offset",
                                "Upload-Length", "If-None-Match",   "Content-Length"};

// A target for one of the routes, its {parameters} filled with fuzz bytes.
std::string fill(const std::string& pattern, FuzzedDataProvider& in) {
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find('{', at);
    if (open == std::string::npos) break;
    const auto close = pattern.find('}', open);
    out += pattern.substr(at, open - at);
    out += in.ConsumeRandomLengthString(40);
    at = close + 1;
  }
  return out + pattern.substr(at);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  FuzzedDataProvider in(data, size);
  Request req;
  req.method = in.ConsumeBool() ? in.PickValueInArray(kMethods) : in.ConsumeRandomLengthString(12);
  if (in.ConsumeBool()) {
    const auto& p = fx.patterns[in.ConsumeIntegralInRange<std::size_t>(0, fx.patterns.size() - 1)];
    req.target = fill(p.path, in);
    if (in.ConsumeBool()) req.target += "?" + in.ConsumeRandomLengthString(60);
  } else {
    req.target = in.ConsumeRandomLengthString(200);
  }
  http::split_target(req.target, req.path, req.query);
  const auto fields = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < fields; ++i) {
    std::string name = in.ConsumeBool() ? in.PickValueInArray(kHeaders) : in.ConsumeRandomLengthString(20);
    req.headers.add(std::move(name), in.ConsumeRandomLengthString(100));
  }
  req.body = in.ConsumeRemainingBytesAsString();
  req.remote_address = "192.0.2.7";

  int replies = 0;
  Response res;
  web::dispatch(fx.router, req, [&](Response r) {
    ++replies;
    res = std::move(r);
  });
  check(replies == 1, "the reply was not called exactly once");
  check(res.status >= 100 && res.status <= 599, "a status that is not one");
  const std::string type = res.headers.get("Content-Type").value_or("");
  if (type.find("json") != std::string::npos) {
    check(protocol::Json::accept(res.body), "a JSON response that is not valid JSON");
  }
  return 0;
}
