#include "hub/store/store.hpp"

#include <algorithm>

#include "common/util/uuid.hpp"
#include "hub/store/migrations.hpp"
#include "hub/store/sqlite_database.hpp"
#include "hub/store/store_rows.hpp"

namespace classcam::hub::store {

// ---- enum names ----

namespace {
template <typename E, std::size_t N>
std::optional<E> lookup(std::string_view s, const std::pair<E, std::string_view> (&table)[N]) {
  for (const auto& [v, name] : table) {
    if (name == s) return v;
  }
  return std::nullopt;
}
template <typename E, std::size_t N>
std::string_view name_of(E v, const std::pair<E, std::string_view> (&table)[N]) {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return "unknown";
}
constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::admin, "admin"}, {Role::technician, "technician"}, {Role::teacher, "teacher"}, {Role::coach, "coach"}};
constexpr std::pair<ObservationState, std::string_view> kObservationStates[] = {
    {ObservationState::scheduled, "scheduled"}, {ObservationState::cancelled, "cancelled"}};
constexpr std::pair<RecordingState, std::string_view> kRecordingStates[] = {{RecordingState::recording, "recording"},
                                                                            {RecordingState::complete, "complete"},
                                                                            {RecordingState::joining, "joining"},
                                                                            {RecordingState::ready, "ready"},
                                                                            {RecordingState::failed, "failed"}};
constexpr std::pair<CommentTag, std::string_view> kTags[] = {{CommentTag::strength, "strength"},
                                                             {CommentTag::question, "question"},
                                                             {CommentTag::suggestion, "suggestion"},
                                                             {CommentTag::note, "note"}};
constexpr std::pair<UploadState, std::string_view> kUploadStates[] = {{UploadState::open, "open"},
                                                                      {UploadState::accepted, "accepted"},
                                                                      {UploadState::rejected, "rejected"},
                                                                      {UploadState::terminated, "terminated"},
                                                                      {UploadState::expired, "expired"}};
constexpr std::pair<FeedKind, std::string_view> kFeedKinds[] = {
    {FeedKind::room, "room"}, {FeedKind::unit, "unit"}, {FeedKind::user, "user"}};
}  // namespace

std::string_view to_string(Role r) { return name_of(r, kRoles); }
std::optional<Role> role_from_string(std::string_view s) { return lookup(s, kRoles); }
std::string_view to_string(ObservationState s) { return name_of(s, kObservationStates); }
std::string_view to_string(RecordingState s) { return name_of(s, kRecordingStates); }
std::optional<RecordingState> recording_state_from_string(std::string_view s) { return lookup(s, kRecordingStates); }
std::string_view to_string(CommentTag t) { return name_of(t, kTags); }
std::optional<CommentTag> comment_tag_from_string(std::string_view s) { return lookup(s, kTags); }
std::string_view to_string(UploadState s) { return name_of(s, kUploadStates); }
std::string_view to_string(FeedKind k) { return name_of(k, kFeedKinds); }

namespace rows {
std::optional<ObservationState> observation_state(std::string_view s) { return lookup(s, kObservationStates); }
std::optional<UploadState> upload_state(std::string_view s) { return lookup(s, kUploadStates); }
std::optional<FeedKind> feed_kind(std::string_view s) { return lookup(s, kFeedKinds); }

void bump_schedule_revision(Transaction& tx) {
  tx.execute(
      "INSERT INTO settings (key, value) VALUES ('schedule_revision', '1') ON CONFLICT (key) DO UPDATE SET value = "
      "CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)");
}

User user(const Row& r) {
  User u;
  u.id = r.text(0);
  u.login = r.text(1);
  u.display_name = r.text(2);
  u.role = role_from_string(r.text(3)).value_or(Role::coach);
  u.disabled = r.boolean(4);
  u.created_at = time(r.integer(5));
  return u;
}
}  // namespace rows

using rows::ms;
using rows::opt_ms;
using rows::time;

// ---- core ----

Store::Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}

std::unique_ptr<Store> Store::open_sqlite(const std::filesystem::path& sqlite_path) {
  auto db = std::make_unique<SqliteDatabase>(sqlite_path);
  migrate(*db, migrations_for(db->backend()));
  return std::make_unique<Store>(std::move(db));
}

// ---- users ----

namespace {
constexpr const char* kUserCols = "id, login, display_name, role, disabled, created_at";
}

std::int64_t Store::count_users() {
  std::int64_t n = 0;
  db_->read([&](Transaction& tx) { n = tx.query_integer("SELECT COUNT(*) FROM users"); });
  return n;
}

Outcome<User> Store::create_user(const std::string& login, const std::string& display_name, Role role,
                                 const std::string& password_hash) {
  Outcome<User> out = not_found("");
  db_->transact([&](Transaction& tx) {
    if (tx.query_one("SELECT id FROM users WHERE login = ?", {login})) {
      out = conflict("login", "a user with login \"" + login + "\" already exists");
      return;
    }
    User u;
    u.id = util::uuid_v4();
    u.login = login;
    u.display_name = display_name;
    u.role = role;
    u.created_at = util::now_utc();
    tx.execute(
        "INSERT INTO users (id, login, display_name, role, password_hash, disabled, created_at, password_changed_at) "
        "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        {u.id, u.login, u.display_name, std::string(to_string(role)), password_hash, ms(u.created_at),
         ms(u.created_at)});
    out = u;
  });
  return out;
}

std::optional<User> Store::user(const std::string& id) {
  std::optional<User> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?", {id})) {
      out = rows::user(*r);
    }
  });
  return out;
}

std::optional<User> Store::user_by_login(const std::string& login) {
  std::optional<User> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kUserCols + " FROM users WHERE login = ?", {login})) {
      out = rows::user(*r);
    }
  });
  return out;
}

std::optional<std::string> Store::password_hash(const std::string& user_id) {
  std::optional<std::string> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one("SELECT password_hash FROM users WHERE id = ?", {user_id})) out = r->text(0);
  });
  return out;
}

std::vector<User> Store::users() {
  std::vector<User> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kUserCols + " FROM users ORDER BY login")) {
      out.push_back(rows::user(r));
    }
  });
  return out;
}

Outcome<User> Store::update_user(const std::string& id, const UserPatch& patch) {
  Outcome<User> out = not_found("no user " + id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM users WHERE id = ?", {id})) return;
    if (patch.display_name) tx.execute("UPDATE users SET display_name = ? WHERE id = ?", {*patch.display_name, id});
    if (patch.role) tx.execute("UPDATE users SET role = ? WHERE id = ?", {std::string(to_string(*patch.role)), id});
    if (patch.disabled) {
      tx.execute("UPDATE users SET disabled = ? WHERE id = ?", {std::int64_t{*patch.disabled ? 1 : 0}, id});
      // A disabled account is signed out everywhere at once.
      if (*patch.disabled) {
        tx.execute("DELETE FROM login_sessions WHERE user_id = ?", {id});
        tx.execute("DELETE FROM api_tokens WHERE user_id = ?", {id});
      }
    }
    out = rows::user(*tx.query_one(std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?", {id}));
  });
  return out;
}

bool Store::set_password_hash(const std::string& user_id, const std::string& hash) {
  bool changed = false;
  db_->transact([&](Transaction& tx) {
    changed = tx.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                         {hash, ms(util::now_utc()), user_id}) > 0;
    tx.execute("DELETE FROM login_sessions WHERE user_id = ?", {user_id});
  });
  return changed;
}

void Store::create_login_session(const std::string& token_hash, const std::string& user_id, util::TimePoint expires_at,
                                 const std::string& address) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "INSERT INTO login_sessions (token_hash, user_id, created_at, expires_at, address) VALUES (?, ?, ?, ?, ?)",
        {token_hash, user_id, ms(util::now_utc()), ms(expires_at), address});
  });
}

std::optional<User> Store::user_for_session(const std::string& token_hash, util::TimePoint now) {
  std::optional<User> out;
  db_->read([&](Transaction& tx) {
    const auto r = tx.query_one(
        "SELECT u.id, u.login, u.display_name, u.role, u.disabled, u.created_at FROM login_sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
        {token_hash, ms(now)});
    if (r) out = rows::user(*r);
  });
  return out;
}

void Store::delete_login_session(const std::string& token_hash) {
  db_->transact([&](Transaction& tx) { tx.execute("DELETE FROM login_sessions WHERE token_hash = ?", {token_hash}); });
}

std::int64_t Store::delete_expired_sessions(util::TimePoint now) {
  std::int64_t n = 0;
  db_->transact(
      [&](Transaction& tx) { n = tx.execute("DELETE FROM login_sessions WHERE expires_at <= ?", {ms(now)}); });
  return n;
}

ApiToken Store::create_api_token(const std::string& user_id, const std::string& name, const std::string& token_hash) {
  ApiToken t;
  t.id = util::uuid_v4();
  t.user_id = user_id;
  t.name = name;
  t.created_at = util::now_utc();
  db_->transact([&](Transaction& tx) {
    tx.execute("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
               {t.id, user_id, name, token_hash, ms(t.created_at)});
  });
  return t;
}

std::vector<ApiToken> Store::api_tokens(const std::string& user_id) {
  std::vector<ApiToken> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query("SELECT id, user_id, name, created_at, last_used_at FROM api_tokens WHERE user_id = ? "
                  "ORDER BY created_at",
                  {user_id})) {
      out.push_back({r.text(0), r.text(1), r.text(2), time(r.integer(3)), opt_ms(r.opt_integer(4))});
    }
  });
  return out;
}

bool Store::delete_api_token(const std::string& user_id, const std::string& token_id) {
  bool deleted = false;
  db_->transact([&](Transaction& tx) {
    deleted = tx.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", {token_id, user_id}) > 0;
  });
  return deleted;
}

std::optional<User> Store::user_for_api_token(const std::string& token_hash, util::TimePoint now) {
  std::optional<User> out;
  bool stale = false;
  db_->read([&](Transaction& tx) {
    const auto r = tx.query_one(
        "SELECT u.id, u.login, u.display_name, u.role, u.disabled, u.created_at, t.last_used_at FROM api_tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND u.disabled = 0",
        {token_hash});
    if (!r) return;
    out = rows::user(*r);
    const auto last = r->opt_integer(6);
    stale = !last || *last < util::to_unix_ms(now - std::chrono::minutes(1));
  });
  // Recorded to the minute: a write (and an fsync) per request would cost more than it tells.
  if (stale) {
    db_->transact([&](Transaction& tx) {
      tx.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?", {ms(now), token_hash});
    });
  }
  return out;
}

// ---- rooms ----

namespace {
Room room_row(const Row& r) { return {r.text(0), r.text(1), r.opt_text(2), time(r.integer(3))}; }
constexpr const char* kRoomCols = "id, name, default_teacher_id, created_at";

std::optional<Refused> check_teacher(Transaction& tx, const std::string& field, const std::string& id) {
  const auto r = tx.query_one("SELECT role, disabled FROM users WHERE id = ?", {id});
  if (!r) return invalid(field, "no user " + id);
  if (r->text(0) != "teacher") return invalid(field, "user " + id + " is not a teacher");
  if (r->boolean(1)) return invalid(field, "user " + id + " is disabled");
  return std::nullopt;
}
}  // namespace

Outcome<Room> Store::create_room(const std::string& name, const std::optional<std::string>& default_teacher_id) {
  Outcome<Room> out = not_found("");
  db_->transact([&](Transaction& tx) {
    if (tx.query_one("SELECT id FROM rooms WHERE name = ?", {name})) {
      out = conflict("name", "a room named \"" + name + "\" already exists");
      return;
    }
    if (default_teacher_id) {
      if (auto bad = check_teacher(tx, "default_teacher_id", *default_teacher_id)) {
        out = *bad;
        return;
      }
    }
    const Room room{util::uuid_v4(), name, default_teacher_id, util::now_utc()};
    tx.execute("INSERT INTO rooms (id, name, default_teacher_id, created_at) VALUES (?, ?, ?, ?)",
               {room.id, room.name, opt_value(room.default_teacher_id), ms(room.created_at)});
    out = room;
  });
  return out;
}

std::optional<Room> Store::room(const std::string& id) {
  std::optional<Room> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kRoomCols + " FROM rooms WHERE id = ?", {id})) {
      out = room_row(*r);
    }
  });
  return out;
}

std::vector<Room> Store::rooms() {
  std::vector<Room> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kRoomCols + " FROM rooms ORDER BY name")) {
      out.push_back(room_row(r));
    }
  });
  return out;
}

Outcome<Room> Store::update_room(const std::string& id, const RoomPatch& patch) {
  Outcome<Room> out = not_found("no room " + id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM rooms WHERE id = ?", {id})) return;
    // Every check before any write, so a refusal leaves the room as it was.
    if (patch.name && tx.query_one("SELECT id FROM rooms WHERE name = ? AND id <> ?", {*patch.name, id})) {
      out = conflict("name", "a room named \"" + *patch.name + "\" already exists");
      return;
    }
    if (patch.default_teacher_id && *patch.default_teacher_id) {
      if (auto bad = check_teacher(tx, "default_teacher_id", **patch.default_teacher_id)) {
        out = *bad;
        return;
      }
    }
    if (patch.name) tx.execute("UPDATE rooms SET name = ? WHERE id = ?", {*patch.name, id});
    if (patch.default_teacher_id) {
      tx.execute("UPDATE rooms SET default_teacher_id = ? WHERE id = ?", {opt_value(*patch.default_teacher_id), id});
    }
    out = room_row(*tx.query_one(std::string("SELECT ") + kRoomCols + " FROM rooms WHERE id = ?", {id}));
  });
  return out;
}

Outcome<Ok> Store::delete_room(const std::string& id) {
  Outcome<Ok> out = not_found("no room " + id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM rooms WHERE id = ?", {id})) return;
    if (const auto n = tx.query_integer("SELECT COUNT(*) FROM units WHERE room_id = ?", {id}); n > 0) {
      out = conflict("id", "the room still has " + std::to_string(n) + " unit(s); move them first");
      return;
    }
    if (const auto n = tx.query_integer("SELECT COUNT(*) FROM observations WHERE room_id = ?", {id}); n > 0) {
      out = conflict("id", "the room has " + std::to_string(n) + " observation(s) on record; it cannot be deleted");
      return;
    }
    tx.execute("DELETE FROM rooms WHERE id = ?", {id});
    out = Ok{};
  });
  return out;
}

// ---- units ----

namespace {
constexpr const char* kUnitCols =
    "id, name, room_id, revoked, token_hash IS NOT NULL, created_at, last_seen_at, last_address, "
    "enrolled_at IS NOT NULL AND revoked = 0, online, state, telemetry_json, last_error";
Unit unit_row(const Row& r) {
  Unit u;
  u.id = r.text(0);
  u.name = r.text(1);
  u.room_id = r.opt_text(2);
  u.revoked = r.boolean(3);
  u.has_token = r.boolean(4);
  u.created_at = time(r.integer(5));
  u.last_seen_at = opt_ms(r.opt_integer(6));
  u.last_address = r.opt_text(7);
  u.enrolled = r.boolean(8);
  u.online = r.boolean(9);
  u.state = r.opt_text(10);
  u.telemetry_json = r.opt_text(11);
  u.last_error = r.opt_text(12);
  return u;
}
}  // namespace
using rows::bump_schedule_revision;

Outcome<Unit> Store::create_unit(const std::string& id, const std::string& name,
                                 const std::optional<std::string>& room_id, const std::string& token_hash) {
  // A unit's id is its MQTT login and client id; this one is the hub's (hub/broker/files.hpp), and a unit
  // of that name would log in as the hub.
  if (id == "classcam-hub") return invalid("id", "\"classcam-hub\" is the hub's own broker login");
  Outcome<Unit> out = not_found("");
  db_->transact([&](Transaction& tx) {
    if (tx.query_one("SELECT id FROM units WHERE id = ?", {id})) {
      out = conflict("id", "a unit with id \"" + id + "\" already exists");
      return;
    }
    if (room_id && !tx.query_one("SELECT id FROM rooms WHERE id = ?", {*room_id})) {
      out = invalid("room_id", "no room " + *room_id);
      return;
    }
    tx.execute("INSERT INTO units (id, name, room_id, token_hash, revoked, created_at) VALUES (?, ?, ?, ?, 0, ?)",
               {id, name, opt_value(room_id), token_hash, ms(util::now_utc())});
    bump_schedule_revision(tx);
    out = unit_row(*tx.query_one(std::string("SELECT ") + kUnitCols + " FROM units WHERE id = ?", {id}));
  });
  return out;
}

std::optional<Unit> Store::unit(const std::string& id) {
  std::optional<Unit> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kUnitCols + " FROM units WHERE id = ?", {id}))
      out = unit_row(*r);
  });
  return out;
}

std::vector<Unit> Store::units() {
  std::vector<Unit> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kUnitCols + " FROM units ORDER BY name, id")) {
      out.push_back(unit_row(r));
    }
  });
  return out;
}

Outcome<Unit> Store::update_unit(const std::string& id, const UnitPatch& patch) {
  Outcome<Unit> out = not_found("no unit " + id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM units WHERE id = ?", {id})) return;
    if (patch.room_id) {
      if (!tx.query_one("SELECT id FROM rooms WHERE id = ?", {*patch.room_id})) {
        out = invalid("room_id", "no room " + *patch.room_id);
        return;
      }
      tx.execute("UPDATE units SET room_id = ? WHERE id = ?", {*patch.room_id, id});
      bump_schedule_revision(tx);
    }
    if (patch.name) tx.execute("UPDATE units SET name = ? WHERE id = ?", {*patch.name, id});
    if (patch.revoked) {
      tx.execute("UPDATE units SET revoked = ? WHERE id = ?", {std::int64_t{*patch.revoked ? 1 : 0}, id});
    }
    out = unit_row(*tx.query_one(std::string("SELECT ") + kUnitCols + " FROM units WHERE id = ?", {id}));
  });
  return out;
}

bool Store::set_unit_token(const std::string& id, const std::string& token_hash) {
  bool changed = false;
  db_->transact([&](Transaction& tx) {
    changed = tx.execute("UPDATE units SET token_hash = ?, revoked = 0 WHERE id = ?", {token_hash, id}) > 0;
  });
  return changed;
}

std::optional<Unit> Store::unit_for_token(const std::string& token_hash) {
  std::optional<Unit> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kUnitCols + " FROM units WHERE token_hash = ? AND revoked = 0",
                              {token_hash})) {
      out = unit_row(*r);
    }
  });
  return out;
}

void Store::touch_unit(const std::string& id, util::TimePoint now, const std::string& address) {
  db_->transact([&](Transaction& tx) {
    // To the minute, like API tokens: a unit uploading calls this on every request.
    tx.execute(
        "UPDATE units SET last_seen_at = ?, last_address = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < "
        "? "
        "OR last_address IS NULL OR last_address <> ?)",
        {ms(now), address, id, ms(now - std::chrono::minutes(1)), address});
  });
}

std::int64_t Store::schedule_revision() {
  std::int64_t n = 0;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one("SELECT value FROM settings WHERE key = 'schedule_revision'")) {
      n = std::stoll(r->text(0));
    }
  });
  return n;
}

// ---- feeds ----

void Store::set_feed(FeedKind kind, const std::string& subject_id, const std::string& token_hash,
                     const std::optional<std::string>& created_by) {
  db_->transact([&](Transaction& tx) {
    tx.execute("DELETE FROM feeds WHERE kind = ? AND subject_id = ?", {std::string(to_string(kind)), subject_id});
    tx.execute("INSERT INTO feeds (token_hash, kind, subject_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
               {token_hash, std::string(to_string(kind)), subject_id, opt_value(created_by), ms(util::now_utc())});
  });
}

std::optional<Feed> Store::feed_for_token(const std::string& token_hash) {
  std::optional<Feed> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one("SELECT kind, subject_id FROM feeds WHERE token_hash = ?", {token_hash})) {
      if (auto k = rows::feed_kind(r->text(0))) out = Feed{*k, r->text(1)};
    }
  });
  return out;
}

// ---- audit, settings ----

void Store::audit(const AuditEntry& e) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target_kind, target_id, address, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {ms(e.at == util::TimePoint{} ? util::now_utc() : e.at), e.actor_kind, opt_value(e.actor_id), e.actor_name,
         e.action, e.target_kind, opt_value(e.target_id), e.address, e.detail});
  });
}

std::vector<AuditEntry> Store::audit_entries(const AuditFilter& f) {
  std::string sql =
      "SELECT id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, address, detail FROM audit_log "
      "WHERE 1 = 1";
  std::vector<Value> params;
  if (f.before_id) {
    sql += " AND id < ?";
    params.emplace_back(*f.before_id);
  }
  if (f.target_id) {
    sql += " AND target_id = ?";
    params.emplace_back(*f.target_id);
  }
  if (f.action) {
    sql += " AND action = ?";
    params.emplace_back(*f.action);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(f.limit));
  std::vector<AuditEntry> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(sql, params)) {
      out.push_back({r.integer(0), time(r.integer(1)), r.text(2), r.opt_text(3), r.text(4), r.text(5), r.text(6),
                     r.opt_text(7), r.text(8), r.text(9)});
    }
  });
  return out;
}

std::optional<std::string> Store::setting(const std::string& key) {
  std::optional<std::string> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one("SELECT value FROM settings WHERE key = ?", {key})) out = r->text(0);
  });
  return out;
}

void Store::set_setting(const std::string& key, const std::string& value) {
  db_->transact([&](Transaction& tx) {
    tx.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               {key, value});
  });
}

std::string Store::setting_or_init(const std::string& key, const std::string& initial) {
  std::string out;
  db_->transact([&](Transaction& tx) {
    tx.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", {key, initial});
    out = tx.query_one("SELECT value FROM settings WHERE key = ?", {key})->text(0);
  });
  return out;
}

}  // namespace classcam::hub::store
