#pragma once
// The MQTT broker as the hub runs it (broker.manage = true): Mosquitto, a child of the hub, with a TLS
// listener whose certificate the hub's CA signs, and the logins and ACLs of every enrolled unit taken
// from the database. Its files are written fresh before each start; enrolment and revocation rewrite
// the password and ACL files and send SIGHUP, on which Mosquitto reloads them and disconnects any
// client whose login is no longer valid (so a revoked unit is kicked at once).
//
// Threading: apply_credentials() may be called from any thread (a mutex serialises file writes with
// the supervisor's own writes before a start). The supervisor thread is described in supervisor.hpp.
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/config/hub_config.hpp"
#include "hub/broker/files.hpp"
#include "hub/broker/supervisor.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::broker {

// The password the hub logs in to the broker with: generated once into <state_dir>/broker/hub.secret
// (0600). With broker.manage = false the operator gives the external broker this login.
std::string hub_password(const std::filesystem::path& state_dir);

// A new random password for a unit's MQTT login.
std::string new_unit_password();

class Broker {
 public:
  // `ca_dir` holds the hub's CA (ca.pem, ca.key: hub/tls); it signs the broker's certificate.
  Broker(const config::HubConfig& config, store::Store& store, std::filesystem::path ca_dir);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  void start();
  void stop();
  // Rewrites the password and ACL files from the database and has the broker reload them.
  void apply_credentials();
  // True once the listener accepts TCP connections (the hub's client retries anyway).
  bool wait_ready(std::chrono::milliseconds timeout) const;

  pid_t pid() const { return supervisor_->pid(); }
  int starts() const { return supervisor_->starts(); }
  const Layout& layout() const { return layout_; }
  std::filesystem::path ca_file() const { return ca_dir_ / "ca.pem"; }

 private:
  void write_files(bool with_certificate);

  const config::HubConfig& config_;
  store::Store& store_;
  std::filesystem::path ca_dir_;
  Layout layout_;
  std::string hub_password_;
  log::Logger log_ = log::get("broker");
  std::mutex files_mutex_;
  std::unique_ptr<Supervisor> supervisor_;
};

}  // namespace classcam::hub::broker
