#pragma once
// Agent: the unit's side of the conversation with the hub over MQTT. It publishes the recorder's
// state (retained) on every change, its events (sessions, segments, bookmarks, errors) and telemetry
// every telemetry.interval_s; it runs the hub's commands exactly once each (CommandBook) and answers
// every copy with the same result; it hands received schedules to the ScheduleRunner.
//
// Threading: everything here runs on the io_context; MqttLink owns the libmosquitto thread and posts
// what it receives here. Nothing here waits on the network, so a broker outage cannot disturb a
// recording.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "common/config/unit_config.hpp"
#include "common/protocol/json_reader.hpp"
#include "firmware/link/command_book.hpp"
#include "firmware/link/mqtt_link.hpp"
#include "firmware/live/service.hpp"
#include "firmware/schedule/runner.hpp"
#include "firmware/session/controller.hpp"
#include "firmware/spool/service.hpp"

namespace classcam::link {

// Sends a snapshot JPEG to the hub for a command; done(url or error). Set by whoever can upload.
using SnapshotSink =
    std::function<void(const std::string& command_id, std::string jpeg, std::function<void(Result<std::string>)>)>;

class Agent {
 public:
  struct Deps {
    boost::asio::io_context& io;
    session::Controller& controller;
    schedule::ScheduleRunner& schedule;
    spool::SpoolService& spool;
    const config::UnitConfig& config;
    std::string unit_id;
  };
  Agent(Deps deps, MqttSettings mqtt);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void start();
  void stop();

  void set_snapshot_sink(SnapshotSink sink) { snapshot_sink_ = std::move(sink); }
  // Live (stream_start / stream_stop, the hub's LiveStatus); unset: those commands are refused.
  void set_live(live::Service* live) { live_ = live; }
  // Upload progress for telemetry (bytes per second while uploading) and the last upload error.
  void set_upload_info(std::function<std::pair<std::optional<std::uint64_t>, std::string>()> f) {
    upload_info_ = std::move(f);
  }

  LinkStatus link_status() const { return link_->status(); }
  protocol::Json status() const;
  // Builds and publishes telemetry now (the timer does it every interval).
  void send_telemetry();

 private:
  void on_command(const protocol::Command& c);
  void on_bad_command(const std::string& raw, const Error& e);
  void answer(const protocol::Command& c, protocol::CommandStatus status, std::string detail,
              std::optional<std::string> session_id = std::nullopt,
              std::optional<std::string> snapshot_url = std::nullopt);
  void arm_telemetry();

  Deps deps_;
  MqttSettings mqtt_;
  CommandBook book_;
  std::unique_ptr<MqttLink> link_;
  boost::asio::steady_timer telemetry_timer_;
  std::set<std::string> in_flight_;
  SnapshotSink snapshot_sink_;
  live::Service* live_ = nullptr;
  std::function<std::pair<std::optional<std::uint64_t>, std::string>()> upload_info_;
  bool running_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// CPU temperature in °C from /sys/class/thermal (the first zone that reads); nullopt without a sensor.
std::optional<double> read_cpu_temp_c(const std::filesystem::path& thermal_dir = "/sys/class/thermal");
// Seconds since boot, from /proc/uptime.
std::uint64_t read_uptime_s();

}  // namespace classcam::link
