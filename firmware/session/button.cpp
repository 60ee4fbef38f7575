#include "firmware/session/button.hpp"

namespace classcam::session {

namespace {
bool may_start(protocol::RecorderState s) {
  return s == protocol::RecorderState::idle || s == protocol::RecorderState::error;
}
}  // namespace

ButtonAction ButtonPolicy::on_gesture(const gpio::Gesture& g, protocol::RecorderState now, bool live,
                                      gpio::Clock::time_point at) {
  using protocol::RecorderState;
  switch (g.kind) {
    case gpio::GestureKind::press:
      at_press_ = now;
      if (live && due_) {
        // The second press of a double press: the first one's start or bookmark is dropped.
        held_back_ = ButtonAction::none;
        due_.reset();
        second_press_ = true;
        return ButtonAction::toggle_talkback;
      }
      second_press_ = false;
      if (live) return ButtonAction::none;  // it may be the first of a double press: decided on release
      return may_start(now) ? ButtonAction::start : ButtonAction::none;
    case gpio::GestureKind::short_press:
      if (second_press_) {
        second_press_ = false;
        return ButtonAction::none;
      }
      if (live) {
        const ButtonAction a = at_press_ == RecorderState::recording && now == RecorderState::recording
                                   ? ButtonAction::bookmark
                               : may_start(at_press_) ? ButtonAction::start
                                                      : ButtonAction::none;
        if (a != ButtonAction::none) {
          held_back_ = a;
          due_ = at + kDoublePress;
        }
        return ButtonAction::none;
      }
      return at_press_ == RecorderState::recording && now == RecorderState::recording ? ButtonAction::bookmark
                                                                                      : ButtonAction::none;
    case gpio::GestureKind::long_press:
      if (second_press_) return ButtonAction::none;
      if (at_press_ == RecorderState::recording && now == RecorderState::recording) return ButtonAction::stop;
      // Live held back the press that starts: held this long, it is no double press.
      return live && may_start(at_press_) && may_start(now) ? ButtonAction::start : ButtonAction::none;
  }
  return ButtonAction::none;
}

ButtonAction ButtonPolicy::tick(gpio::Clock::time_point now, protocol::RecorderState state) {
  if (!due_ || now < *due_) return ButtonAction::none;
  const ButtonAction a = held_back_;
  held_back_ = ButtonAction::none;
  due_.reset();
  if (a == ButtonAction::start && may_start(state)) return a;
  if (a == ButtonAction::bookmark && state == protocol::RecorderState::recording) return a;
  return ButtonAction::none;
}

}  // namespace classcam::session
