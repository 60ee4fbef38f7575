#pragma once
// The programs as built, run as real processes for end-to-end tests: classcam-hub (with the Mosquitto
// broker it manages) and classcamd/classcamctl. Each lives in a directory of the test's TempDir, listens
// only on loopback ports picked free, and is stopped by its PID.
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hub/testing/https_client.hpp"
#include "tests/support/process.hpp"

namespace classcam::e2e {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string hub_binary();
std::string daemon_binary();
std::string ctl_binary();

// "label: value" in an admin command's output; empty when absent.
std::string field(const std::string& output, const std::string& label);

class HubProcess {
 public:
  // `broker` adds a managed Mosquitto on a free loopback port; `extra` is appended to the config;
  // HTTPS listens on `listen` (a network namespace's host address for browser tests, the broker stays
  // on loopback).
  explicit HubProcess(const fs::path& dir, bool broker = false, const std::string& extra = "",
                      const std::string& listen = "127.0.0.1");
  fs::path config() const { return dir_ / "hub.toml"; }
  fs::path ca() const { return dir_ / "state/tls/ca.pem"; }
  std::uint16_t port() const { return port_; }
  std::uint16_t broker_port() const { return broker_port_; }
  std::string url() const { return "https://" + listen_ + ":" + std::to_string(port_); }

  // Starts the hub and waits until it serves HTTPS (and, with a broker, until the broker accepts).
  void start();
  int stop();  // SIGTERM; the exit code
  void kill9();
  bool running();
  std::string output() const;

  // An admin command against the same configuration (the service may be running).
  test::RunResult admin(std::vector<std::string> args) const;
  hub::testkit::HttpsClient client(const std::string& bearer) const;
  // GET `target` as `bearer`; the JSON object it answers (empty when unreachable or not an object).
  Json get(const std::string& bearer, const std::string& target) const;

 private:
  fs::path dir_;
  std::string listen_;
  std::uint16_t port_;
  std::uint16_t broker_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<test::Process> proc_;
};

// classcamd with test sources and its own spool, state directory and control socket.
class UnitProcess {
 public:
  // What differs between tests in the unit's picture (the rest are test defaults).
  struct Picture {
    int width = 320;
    int height = 240;
    std::string preset = "ultrafast";
    int bitrate_kbps = 500;
    bool latency_strip = false;
  };
  UnitProcess(const fs::path& dir, const std::string& extra_config = "");
  UnitProcess(const fs::path& dir, const Picture& picture, const std::string& extra_config = "");
  void start();
  int stop();  // SIGTERM; the exit code
  void kill9();
  test::RunResult ctl(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  Json status();  // classcamctl --json status (empty when classcamd does not answer)
  fs::path dir() const { return dir_; }
  fs::path spool() const { return dir_ / "spool"; }
  fs::path state_dir() const { return dir_ / "state"; }
  std::string output() const;

 private:
  fs::path dir_;
  fs::path config_;
  int runs_ = 0;
  std::unique_ptr<test::Process> proc_;
};

}  // namespace classcam::e2e
