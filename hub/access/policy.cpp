#include "hub/access/policy.hpp"

#include <algorithm>

namespace classcam::hub::access {

RecordingRights recording_rights(const Principal& p, const RecordingFacts& r) {
  RecordingRights out;
  if (!p.is_user()) return out;
  const bool owner = r.owner_id && *r.owner_id == p.id;
  const bool watcher = owner || r.shared_with_caller;
  const bool staff = p.is(Caller::admin) || p.is(Caller::technician);
  out.see = watcher || staff;
  out.watch = watcher;
  out.annotate = watcher;
  out.share = owner;
  out.retitle = owner;
  out.remove = owner || p.is(Caller::admin);
  out.assign_owner = p.is(Caller::admin) && !r.owner_id;
  return out;
}

bool may_delete_annotation(const Principal& p, const std::optional<std::string>& author_id, const RecordingFacts& r) {
  const auto rights = recording_rights(p, r);
  if (!rights.watch) return false;
  const bool author = author_id && *author_id == p.id;
  return author || rights.share;  // the owner tidies their own recording
}

bool may_share_with(const Principal& p, const RecordingFacts& r, const std::string& target_id) {
  return recording_rights(p, r).share && target_id != p.id;
}

ObservationRights observation_rights(const Principal& p, const ObservationFacts& o) {
  ObservationRights out;
  if (!p.is_user()) return out;
  const bool teacher = p.id == o.teacher_id;
  const bool invited = std::find(o.coach_ids.begin(), o.coach_ids.end(), p.id) != o.coach_ids.end();
  const bool admin = p.is(Caller::admin);
  out.see = teacher || invited || admin || p.is(Caller::technician);
  out.change = teacher || admin;
  return out;
}

LiveRights live_rights(const Principal& p, const LiveFacts& f) {
  LiveRights r;
  if (!f.in_room || !p.is_user()) return r;
  if (p.is(Caller::technician)) {
    r.preview = true;
    return r;
  }
  const auto& teacher = f.observation_id ? f.observation_teacher_id : f.default_teacher_id;
  if (p.is(Caller::teacher) && teacher && *teacher == p.id) {
    r.watch = true;
    r.moderate = true;
    return r;
  }
  // Invited: a coach, or a fellow teacher invited as one (the observation form offers both).
  const auto& invited = f.observation_id ? f.observation_coach_ids : f.invited_ids;
  if ((p.is(Caller::coach) || p.is(Caller::teacher)) &&
      std::find(invited.begin(), invited.end(), p.id) != invited.end()) {
    r.watch = true;
    r.talk = true;
    r.needs_consent = true;
  }
  return r;
}

UnitRights unit_rights(const Principal& p, const RoomFacts& room) {
  UnitRights out;
  if (p.is(Caller::admin) || p.is(Caller::technician)) {
    out.record = out.operate = true;
    return out;
  }
  if (!p.is(Caller::teacher) || !room.in_room) return out;
  const auto& lessons = room.lesson_teacher_ids;
  out.record = room.default_teacher_id == p.id || std::find(lessons.begin(), lessons.end(), p.id) != lessons.end();
  return out;
}

bool may_schedule_for(const Principal& p, const std::string& teacher_id) {
  if (p.is(Caller::admin)) return true;
  return p.is(Caller::teacher) && p.id == teacher_id;
}

bool sees_everything_in_lists(const Principal& p) { return p.is(Caller::admin) || p.is(Caller::technician); }

}  // namespace classcam::hub::access
