#pragma once
// A real Mosquitto broker for tests: TLS only (a CA and a certificate for 127.0.0.1/localhost made
// with hub/tls), a password file, an optional ACL file, persistence on (so retained messages and
// offline sessions survive a restart), on a free loopback port. Stopped by its PID, never by name.
// stop() then start() restarts it on the same port and state: a broker outage for link tests.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::test {

class Broker {
 public:
  struct User {
    std::string name;
    std::string password;
  };
  struct Options {
    std::vector<User> users;
    // mosquitto acl_file text; empty: every authenticated user may do everything.
    std::string acl;
  };
  explicit Broker(const Options& options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Starts mosquitto and waits until it accepts connections; throws with its log when it does not.
  void start();
  // SIGTERM to the PID, waits for it to exit.
  void stop();
  bool running() const { return process_ != nullptr; }

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& ca_file() const { return ca_file_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string log() const;

 private:
  TempDir dir_{"broker-test"};
  std::uint16_t port_ = 0;
  std::filesystem::path ca_file_;
  std::filesystem::path config_;
  std::unique_ptr<Process> process_;
};

// A plain MQTT client (libmosquitto with its own network thread) for a test to play the hub or another
// unit: subscribes to `subscription` and keeps everything it receives.
class MqttClient {
 public:
  MqttClient(const Broker& broker, const std::string& user, const std::string& password,
             const std::string& subscription = "classcam/#", const std::string& client_id = "");
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  bool connected() const;
  void publish(const std::string& topic, const std::string& payload, bool retain = false, int qos = 1);
  // Payloads received on `topic`, oldest first.
  std::vector<std::string> on(const std::string& topic) const;

 private:
  void* m_ = nullptr;  // struct mosquitto
  std::string subscription_;
  mutable std::mutex mutex_;
  bool connected_ = false;
  std::vector<std::pair<std::string, std::string>> received_;
};

}  // namespace classcam::test
