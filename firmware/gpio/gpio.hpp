#pragma once
// The unit's physical controls: one push button and the recording LED, behind a small interface so
// tests (and boards without GPIO) can stand in for them. The real ones use libgpiod (gpiod.hpp).
#include <chrono>
#include <functional>
#include <memory>

namespace classcam::gpio {

using Clock = std::chrono::steady_clock;

// A change of the button's logical level (pressed = true), after active-low inversion.
struct ButtonEdge {
  bool pressed = false;
  Clock::time_point at{};
};

class Button {
 public:
  virtual ~Button() = default;
  // Edges are delivered on the event loop, in order. Set once, before the loop runs.
  virtual void set_handler(std::function<void(const ButtonEdge&)> handler) = 0;
};

class Led {
 public:
  virtual ~Led() = default;
  virtual void set(bool on) = 0;
};

// A board without GPIO (gpio.enabled = false): no button, and nothing to light.
class NoLed : public Led {
 public:
  void set(bool /*on*/) override {}
};

}  // namespace classcam::gpio
