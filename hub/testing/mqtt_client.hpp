#pragma once
// A plain MQTT client for tests (libmosquitto over TLS, its own loop thread): connect with a login,
// publish, subscribe, and wait for what arrives. It records what the broker said (CONNACK code,
// SUBACK grants, disconnections) so tests can assert refusals.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace classcam::hub::testkit {

class MqttClient {
 public:
  struct Will {
    std::string topic;
    std::string payload;
    bool retain = true;
  };
  struct Message {
    std::string topic;
    std::string payload;
    bool retained = false;
  };

  explicit MqttClient(const std::string& client_id, bool clean_session = true);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Connects and waits for the CONNACK. Returns the CONNACK code (0 = accepted), or -1 when no
  // CONNACK came (TLS or network failure) within `timeout`.
  int connect(std::uint16_t port, const std::filesystem::path& ca_file, const std::string& user,
              const std::string& password, const std::optional<Will>& will = std::nullopt,
              std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Subscribes and waits for the SUBACK; returns the granted QoS (128 = refused), or -1 on timeout.
  int subscribe(const std::string& topic, int qos = 1, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Publishes; with QoS 1 waits for the PUBACK. Returns false when it was not acknowledged.
  bool publish(const std::string& topic, const std::string& payload, int qos = 1, bool retain = false,
               std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The first message received on `topic` (now or within `timeout`).
  std::optional<Message> wait_message(const std::string& topic, std::chrono::milliseconds timeout);
  std::vector<Message> messages() const;
  bool connected() const;
  // Waits until the broker has closed the connection.
  bool wait_disconnected(std::chrono::milliseconds timeout);
  // Closes the socket without DISCONNECT, so the broker publishes the will.
  void drop();
  void disconnect();

 private:
  static void on_connect(mosquitto*, void*, int);
  static void on_disconnect(mosquitto*, void*, int);
  static void on_subscribe(mosquitto*, void*, int, int, const int*);
  static void on_publish(mosquitto*, void*, int);
  static void on_message(mosquitto*, void*, const mosquitto_message*);

  mosquitto* m_ = nullptr;
  mutable std::mutex mutex_;
  std::optional<int> connack_;
  bool connected_ = false;
  std::vector<int> acked_mids_;
  std::vector<std::pair<int, int>> subacks_;  // mid, granted qos
  std::vector<Message> messages_;
  bool loop_started_ = false;
};

}  // namespace classcam::hub::testkit
