#include "hub/metrics/hub_metrics.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "hub/http/message.hpp"

using namespace classcam;
using namespace classcam::hub;

namespace {

const char* const kToken = "tttttttttttttttttttttttttttttttttttttttt";  // 40 characters

http::Response get(const http::Router& router, const std::string& authorization) {
  http::Request req;
  req.method = "GET";
  req.target = req.path = "/metrics";
  if (!authorization.empty()) req.headers.set("Authorization", authorization);
  req.remote_address = "127.0.0.1";
  std::optional<http::Response> out;
  router.dispatch(req, [&](http::Response r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value());
  return out.value_or(http::Response{});
}

struct Fixture {
  int auth_calls = 0;
  http::Router router{[this](const http::Request&) {
    ++auth_calls;
    return access::Principal{};
  }};
  hub::metrics::HubMetrics hub_metrics;
  explicit Fixture(const std::string& token) : hub_metrics(token) {
    hub_metrics.add_route(router, [](const std::function<void()>& job) { job(); });
    router.set_observer(
        [this](const std::string& p, const std::string& m, int status, std::chrono::steady_clock::duration d) {
          hub_metrics.observe_request(p, m, status, d);
        });
  }
};

}  // namespace

TEST(HubMetrics, RefusesWithoutTheTokenAndNeverAsksTheUserAuthenticator) {
  Fixture f(kToken);
  EXPECT_EQ(get(f.router, "").status, 401);
  EXPECT_EQ(get(f.router, "Bearer wrong").status, 401);
  EXPECT_EQ(get(f.router, std::string("Basic ") + kToken).status, 401);
  const auto r = get(f.router, "");
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Bearer realm=\"classcam-metrics\"");
  EXPECT_EQ(f.auth_calls, 0);
}

TEST(HubMetrics, OffWithoutAToken) {
  Fixture f("");
  EXPECT_EQ(get(f.router, "Bearer ").status, 404);
}

TEST(HubMetrics, ServesTheExpositionWithCollectedGaugesAndCountsItsOwnRequests) {
  Fixture f(kToken);
  auto& online = f.hub_metrics.registry().gauge("classcam_units_online", "Units online.");
  int collected = 0;
  f.hub_metrics.set_collector([&](classcam::metrics::Registry&) {
    ++collected;
    online.gauge().set(3);
  });
  (void)get(f.router, "");  // a refused scrape is counted too, and collects nothing
  const auto r = get(f.router, std::string("Bearer ") + kToken);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(collected, 1);
  EXPECT_EQ(r.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("\nclasscam_units_online 3\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("classcam_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1\n"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("classcam_http_request_duration_seconds_count{route=\"/metrics\",method=\"GET\"} 1\n"),
            std::string::npos)
      << r.body;
  const auto again = get(f.router, std::string("bearer ") + kToken);  // the scheme in any case
  EXPECT_NE(again.body.find("status=\"200\"} 1\n"), std::string::npos) << again.body;
}
