#pragma once
// Stand-ins for the button and LED, for tests and for boards without GPIO wiring.
#include <vector>

#include "firmware/gpio/gpio.hpp"

namespace classcam::gpio {

// Delivers edges synchronously; call press()/release() on the event loop's thread.
class FakeButton : public Button {
 public:
  void set_handler(std::function<void(const ButtonEdge&)> handler) override { handler_ = std::move(handler); }
  void press(Clock::time_point at = Clock::now()) { deliver({true, at}); }
  void release(Clock::time_point at = Clock::now()) { deliver({false, at}); }

 private:
  void deliver(const ButtonEdge& e) {
    if (handler_) handler_(e);
  }
  std::function<void(const ButtonEdge&)> handler_;
};

class FakeLed : public Led {
 public:
  void set(bool on) override {
    if (history_.empty() || history_.back() != on) history_.push_back(on);
    on_ = on;
  }
  bool on() const { return on_; }
  // Every change of level, in order.
  const std::vector<bool>& history() const { return history_; }

 private:
  bool on_ = false;
  std::vector<bool> history_;
};

}  // namespace classcam::gpio
