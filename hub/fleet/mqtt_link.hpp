#pragma once
// The hub's MQTT connection (libmosquitto over TLS), with a reconnect loop of its own: libmosquitto's
// loop_start gives up reconnecting after some TLS failures ("unexpected eof" when the broker dies
// mid-handshake), and the hub must come back by itself after a broker restart.
//
// Threading rule: one network thread owned by this class runs connect/loop and libmosquitto's
// callbacks; it never touches hub state. It only posts each received message and each (re)connection
// to `executor` (a strand of the hub's io_context), where the handlers run. publish() may be called
// from any thread (libmosquitto is used in threaded mode).
#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log/log.hpp"

struct mosquitto;
struct mosquitto_message;

namespace classcam::hub::fleet {

class MqttLink {
 public:
  struct Options {
    std::string host;
    std::uint16_t port = 8883;
    std::filesystem::path ca_file;
    std::string username;
    std::string password;
    std::string client_id;
    std::vector<std::string> subscriptions;  // renewed on every connection
    int keepalive_s = 30;
    std::chrono::milliseconds min_backoff{200};
    std::chrono::milliseconds max_backoff{10000};
  };
  using OnMessage = std::function<void(const std::string& topic, const std::string& payload)>;
  using OnConnected = std::function<void()>;

  MqttLink(boost::asio::any_io_executor executor, Options options, OnMessage on_message, OnConnected on_connected);
  ~MqttLink();
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  void start();
  void stop();
  bool connected() const { return connected_; }
  // Connections the broker accepted so far: more than one without a broker restart means the hub was
  // disconnected (e.g. by another client taking over its client id).
  std::uint64_t connections() const { return connections_; }
  // Queued by libmosquitto while disconnected (QoS 1 is sent once connected). False on a local error.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain);

 private:
  void run();
  static void on_connect_cb(mosquitto* m, void* self, int rc);
  static void on_message_cb(mosquitto* m, void* self, const mosquitto_message* msg);

  boost::asio::any_io_executor executor_;
  Options options_;
  OnMessage on_message_;
  OnConnected on_connected_;
  log::Logger log_ = log::get("fleet");
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace classcam::hub::fleet
