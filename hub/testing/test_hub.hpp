#pragma once
// A real hub in the test process: its own state directory, port 0 on 127.0.0.1, real TLS, real
// SQLite, and helpers to make people, rooms and units with known credentials.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/config/hub_config.hpp"
#include "hub/app/service.hpp"
#include "hub/store/store.hpp"
#include "hub/testing/https_client.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::hub::testkit {

// The metrics token of test_config() (GET /metrics).
inline constexpr const char* kMetricsToken = "test-metrics-token-0123456789abcdef0123";

// Configuration for a hub under test: state in `state_dir`, loopback, any free port, two threads,
// no free-space floor (tests that need one set it).
config::HubConfig test_config(const std::filesystem::path& state_dir);
// The same with a real Mosquitto run by the hub on a free loopback port (broker.port).
config::HubConfig test_config_with_broker(const std::filesystem::path& state_dir);

class TestHub {
 public:
  explicit TestHub(std::optional<config::HubConfig> config = std::nullopt);
  ~TestHub();

  Service& service() { return *service_; }
  // Stops the service and starts it again on the same state (and, when the config names a port, on
  // the same port): a hub restart for resume tests.
  void restart();
  store::Store& store() { return service_->store(); }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path ca_file() const;

  // A client trusting the hub's CA, with no credentials.
  HttpsClient client() const;
  // A client carrying `Authorization: Bearer <token>`.
  HttpsClient client(const std::string& bearer) const;

  struct Person {
    store::User user;
    std::string password;
    std::string token;  // an API token of theirs
  };
  Person add_person(const std::string& login, store::Role role);
  store::Room add_room(const std::string& name, const std::optional<std::string>& default_teacher = std::nullopt);
  struct NewUnit {
    store::Unit unit;
    std::string token;
  };
  NewUnit add_unit(const std::string& id, const std::optional<std::string>& room_id);

 private:
  test::TempDir dir_{"hub-test"};
  config::HubConfig config_;
  std::unique_ptr<Service> service_;
  std::uint16_t port_ = 0;
};

}  // namespace classcam::hub::testkit
