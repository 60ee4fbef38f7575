#pragma once
// What the unit's single button does (docs/recording.md and the README describe it for teachers):
//   idle or error   press             -> start a recording (at once, on the press)
//   recording       short press       -> bookmark ("something worth discussing happened here")
//   recording       long press (held for gpio.long_press_ms) -> stop
//   live            double press (a second press within 400 ms of the first coming up) -> mute or
//                   unmute talkback (docs/live.md)
// A gesture is judged by the state the unit was in when the button went down, so the press that
// starts a recording is never also taken for a bookmark or a stop, however long it is held.
// While live runs, a single short press (start or bookmark) is held back until the double-press window
// has passed without a second press, so a double press is never also a start or a bookmark; a long
// press is never part of a double press and acts when it is due, as without live.
// The recording LED is not a button matter: see led.hpp.
#include <chrono>
#include <optional>

#include "common/protocol/messages.hpp"
#include "firmware/gpio/gestures.hpp"

namespace classcam::session {

enum class ButtonAction { none, start, bookmark, stop, toggle_talkback };

class ButtonPolicy {
 public:
  static constexpr std::chrono::milliseconds kDoublePress{400};

  // `live`: live runs (talkback can be muted); `at`: when the gesture happened.
  ButtonAction on_gesture(const gpio::Gesture& g, protocol::RecorderState now, bool live = false,
                          gpio::Clock::time_point at = {});
  // While a single press is held back (live): when it is due (for a timer).
  std::optional<gpio::Clock::time_point> deadline() const { return due_; }
  // The held-back press once it is due; none before, or when the unit's state no longer allows it.
  ButtonAction tick(gpio::Clock::time_point now, protocol::RecorderState state);

 private:
  protocol::RecorderState at_press_ = protocol::RecorderState::idle;
  bool second_press_ = false;  // this press completed a double press: its release does nothing more
  ButtonAction held_back_ = ButtonAction::none;
  std::optional<gpio::Clock::time_point> due_;
};

}  // namespace classcam::session
