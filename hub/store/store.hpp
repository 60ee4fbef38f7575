#pragma once
// The hub's store: every query the hub runs, as typed methods over a Database (SQLite today). The SQL
// is the portable subset described in database.hpp, so a PostgreSQL Database plus its migration
// dialect is all another backend needs.
//
// Expected refusals (a duplicate name, an overlapping observation, a row that is gone) come back as
// Result errors whose message is fit for an API reply; database failures throw StoreError.
//
// Threading: safe to call from any thread (the Database serialises transactions). Methods that must
// check-then-write (overlaps, uniqueness) do both inside one transaction.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/util/result.hpp"
#include "hub/store/database.hpp"
#include "hub/store/types.hpp"

namespace classcam::hub::store {

// Which refusal a Result error is, for mapping to an HTTP status.
enum class Refusal { not_found, conflict, invalid };
struct Refused {
  Refusal kind;
  std::string field;    // the request field it concerns, when there is one
  std::string message;  // fit for any caller: names nothing the caller might not be allowed to see
  // The row the request clashes with (an overlapping observation), so a caller who may see that row
  // can be told more than `message` says.
  std::optional<std::string> other_id = std::nullopt;
};
template <typename T>
using Outcome = std::variant<T, Refused>;
template <typename T>
const Refused* refusal(const Outcome<T>& o) {
  return std::get_if<Refused>(&o);
}
inline Refused not_found(std::string what) { return {Refusal::not_found, "", std::move(what)}; }
inline Refused conflict(std::string field, std::string message) {
  return {Refusal::conflict, std::move(field), std::move(message)};
}
inline Refused invalid(std::string field, std::string message) {
  return {Refusal::invalid, std::move(field), std::move(message)};
}

struct UserPatch {
  std::optional<std::string> display_name = std::nullopt;
  std::optional<Role> role = std::nullopt;
  std::optional<bool> disabled = std::nullopt;
};

struct RoomPatch {
  std::optional<std::string> name = std::nullopt;
  std::optional<std::optional<std::string>> default_teacher_id = std::nullopt;  // set to nullopt-in-optional to clear
};

struct UnitPatch {
  std::optional<std::string> name = std::nullopt;
  std::optional<std::string> room_id = std::nullopt;
  std::optional<bool> revoked = std::nullopt;
};

struct ObservationFilter {
  std::optional<util::TimePoint> from = std::nullopt;  // observations ending after this
  std::optional<util::TimePoint> to = std::nullopt;    // observations starting before this
  std::optional<std::string> room_id = std::nullopt;
  // Only observations this user teaches or is invited to (teachers and coaches see only those).
  std::optional<std::string> involving_user = std::nullopt;
  bool include_cancelled = false;
};

struct ObservationPatch {
  std::optional<std::string> room_id = std::nullopt;
  std::optional<std::string> teacher_id = std::nullopt;
  std::optional<std::string> title = std::nullopt;
  std::optional<util::TimePoint> start = std::nullopt;
  std::optional<util::TimePoint> end = std::nullopt;
  std::optional<std::vector<std::string>> coach_ids = std::nullopt;
  std::optional<bool> live_allowed = std::nullopt;
};

struct RecordingFilter {
  // Only recordings this user owns or has been shared (teachers and coaches); unset = all.
  std::optional<std::string> visible_to = std::nullopt;
  std::optional<std::string> room_id = std::nullopt;
  std::optional<util::TimePoint> from = std::nullopt;
  std::optional<util::TimePoint> to = std::nullopt;
  std::size_t limit = 200;
};

struct AuditFilter {
  std::optional<std::int64_t> before_id = std::nullopt;  // paging: entries older than this id
  std::optional<std::string> target_id = std::nullopt;
  std::optional<std::string> action = std::nullopt;
  std::size_t limit = 200;
};

class Store {
 public:
  explicit Store(std::unique_ptr<Database> db);
  // Opens the configured backend at `sqlite_path`, applies pending migrations. Throws StoreError.
  static std::unique_ptr<Store> open_sqlite(const std::filesystem::path& sqlite_path);

  Database& database() { return *db_; }

  // ---- users, login sessions, API tokens ----
  std::int64_t count_users();
  Outcome<User> create_user(const std::string& login, const std::string& display_name, Role role,
                            const std::string& password_hash);
  std::optional<User> user(const std::string& id);
  std::optional<User> user_by_login(const std::string& login);
  std::optional<std::string> password_hash(const std::string& user_id);
  std::vector<User> users();
  Outcome<User> update_user(const std::string& id, const UserPatch& patch);
  // Replaces the hash, ends every login session of the user but `keep_session_hash` (the one the user
  // changed it in) and deletes every API token of the user: whoever knew the old password may have
  // made one (docs/hub-api.md, "Passwords, sessions and tokens").
  bool set_password_hash(const std::string& user_id, const std::string& hash,
                         const std::optional<std::string>& keep_session_hash = std::nullopt);

  void create_login_session(const std::string& token_hash, const std::string& user_id, util::TimePoint expires_at,
                            const std::string& address);
  // The (enabled) user a live session belongs to.
  std::optional<User> user_for_session(const std::string& token_hash, util::TimePoint now);
  void delete_login_session(const std::string& token_hash);
  std::int64_t delete_expired_sessions(util::TimePoint now);

  ApiToken create_api_token(const std::string& user_id, const std::string& name, const std::string& token_hash);
  std::vector<ApiToken> api_tokens(const std::string& user_id);
  bool delete_api_token(const std::string& user_id, const std::string& token_id);
  std::optional<User> user_for_api_token(const std::string& token_hash, util::TimePoint now);

  // ---- sign-in and enrolment throttles ----
  std::optional<Throttle> throttle(const std::string& key);
  // Reads, changes and writes the key's row in one transaction (so concurrent failures all count):
  // `change` gets the row (nullopt when there is none) and returns the new one, or nullopt to delete it.
  std::optional<Throttle> update_throttle(
      const std::string& key, const std::function<std::optional<Throttle>(std::optional<Throttle>)>& change);
  // Drops rows whose last failure is before `cutoff`; returns how many.
  std::int64_t delete_throttles_before(util::TimePoint cutoff);

  // ---- rooms and units ----
  Outcome<Room> create_room(const std::string& name, const std::optional<std::string>& default_teacher_id);
  std::optional<Room> room(const std::string& id);
  std::vector<Room> rooms();
  Outcome<Room> update_room(const std::string& id, const RoomPatch& patch);
  Outcome<Ok> delete_room(const std::string& id);

  Outcome<Unit> create_unit(const std::string& id, const std::string& name, const std::optional<std::string>& room_id,
                            const std::string& token_hash);
  std::optional<Unit> unit(const std::string& id);
  std::vector<Unit> units();
  Outcome<Unit> update_unit(const std::string& id, const UnitPatch& patch);
  bool set_unit_token(const std::string& id, const std::string& token_hash);
  // The unit a token belongs to, unless revoked.
  std::optional<Unit> unit_for_token(const std::string& token_hash);
  void touch_unit(const std::string& id, util::TimePoint now, const std::string& address);

  // ---- enrolment and fleet (store_fleet.cpp) ----
  // Replaces the unit's pairing code (one live code per unit). not_found when there is no such unit.
  Outcome<Ok> set_pairing_code(const std::string& unit_id, const std::string& secret_hash,
                               const std::optional<std::string>& created_by, util::TimePoint expires_at);
  // Spends a pairing code and enrols its unit in one transaction: a new API token, a new MQTT
  // password hash, revoked cleared. Refused (invalid, with a message for the unit) when the code is
  // unknown, used or expired, without saying whether a unit exists.
  Outcome<Unit> enroll_with_code(const std::string& secret_hash, util::TimePoint now, const std::string& token_hash,
                                 const std::string& mqtt_password_hash);
  // Revokes at once: API token and MQTT password gone, pairing code dropped.
  Outcome<Unit> revoke_unit(const std::string& unit_id);
  // Logins of enrolled, non-revoked units, for the broker's password file.
  std::vector<BrokerCredential> broker_credentials();
  // What a unit said: each std::nullopt argument leaves its column as it is.
  void set_unit_fleet_state(const std::string& unit_id, util::TimePoint now, std::optional<bool> online,
                            const std::optional<std::string>& state, const std::optional<std::string>& telemetry_json,
                            const std::optional<std::string>& last_error);

  void create_command(const UnitCommand& c);
  std::optional<UnitCommand> command(const std::string& unit_id, const std::string& id);
  std::vector<UnitCommand> commands(const std::string& unit_id, std::size_t limit);
  // Records a result; only a command still "sent" changes (units answer every copy the same way).
  bool set_command_result(const std::string& unit_id, const std::string& id, CommandState state,
                          const std::string& detail, util::TimePoint at, const std::optional<std::string>& session_id);
  // Drops command rows issued before `cutoff`; returns how many.
  std::int64_t delete_commands_before(util::TimePoint cutoff);

  // ---- observations ----
  // Refuses (conflict, field "start", other_id the overlapping observation; the message gives only the
  // requested times) an observation overlapping a scheduled one in the same room; back-to-back is fine. Checks that the
  // room, teacher and coaches exist (invalid, naming the field).
  Outcome<Observation> create_observation(const Observation& o);
  std::optional<Observation> observation(const std::string& id);
  std::vector<Observation> observations(const ObservationFilter& filter);
  Outcome<Observation> update_observation(const std::string& id, const ObservationPatch& patch);
  Outcome<Observation> cancel_observation(const std::string& id);
  // Grows by one on every change to any observation or unit placement: the schedule revision units see.
  std::int64_t schedule_revision();

  // ---- recordings, segments, shares, comments, bookmarks ----
  Outcome<Recording> create_recording(const Recording& r);
  std::optional<Recording> recording(const std::string& id);
  std::optional<Recording> recording_by_session(const std::string& unit_id, const std::string& session_id);
  std::vector<Recording> recordings(const RecordingFilter& filter);
  // Updates what a later session announcement may change (end, expected count, session JSON).
  void update_recording_session(const Recording& r);
  void set_recording_title(const std::string& id, const std::string& title);
  void set_recording_owner(const std::string& id, const std::string& owner_id);
  void set_recording_state(const std::string& id, RecordingState state, const std::optional<std::string>& joined_file,
                           std::optional<std::uint64_t> joined_bytes, const std::optional<std::string>& failure);
  // Moves recording -> complete when every expected segment is in; returns the state after the check.
  RecordingState mark_complete_if_all_in(const std::string& id);
  bool delete_recording(const std::string& id);
  std::vector<Recording> recordings_started_before(util::TimePoint cutoff);
  std::vector<Recording> recordings_in_state(RecordingState state);

  // Adds a segment. Returns the stored segment: the existing one when the same index is already
  // there with the same SHA-256 (idempotent), conflict when it is there with another.
  Outcome<Segment> add_segment(const Segment& s);
  std::vector<Segment> segments(const std::string& recording_id);
  std::optional<Segment> segment(const std::string& recording_id, std::uint32_t index);

  bool add_share(const std::string& recording_id, const std::string& user_id, const std::string& granted_by);
  bool remove_share(const std::string& recording_id, const std::string& user_id);
  std::vector<Share> shares(const std::string& recording_id);
  bool is_shared_with(const std::string& recording_id, const std::string& user_id);

  Comment add_comment(const Comment& c);
  std::vector<Comment> comments(const std::string& recording_id);
  std::optional<Comment> comment(const std::string& id);
  bool delete_comment(const std::string& id);

  Bookmark add_bookmark(const Bookmark& b);
  std::vector<Bookmark> bookmarks(const std::string& recording_id);
  std::optional<Bookmark> bookmark(const std::string& id);
  bool delete_bookmark(const std::string& id);

  // ---- uploads ----
  void create_upload(const Upload& u);
  std::optional<Upload> upload(const std::string& id);
  std::vector<Upload> uploads_in_states(const std::vector<UploadState>& states);
  void set_upload_offset(const std::string& id, std::uint64_t offset, util::TimePoint now, util::TimePoint expires_at);
  void set_upload_state(const std::string& id, UploadState state, const std::optional<std::string>& detail,
                        const std::optional<std::string>& recording_id);
  std::vector<Upload> open_uploads_expired(util::TimePoint now);

  // ---- calendar feeds ----
  // Replaces the subject's feed token (the old URL stops working).
  void set_feed(FeedKind kind, const std::string& subject_id, const std::string& token_hash,
                const std::optional<std::string>& created_by);
  std::optional<Feed> feed_for_token(const std::string& token_hash);

  // ---- audit log and settings ----
  void audit(const AuditEntry& e);
  std::vector<AuditEntry> audit_entries(const AuditFilter& filter);
  std::optional<std::string> setting(const std::string& key);
  void set_setting(const std::string& key, const std::string& value);
  // Sets the value only if the key has none yet; returns the value in force.
  std::string setting_or_init(const std::string& key, const std::string& initial);

 private:
  std::unique_ptr<Database> db_;
};

}  // namespace classcam::hub::store
