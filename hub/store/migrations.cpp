#include "hub/store/migrations.hpp"

#include "common/util/time.hpp"

namespace classcam::hub::store {

namespace {

// Times are integer milliseconds since the Unix epoch (UTC); booleans 0/1; ids TEXT (UUIDs, or the
// protocol's [a-z0-9-] ids for units and sessions). The audit log has no foreign keys on purpose: it
// must outlive what it talks about.
const std::vector<Migration>& sqlite_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "initial schema", R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'teacher', 'coach')),
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL
);
CREATE TABLE login_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  address TEXT NOT NULL
);
CREATE INDEX login_sessions_user ON login_sessions(user_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE rooms (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  default_teacher_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE units (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  room_id TEXT REFERENCES rooms(id) ON DELETE RESTRICT,
  token_hash TEXT UNIQUE,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  last_address TEXT
);
CREATE TABLE observations (
  id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE RESTRICT,
  teacher_id TEXT NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  title TEXT NOT NULL,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'cancelled')),
  created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (end_at > start_at)
);
CREATE INDEX observations_room_time ON observations(room_id, start_at);
CREATE INDEX observations_teacher_time ON observations(teacher_id, start_at);
CREATE TABLE observation_coaches (
  observation_id TEXT NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (observation_id, user_id)
);
CREATE INDEX observation_coaches_user ON observation_coaches(user_id);
CREATE TABLE recordings (
  id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
  session_id TEXT NOT NULL,
  room_id TEXT REFERENCES rooms(id) ON DELETE SET NULL,
  owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  observation_id TEXT REFERENCES observations(id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT,
  state TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'joining', 'ready', 'failed')),
  expected_segments INTEGER,
  joined_file TEXT,
  joined_bytes INTEGER,
  failure TEXT,
  session_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (unit_id, session_id)
);
CREATE INDEX recordings_owner ON recordings(owner_id);
CREATE INDEX recordings_started ON recordings(started_at);
CREATE TABLE segments (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  file TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  start_utc INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  recovered INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (recording_id, idx)
);
CREATE TABLE shares (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  granted_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (recording_id, user_id)
);
CREATE INDEX shares_user ON shares(user_id);
CREATE TABLE bookmarks (
  id TEXT PRIMARY KEY,
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  offset_ms INTEGER NOT NULL,
  label TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX bookmarks_recording ON bookmarks(recording_id, offset_ms);
CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  offset_ms INTEGER NOT NULL,
  tag TEXT NOT NULL CHECK (tag IN ('strength', 'question', 'suggestion', 'note')),
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX comments_recording ON comments(recording_id, offset_ms);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
  recording_id TEXT REFERENCES recordings(id) ON DELETE SET NULL,
  session_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  length INTEGER NOT NULL,
  upload_offset INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  entry_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected', 'terminated', 'expired')),
  detail TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX uploads_state_expiry ON uploads(state, expires_at);
CREATE TABLE feeds (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('room', 'unit', 'user')),
  subject_id TEXT NOT NULL,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (kind, subject_id)
);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'unit', 'system')),
  actor_id TEXT,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target_id TEXT,
  address TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target_kind, target_id);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
      {2, "unit enrolment, broker credentials, fleet state, commands", R"sql(
ALTER TABLE units ADD COLUMN mqtt_password_hash TEXT;
ALTER TABLE units ADD COLUMN enrolled_at INTEGER;
ALTER TABLE units ADD COLUMN online INTEGER NOT NULL DEFAULT 0;
ALTER TABLE units ADD COLUMN state TEXT;
ALTER TABLE units ADD COLUMN telemetry_json TEXT;
ALTER TABLE units ADD COLUMN last_error TEXT;
CREATE TABLE pairing_codes (
  unit_id TEXT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL UNIQUE,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE unit_commands (
  id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
  action TEXT NOT NULL,
  args_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sent', 'ok', 'failed', 'rejected', 'expired')),
  detail TEXT NOT NULL DEFAULT '',
  issued_by TEXT,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER,
  result_at INTEGER,
  session_id TEXT
);
CREATE INDEX unit_commands_unit ON unit_commands(unit_id, issued_at);
)sql"},
      // Kept across restarts: a restart must not reset an attacker's count (hub/auth/rate_limiter.hpp).
      {3, "sign-in and enrolment throttles", R"sql(
CREATE TABLE auth_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL
);
)sql"},
      {4, "observations scheduled with live allowed", R"sql(
ALTER TABLE observations ADD COLUMN live_allowed INTEGER NOT NULL DEFAULT 0;
)sql"},
  };
  return migrations;
}

}  // namespace

const std::vector<Migration>& migrations_for(std::string_view backend) {
  static const std::vector<Migration> none;
  if (backend == "sqlite") return sqlite_migrations();
  return none;
}

int schema_version(Database& db) {
  int version = 0;
  db.transact([&](Transaction& tx) {
    tx.execute_script(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
        "applied_at INTEGER NOT NULL)");
    version = static_cast<int>(tx.query_integer("SELECT MAX(version) FROM schema_version"));
  });
  return version;
}

int migrate(Database& db, const std::vector<Migration>& migrations) {
  // The whole list, not only the part still to run: a second migration with a number already taken
  // would otherwise be skipped without a word on every database that is past that number.
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw StoreError("migration \"" + migrations[i].description + "\" is numbered " +
                       std::to_string(migrations[i].version) + " but is number " + std::to_string(i + 1) +
                       " in the list: migrations are numbered 1, 2, 3 ... without gaps or repeats");
    }
  }
  int current = schema_version(db);
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest) {
    throw StoreError("the database is at schema version " + std::to_string(current) + " but this build knows only " +
                     std::to_string(newest) + ": it was written by a newer classcam-hub; refusing to touch it");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    if (m.version != current + 1) {
      throw StoreError("migration " + std::to_string(m.version) + " follows " + std::to_string(current) +
                       ": migrations must be numbered without gaps");
    }
    try {
      db.transact([&](Transaction& tx) {
        tx.execute_script(m.sql);
        tx.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                   {std::int64_t{m.version}, m.description, util::to_unix_ms(util::now_utc())});
      });
    } catch (const StoreError& e) {
      throw StoreError("migration " + std::to_string(m.version) + " (" + m.description + ") failed: " + e.what());
    }
    current = m.version;
  }
  return current;
}

}  // namespace classcam::hub::store
