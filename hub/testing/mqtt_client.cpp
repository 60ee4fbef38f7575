#include "hub/testing/mqtt_client.hpp"

#include <mosquitto.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

namespace classcam::hub::testkit {

namespace {
template <typename Pred>
bool poll(std::mutex& m, std::chrono::milliseconds timeout, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(m);
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
}  // namespace

MqttClient::MqttClient(const std::string& client_id, bool clean_session) {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
  m_ = mosquitto_new(client_id.c_str(), clean_session, this);
  mosquitto_int_option(m_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(m_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(m_, &MqttClient::on_disconnect);
  mosquitto_subscribe_callback_set(m_, &MqttClient::on_subscribe);
  mosquitto_publish_callback_set(m_, &MqttClient::on_publish);
  mosquitto_message_callback_set(m_, &MqttClient::on_message);
  // A test client must not reconnect by itself: a refused login has to stay refused.
  mosquitto_reconnect_delay_set(m_, 3600, 3600, false);
}

MqttClient::~MqttClient() {
  if (loop_started_) {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, true);
  }
  mosquitto_destroy(m_);
}

void MqttClient::on_connect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->connack_ = rc;
  c->connected_ = rc == 0;
}

void MqttClient::on_disconnect(mosquitto*, void* self, int) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->connected_ = false;
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->subacks_.emplace_back(mid, count > 0 ? granted[0] : -1);
}

void MqttClient::on_publish(mosquitto*, void* self, int mid) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->acked_mids_.push_back(mid);
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->messages_.push_back(
      {msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)),
       msg->retain});
}

int MqttClient::connect(std::uint16_t port, const std::filesystem::path& ca_file, const std::string& user,
                        const std::string& password, const std::optional<Will>& will,
                        std::chrono::milliseconds timeout) {
  mosquitto_username_pw_set(m_, user.c_str(), password.c_str());
  mosquitto_tls_set(m_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  if (will) {
    mosquitto_will_set(m_, will->topic.c_str(), static_cast<int>(will->payload.size()), will->payload.data(), 1,
                       will->retain);
  }
  {
    std::lock_guard lock(mutex_);
    connack_.reset();
  }
  if (mosquitto_connect(m_, "127.0.0.1", port, 5) != MOSQ_ERR_SUCCESS) return -1;
  if (!loop_started_) {
    mosquitto_loop_start(m_);
    loop_started_ = true;
  }
  if (!poll(mutex_, timeout, [this] { return connack_.has_value(); })) return -1;
  std::lock_guard lock(mutex_);
  return *connack_;
}

int MqttClient::subscribe(const std::string& topic, int qos, std::chrono::milliseconds timeout) {
  int mid = 0;
  if (mosquitto_subscribe(m_, &mid, topic.c_str(), qos) != MOSQ_ERR_SUCCESS) return -1;
  int granted = -1;
  poll(mutex_, timeout, [&] {
    for (const auto& [m, g] : subacks_) {
      if (m == mid) {
        granted = g;
        return true;
      }
    }
    return false;
  });
  return granted;
}

bool MqttClient::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                         std::chrono::milliseconds timeout) {
  int mid = 0;
  if (mosquitto_publish(m_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain) !=
      MOSQ_ERR_SUCCESS) {
    return false;
  }
  if (qos == 0) return true;
  return poll(mutex_, timeout, [&] { return std::count(acked_mids_.begin(), acked_mids_.end(), mid) > 0; });
}

std::optional<MqttClient::Message> MqttClient::wait_message(const std::string& topic,
                                                            std::chrono::milliseconds timeout) {
  std::optional<Message> out;
  poll(mutex_, timeout, [&] {
    for (const auto& m : messages_) {
      if (m.topic == topic) {
        out = m;
        return true;
      }
    }
    return false;
  });
  return out;
}

std::vector<MqttClient::Message> MqttClient::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

bool MqttClient::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

bool MqttClient::wait_disconnected(std::chrono::milliseconds timeout) {
  return poll(mutex_, timeout, [this] { return !connected_; });
}

void MqttClient::drop() {
  // Shutting the socket down makes the loop thread see an error: no DISCONNECT packet is sent.
  const int fd = mosquitto_socket(m_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  mosquitto_loop_stop(m_, true);
  loop_started_ = false;
}

void MqttClient::disconnect() { mosquitto_disconnect(m_); }

}  // namespace classcam::hub::testkit
