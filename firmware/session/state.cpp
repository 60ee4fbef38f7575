#include "firmware/session/state.hpp"

namespace classcam::session {

bool transition_allowed(RecorderState from, RecorderState to) {
  using S = RecorderState;
  switch (from) {
    case S::idle: return to == S::starting;
    case S::starting: return to == S::recording || to == S::stopping || to == S::error;
    case S::recording: return to == S::stopping;
    case S::stopping: return to == S::idle || to == S::error;
    case S::error: return to == S::starting;
    case S::offline: return false;  // only the broker says "offline"; the unit itself never is
  }
  return false;
}

Status StateMachine::go(RecorderState to, std::optional<std::string> reason) {
  if (!transition_allowed(state_, to)) {
    return Error{"session: refused transition " + std::string(protocol::to_string(state_)) + " -> " +
                 std::string(protocol::to_string(to))};
  }
  if (to == RecorderState::error && (!reason || reason->empty())) {
    return Error{"session: the error state needs a reason"};
  }
  state_ = to;
  reason_ = to == RecorderState::error ? std::move(reason) : std::nullopt;
  since_ = util::now_utc();
  return ok_status();
}

}  // namespace classcam::session
