#include "firmware/gpio/gestures.hpp"

namespace classcam::gpio {

std::optional<Gesture> GestureDetector::edge(const ButtonEdge& e) {
  if (e.pressed == pressed_) return std::nullopt;  // no change of level (a lost edge or a repeat)
  if (last_edge_ && e.at - *last_edge_ < debounce_) return std::nullopt;
  last_edge_ = e.at;
  pressed_ = e.pressed;
  if (pressed_) {
    pressed_at_ = e.at;
    long_reported_ = false;
    return Gesture{GestureKind::press, std::chrono::milliseconds(0)};
  }
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(e.at - pressed_at_);
  if (long_reported_) return std::nullopt;  // the long press was already acted on while held
  if (held >= long_press_) return Gesture{GestureKind::long_press, held};  // released just as it became long
  return Gesture{GestureKind::short_press, held};
}

std::optional<Clock::time_point> GestureDetector::deadline() const {
  if (!pressed_ || long_reported_) return std::nullopt;
  return pressed_at_ + long_press_;
}

std::optional<Gesture> GestureDetector::tick(Clock::time_point now) {
  const auto due = deadline();
  if (!due || now < *due) return std::nullopt;
  long_reported_ = true;
  return Gesture{GestureKind::long_press, std::chrono::duration_cast<std::chrono::milliseconds>(now - pressed_at_)};
}

ButtonGestures::ButtonGestures(boost::asio::io_context& io, Button& button, std::chrono::milliseconds long_press,
                               std::chrono::milliseconds debounce, std::function<void(const Gesture&)> on_gesture)
    : detector_(long_press, debounce), timer_(io), on_gesture_(std::move(on_gesture)) {
  button.set_handler([this](const ButtonEdge& e) {
    if (auto g = detector_.edge(e)) on_gesture_(*g);
    arm();
  });
}

void ButtonGestures::arm() {
  timer_.cancel();
  const auto due = detector_.deadline();
  if (!due) return;
  timer_.expires_at(*due);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto g = detector_.tick(Clock::now())) on_gesture_(*g);
  });
}

}  // namespace classcam::gpio
