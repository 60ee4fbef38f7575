#include "firmware/gpio/gpiod.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <gpiod.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/log/log.hpp"

namespace classcam::gpio {

namespace {

constexpr const char* kConsumer = "classcamd";

struct ChipClose {
  void operator()(gpiod_chip* c) const {
    if (c != nullptr) gpiod_chip_close(c);
  }
};
using ChipPtr = std::shared_ptr<gpiod_chip>;

std::runtime_error failure(const std::string& what, const config::UnitConfig::Gpio& c, std::uint32_t line) {
  return std::runtime_error(fmt::format("gpio: {} (chip {}, line {}): {}", what, c.chip, line, std::strerror(errno)));
}

class GpiodLed : public Led {
 public:
  GpiodLed(ChipPtr chip, gpiod_line* line) : chip_(std::move(chip)), line_(line) {}
  ~GpiodLed() override {
    gpiod_line_set_value(line_, 0);
    gpiod_line_release(line_);
  }
  GpiodLed(const GpiodLed&) = delete;
  GpiodLed& operator=(const GpiodLed&) = delete;
  void set(bool on) override {
    if (gpiod_line_set_value(line_, on ? 1 : 0) != 0) {
      log::get("gpio")->error("cannot set the recording LED {}: {}", on ? "on" : "off", std::strerror(errno));
    }
  }

 private:
  ChipPtr chip_;
  gpiod_line* line_;
};

// Threading: all on the io_context. Edges are read when the event fd is readable; after each accepted
// edge the line is read again once the debounce time has passed, so an edge lost in a bounce cannot
// leave the button looking held.
class GpiodButton : public Button {
 public:
  GpiodButton(boost::asio::io_context& io, ChipPtr chip, gpiod_line* line, std::chrono::milliseconds debounce)
      : chip_(std::move(chip)),
        line_(line),
        fd_(io, ::dup(gpiod_line_event_get_fd(line))),
        resync_(io),
        debounce_(debounce) {
    level_ = gpiod_line_get_value(line_) == 1;
    wait();
  }
  ~GpiodButton() override {
    fd_.cancel();
    resync_.cancel();
    gpiod_line_release(line_);
  }
  GpiodButton(const GpiodButton&) = delete;
  GpiodButton& operator=(const GpiodButton&) = delete;
  void set_handler(std::function<void(const ButtonEdge&)> handler) override { handler_ = std::move(handler); }

 private:
  void wait() {
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      gpiod_line_event ev{};
      if (gpiod_line_event_read(line_, &ev) == 0) {
        // Requested with ACTIVE_LOW where configured, so RISING always means "pressed".
        deliver(ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE);
      } else {
        log::get("gpio")->warn("cannot read a button event: {}", std::strerror(errno));
      }
      wait();
    });
  }
  void deliver(bool pressed) {
    if (pressed == level_) return;
    level_ = pressed;
    if (handler_) handler_({pressed, Clock::now()});
    resync_.expires_after(debounce_ + std::chrono::milliseconds(5));
    resync_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const int v = gpiod_line_get_value(line_);
      if (v >= 0) deliver(v == 1);
    });
  }

  ChipPtr chip_;
  gpiod_line* line_;
  boost::asio::posix::stream_descriptor fd_;
  boost::asio::steady_timer resync_;
  std::chrono::milliseconds debounce_;
  bool level_ = false;
  std::function<void(const ButtonEdge&)> handler_;
};

}  // namespace

Gpio open_gpiod(boost::asio::io_context& io, const config::UnitConfig::Gpio& c) {
  ChipPtr chip(gpiod_chip_open_lookup(c.chip.c_str()), ChipClose{});
  if (!chip) {
    throw std::runtime_error(
        fmt::format("gpio: cannot open GPIO chip \"{}\" (gpio.chip): {}", c.chip, std::strerror(errno)));
  }

  gpiod_line* led = gpiod_chip_get_line(chip.get(), c.led_line);
  if (led == nullptr) throw failure("no such LED line", c, c.led_line);
  const int led_flags = c.led_active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
  if (gpiod_line_request_output_flags(led, kConsumer, led_flags, 0) != 0) {
    throw failure("cannot drive the LED line (is it used by something else?)", c, c.led_line);
  }
  Gpio g;
  g.led = std::make_unique<GpiodLed>(chip, led);

  gpiod_line* button = gpiod_chip_get_line(chip.get(), c.button_line);
  if (button == nullptr) throw failure("no such button line", c, c.button_line);
  int flags = c.button_active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
                                  : GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
  if (gpiod_line_request_both_edges_events_flags(button, kConsumer, flags) != 0) {
    // Older kernels refuse bias flags: try again without them (the board then needs its own resistor).
    flags &= ~(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN);
    if (gpiod_line_request_both_edges_events_flags(button, kConsumer, flags) != 0) {
      throw failure("cannot watch the button line", c, c.button_line);
    }
  }
  g.button = std::make_unique<GpiodButton>(io, chip, button, std::chrono::milliseconds(c.debounce_ms));
  log::get("gpio")->info("button on {} line {}, recording LED on line {}", c.chip, c.button_line, c.led_line);
  return g;
}

}  // namespace classcam::gpio
