#include "firmware/daemon/notify.hpp"

#include <systemd/sd-daemon.h>

#include "common/log/log.hpp"

namespace classcam::daemon {

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io) : timer_(io) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec);
}

void SystemdNotifier::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
  if (interval_.count() > 0) {
    log::get("daemon")->info("systemd watchdog every {} ms", interval_.count() / 2000);
    ping();
  }
}

void SystemdNotifier::status(const std::string& status) { sd_notifyf(0, "STATUS=%s", status.c_str()); }

void SystemdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SystemdNotifier::ping() {
  sd_notify(0, "WATCHDOG=1");
  timer_.expires_after(interval_ / 2);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

}  // namespace classcam::daemon
