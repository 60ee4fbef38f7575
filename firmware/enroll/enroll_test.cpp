// Enrolment against an HTTPS server in the test (the hub's own server code, real TLS with a hub CA)
// serving the CA and an EnrollResponse, as the hub's enrolment routes do.
#include "firmware/enroll/enroll.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "common/protocol/pairing_code.hpp"
#include "firmware/enroll/enrollment.hpp"
#include "hub/http/server.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

class FakeHub {
 public:
  FakeHub() {
    material = hub::tls::ensure_local_material(dir / "tls", {"localhost", "127.0.0.1"});
    ca_pem = test::read_file(material.ca_cert);
    hub::http::ServerOptions o;
    o.cert_chain = material.cert_chain;
    o.key = material.key;
    server = std::make_unique<hub::http::Server>(
        io, o,
        hub::http::admit_all(
            [this](hub::http::Request& req, const hub::http::Reply& reply) {
              hub::http::Response res;
              if (req.method == "GET" && req.path == "/api/v1/enroll/ca") {
                res.headers.set("Content-Type", "application/x-pem-file");
                res.body = ca_pem;
              } else if (req.method == "POST" && req.path == "/api/v1/enroll") {
                {
                  const std::lock_guard lock(mutex);
                  posted.push_back(req.body);
                }
                if (!refusal.empty()) {
                  res.status = 403;
                  res.headers.set("Content-Type", "application/problem+json");
                  res.body = protocol::Json{{"title", "Forbidden"}, {"status", 403}, {"detail", refusal}}.dump();
                } else {
                  res.headers.set("Content-Type", "application/json");
                  res.body = protocol::encode(answer());
                }
              } else {
                res.status = 404;
              }
              reply(std::move(res));
            },
            64 * 1024));
    port = server->start();
    thread = std::thread([this] { io.run(); });
  }
  ~FakeHub() {
    std::promise<void> stopped;
    server->shutdown(1s, [&] { stopped.set_value(); });
    stopped.get_future().wait_for(5s);
    guard.reset();
    io.stop();
    thread.join();
  }
  protocol::EnrollResponse answer() const {
    protocol::EnrollResponse e;
    e.unit_id = "room-12";
    e.unit_name = "Room 12 camera";
    e.api_token = "ct_secret";
    e.mqtt_host = "127.0.0.1";
    e.mqtt_port = 8883;
    e.mqtt_username = "room-12";
    e.mqtt_password = "m_secret";
    e.hub_url = url();
    e.ca_pem = ca_pem;
    return e;
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }

  test::TempDir dir{"fake-hub"};
  hub::tls::Material material;
  std::string ca_pem;
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard{io.get_executor()};
  std::unique_ptr<hub::http::Server> server;
  std::uint16_t port = 0;
  std::thread thread;
  std::mutex mutex;
  std::vector<std::string> posted;
  std::string refusal;
};

}  // namespace

TEST(Enroll, FetchesThePinnedCaThenEnrolsOverVerifiedTlsAndStoresTheAnswer) {
  FakeHub hub;
  test::TempDir unit;
  const auto code = protocol::make_pairing_code(hub.ca_pem);
  // Typed as people type it: lower case, spaces.
  std::string typed = code.text();
  for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto e = enroll::enroll_with_hub(hub.url(), typed, "classcam-room12", unit / "state");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(*e, hub.answer());
  ASSERT_EQ(hub.posted.size(), 1u);
  const auto req = protocol::decode<protocol::EnrollRequest>(hub.posted[0]);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->code, code.text());
  EXPECT_EQ(req->hostname, "classcam-room12");

  ASSERT_TRUE(enroll::save_enrollment(unit / "state", *e));
  EXPECT_EQ(std::filesystem::status(unit / "state" / "enrollment.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(test::read_file(unit / "state" / "hub-ca.pem"), hub.ca_pem);
  EXPECT_EQ(test::read_file(unit / "state" / "unit_id"), "room-12\n");
  auto loaded = enroll::load_enrollment(unit / "state");
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ(**loaded, *e);
  EXPECT_FALSE(std::filesystem::exists(unit / "state" / ".hub-ca.pending.pem"));
}

TEST(Enroll, ACaTheCodeDoesNotPinIsRefusedBeforeTheCodeIsSent) {
  FakeHub hub;
  FakeHub other;  // another CA: a machine in the middle, or the wrong hub URL
  test::TempDir unit;
  const auto code = protocol::make_pairing_code(other.ca_pem);
  auto e = enroll::enroll_with_hub(hub.url(), code.text(), "u", unit / "state");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, enroll::kNotPinned);
  EXPECT_TRUE(hub.posted.empty()) << "the secret must not be sent to an unpinned hub";
  EXPECT_FALSE(enroll::load_enrollment(unit / "state").value());
}

TEST(Enroll, TheHubsRefusalIsShownInItsWords) {
  FakeHub hub;
  hub.refusal = "pairing code expired; ask for a new one";
  test::TempDir unit;
  auto e = enroll::enroll_with_hub(hub.url(), protocol::make_pairing_code(hub.ca_pem).text(), "u", unit / "state");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "the hub refused the enrolment: pairing code expired; ask for a new one");
}

TEST(Enroll, BadInputSaysWhatIsWrong) {
  test::TempDir unit;
  auto e = enroll::enroll_with_hub("https://127.0.0.1:1", "not a code", "u", unit / "state");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message.rfind("pairing code: ", 0), 0u) << e.error().message;
  FakeHub hub;
  e = enroll::enroll_with_hub("http://127.0.0.1:1", protocol::make_pairing_code(hub.ca_pem).text(), "u", unit / "s");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("https://"), std::string::npos);
  e = enroll::enroll_with_hub("https://127.0.0.1:1", protocol::make_pairing_code(hub.ca_pem).text(), "u", unit / "s");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("cannot reach the hub"), std::string::npos) << e.error().message;
}
