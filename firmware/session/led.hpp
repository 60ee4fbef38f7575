#pragma once
// The one place that decides the recording LED. It is lit whenever the camera may be capturing for a
// recording (starting, recording, stopping), while a live stream is served, and while an idle unit takes
// a snapshot. No configuration option reaches this function: people in the room can always see that
// the camera is in use.
#include "common/protocol/messages.hpp"

namespace classcam::session {

inline bool recording_led_on(const protocol::UnitState& s, bool taking_snapshot) {
  using protocol::RecorderState;
  return taking_snapshot || s.streaming || s.state == RecorderState::starting || s.state == RecorderState::recording ||
         s.state == RecorderState::stopping;
}

}  // namespace classcam::session
