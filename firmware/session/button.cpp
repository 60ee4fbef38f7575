#include "firmware/session/button.hpp"

namespace classcam::session {

ButtonAction ButtonPolicy::on_gesture(const gpio::Gesture& g, protocol::RecorderState now) {
  using protocol::RecorderState;
  switch (g.kind) {
    case gpio::GestureKind::press:
      at_press_ = now;
      return now == RecorderState::idle || now == RecorderState::error ? ButtonAction::start : ButtonAction::none;
    case gpio::GestureKind::short_press:
      return at_press_ == RecorderState::recording && now == RecorderState::recording ? ButtonAction::bookmark
                                                                                      : ButtonAction::none;
    case gpio::GestureKind::long_press:
      return at_press_ == RecorderState::recording && now == RecorderState::recording ? ButtonAction::stop
                                                                                      : ButtonAction::none;
  }
  return ButtonAction::none;
}

}  // namespace classcam::session
