#pragma once
// The recorder's state machine, kept pure so every transition can be tested:
//
//   idle ──start──► starting ──first segment──► recording ──stop──► stopping ──finalised──► idle
//    ▲                 │  ▲                         │                  │
//    │          failed │  │ start                   │ fault / spool    │ ended with a fault
//    │                 ▼  │                         │ full (stops with │
//    └──── (next start) error ◄─────────────────────┘ a reason) ───────┘
//
// starting may also go to stopping (a stop before the first frame). error keeps the reason until the
// next start; it is what UnitState.reason reports.
#include <optional>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"
#include "common/util/time.hpp"

namespace classcam::session {

using protocol::RecorderState;

bool transition_allowed(RecorderState from, RecorderState to);

class StateMachine {
 public:
  RecorderState state() const { return state_; }
  const std::optional<std::string>& reason() const { return reason_; }
  util::TimePoint since() const { return since_; }
  // Moves to `to`; `reason` is required for error and dropped otherwise. An Error (a programming error
  // in the caller) names the refused transition.
  Status go(RecorderState to, std::optional<std::string> reason = std::nullopt);

 private:
  RecorderState state_ = RecorderState::idle;
  std::optional<std::string> reason_;
  util::TimePoint since_ = util::now_utc();
};

}  // namespace classcam::session
