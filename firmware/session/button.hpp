#pragma once
// What the unit's single button does (docs/recording.md and the README describe it for teachers):
//   idle or error   press             -> start a recording (at once, on the press)
//   recording       short press       -> bookmark ("something worth discussing happened here")
//   recording       long press (held for gpio.long_press_ms) -> stop
// A gesture is judged by the state the unit was in when the button went down, so the press that
// starts a recording is never also taken for a bookmark or a stop, however long it is held.
// The recording LED is not a button matter: see led.hpp.
#include "common/protocol/messages.hpp"
#include "firmware/gpio/gestures.hpp"

namespace classcam::session {

enum class ButtonAction { none, start, bookmark, stop };

class ButtonPolicy {
 public:
  ButtonAction on_gesture(const gpio::Gesture& g, protocol::RecorderState now);

 private:
  protocol::RecorderState at_press_ = protocol::RecorderState::idle;
};

}  // namespace classcam::session
