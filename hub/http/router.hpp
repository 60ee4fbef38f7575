#pragma once
// Method + path pattern -> handler, with the access rule declared on each route. The router admits a
// request from its header alone, before any of its body is read: it resolves the route, authenticates
// the caller (only for non-public routes), refuses callers the route does not admit (401 without
// credentials, 403 with the wrong role; 404 and 405 for no route), and sets the body limit: small for
// callers without a valid credential, larger for the API's JSON, largest for the few routes that take
// uploads; streaming routes decide from the header where the body goes (a tus PATCH: its file).
// Ownership checks are the handler's, through hub/access/policy.hpp.
//
// Patterns are literal segments and {name} parameters: "/api/v1/recordings/{id}/comments". A
// trailing slash is ignored, so tus clients may POST to "/api/v1/uploads/".
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/access/principal.hpp"
#include "hub/http/message.hpp"

namespace classcam::hub::http {

// Largest bodies the router admits (http.max_anonymous_body_bytes, max_json_body_bytes, max_body_bytes).
struct BodyLimits {
  std::uint64_t anonymous = 8 * 1024;       // any request without a valid credential (sign-in, enrolment)
  std::uint64_t json = 64 * 1024;           // the API's JSON requests
  std::uint64_t upload = 16 * 1024 * 1024;  // routes declared with BodySize::upload
};

enum class BodySize { json, upload };

// Decides a streaming route's request from its header (authenticated, path parameters decoded): a
// refusal, or a sink for the body with the handler that answers once it is in, and the body's limit
// (the router lowers it to BodyLimits::upload).
using Preflight = std::function<Admission(Request&)>;

struct Route {
  std::string method;
  std::string pattern;
  access::Access access;
  Handler handler;
  std::string summary;
  std::vector<std::string> segments;
  BodySize body = BodySize::json;
  Preflight preflight;  // set instead of `handler` on streaming routes
  // A route that knows its bodies are smaller than its class allows (a snapshot: 4 MiB) says so, and
  // larger ones are refused from the header instead of being read into memory first.
  std::uint64_t max_body_bytes = UINT64_MAX;

  Route& with_body(BodySize size) {
    body = size;
    return *this;
  }
  Route& with_body_limit(std::uint64_t bytes) {
    max_body_bytes = bytes;
    return *this;
  }
};

class Router {
 public:
  using Authenticate = std::function<access::Principal(const Request&)>;
  using SyncHandler = std::function<Response(Request&)>;

  explicit Router(Authenticate authenticate, BodyLimits limits = {});

  // The returned route is for with_body() at once; it moves when the next route is added.
  Route& add(const std::string& method, const std::string& pattern, access::Access access, SyncHandler handler,
             const std::string& summary = "");
  Route& add_async(const std::string& method, const std::string& pattern, access::Access access, Handler handler,
                   const std::string& summary = "");
  // Bodies up to BodyLimits::upload, never held in memory: `preflight` gives the sink.
  Route& add_streaming(const std::string& method, const std::string& pattern, access::Access access,
                       Preflight preflight, const std::string& summary = "");
  const std::vector<Route>& routes() const { return routes_; }
  const BodyLimits& limits() const { return limits_; }

  // Told of every answered request: its route's pattern ("unmatched" for 404 and 405, so a scanner's
  // paths cannot grow the metrics' label set), the route's method, the status and the time from
  // admission to the reply. Set before the server starts; called on whichever thread replies.
  using Observer = std::function<void(const std::string& pattern, const std::string& method, int status,
                                      std::chrono::steady_clock::duration elapsed)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // For the server, with the header only. Never throws.
  Admission admit(Request& req) const;

  // admit() and then the handler, for a request whose body is already in `req.body` (tests, and the
  // pages in front of the router). Never throws; `reply` is called exactly once.
  void dispatch(Request& req, const Reply& reply) const;

 private:
  Admission admit_unobserved(Request& req, const Route*& route) const;

  Authenticate authenticate_;
  Observer observer_;
  BodyLimits limits_;
  std::vector<Route> routes_;
};

// Runs an admission on a body that is already in memory: refuses it when it is too large, writes it to
// the sink when there is one, and runs the handler. `reply` is called exactly once.
void run_admitted(Admission admission, Request& req, const Reply& reply);

}  // namespace classcam::hub::http
