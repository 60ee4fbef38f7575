#include "tests/support/broker.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "hub/tls/certificates.hpp"
#include "tests/support/ports.hpp"

namespace classcam::test {

Broker::Broker(Options options) {
  const auto tls_dir = dir_ / "tls";
  hub::tls::ensure_local_material(tls_dir, {"localhost", "127.0.0.1"});
  ca_file_ = tls_dir / "ca.pem";
  hub::tls::issue_leaf(tls_dir, {"localhost", "127.0.0.1", "::1"}, dir_ / "broker.pem", dir_ / "broker.key", 30);

  const auto passwd = dir_ / "passwd";
  write_file(passwd, "");
  for (const auto& u : options.users) {
    const auto r = run({"mosquitto_passwd", "-b", passwd.string(), u.name, u.password});
    if (r.exit_code != 0) throw std::runtime_error("mosquitto_passwd failed: " + r.output);
  }
  std::string acl_line;
  if (!options.acl.empty()) {
    write_file(dir_ / "acl", options.acl);
    acl_line = "acl_file " + (dir_ / "acl").string() + "\n";
  }
  std::filesystem::create_directories(dir_ / "data");
  port_ = free_port();
  config_ = dir_ / "mosquitto.conf";
  // user root: the test's files stay readable (mosquitto would otherwise drop to user mosquitto).
  write_file(config_, fmt::format("per_listener_settings false\n"
                                  "allow_anonymous false\n"
                                  "user root\n"
                                  "password_file {}\n"
                                  "{}"
                                  "persistence true\n"
                                  "persistence_location {}/\n"
                                  "autosave_interval 1\n"
                                  "log_dest stderr\n"
                                  "log_type all\n"
                                  "listener {} 127.0.0.1\n"
                                  "cafile {}\n"
                                  "certfile {}\n"
                                  "keyfile {}\n",
                                  passwd.string(), acl_line, (dir_ / "data").string(), port_, ca_file_.string(),
                                  (dir_ / "broker.pem").string(), (dir_ / "broker.key").string()));
  start();
}

Broker::~Broker() { stop(); }

void Broker::start() {
  if (process_) return;
  process_ = std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", config_.string()},
                                       dir_ / "mosquitto.log");
  if (!wait_until([&] { return port_open(port_) || !process_->running(); }, std::chrono::seconds(10)) ||
      !process_->running()) {
    const auto out = log();
    process_.reset();
    throw std::runtime_error("mosquitto did not start:\n" + out);
  }
}

void Broker::stop() {
  if (!process_) return;
  process_->stop(15, std::chrono::seconds(10));
  process_.reset();
}

std::string Broker::log() const {
  std::error_code ec;
  return std::filesystem::exists(dir_ / "mosquitto.log", ec) ? read_file(dir_ / "mosquitto.log") : "";
}

}  // namespace classcam::test
