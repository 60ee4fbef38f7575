#pragma once
// The hub's Prometheus metrics: GET /metrics on the HTTPS listener, behind its own bearer token
// (metrics.token), never a user's session or API token, so a scraper's credential opens nothing else
// and a user's opens no metrics (docs/metrics.md).
//
// Only counts, states and route patterns are exposed: no names, logins, rooms or ids of people,
// recordings or units, so a leaked scrape says how busy the hub is and nothing about who.
//
// Threading: request counting happens on whichever I/O thread replies (the registry locks); the scrape
// runs the collector on the worker pool given to add_route, since it reads the store.
#include <chrono>
#include <functional>
#include <string>

#include "common/metrics/metrics.hpp"
#include "hub/http/router.hpp"

namespace classcam::hub::metrics {

class HubMetrics {
 public:
  using Executor = std::function<void(std::function<void()>)>;

  explicit HubMetrics(std::string token);

  classcam::metrics::Registry& registry() { return registry_; }

  // For http::Router::set_observer.
  void observe_request(const std::string& pattern, const std::string& method, int status,
                       std::chrono::steady_clock::duration elapsed);

  // Gauges recomputed at each scrape (units online, recordings by state ...): `collect` sets them.
  void set_collector(std::function<void(classcam::metrics::Registry&)> collect) { collect_ = std::move(collect); }

  // GET /metrics: 404 while no token is configured, 401 without the right bearer token.
  void add_route(http::Router& router, Executor executor);

  // What the route answers for an Authorization header; runs the collector. For the route and tests.
  http::Response scrape(const std::string& authorization);

 private:
  std::string token_;
  classcam::metrics::Registry registry_;
  classcam::metrics::Family& requests_;
  classcam::metrics::Family& latency_;
  std::function<void(classcam::metrics::Registry&)> collect_;
};

}  // namespace classcam::hub::metrics
