// Observations: the scheduled lessons a unit records. Part of Store (see store.hpp).
#include <algorithm>

#include "common/util/uuid.hpp"
#include "hub/store/store.hpp"
#include "hub/store/store_rows.hpp"

namespace classcam::hub::store {

using rows::ms;
using rows::time;

namespace {

constexpr const char* kObsCols =
    "id, room_id, teacher_id, title, start_at, end_at, state, created_by, created_at, updated_at, live_allowed";

Observation observation_row(Transaction& tx, const Row& r) {
  Observation o;
  o.id = r.text(0);
  o.room_id = r.text(1);
  o.teacher_id = r.text(2);
  o.title = r.text(3);
  o.start = time(r.integer(4));
  o.end = time(r.integer(5));
  o.state = rows::observation_state(r.text(6)).value_or(ObservationState::cancelled);
  o.created_by = r.opt_text(7);
  o.created_at = time(r.integer(8));
  o.updated_at = time(r.integer(9));
  o.live_allowed = r.boolean(10);
  for (const auto& c :
       tx.query("SELECT user_id FROM observation_coaches WHERE observation_id = ? ORDER BY user_id", {o.id})) {
    o.coach_ids.push_back(c.text(0));
  }
  return o;
}

std::optional<Observation> load(Transaction& tx, const std::string& id) {
  const auto r = tx.query_one(std::string("SELECT ") + kObsCols + " FROM observations WHERE id = ?", {id});
  if (!r) return std::nullopt;
  return observation_row(tx, *r);
}

// Checks the parts of an observation that refer to other rows, and the times; nullopt when fine.
std::optional<Refused> validate(Transaction& tx, const Observation& o) {
  if (o.end <= o.start) return invalid("end", "must be after start");
  if (o.end - o.start > std::chrono::hours(12)) return invalid("end", "an observation lasts at most 12 hours");
  if (!tx.query_one("SELECT id FROM rooms WHERE id = ?", {o.room_id}))
    return invalid("room_id", "no room " + o.room_id);
  const auto t = tx.query_one("SELECT role, disabled FROM users WHERE id = ?", {o.teacher_id});
  if (!t) return invalid("teacher_id", "no user " + o.teacher_id);
  if (t->text(0) != "teacher") return invalid("teacher_id", "user " + o.teacher_id + " is not a teacher");
  if (t->boolean(1)) return invalid("teacher_id", "user " + o.teacher_id + " is disabled");
  for (std::size_t i = 0; i < o.coach_ids.size(); ++i) {
    const std::string field = "coach_ids[" + std::to_string(i) + "]";
    const auto c = tx.query_one("SELECT role, disabled FROM users WHERE id = ?", {o.coach_ids[i]});
    if (!c) return invalid(field, "no user " + o.coach_ids[i]);
    if (c->text(0) != "coach" && c->text(0) != "teacher") {
      return invalid(field, "only coaches and teachers can be invited to observe");
    }
    if (c->boolean(1)) return invalid(field, "user " + o.coach_ids[i] + " is disabled");
    if (o.coach_ids[i] == o.teacher_id) return invalid(field, "the teacher is not invited to their own lesson");
  }
  // Back-to-back is fine: an observation ending at 10:00 does not clash with one starting at 10:00.
  const auto clash = tx.query_one(
      "SELECT id FROM observations WHERE room_id = ? AND state = 'scheduled' "
      "AND start_at < ? AND end_at > ? AND id <> ? ORDER BY start_at LIMIT 1",
      {o.room_id, ms(o.end), ms(o.start), o.id});
  if (clash) {
    // Only the caller's own times: the other observation may be one the caller may not see.
    auto r = conflict("start", "the room is taken then (" + util::to_rfc3339_seconds(o.start) + " to " +
                                   util::to_rfc3339_seconds(o.end) + " overlaps another observation)");
    r.other_id = clash->text(0);
    return r;
  }
  return std::nullopt;
}

void write_coaches(Transaction& tx, const std::string& id, const std::vector<std::string>& coaches) {
  tx.execute("DELETE FROM observation_coaches WHERE observation_id = ?", {id});
  for (const auto& c : coaches) {
    tx.execute("INSERT INTO observation_coaches (observation_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
               {id, c});
  }
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

Outcome<Observation> Store::create_observation(const Observation& input) {
  Outcome<Observation> out = not_found("");
  Observation o = input;
  o.id = util::uuid_v4();
  o.state = ObservationState::scheduled;
  o.coach_ids = sorted_unique(o.coach_ids);
  o.created_at = o.updated_at = util::now_utc();
  db_->transact([&](Transaction& tx) {
    if (auto bad = validate(tx, o)) {
      out = *bad;
      return;
    }
    tx.execute(
        "INSERT INTO observations (id, room_id, teacher_id, title, start_at, end_at, state, created_by, created_at, "
        "updated_at, live_allowed) VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?)",
        {o.id, o.room_id, o.teacher_id, o.title, ms(o.start), ms(o.end), opt_value(o.created_by), ms(o.created_at),
         ms(o.updated_at), std::int64_t{o.live_allowed ? 1 : 0}});
    write_coaches(tx, o.id, o.coach_ids);
    rows::bump_schedule_revision(tx);
    out = o;
  });
  return out;
}

std::optional<Observation> Store::observation(const std::string& id) {
  std::optional<Observation> out;
  db_->read([&](Transaction& tx) { out = load(tx, id); });
  return out;
}

std::vector<Observation> Store::observations(const ObservationFilter& f) {
  std::string sql = std::string("SELECT ") + kObsCols + " FROM observations WHERE 1 = 1";
  std::vector<Value> params;
  if (!f.include_cancelled) sql += " AND state = 'scheduled'";
  if (f.from) {
    sql += " AND end_at > ?";
    params.push_back(ms(*f.from));
  }
  if (f.to) {
    sql += " AND start_at < ?";
    params.push_back(ms(*f.to));
  }
  if (f.room_id) {
    sql += " AND room_id = ?";
    params.emplace_back(*f.room_id);
  }
  if (f.involving_user) {
    sql += " AND (teacher_id = ? OR id IN (SELECT observation_id FROM observation_coaches WHERE user_id = ?))";
    params.emplace_back(*f.involving_user);
    params.emplace_back(*f.involving_user);
  }
  sql += " ORDER BY start_at, id LIMIT 5000";
  std::vector<Observation> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(sql, params)) out.push_back(observation_row(tx, r));
  });
  return out;
}

Outcome<Observation> Store::update_observation(const std::string& id, const ObservationPatch& patch) {
  Outcome<Observation> out = not_found("no observation " + id);
  db_->transact([&](Transaction& tx) {
    auto o = load(tx, id);
    if (!o) return;
    if (o->state == ObservationState::cancelled) {
      out = conflict("state", "the observation is cancelled; schedule a new one instead");
      return;
    }
    if (patch.room_id) o->room_id = *patch.room_id;
    if (patch.teacher_id) o->teacher_id = *patch.teacher_id;
    if (patch.title) o->title = *patch.title;
    if (patch.start) o->start = *patch.start;
    if (patch.end) o->end = *patch.end;
    if (patch.coach_ids) o->coach_ids = sorted_unique(*patch.coach_ids);
    if (patch.live_allowed) o->live_allowed = *patch.live_allowed;
    if (auto bad = validate(tx, *o)) {
      out = *bad;
      return;
    }
    o->updated_at = util::now_utc();
    tx.execute(
        "UPDATE observations SET room_id = ?, teacher_id = ?, title = ?, start_at = ?, end_at = ?, updated_at = ?, "
        "live_allowed = ? WHERE id = ?",
        {o->room_id, o->teacher_id, o->title, ms(o->start), ms(o->end), ms(o->updated_at),
         std::int64_t{o->live_allowed ? 1 : 0}, id});
    write_coaches(tx, id, o->coach_ids);
    rows::bump_schedule_revision(tx);
    out = *o;
  });
  return out;
}

Outcome<Observation> Store::cancel_observation(const std::string& id) {
  Outcome<Observation> out = not_found("no observation " + id);
  db_->transact([&](Transaction& tx) {
    if (!load(tx, id)) return;
    if (tx.execute("UPDATE observations SET state = 'cancelled', updated_at = ? WHERE id = ? AND state = 'scheduled'",
                   {ms(util::now_utc()), id}) > 0) {
      rows::bump_schedule_revision(tx);
    }
    out = *load(tx, id);
  });
  return out;
}

}  // namespace classcam::hub::store
