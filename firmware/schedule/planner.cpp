#include "firmware/schedule/planner.hpp"

namespace classcam::schedule {

using protocol::RecorderState;
using Kind = Decision::Kind;

std::optional<protocol::Observation> Planner::active(util::TimePoint now) const {
  if (!schedule_) return std::nullopt;
  for (const auto& o : schedule_->observations) {
    if (o.start <= now && now < o.end) return o;
  }
  return std::nullopt;
}

Decision Planner::decide(util::TimePoint now, const RecorderView& recorder) {
  if (recorder.state == RecorderState::starting || recorder.state == RecorderState::stopping) return {};
  const bool recording = recorder.state == RecorderState::recording;
  const auto slot = active(now);

  if (recording && recorder.scheduled && recorder.observation_id) {
    const auto& current = *recorder.observation_id;
    if (slot && slot->id == current) return {};
    if (!slot && schedule_) {
      // A clock that jumped back before the slot's start keeps recording it until its end.
      for (const auto& o : schedule_->observations) {
        if (o.id == current && now < o.end) return {};
      }
    }
    return {Kind::stop, std::nullopt, slot ? "scheduled end (next observation starts)" : "scheduled end"};
  }

  if (!slot || done_.contains(slot->id)) return {};
  if (retry_id_ == slot->id && now < retry_at_) return {};
  if (recording) {
    // A manual session (or an unscheduled one): the slot takes over.
    return {Kind::stop, std::nullopt, "stopped: scheduled observation \"" + slot->title + "\" starts"};
  }
  return {Kind::start, slot, ""};
}

void Planner::start_failed(const std::string& observation_id, util::TimePoint now) {
  retry_id_ = observation_id;
  retry_at_ = now + std::chrono::duration_cast<std::chrono::milliseconds>(kRetryAfter);
}

void Planner::ended(const std::string& observation_id, EndCause cause, util::TimePoint now) {
  if (cause == EndCause::fault) {
    start_failed(observation_id, now);
    return;
  }
  done_.insert(observation_id);
}

util::TimePoint Planner::next_wakeup(util::TimePoint now) const {
  auto next = now + std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSleep);
  if (schedule_) {
    for (const auto& o : schedule_->observations) {
      if (o.start > now && o.start < next) next = o.start;
      if (o.end > now && o.end < next) next = o.end;
    }
  }
  if (retry_id_ && retry_at_ > now && retry_at_ < next) next = retry_at_;
  return next;
}

}  // namespace classcam::schedule
