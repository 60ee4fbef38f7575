#include "hub/fleet/mqtt_link.hpp"

#include <boost/asio/post.hpp>
#include <mosquitto.h>

namespace classcam::hub::fleet {

namespace {
std::once_flag lib_once;
}

MqttLink::MqttLink(boost::asio::any_io_executor executor, Options options, OnMessage on_message,
                   OnConnected on_connected)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      on_message_(std::move(on_message)),
      on_connected_(std::move(on_connected)) {
  std::call_once(lib_once, [] { mosquitto_lib_init(); });
  mosq_ = mosquitto_new(options_.client_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("mosquitto_new failed");
  mosquitto_threaded_set(mosq_, true);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_username_pw_set(mosq_, options_.username.c_str(), options_.password.c_str());
  if (const int rc = mosquitto_tls_set(mosq_, options_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
      rc != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("MQTT TLS setup with " + options_.ca_file.string() + ": " + mosquitto_strerror(rc));
  }
  mosquitto_connect_callback_set(mosq_, &MqttLink::on_connect_cb);
  mosquitto_message_callback_set(mosq_, &MqttLink::on_message_cb);
}

MqttLink::~MqttLink() {
  stop();
  mosquitto_destroy(mosq_);
}

void MqttLink::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void MqttLink::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);  // so the network thread cannot miss the wake-up while it backs off
    stopping_ = true;
  }
  mosquitto_disconnect(mosq_);
  wake_.notify_all();
  thread_.join();
  connected_ = false;
}

bool MqttLink::publish(const std::string& topic, const std::string& payload, int qos, bool retain) {
  const int rc =
      mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain);
  // NO_CONN: a QoS >= 1 message is still queued and goes out after the next connection.
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
    log_->warn("publish to {} failed: {}", topic, mosquitto_strerror(rc));
    return false;
  }
  return true;
}

void MqttLink::on_connect_cb(mosquitto* m, void* self, int rc) {
  auto* link = static_cast<MqttLink*>(self);
  if (rc != 0) {
    link->log_->warn("broker refused the hub's login: {}", mosquitto_connack_string(rc));
    return;
  }
  for (const auto& t : link->options_.subscriptions) mosquitto_subscribe(m, nullptr, t.c_str(), 1);
  link->connected_ = true;
  ++link->connections_;
  link->log_->info("connected to the broker at {}:{}", link->options_.host, link->options_.port);
  boost::asio::post(link->executor_, [link] { link->on_connected_(); });
}

void MqttLink::on_message_cb(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* link = static_cast<MqttLink*>(self);
  std::string topic = msg->topic ? msg->topic : "";
  std::string payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
  boost::asio::post(link->executor_, [link, topic = std::move(topic), payload = std::move(payload)] {
    link->on_message_(topic, payload);
  });
}

void MqttLink::run() {
  auto backoff = options_.min_backoff;
  bool first = true;
  while (!stopping_) {
    const int rc = first ? mosquitto_connect(mosq_, options_.host.c_str(), options_.port, options_.keepalive_s)
                         : mosquitto_reconnect(mosq_);
    if (rc == MOSQ_ERR_SUCCESS) {
      first = false;
      int loop_rc = MOSQ_ERR_SUCCESS;
      while (!stopping_ && loop_rc == MOSQ_ERR_SUCCESS) loop_rc = mosquitto_loop(mosq_, 200, 1);
      if (connected_.exchange(false)) backoff = options_.min_backoff;
      if (stopping_) break;
      log_->warn("lost the broker ({}); reconnecting", mosquitto_strerror(loop_rc));
    } else {
      log_->debug("cannot reach the broker at {}:{}: {}", options_.host, options_.port, mosquitto_strerror(rc));
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, backoff, [this] { return stopping_.load(); })) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace classcam::hub::fleet
