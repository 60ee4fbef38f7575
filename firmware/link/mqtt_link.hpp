#pragma once
// MqttLink: the unit's MQTT connection to the hub's broker (libmosquitto over TLS, the hub CA pinned,
// client id = unit id, clean session off, a retained "offline" UnitState as last will).
//
// Threading rule: libmosquitto runs only on this class's own thread, which connects, runs
// mosquitto_loop and reconnects with exponential backoff and jitter by itself (loop_start's built-in
// reconnect gives up after some TLS errors, e.g. "unexpected eof"). Everything it receives (commands,
// schedules, connection changes) is posted to the io_context; the io_context side only puts messages
// into a bounded outbox under a mutex, so nothing the broker does can block the recorder.
//
// While disconnected: the latest UnitState and Telemetry are kept and sent on reconnect (both are
// retained); events and results wait in the outbox (at most kOutboxLimit; the oldest events are dropped
// first, results are kept).
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/protocol/messages.hpp"

struct mosquitto;
struct mosquitto_message;

namespace classcam::link {

inline constexpr std::size_t kOutboxLimit = 1000;

struct MqttSettings {
  std::string unit_id;
  std::string host;
  std::uint16_t port = 8883;
  std::string username;
  std::string password;
  std::filesystem::path ca_file;
  std::chrono::seconds keepalive{30};
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
};

struct LinkStatus {
  bool connected = false;
  std::string last_error;  // why the last connection failed or ended; empty if none
  std::uint32_t connects = 0;
  std::size_t outbox = 0;
  std::uint64_t dropped = 0;  // events dropped because the outbox was full
};

class MqttLink {
 public:
  struct Handlers {
    std::function<void(const protocol::Command&)> command;
    std::function<void(const std::string& raw, const Error&)> bad_command;  // undecodable payload
    std::function<void(const protocol::Schedule&)> schedule;
    std::function<void(bool connected)> connection;
    std::function<void(const protocol::LiveStatus&)> live;  // the hub's retained LiveStatus (docs/live.md)
  };
  MqttLink(boost::asio::io_context& io, MqttSettings settings, Handlers handlers);
  ~MqttLink();  // stop()
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  void start();
  // Publishes an "offline" state (a clean disconnect sends no will), disconnects and joins the thread.
  void stop();

  void publish(const protocol::UnitState& s);
  void publish(const protocol::Telemetry& t);
  void publish(const protocol::Event& e);
  void publish(const protocol::CommandResult& r);

  LinkStatus status() const;

 private:
  struct Message {
    std::string topic;
    std::string payload;
    int qos;
    bool retain;
    bool droppable;
  };
  void run();
  bool connect_once();
  void flush();
  void enqueue(Message m);
  void wait_backoff(std::chrono::milliseconds d);
  void set_error(const std::string& e);
  static void on_connect(mosquitto* m, void* self, int rc);
  static void on_disconnect(mosquitto* m, void* self, int rc);
  static void on_message(mosquitto* m, void* self, const mosquitto_message* msg);

  boost::asio::io_context& io_;
  const MqttSettings settings_;
  Handlers handlers_;
  mosquitto* mosq_ = nullptr;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool connected_ = false;  // CONNACK accepted and not yet disconnected (link thread writes)
  bool state_dirty_ = false;
  bool telemetry_dirty_ = false;
  bool tried_ = false;
  bool refused_ = false;  // link thread only: the last CONNACK was a refusal  // link thread only: mosquitto_connect
                          // once, then mosquitto_reconnect
  std::deque<Message> outbox_;
  std::optional<Message> state_;
  std::optional<Message> telemetry_;
  LinkStatus status_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace classcam::link
