#include "hub/metrics/hub_metrics.hpp"

#include <cctype>

#include "common/util/hash.hpp"
#include "hub/api/common.hpp"
#include "hub/http/responses.hpp"

namespace classcam::hub::metrics {

namespace m = classcam::metrics;

HubMetrics::HubMetrics(std::string token)
    : token_(std::move(token)),
      requests_(registry_.counter("classcam_http_requests_total",
                                  "HTTP requests answered, by route pattern, method and status.",
                                  {"route", "method", "status"})),
      latency_(registry_.histogram("classcam_http_request_duration_seconds",
                                   "Time from a request's admission to its response, by route pattern.",
                                   m::default_seconds_buckets(), {"route", "method"})) {}

void HubMetrics::observe_request(const std::string& pattern, const std::string& method, int status,
                                 std::chrono::steady_clock::duration elapsed) {
  requests_.counter({pattern, method, std::to_string(status)}).inc();
  latency_.histogram({pattern, method}).observe(std::chrono::duration<double>(elapsed).count());
}

http::Response HubMetrics::scrape(const std::string& authorization) {
  if (token_.empty()) return http::problem(404, "metrics are off on this hub (metrics.token is empty)");
  // The scheme is case-insensitive (RFC 9110), as for the API's tokens.
  constexpr std::string_view kScheme = "bearer ";
  bool scheme = authorization.size() > kScheme.size();
  for (std::size_t i = 0; scheme && i < kScheme.size(); ++i) {
    scheme = std::tolower(static_cast<unsigned char>(authorization[i])) == kScheme[i];
  }
  if (!scheme || !util::constant_time_equal(std::string_view(authorization).substr(kScheme.size()), token_)) {
    auto res = http::problem(401, "send the metrics token: Authorization: Bearer <metrics.token>");
    res.headers.set("WWW-Authenticate", "Bearer realm=\"classcam-metrics\"");
    return res;
  }
  if (collect_) collect_(registry_);
  http::Response res;
  res.status = 200;
  res.headers.set("Content-Type", m::kContentType);
  res.headers.set("Cache-Control", "no-store");
  res.body = registry_.expose();
  return res;
}

void HubMetrics::add_route(http::Router& router, Executor executor) {
  // Public to the router: the metrics token is no user credential, so the router's authentication
  // must not see it; the handler checks it.
  router.add_async(
      "GET", "/metrics", access::Access::anyone(),
      [this, executor = std::move(executor)](http::Request& req, const http::Reply& reply) {
        api::on_worker(executor, req, reply, [this](http::Request& r) { return scrape(r.header("Authorization")); });
      },
      "Prometheus metrics (bearer metrics.token)");
}

}  // namespace classcam::hub::metrics
