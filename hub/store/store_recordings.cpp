// Recordings, their segments, shares, comments, bookmarks, and tus uploads. Part of Store (store.hpp).
#include "common/util/uuid.hpp"
#include "hub/store/store.hpp"
#include "hub/store/store_rows.hpp"

namespace classcam::hub::store {

using rows::ms;
using rows::opt_ms;
using rows::opt_time;
using rows::time;

namespace {

constexpr const char* kRecCols =
    "r.id, r.unit_id, r.session_id, r.room_id, r.owner_id, r.observation_id, r.title, r.trigger_kind, r.started_at, "
    "r.ended_at, r.end_reason, r.state, r.expected_segments, r.joined_file, r.joined_bytes, r.failure, "
    "r.session_json, r.created_at, r.updated_at, "
    "(SELECT COUNT(*) FROM segments s WHERE s.recording_id = r.id), "
    "(SELECT COALESCE(SUM(s.duration_ns), 0) FROM segments s WHERE s.recording_id = r.id)";

Recording recording_row(const Row& r) {
  Recording x;
  x.id = r.text(0);
  x.unit_id = r.text(1);
  x.session_id = r.text(2);
  x.room_id = r.opt_text(3);
  x.owner_id = r.opt_text(4);
  x.observation_id = r.opt_text(5);
  x.title = r.text(6);
  x.trigger = r.text(7);
  x.started_at = time(r.integer(8));
  x.ended_at = opt_ms(r.opt_integer(9));
  x.end_reason = r.opt_text(10);
  x.state = recording_state_from_string(r.text(11)).value_or(RecordingState::failed);
  if (auto n = r.opt_integer(12)) x.expected_segments = static_cast<std::uint32_t>(*n);
  x.joined_file = r.opt_text(13);
  if (auto n = r.opt_integer(14)) x.joined_bytes = static_cast<std::uint64_t>(*n);
  x.failure = r.opt_text(15);
  x.session_json = r.text(16);
  x.created_at = time(r.integer(17));
  x.updated_at = time(r.integer(18));
  x.segments_received = static_cast<std::uint32_t>(r.integer(19));
  x.duration_ms = r.integer(20) / 1'000'000;
  return x;
}

std::optional<Recording> load_recording(Transaction& tx, const std::string& id) {
  const auto r = tx.query_one(std::string("SELECT ") + kRecCols + " FROM recordings r WHERE r.id = ?", {id});
  if (!r) return std::nullopt;
  return recording_row(*r);
}

constexpr const char* kSegCols =
    "recording_id, idx, file, size_bytes, sha256, start_utc, duration_ns, recovered, received_at";
Segment segment_row(const Row& r) {
  Segment s;
  s.recording_id = r.text(0);
  s.index = static_cast<std::uint32_t>(r.integer(1));
  s.file = r.text(2);
  s.size_bytes = static_cast<std::uint64_t>(r.integer(3));
  s.sha256 = r.text(4);
  s.start_utc = time(r.integer(5));
  s.duration_ns = r.integer(6);
  s.recovered = r.boolean(7);
  s.received_at = time(r.integer(8));
  return s;
}

constexpr const char* kCommentCols =
    "c.id, c.recording_id, c.author_id, COALESCE(u.display_name, ''), c.offset_ms, c.tag, c.body, c.created_at";
Comment comment_row(const Row& r) {
  Comment c;
  c.id = r.text(0);
  c.recording_id = r.text(1);
  c.author_id = r.opt_text(2);
  c.author_name = r.text(3);
  c.offset_ms = r.integer(4);
  c.tag = comment_tag_from_string(r.text(5)).value_or(CommentTag::note);
  c.text = r.text(6);
  c.created_at = time(r.integer(7));
  return c;
}

constexpr const char* kBookmarkCols = "id, recording_id, author_id, offset_ms, label, source, created_at";
Bookmark bookmark_row(const Row& r) {
  return {r.text(0), r.text(1), r.opt_text(2), r.integer(3), r.text(4), r.text(5), time(r.integer(6))};
}

constexpr const char* kUploadCols =
    "id, unit_id, recording_id, session_id, idx, length, upload_offset, metadata, entry_json, state, detail, "
    "created_at, updated_at, expires_at";
Upload upload_row(const Row& r) {
  Upload u;
  u.id = r.text(0);
  u.unit_id = r.text(1);
  u.recording_id = r.opt_text(2);
  u.session_id = r.text(3);
  u.index = static_cast<std::uint32_t>(r.integer(4));
  u.length = static_cast<std::uint64_t>(r.integer(5));
  u.offset = static_cast<std::uint64_t>(r.integer(6));
  u.metadata = r.text(7);
  u.entry_json = r.text(8);
  u.state = rows::upload_state(r.text(9)).value_or(UploadState::rejected);
  u.detail = r.opt_text(10);
  u.created_at = time(r.integer(11));
  u.updated_at = time(r.integer(12));
  u.expires_at = time(r.integer(13));
  return u;
}

}  // namespace

// ---- recordings ----

Outcome<Recording> Store::create_recording(const Recording& in) {
  Outcome<Recording> out = not_found("");
  db_->transact([&](Transaction& tx) {
    if (tx.query_one("SELECT id FROM recordings WHERE unit_id = ? AND session_id = ?", {in.unit_id, in.session_id})) {
      out = conflict("session_id", "session " + in.session_id + " is already known");
      return;
    }
    Recording r = in;
    r.id = util::uuid_v4();
    r.created_at = r.updated_at = util::now_utc();
    tx.execute(
        "INSERT INTO recordings (id, unit_id, session_id, room_id, owner_id, observation_id, title, trigger_kind, "
        "started_at, ended_at, end_reason, state, expected_segments, session_json, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {r.id, r.unit_id, r.session_id, opt_value(r.room_id), opt_value(r.owner_id), opt_value(r.observation_id),
         r.title, r.trigger, ms(r.started_at), opt_time(r.ended_at), opt_value(r.end_reason),
         std::string(to_string(r.state)),
         r.expected_segments ? Value(std::int64_t{*r.expected_segments}) : Value(Null{}), r.session_json,
         ms(r.created_at), ms(r.updated_at)});
    out = *load_recording(tx, r.id);
  });
  return out;
}

std::optional<Recording> Store::recording(const std::string& id) {
  std::optional<Recording> out;
  db_->read([&](Transaction& tx) { out = load_recording(tx, id); });
  return out;
}

std::optional<Recording> Store::recording_by_session(const std::string& unit_id, const std::string& session_id) {
  std::optional<Recording> out;
  db_->read([&](Transaction& tx) {
    const auto r =
        tx.query_one(std::string("SELECT ") + kRecCols + " FROM recordings r WHERE r.unit_id = ? AND r.session_id = ?",
                     {unit_id, session_id});
    if (r) out = recording_row(*r);
  });
  return out;
}

std::vector<Recording> Store::recordings(const RecordingFilter& f) {
  std::string sql = std::string("SELECT ") + kRecCols + " FROM recordings r WHERE 1 = 1";
  std::vector<Value> params;
  if (f.visible_to) {
    sql += " AND (r.owner_id = ? OR r.id IN (SELECT recording_id FROM shares WHERE user_id = ?))";
    params.emplace_back(*f.visible_to);
    params.emplace_back(*f.visible_to);
  }
  if (f.room_id) {
    sql += " AND r.room_id = ?";
    params.emplace_back(*f.room_id);
  }
  if (f.from) {
    sql += " AND r.started_at >= ?";
    params.push_back(ms(*f.from));
  }
  if (f.to) {
    sql += " AND r.started_at < ?";
    params.push_back(ms(*f.to));
  }
  sql += " ORDER BY r.started_at DESC, r.id LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(f.limit));
  std::vector<Recording> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(sql, params)) out.push_back(recording_row(r));
  });
  return out;
}

void Store::update_recording_session(const Recording& r) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "UPDATE recordings SET ended_at = ?, end_reason = ?, expected_segments = ?, session_json = ?, updated_at = ? "
        "WHERE id = ?",
        {opt_time(r.ended_at), opt_value(r.end_reason),
         r.expected_segments ? Value(std::int64_t{*r.expected_segments}) : Value(Null{}), r.session_json,
         ms(util::now_utc()), r.id});
  });
}

void Store::set_recording_title(const std::string& id, const std::string& title) {
  db_->transact([&](Transaction& tx) {
    tx.execute("UPDATE recordings SET title = ?, updated_at = ? WHERE id = ?", {title, ms(util::now_utc()), id});
  });
}

void Store::set_recording_owner(const std::string& id, const std::string& owner_id) {
  db_->transact([&](Transaction& tx) {
    tx.execute("UPDATE recordings SET owner_id = ?, updated_at = ? WHERE id = ?", {owner_id, ms(util::now_utc()), id});
  });
}

void Store::set_recording_state(const std::string& id, RecordingState state,
                                const std::optional<std::string>& joined_file,
                                std::optional<std::uint64_t> joined_bytes, const std::optional<std::string>& failure) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "UPDATE recordings SET state = ?, joined_file = ?, joined_bytes = ?, failure = ?, updated_at = ? WHERE id = ?",
        {std::string(to_string(state)), opt_value(joined_file),
         joined_bytes ? Value(static_cast<std::int64_t>(*joined_bytes)) : Value(Null{}), opt_value(failure),
         ms(util::now_utc()), id});
  });
}

RecordingState Store::mark_complete_if_all_in(const std::string& id) {
  RecordingState state = RecordingState::failed;
  db_->transact([&](Transaction& tx) {
    const auto r = load_recording(tx, id);
    if (!r) return;
    state = r->state;
    if (r->state != RecordingState::recording || !r->expected_segments) return;
    // Indices are validated below expected_segments on arrival, so a full count means 0..n-1 are all in.
    if (r->segments_received == *r->expected_segments) {
      tx.execute("UPDATE recordings SET state = 'complete', updated_at = ? WHERE id = ?", {ms(util::now_utc()), id});
      state = RecordingState::complete;
    }
  });
  return state;
}

bool Store::delete_recording(const std::string& id) {
  bool deleted = false;
  db_->transact([&](Transaction& tx) { deleted = tx.execute("DELETE FROM recordings WHERE id = ?", {id}) > 0; });
  return deleted;
}

std::vector<Recording> Store::recordings_started_before(util::TimePoint cutoff) {
  std::vector<Recording> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query(std::string("SELECT ") + kRecCols + " FROM recordings r WHERE r.started_at < ? ORDER BY r.started_at",
                  {ms(cutoff)})) {
      out.push_back(recording_row(r));
    }
  });
  return out;
}

std::vector<Recording> Store::recordings_in_state(RecordingState state) {
  std::vector<Recording> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kRecCols + " FROM recordings r WHERE r.state = ?",
                                  {std::string(to_string(state))})) {
      out.push_back(recording_row(r));
    }
  });
  return out;
}

// ---- segments ----

Outcome<Segment> Store::add_segment(const Segment& s) {
  Outcome<Segment> out = not_found("no recording " + s.recording_id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM recordings WHERE id = ?", {s.recording_id})) return;
    if (const auto existing =
            tx.query_one(std::string("SELECT ") + kSegCols + " FROM segments WHERE recording_id = ? AND idx = ?",
                         {s.recording_id, std::int64_t{s.index}})) {
      const Segment have = segment_row(*existing);
      if (have.sha256 == s.sha256) {
        out = have;
      } else {
        out = conflict("entry.sha256", "segment " + std::to_string(s.index) +
                                           " of this session is already stored with a different SHA-256 (" +
                                           have.sha256 + ")");
      }
      return;
    }
    tx.execute(
        "INSERT INTO segments (recording_id, idx, file, size_bytes, sha256, start_utc, duration_ns, recovered, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {s.recording_id, std::int64_t{s.index}, s.file, static_cast<std::int64_t>(s.size_bytes), s.sha256,
         ms(s.start_utc), s.duration_ns, std::int64_t{s.recovered ? 1 : 0}, ms(s.received_at)});
    tx.execute("UPDATE recordings SET updated_at = ? WHERE id = ?", {ms(util::now_utc()), s.recording_id});
    out = s;
  });
  return out;
}

std::vector<Segment> Store::segments(const std::string& recording_id) {
  std::vector<Segment> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query(std::string("SELECT ") + kSegCols + " FROM segments WHERE recording_id = ? ORDER BY idx",
                  {recording_id})) {
      out.push_back(segment_row(r));
    }
  });
  return out;
}

std::optional<Segment> Store::segment(const std::string& recording_id, std::uint32_t index) {
  std::optional<Segment> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kSegCols + " FROM segments WHERE recording_id = ? AND idx = ?",
                              {recording_id, std::int64_t{index}})) {
      out = segment_row(*r);
    }
  });
  return out;
}

// ---- shares ----

bool Store::add_share(const std::string& recording_id, const std::string& user_id, const std::string& granted_by) {
  bool added = false;
  db_->transact([&](Transaction& tx) {
    added = tx.execute(
                "INSERT INTO shares (recording_id, user_id, granted_by, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (recording_id, user_id) DO NOTHING",
                {recording_id, user_id, granted_by, ms(util::now_utc())}) > 0;
  });
  return added;
}

bool Store::remove_share(const std::string& recording_id, const std::string& user_id) {
  bool removed = false;
  db_->transact([&](Transaction& tx) {
    removed = tx.execute("DELETE FROM shares WHERE recording_id = ? AND user_id = ?", {recording_id, user_id}) > 0;
  });
  return removed;
}

std::vector<Share> Store::shares(const std::string& recording_id) {
  std::vector<Share> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query("SELECT recording_id, user_id, granted_by, created_at FROM shares WHERE recording_id = ? "
                  "ORDER BY created_at",
                  {recording_id})) {
      out.push_back({r.text(0), r.text(1), r.text(2), time(r.integer(3))});
    }
  });
  return out;
}

bool Store::is_shared_with(const std::string& recording_id, const std::string& user_id) {
  bool shared = false;
  db_->read([&](Transaction& tx) {
    shared = tx.query_one("SELECT 1 FROM shares WHERE recording_id = ? AND user_id = ?", {recording_id, user_id})
                 .has_value();
  });
  return shared;
}

// ---- comments and bookmarks ----

Comment Store::add_comment(const Comment& in) {
  Comment c = in;
  c.id = util::uuid_v4();
  c.created_at = util::now_utc();
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "INSERT INTO comments (id, recording_id, author_id, offset_ms, tag, body, created_at) VALUES (?, ?, ?, ?, ?, "
        "?, ?)",
        {c.id, c.recording_id, opt_value(c.author_id), c.offset_ms, std::string(to_string(c.tag)), c.text,
         ms(c.created_at)});
    if (c.author_id) {
      if (auto r = tx.query_one("SELECT display_name FROM users WHERE id = ?", {*c.author_id}))
        c.author_name = r->text(0);
    }
  });
  return c;
}

std::vector<Comment> Store::comments(const std::string& recording_id) {
  std::vector<Comment> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query(std::string("SELECT ") + kCommentCols +
                      " FROM comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.recording_id = ? "
                      "ORDER BY c.offset_ms, c.created_at",
                  {recording_id})) {
      out.push_back(comment_row(r));
    }
  });
  return out;
}

std::optional<Comment> Store::comment(const std::string& id) {
  std::optional<Comment> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kCommentCols +
                                  " FROM comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.id = ?",
                              {id})) {
      out = comment_row(*r);
    }
  });
  return out;
}

bool Store::delete_comment(const std::string& id) {
  bool deleted = false;
  db_->transact([&](Transaction& tx) { deleted = tx.execute("DELETE FROM comments WHERE id = ?", {id}) > 0; });
  return deleted;
}

Bookmark Store::add_bookmark(const Bookmark& in) {
  Bookmark b = in;
  if (b.id.empty()) b.id = util::uuid_v4();
  b.created_at = util::now_utc();
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "INSERT INTO bookmarks (id, recording_id, author_id, offset_ms, label, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        {b.id, b.recording_id, opt_value(b.author_id), b.offset_ms, b.label, b.source, ms(b.created_at)});
  });
  return b;
}

std::vector<Bookmark> Store::bookmarks(const std::string& recording_id) {
  std::vector<Bookmark> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kBookmarkCols +
                                      " FROM bookmarks WHERE recording_id = ? ORDER BY offset_ms, created_at",
                                  {recording_id})) {
      out.push_back(bookmark_row(r));
    }
  });
  return out;
}

std::optional<Bookmark> Store::bookmark(const std::string& id) {
  std::optional<Bookmark> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kBookmarkCols + " FROM bookmarks WHERE id = ?", {id})) {
      out = bookmark_row(*r);
    }
  });
  return out;
}

bool Store::delete_bookmark(const std::string& id) {
  bool deleted = false;
  db_->transact([&](Transaction& tx) { deleted = tx.execute("DELETE FROM bookmarks WHERE id = ?", {id}) > 0; });
  return deleted;
}

// ---- uploads ----

void Store::create_upload(const Upload& u) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "INSERT INTO uploads (id, unit_id, recording_id, session_id, idx, length, upload_offset, metadata, entry_json, "
        "state, detail, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {u.id, u.unit_id, opt_value(u.recording_id), u.session_id, std::int64_t{u.index},
         static_cast<std::int64_t>(u.length), static_cast<std::int64_t>(u.offset), u.metadata, u.entry_json,
         std::string(to_string(u.state)), opt_value(u.detail), ms(u.created_at), ms(u.updated_at), ms(u.expires_at)});
  });
}

std::optional<Upload> Store::upload(const std::string& id) {
  std::optional<Upload> out;
  db_->read([&](Transaction& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kUploadCols + " FROM uploads WHERE id = ?", {id})) {
      out = upload_row(*r);
    }
  });
  return out;
}

std::vector<Upload> Store::uploads_in_states(const std::vector<UploadState>& states) {
  std::vector<Upload> out;
  db_->read([&](Transaction& tx) {
    for (const auto s : states) {
      for (const auto& r : tx.query(
               std::string("SELECT ") + kUploadCols + " FROM uploads WHERE state = ? ORDER BY created_at LIMIT 1000",
               {std::string(to_string(s))})) {
        out.push_back(upload_row(r));
      }
    }
  });
  return out;
}

void Store::set_upload_offset(const std::string& id, std::uint64_t offset, util::TimePoint now,
                              util::TimePoint expires_at) {
  db_->transact([&](Transaction& tx) {
    tx.execute("UPDATE uploads SET upload_offset = ?, updated_at = ?, expires_at = ? WHERE id = ?",
               {static_cast<std::int64_t>(offset), ms(now), ms(expires_at), id});
  });
}

void Store::set_upload_state(const std::string& id, UploadState state, const std::optional<std::string>& detail,
                             const std::optional<std::string>& recording_id) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        "UPDATE uploads SET state = ?, detail = ?, recording_id = COALESCE(?, recording_id), updated_at = ? "
        "WHERE id = ?",
        {std::string(to_string(state)), opt_value(detail), opt_value(recording_id), ms(util::now_utc()), id});
  });
}

std::vector<Upload> Store::open_uploads_expired(util::TimePoint now) {
  std::vector<Upload> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r :
         tx.query(std::string("SELECT ") + kUploadCols + " FROM uploads WHERE state = 'open' AND expires_at <= ?",
                  {ms(now)})) {
      out.push_back(upload_row(r));
    }
  });
  return out;
}

}  // namespace classcam::hub::store
