#pragma once
// Planner: decides, from the unit's own clock and its stored schedule, when a scheduled recording
// starts and stops. Pure logic with the time passed in, so every rule below is a unit test:
//
//   - An observation is active while start <= now < end. Observations never overlap (the hub sorts and
//     checks them), so at most one is active.
//   - Idle while an observation is active: start it (a unit that boots or restarts mid-slot joins it).
//   - Recording a scheduled observation that is no longer active (its end passed, it left the schedule,
//     or the next slot began back-to-back): stop it; once idle, the next active slot starts with its own
//     observation_id.
//   - A manual session (button, classcamctl, hub) still running when a slot starts is STOPPED ("a
//     scheduled observation starts"), then the slot records: an observation always gets its own
//     recording, linked to its observation_id, which a handed-over manual session would not have.
//   - Someone stopping a scheduled recording during its slot wins: that observation is not started again
//     (until classcamd restarts), and a manual session started afterwards in the same slot is left alone.
//   - A recorder fault ends the session; the slot is retried as a new session after kRetryAfter.
//   - Clock jumps: decisions depend only on "now" and the schedule, re-evaluated at least every
//     kMaxSleep. A jump forward past an end stops the slot; one past a start joins it late; a jump back
//     does not stop a running slot before its end (its observation is still the one being recorded) and
//     never restarts an observation that already ended here.
//   - A start that fails is retried after kRetryAfter while the slot lasts.
#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/util/time.hpp"

namespace classcam::schedule {

inline constexpr std::chrono::seconds kMaxSleep{15};
inline constexpr std::chrono::seconds kRetryAfter{30};

// What the recorder is doing, as the planner needs it.
struct RecorderView {
  protocol::RecorderState state = protocol::RecorderState::idle;
  std::optional<std::string> observation_id;  // of the open session
  bool scheduled = false;                     // the open session was started by the schedule
};

struct Decision {
  enum class Kind { none, start, stop };
  Kind kind = Kind::none;
  std::optional<protocol::Observation> observation;  // start: what to record
  std::string reason;                                // stop: the session's end_reason
  bool operator==(const Decision&) const = default;
};

class Planner {
 public:
  // The schedule in force (nullopt: none received yet).
  void set_schedule(std::optional<protocol::Schedule> s) { schedule_ = std::move(s); }
  const std::optional<protocol::Schedule>& schedule() const { return schedule_; }

  // What to do now. Busy states (starting, stopping) wait for the recorder to settle.
  Decision decide(util::TimePoint now, const RecorderView& recorder);

  // Feedback from the caller, so the planner knows what happened to its decisions.
  void start_failed(const std::string& observation_id, util::TimePoint now);
  enum class EndCause { planner, person, fault };
  // Every end of a scheduled session. Ended by the planner or a person: the observation is done here.
  // Ended by a fault (the recorder failed): retried like a failed start, as a new session.
  void ended(const std::string& observation_id, EndCause cause, util::TimePoint now);

  // When decide() should run again at the latest: the next start or end after now, capped at kMaxSleep.
  util::TimePoint next_wakeup(util::TimePoint now) const;

  // The observation active at `now`, if any.
  std::optional<protocol::Observation> active(util::TimePoint now) const;

 private:
  std::optional<protocol::Schedule> schedule_;
  std::set<std::string> done_;           // ended here: never started again
  std::optional<std::string> retry_id_;  // last failed start ...
  util::TimePoint retry_at_{};           // ... not retried before this
};

}  // namespace classcam::schedule
