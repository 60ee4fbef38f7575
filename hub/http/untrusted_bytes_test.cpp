// Request bytes that are not UTF-8, and handlers that fail while failing, against the real server over
// TLS: every one gets an answer and the server goes on serving.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <future>
#include <thread>

#include "hub/http/responses.hpp"
#include "hub/http/router.hpp"
#include "hub/http/server.hpp"
#include "hub/testing/https_client.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace classcam::hub::http;
using namespace std::chrono_literals;
using access::Access;
using Json = protocol::Json;

namespace {

class UntrustedBytesServerTest : public ::testing::Test {
 protected:
  test::TempDir dir{"http-bytes-test"};
  tls::Material tls = tls::ensure_local_material(dir / "tls", {"localhost", "127.0.0.1"});
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
  Router router{[](const Request&) { return access::Principal{}; }};
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;

  // `front`, when given, admits every request instead of the router (a stand-in for web::admit).
  void start(const Admit& front = nullptr) {
    router.add("GET", "/alive", Access::anyone(), [](Request&) { return json(200, {{"ok", true}}); });
    router.add("GET", "/items/{id}", Access::anyone(),
               [](Request& r) -> Response { throw HttpError(404, "no item " + r.param("id"), "id"); });
    router.add("GET", "/throws/anything", Access::anyone(), [](Request&) -> Response { throw 42; });
    router.add("GET", "/throws/bytes", Access::anyone(),
               [](Request&) -> Response { throw HttpError(409, "taken by \"\xff\xfe\"", "title"); });
    router.add("GET", "/throws/runtime", Access::anyone(),
               [](Request&) -> Response { throw std::runtime_error("disk \xff failed"); });
    router.add_async("GET", "/worker/bytes", Access::anyone(), [](Request& r, const Reply& reply) {
      // Like on_worker: the error response is built on another thread, where an escaping exception
      // ends the process.
      std::thread([req = r, reply] {
        reply(guarded(req, []() -> Response { throw HttpError(415, "got \"\xc3\x28\"", "Content-Type"); }));
      }).detach();
    });
    ServerOptions o;
    o.cert_chain = tls.cert_chain;
    o.key = tls.key;
    Admit admit = front ? front : Admit([this](Request& req) { return router.admit(req); });
    server = std::make_unique<Server>(io, o, admit);
    port = server->start();
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
  }

  testkit::HttpsClient client() {
    testkit::ClientOptions c;
    c.ca_file = tls.ca_cert;
    return testkit::HttpsClient("127.0.0.1", port, c);
  }

  void expect_alive() {
    auto c = client();
    EXPECT_EQ(c.request("GET", "/alive").status, 200);
  }

  static Json problem_of(const testkit::HttpResponse& r) {
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    auto j = Json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.body;
    return j;
  }

  void TearDown() override {
    if (server) {
      std::promise<void> stopped;
      server->shutdown(2s, [&] { stopped.set_value(); });
      stopped.get_future().wait_for(10s);
    }
    work.reset();
    io.stop();
    for (auto& t : threads) t.join();
  }
};

}  // namespace

TEST(Problem, BuildsValidJsonFromTextThatIsNotUtf8) {
  Response r;
  ASSERT_NO_THROW(r = problem(404, "no such resource: /api/\xff\xc3", "pa\xfeth"));
  EXPECT_EQ(r.status, 404);
  const auto j = Json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["detail"], "pa\xef\xbf\xbdth: no such resource: /api/\xef\xbf\xbd\xef\xbf\xbd");
  ASSERT_NO_THROW(r = json(200, {{"name", "\xff"}}));
  EXPECT_EQ(r.body, "{\"name\":\"\xef\xbf\xbd\"}");
}

TEST_F(UntrustedBytesServerTest, RawInvalidUtf8PathIs400NamingThePath) {
  start();
  auto c = client();
  c.send_raw("GET /nowhere/\xff HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(problem_of(r)["field"], "path");
  expect_alive();
}

TEST_F(UntrustedBytesServerTest, PercentFFInAPathParameterIs400NamingTheParameter) {
  start();
  auto c = client();
  const auto r = c.request("GET", "/items/%FF");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(problem_of(r)["field"], "id");
  EXPECT_EQ(c.request("GET", "/items/caf%C3%A9").status, 404);
  expect_alive();
}

TEST_F(UntrustedBytesServerTest, InvalidUtf8InAHeaderValueIs400NamingTheHeader) {
  start();
  auto c = client();
  const auto r = c.request("GET", "/alive", "", {{"X-Anything", "a\xff"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(problem_of(r)["field"], "X-Anything");
  // Cookies from other sites on the same host are the hub's to ignore, not to refuse.
  EXPECT_EQ(c.request("GET", "/alive", "", {{"Cookie", "other=caf\xe9"}}).status, 200);
}

TEST_F(UntrustedBytesServerTest, AHandlerThatThrowsAnythingIs500AndTheServerLives) {
  start();
  auto c = client();
  const auto r = c.request("GET", "/throws/anything");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(problem_of(r)["status"], 500);
  EXPECT_EQ(c.request("GET", "/throws/runtime").status, 500);
  expect_alive();
}

TEST_F(UntrustedBytesServerTest, AnErrorWhoseTextIsNotUtf8KeepsItsStatus) {
  // The problem used to be built inside guarded()'s catch, where the JSON error escaped it.
  start();
  auto c = client();
  const auto r = c.request("GET", "/throws/bytes");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(problem_of(r)["field"], "title");
  const auto w = c.request("GET", "/worker/bytes");
  EXPECT_EQ(w.status, 415);
  EXPECT_EQ(problem_of(w)["field"], "Content-Type");
  expect_alive();
}

TEST_F(UntrustedBytesServerTest, AHandlerOrAdmissionThatThrowsOnTheIoThreadIs500AndTheServerLives) {
  const Admit throwing_handler = admit_all(
      [](Request& req, const Reply&) {
        if (req.path == "/front/throws") throw std::runtime_error("front handler failed");
        throw 7;
      },
      1024);
  start([this, throwing_handler](Request& req) -> Admission {
    if (req.path == "/admit/throws") throw std::runtime_error("admission failed");
    if (req.path == "/admit/throws-int") throw 7;
    if (req.path.rfind("/front/", 0) == 0) return throwing_handler(req);
    return router.admit(req);
  });
  for (const char* path : {"/front/throws", "/front/throws-int", "/admit/throws", "/admit/throws-int"}) {
    auto c = client();
    EXPECT_EQ(c.request("GET", path).status, 500) << path;
  }
  expect_alive();
}
