#pragma once
// Turns raw button edges into gestures, with debouncing:
//   press        the button went down (reported at once, so a start is immediate)
//   short_press  it came up again before long_press_ms (carries how long it was held)
//   long_press   it has been held for long_press_ms (reported while still held, once)
// An edge less than debounce_ms after the last accepted one is contact bounce and ignored.
// GestureDetector is pure (time comes in as arguments); ButtonGestures drives it from a Button and a
// timer on the event loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>

#include "firmware/gpio/gpio.hpp"

namespace classcam::gpio {

enum class GestureKind { press, short_press, long_press };

struct Gesture {
  GestureKind kind = GestureKind::press;
  std::chrono::milliseconds held{0};  // short_press and long_press: how long the button was down
};

class GestureDetector {
 public:
  GestureDetector(std::chrono::milliseconds long_press, std::chrono::milliseconds debounce)
      : long_press_(long_press), debounce_(debounce) {}

  std::optional<Gesture> edge(const ButtonEdge& e);
  // While the button is held: when a long press will be due (for a timer).
  std::optional<Clock::time_point> deadline() const;
  // Reports the long press once it is due.
  std::optional<Gesture> tick(Clock::time_point now);
  bool pressed() const { return pressed_; }

 private:
  std::chrono::milliseconds long_press_;
  std::chrono::milliseconds debounce_;
  bool pressed_ = false;
  bool long_reported_ = false;
  std::optional<Clock::time_point> last_edge_;
  Clock::time_point pressed_at_{};
};

// Threading: everything runs on the io_context (Button delivers edges there).
class ButtonGestures {
 public:
  ButtonGestures(boost::asio::io_context& io, Button& button, std::chrono::milliseconds long_press,
                 std::chrono::milliseconds debounce, std::function<void(const Gesture&)> on_gesture);

 private:
  void arm();
  GestureDetector detector_;
  boost::asio::steady_timer timer_;
  std::function<void(const Gesture&)> on_gesture_;
};

}  // namespace classcam::gpio
