#pragma once
// Daemon: classcamd's parts wired together on one io_context: the spool (recovered at start), the
// capture selection (probed once at start, logged with its reasons), the session controller, the
// button and LED, the control socket and systemd notifications. main.cpp only parses arguments,
// handles signals and runs the loop; tests build a Daemon with a fake button and LED.
//
// Threading: the Daemon and everything it owns live on the io_context thread, except the worker pool
// (fsync, hashing, JPEG encoding, previews), which posts its results back.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/config/unit_config.hpp"
#include "firmware/control/server.hpp"
#include "firmware/daemon/notify.hpp"
#include "firmware/gpio/gestures.hpp"
#include "firmware/gpio/gpio.hpp"
#include "firmware/link/agent.hpp"
#include "firmware/live/service.hpp"
#include "firmware/metrics/unit_metrics.hpp"
#include "firmware/schedule/runner.hpp"
#include "firmware/session/button.hpp"
#include "firmware/session/controller.hpp"
#include "firmware/spool/service.hpp"
#include "firmware/uploader/uploader.hpp"

namespace classcam::daemon {

// The unit's id: from enrolment (state_dir/unit_id) once enrolled, else "unenrolled".
std::string read_unit_id(const std::filesystem::path& state_dir);

class Daemon {
 public:
  // `button` may be null (no GPIO); `led` must not be (gpio::NoLed when there is none).
  Daemon(boost::asio::io_context& io, config::UnitConfig config, std::unique_ptr<gpio::Button> button,
         std::unique_ptr<gpio::Led> led);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens and recovers the spool, probes capture, opens the control socket, tells systemd it is ready.
  // Throws std::runtime_error with a message for the operator when the unit cannot work at all.
  void start();
  // Finalises a running recording (EOS, segments closed), closes the socket, then calls done.
  void shutdown(const std::string& reason, std::function<void()> done);

  session::Controller& controller() { return *controller_; }
  const config::UnitConfig& config() const { return config_; }
  // Spool access for tests, once the worker pool has no spool work in flight.
  spool::SpoolService& spool_service() { return *spool_; }
  schedule::ScheduleRunner& schedule_runner() { return *schedule_; }
  // The MQTT agent; null while the unit is not enrolled.
  link::Agent* agent() { return agent_.get(); }
  // The segment uploader; null while the unit is not enrolled (or upload.enabled is false).
  uploader::Uploader* uploader() { return uploader_.get(); }

 private:
  void handle(const control::Request& request, control::Server::Reply reply);
  void status(control::Server::Reply reply);
  void enroll(const control::Request& r, control::Server::Reply reply);
  control::Json schedule_status() const;
  void on_gesture(const gpio::Gesture& g);
  void button_action(session::ButtonAction action, const gpio::Gesture& g);
  void arm_button_timer();
  // classcamctl live mute|unmute and the button's double press.
  Status set_talkback_muted(bool muted, const char* how);
  void on_change();
  void update_led();
  void led_tick(bool lit);
  // Starts the link to the hub when the unit is enrolled (at start, and right after an enrolment).
  void start_link();
  void send_snapshot(const std::string& command_id, std::string jpeg, std::function<void(Result<std::string>)> done);

  boost::asio::io_context& io_;
  const config::UnitConfig config_;
  std::string unit_id_;  // "unenrolled" until enrolment
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<gpio::Button> button_;
  std::unique_ptr<gpio::Led> led_;
  std::unique_ptr<spool::SpoolService> spool_;
  std::unique_ptr<session::Controller> controller_;
  std::unique_ptr<schedule::ScheduleRunner> schedule_;
  std::unique_ptr<link::Agent> agent_;
  std::unique_ptr<live::Service> live_;
  boost::asio::steady_timer led_timer_;  // the live pattern
  bool led_blinking_ = false;
  std::unique_ptr<uploader::Uploader> uploader_;
  std::optional<protocol::EnrollResponse> enrollment_;
  std::unique_ptr<gpio::ButtonGestures> gestures_;
  session::ButtonPolicy button_policy_;
  boost::asio::steady_timer button_timer_;  // a single press held back while live (button.hpp)
  std::unique_ptr<control::Server> server_;
  std::unique_ptr<unit_metrics::MetricsWriter> metrics_;  // metrics.textfile set
  std::uint64_t segments_closed_ = 0;                     // since start, for the metrics
  SystemdNotifier notifier_;
  bool shutting_down_ = false;
  bool enrolling_ = false;
  bool upload_wake_registered_ = false;
};

}  // namespace classcam::daemon
