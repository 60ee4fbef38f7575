#pragma once
// The fleet: what units say over MQTT (state, telemetry, events, command results) kept in the
// database, and what the hub says to them (commands, QoS 1; schedules, retained QoS 1).
//
// Threading rule: every handler runs on one strand of the hub's io_context; MqttLink's network thread
// only posts to it. send_command() and publish_schedule() may be called from any thread (they only
// read the store and publish). Schedules are republished when the store's schedule revision moves
// (checked every 2 s on the strand), on every (re)connection, and daily so the horizon rolls.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/protocol/messages.hpp"
#include "hub/fleet/mqtt_link.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::fleet {

struct FleetOptions {
  std::string host;
  std::uint16_t port = 8883;
  std::filesystem::path ca_file;
  std::string hub_password;
  std::uint32_t horizon_days = 14;
  std::string timezone = "UTC";
  std::chrono::milliseconds revision_check{2000};
  // Called (on the strand) with each session a unit announces in a session_started/ended event, so the
  // recording exists before its first upload; unset = ignored. Blocking work belongs on a worker.
  std::function<void(const store::Unit&, const protocol::SessionInfo&)> on_session = {};
};

class Fleet {
 public:
  Fleet(boost::asio::io_context& io, store::Store& store, FleetOptions options);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  void start();
  void stop();
  bool connected() const { return link_->connected(); }
  std::uint64_t connections() const { return link_->connections(); }

  // Publishes `c` on the unit's commands topic (QoS 1; queued while the broker is away).
  bool send_command(const std::string& unit_id, const protocol::Command& c);
  // Builds and publishes the unit's Schedule, retained. An unenrolled or revoked unit's retained
  // schedule is cleared instead.
  void publish_schedule(const std::string& unit_id);
  // Publishes the unit's LiveStatus, retained (docs/live.md).
  bool publish_live(const protocol::LiveStatus& status);

  // Handlers, public for tests that feed messages without a broker.
  void handle_message(const std::string& topic, const std::string& payload);

 private:
  void on_connected();
  void publish_all_schedules();
  void check_revision();

  store::Store& store_;
  FleetOptions options_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<MqttLink> link_;
  std::atomic<bool> stopped_{false};
  std::int64_t published_revision_ = -1;
  std::chrono::steady_clock::time_point published_at_{};
  log::Logger log_ = log::get("fleet");
};

}  // namespace classcam::hub::fleet
