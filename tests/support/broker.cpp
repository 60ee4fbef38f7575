#include "tests/support/broker.hpp"

#include <fmt/format.h>
#include <mosquitto.h>

#include <stdexcept>

#include "hub/tls/certificates.hpp"
#include "tests/support/ports.hpp"

namespace classcam::test {

Broker::Broker(const Options& options) {
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

MqttClient::MqttClient(const Broker& broker, const std::string& user, const std::string& password,
                       const std::string& subscription, const std::string& client_id)
    : subscription_(subscription) {
  mosquitto_lib_init();
  auto* m = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), true, this);
  m_ = m;
  mosquitto_username_pw_set(m, user.c_str(), password.c_str());
  mosquitto_tls_set(m, broker.ca_file().c_str(), nullptr, nullptr, nullptr, nullptr);
  mosquitto_connect_callback_set(m, [](mosquitto* mq, void* self, int rc) {
    auto* me = static_cast<MqttClient*>(self);
    if (rc != 0) return;
    mosquitto_subscribe(mq, nullptr, me->subscription_.c_str(), 1);
    const std::lock_guard lock(me->mutex_);
    me->connected_ = true;
  });
  mosquitto_message_callback_set(m, [](mosquitto*, void* self, const mosquitto_message* msg) {
    auto* me = static_cast<MqttClient*>(self);
    const std::lock_guard lock(me->mutex_);
    me->received_.emplace_back(
        msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)));
  });
  if (mosquitto_connect(m, "127.0.0.1", broker.port(), 10) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("test MQTT client cannot connect");
  }
  mosquitto_loop_start(m);
  wait_until([&] { return connected(); }, std::chrono::seconds(10));
}

MqttClient::~MqttClient() {
  auto* m = static_cast<mosquitto*>(m_);
  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, false);
  mosquitto_destroy(m);
}

bool MqttClient::connected() const {
  const std::lock_guard lock(mutex_);
  return connected_;
}

void MqttClient::publish(const std::string& topic, const std::string& payload, bool retain, int qos) {
  mosquitto_publish(static_cast<mosquitto*>(m_), nullptr, topic.c_str(), static_cast<int>(payload.size()),
                    payload.data(), qos, retain);
}

std::vector<std::string> MqttClient::on(const std::string& topic) const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [t, p] : received_) {
    if (t == topic) out.push_back(p);
  }
  return out;
}

}  // namespace classcam::test
