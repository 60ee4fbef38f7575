#include "hub/schedule/builder.hpp"

#include <map>

namespace classcam::hub::schedule {

protocol::Schedule build_schedule(store::Store& store, const std::string& unit_id, util::TimePoint now,
                                  std::uint32_t horizon_days, const std::string& timezone) {
  protocol::Schedule s;
  s.unit_id = unit_id;
  s.revision = store.schedule_revision();
  s.generated_at = now;
  s.timezone = timezone;
  const auto unit = store.unit(unit_id);
  if (!unit || !unit->room_id) return s;
  const auto room = store.room(*unit->room_id);
  store::ObservationFilter f;
  f.room_id = unit->room_id;
  f.from = now;
  f.to = now + std::chrono::hours(24) * horizon_days;
  std::map<std::string, std::string> teachers;
  for (const auto& o : store.observations(f)) {
    if (!teachers.count(o.teacher_id)) {
      const auto t = store.user(o.teacher_id);
      teachers[o.teacher_id] = t ? t->display_name : "";
    }
    auto& p = s.observations.emplace_back();
    p.id = o.id;
    p.title = o.title;
    p.start = o.start;
    p.end = o.end;
    if (!teachers[o.teacher_id].empty()) p.teacher_name.emplace(teachers[o.teacher_id]);
    if (room) p.room_name.emplace(room->name);
  }
  return s;
}

}  // namespace classcam::hub::schedule
