#include "hub/http/router.hpp"

#include <gtest/gtest.h>

#include "hub/http/files.hpp"
#include "hub/http/responses.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace classcam::hub::http;
using access::Access;
using access::Caller;

namespace {

Response run(const Router& router, const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& content_type = "application/json") {
  Request req;
  req.method = method;
  req.target = target;
  split_target(target, req.path, req.query);
  req.body = body;
  if (!body.empty()) req.headers.set("Content-Type", content_type);
  req.remote_address = "127.0.0.1";
  std::optional<Response> out;
  router.dispatch(req, [&](Response r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value());
  return out.value_or(Response{});
}

protocol::Json body_of(const Response& r) { return protocol::Json::parse(r.body); }

// Callers are named by the test through the X-Test-Caller header.
class RouterTest : public ::testing::Test {
 protected:
  int auth_calls = 0;
  Router router{[this](const Request& req) {
    ++auth_calls;
    access::Principal p;
    const auto c = req.header("X-Test-Caller");
    if (c == "admin") p.caller = Caller::admin;
    if (c == "teacher") p.caller = Caller::teacher;
    p.id = "u1";
    return p;
  }};

  Response as(const std::string& caller, const std::string& method, const std::string& target) {
    Request req;
    req.method = method;
    req.target = target;
    split_target(target, req.path, req.query);
    req.headers.set("X-Test-Caller", caller);
    std::optional<Response> out;
    router.dispatch(req, [&](Response r) { out = std::move(r); });
    return out.value_or(Response{});
  }

  void SetUp() override {
    router.add("GET", "/api/v1/health", Access::anyone(), [](Request&) { return json(200, {{"ok", true}}); });
    router.add("GET", "/api/v1/things/{id}", Access::only({Caller::admin}), [](Request& r) {
      return json(200, {{"id", r.param("id")}, {"q", r.query_param("q").value_or("")}});
    });
    router.add("POST", "/api/v1/things", Access::any_user(), [](Request& r) {
      const auto body = json_body(r);
      const protocol::Reader rd(body, "");
      return json(201, {{"title", rd.string("title", 10)}});
    });
    router.add("DELETE", "/api/v1/things/{id}", Access::any_user(),
               [](Request&) -> Response { throw HttpError(409, "still in use", "id"); });
    router.add("PUT", "/api/v1/things/{id}", Access::any_user(),
               [](Request&) -> Response { throw std::runtime_error("disk on fire"); });
    router.add("POST", "/api/v1/uploads", Access::anyone(), [](Request&) { return no_content(); });
  }
};

}  // namespace

TEST_F(RouterTest, UnknownPathsAre404AndWrongMethods405WithAllow) {
  const auto a = run(router, "GET", "/api/v1/nothing");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.headers.get("Content-Type"), "application/problem+json");
  const auto b = as("admin", "PATCH", "/api/v1/things/7");
  EXPECT_EQ(b.status, 405);
  EXPECT_EQ(b.headers.get("Allow"), "GET, DELETE, PUT, HEAD") << "HEAD wherever GET is";
}

TEST_F(RouterTest, PublicRoutesSkipAuthentication) {
  EXPECT_EQ(run(router, "GET", "/api/v1/health").status, 200);
  EXPECT_EQ(auth_calls, 0);
}

TEST_F(RouterTest, AnonymousGets401AndTheWrongRole403) {
  const auto anon = as("", "GET", "/api/v1/things/1");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.headers.get("WWW-Authenticate"), "Bearer realm=\"classcam\"");
  const auto teacher = as("teacher", "GET", "/api/v1/things/1");
  EXPECT_EQ(teacher.status, 403);
  EXPECT_NE(body_of(teacher)["detail"].get<std::string>().find("this is for admin"), std::string::npos);
  EXPECT_EQ(as("admin", "GET", "/api/v1/things/1").status, 200);
}

TEST_F(RouterTest, ParametersAreDecodedAndTrailingSlashesIgnored) {
  const auto r = as("admin", "GET", "/api/v1/things/a%20b?q=x+y");
  EXPECT_EQ(body_of(r)["id"], "a b");
  EXPECT_EQ(body_of(r)["q"], "x y");
  EXPECT_EQ(run(router, "POST", "/api/v1/uploads/").status, 204);
  EXPECT_EQ(as("admin", "GET", "/api/v1/things/%zz").status, 400);
}

TEST_F(RouterTest, MalformedBodiesGetProblemJsonNamingTheField) {
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    Request req;
    req.method = "POST";
    req.target = req.path = "/api/v1/things";
    req.body = body;
    req.headers.set("Content-Type", type);
    req.headers.set("X-Test-Caller", "teacher");
    std::optional<Response> out;
    router.dispatch(req, [&](Response r) { out = std::move(r); });
    return *out;
  };
  const auto missing = post("{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(body_of(missing)["detail"], "title: missing");
  EXPECT_EQ(body_of(missing)["field"], "title");
  EXPECT_EQ(body_of(missing)["status"], 400);
  EXPECT_EQ(body_of(post(R"({"title": 5})"))["detail"], "title: expected a string, got an integer");
  EXPECT_EQ(body_of(post(R"({"title": "much too long"})"))["field"], "title");
  EXPECT_EQ(body_of(post("{nope"))["detail"], "body: not valid JSON");
  EXPECT_EQ(body_of(post("[1]"))["detail"], "body: expected a JSON object, got an array");
  EXPECT_EQ(post("{}", "text/plain").status, 415);
  EXPECT_EQ(post(R"({"title": "ok"})").status, 201);
}

TEST_F(RouterTest, HandlerErrorsBecomeProblemsAndEveryResponseIsHardened) {
  const auto conflict = as("teacher", "DELETE", "/api/v1/things/1");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(body_of(conflict)["detail"], "id: still in use");
  const auto crash = as("teacher", "PUT", "/api/v1/things/1");
  EXPECT_EQ(crash.status, 500);
  EXPECT_EQ(body_of(crash)["detail"].get<std::string>().find("disk on fire"), std::string::npos)
      << "internals stay in the log";
  EXPECT_EQ(crash.headers.get("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(crash.headers.get("Strict-Transport-Security").has_value());
}

TEST_F(RouterTest, RoutesCannotBeAddedTwice) {
  EXPECT_THROW(router.add("GET", "/api/v1/health", Access::anyone(), [](Request&) { return no_content(); }),
               std::logic_error);
}

TEST(Ranges, ParsesSingleRangesAndIgnoresTheRest) {
  EXPECT_EQ(parse_range("bytes=0-99", 1000).kind, RangeKind::single);
  EXPECT_EQ(parse_range("bytes=0-99", 1000).range.last, 99u);
  EXPECT_EQ(parse_range("bytes=900-", 1000).range.last, 999u);
  EXPECT_EQ(parse_range("bytes=-100", 1000).range.first, 900u);
  EXPECT_EQ(parse_range("bytes=-5000", 1000).range.first, 0u);
  EXPECT_EQ(parse_range("bytes=990-5000", 1000).range.last, 999u);
  EXPECT_EQ(parse_range("bytes=1000-", 1000).kind, RangeKind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 1000).kind, RangeKind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 1000).kind, RangeKind::none);
  EXPECT_EQ(parse_range("bytes=5-1", 1000).kind, RangeKind::none);
  EXPECT_EQ(parse_range("items=0-1", 1000).kind, RangeKind::none);
  EXPECT_EQ(parse_range("bytes=x-1", 1000).kind, RangeKind::none);
}

TEST(Message, TargetsAndDates) {
  std::string path;
  std::map<std::string, std::string> q;
  split_target("/a/b?x=1&y=%2F&flag", path, q);
  EXPECT_EQ(path, "/a/b");
  EXPECT_EQ(q["x"], "1");
  EXPECT_EQ(q["y"], "/");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_encode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(RouterLimits, BodyLimitsComeFromTheCallerTheRouteClassAndTheRoute) {
  Router router{[](const Request& req) {
                  access::Principal p;
                  if (req.header("X-Test-Caller") == "unit") p.caller = Caller::unit;
                  return p;
                },
                BodyLimits{8 * 1024, 64 * 1024, 16 * 1024 * 1024}};
  const auto nothing = [](Request&) { return no_content(); };
  router.add("PUT", "/json", Access::unit(), nothing);
  router.add("PUT", "/upload", Access::unit(), nothing).with_body(BodySize::upload);
  router.add("PUT", "/snapshot", Access::unit(), nothing).with_body(BodySize::upload).with_body_limit(4 * 1024 * 1024);
  router.add("PUT", "/open", Access::anyone(), nothing).with_body(BodySize::upload);
  const auto limit = [&](const std::string& path, const std::string& caller) {
    Request req;
    req.method = "PUT";
    req.target = path;
    split_target(path, req.path, req.query);
    req.headers.set("X-Test-Caller", caller);
    const auto a = router.admit(req);
    EXPECT_FALSE(a.refusal.has_value()) << path;
    return a.max_body_bytes;
  };
  EXPECT_EQ(limit("/json", "unit"), 64u * 1024);
  EXPECT_EQ(limit("/upload", "unit"), 16u * 1024 * 1024);
  EXPECT_EQ(limit("/snapshot", "unit"), 4u * 1024 * 1024) << "a snapshot is refused from its header beyond 4 MiB";
  EXPECT_EQ(limit("/open", ""), 8u * 1024) << "no credential, no large body, whatever the route";
}

TEST_F(RouterTest, ObserverSeesRoutePatternsNotPathsWithStatus) {
  std::vector<std::string> seen;
  router.set_observer([&](const std::string& pattern, const std::string& method, int status,
                          std::chrono::steady_clock::duration elapsed) {
    EXPECT_GE(elapsed.count(), 0);
    seen.push_back(method + " " + pattern + " " + std::to_string(status));
  });
  (void)as("admin", "GET", "/api/v1/things/pupil-name");
  (void)as("", "GET", "/api/v1/things/1");
  (void)as("admin", "DELETE", "/api/v1/things/1");
  (void)run(router, "GET", "/api/v1/secret/scan/path");
  (void)as("admin", "PATCH", "/api/v1/things/7");
  EXPECT_EQ(seen,
            (std::vector<std::string>{"GET /api/v1/things/{id} 200", "GET /api/v1/things/{id} 401",
                                      "DELETE /api/v1/things/{id} 409", "other unmatched 404", "other unmatched 405"}));
}
