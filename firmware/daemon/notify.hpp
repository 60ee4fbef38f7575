#pragma once
// systemd integration (Type=notify): READY once the daemon serves, STATUS lines people see in
// `systemctl status`, STOPPING on shutdown, and WATCHDOG pings from a timer on the event loop, so a
// loop that hangs stops pinging and systemd restarts the daemon. Without systemd (no NOTIFY_SOCKET)
// every call is a no-op.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>

namespace classcam::daemon {

class SystemdNotifier {
 public:
  explicit SystemdNotifier(boost::asio::io_context& io);
  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping();
  // The watchdog interval systemd asked for (WatchdogSec), if any.
  std::chrono::microseconds watchdog_interval() const { return interval_; }

 private:
  void ping();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds interval_{0};
};

}  // namespace classcam::daemon
