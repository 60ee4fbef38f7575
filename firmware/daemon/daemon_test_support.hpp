#pragma once
// Shared by the daemon's tests: a unit with test sources in a temporary directory, and a harness that
// runs classcamd's Daemon in-process (fake button and LED) on the test's own io_context.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "firmware/daemon/daemon.hpp"
#include "firmware/gpio/fake.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::daemon::testkit {

using namespace std::chrono_literals;
using protocol::RecorderState;

inline config::UnitConfig test_config(const test::TempDir& dir) {
  auto c = config::default_unit_config();
  c.unit.state_dir = dir / "state";
  c.spool.dir = dir / "spool";
  c.control.socket = dir / "classcamd.sock";
  c.video.source = "test";
  c.video.width = 320;
  c.video.height = 240;
  c.audio.source = "test";
  c.encoder.preset = "ultrafast";
  c.encoder.bitrate_kbps = 500;
  c.recording.segment_ms = 1000;
  c.gpio.long_press_ms = 500;
  c.gpio.debounce_ms = 10;
  return c;
}

class Harness {
 public:
  explicit Harness(const config::UnitConfig& c) {
    auto button = std::make_unique<gpio::FakeButton>();
    auto led = std::make_unique<gpio::FakeLed>();
    button_ = button.get();
    led_ = led.get();
    daemon_ = std::make_unique<daemon::Daemon>(io_, c, std::move(button), std::move(led));
    daemon_->start();
  }
  ~Harness() { stop(); }
  // Shuts the daemon down as classcamd does on SIGTERM, and lets go of its spool and socket.
  void stop() {
    if (!daemon_) return;
    bool done = false;
    daemon_->shutdown("test over", [&] { done = true; });
    run_until([&] { return done; }, 20s);
    daemon_.reset();
  }
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(20ms);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    run_until([&] { return std::chrono::steady_clock::now() >= until; }, d + 1s);
  }
  RecorderState state() { return daemon_->controller().unit_state().state; }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ = boost::asio::make_work_guard(io_);
  gpio::FakeButton* button_ = nullptr;
  gpio::FakeLed* led_ = nullptr;
  std::unique_ptr<daemon::Daemon> daemon_;
};

// Starts a session through the controller and runs the loop until it records (or fails the test).
inline protocol::SessionInfo start_session(Harness& h, const session::StartRequest& request = {}) {
  std::optional<Result<protocol::SessionInfo>> started;
  h.daemon_->controller().start(request, [&](const Result<protocol::SessionInfo>& r) { started = r; });
  EXPECT_TRUE(h.run_until([&] { return started.has_value(); }, 20s));
  EXPECT_TRUE(started && started->ok()) << (started ? started->error().message : "no answer");
  return started && started->ok() ? started->value() : protocol::SessionInfo{};
}

}  // namespace classcam::daemon::testkit
