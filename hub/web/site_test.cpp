#include "hub/web/site.hpp"

#include <gtest/gtest.h>

#include "hub/access/principal.hpp"
#include "hub/http/router.hpp"

using namespace classcam::hub;

namespace {

http::Request get(const std::string& path, const std::string& method = "GET") {
  http::Request r;
  r.method = method;
  r.path = path;
  r.target = path;
  r.headers.set("Host", "hub.school:8443");
  return r;
}

}  // namespace

TEST(WebSite, ServesTheIndexAtTheRootWithStrictHeaders) {
  const auto res = web::serve_asset(get("/"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(res.body.find("<!doctype html>"), std::string::npos);
  const auto csp = res.headers.get("Content-Security-Policy").value_or("");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(res.headers.get("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res.headers.get("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(res.headers.get("Cache-Control"), "no-cache");
  EXPECT_TRUE(res.headers.get("ETag").has_value());
}

TEST(WebSite, PagesHaveNoInlineScriptOrStyle) {
  const auto res = web::serve_asset(get("/index.html"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body.find("<script>"), std::string::npos);
  EXPECT_EQ(res.body.find("style="), std::string::npos);
  EXPECT_EQ(res.body.find("onclick"), std::string::npos);
  EXPECT_EQ(res.body.find("http://"), std::string::npos) << "no assets from elsewhere";
}

TEST(WebSite, AnswersARevalidationWith304) {
  const auto first = web::serve_asset(get("/app.js"));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  auto again = get("/app.js");
  again.headers.set("If-None-Match", "W/\"other\", " + first.headers.get("ETag").value());
  const auto res = web::serve_asset(again);
  EXPECT_EQ(res.status, 304);
  EXPECT_TRUE(res.body.empty());
  auto changed = get("/app.js");
  changed.headers.set("If-None-Match", "\"stale\"");
  EXPECT_EQ(web::serve_asset(changed).status, 200);
}

TEST(WebSite, UnknownPathsAre404AndOtherMethods405) {
  EXPECT_EQ(web::serve_asset(get("/nothing-here.html")).status, 404);
  EXPECT_EQ(web::serve_asset(get("/../etc/passwd")).status, 404);
  const auto post = web::serve_asset(get("/", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.get("Allow"), "GET, HEAD");
}

TEST(WebSite, RefusesUnsafeRequestsFromOtherSites) {
  auto cross = get("/api/v1/users", "POST");
  cross.headers.set("Sec-Fetch-Site", "cross-site");
  auto refusal = web::cross_site_refusal(cross);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->status, 403);
  EXPECT_NE(refusal->body.find("another site"), std::string::npos);

  auto same_site = get("/api/v1/users", "DELETE");
  same_site.headers.set("Sec-Fetch-Site", "same-site");
  EXPECT_TRUE(web::cross_site_refusal(same_site).has_value()) << "a sibling subdomain is not the hub";

  auto other_origin = get("/api/v1/users", "PATCH");
  other_origin.headers.set("Origin", "https://evil.example");
  EXPECT_TRUE(web::cross_site_refusal(other_origin).has_value());

  auto own = get("/api/v1/users", "POST");
  own.headers.set("Origin", "https://hub.school:8443");
  own.headers.set("Sec-Fetch-Site", "same-origin");
  EXPECT_FALSE(web::cross_site_refusal(own).has_value());

  // Units and scripts send neither header.
  EXPECT_FALSE(web::cross_site_refusal(get("/api/v1/uploads", "POST")).has_value());
  // Reading is never refused: a cross-site GET cannot read the reply.
  auto read = get("/api/v1/me");
  read.headers.set("Sec-Fetch-Site", "cross-site");
  EXPECT_FALSE(web::cross_site_refusal(read).has_value());
}

TEST(WebSite, DispatchSendsApiPathsToTheRouterAndPagesToTheAssets) {
  http::Router router([](const http::Request&) { return access::Principal{}; });
  router.add("POST", "/api/v1/ping", access::Access::anyone(), [](http::Request&) { return http::Response{}; });
  auto call = [&](http::Request req) {
    http::Response out;
    web::dispatch(router, req, [&out](http::Response r) { out = std::move(r); });
    return out;
  };
  EXPECT_EQ(call(get("/api/v1/ping", "POST")).status, 200);
  auto cross = get("/api/v1/ping", "POST");
  cross.headers.set("Sec-Fetch-Site", "cross-site");
  EXPECT_EQ(call(cross).status, 403);
  EXPECT_EQ(call(get("/")).status, 200);
  EXPECT_EQ(call(get("/api/v1/nothing")).status, 404);
}
