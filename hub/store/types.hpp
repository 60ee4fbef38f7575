#pragma once
// The hub's records as plain C++ values. Times are UTC (util::TimePoint); optional members are SQL NULLs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/time.hpp"

namespace classcam::hub::store {

enum class Role { admin, technician, teacher, coach };
std::string_view to_string(Role r);
std::optional<Role> role_from_string(std::string_view s);

struct User {
  std::string id;
  std::string login;
  std::string display_name;
  Role role = Role::teacher;
  bool disabled = false;
  util::TimePoint created_at{};
};

struct ApiToken {
  std::string id;
  std::string user_id;
  std::string name;
  util::TimePoint created_at{};
  std::optional<util::TimePoint> last_used_at;
};

// Failed attempts of one key (a login, an address) at signing in or enrolling: hub/auth/rate_limiter.hpp.
struct Throttle {
  std::string key;
  std::int64_t failures = 0;  // since the key was last reset or forgotten
  util::TimePoint last_failure_at{};
  util::TimePoint blocked_until{};  // no attempt is checked before this
};

struct Room {
  std::string id;
  std::string name;
  std::optional<std::string> default_teacher_id;
  util::TimePoint created_at{};
};

struct Unit {
  std::string id;
  std::string name;
  std::optional<std::string> room_id;
  bool revoked = false;
  bool has_token = false;
  util::TimePoint created_at{};
  std::optional<util::TimePoint> last_seen_at;
  std::optional<std::string> last_address;
  // Fleet: what the unit last said over MQTT (hub/fleet keeps these).
  bool enrolled = false;                      // enrolled with a pairing code and not revoked since
  bool online = false;                        // from its retained state; false after its last will or when never seen
  std::optional<std::string> state;           // the recorder state it last reported
  std::optional<std::string> telemetry_json;  // its latest Telemetry message
  std::optional<std::string> last_error;
};

enum class CommandState { sent, ok, failed, rejected, expired };
std::string_view to_string(CommandState s);
std::optional<CommandState> command_state_from_string(std::string_view s);

// A command sent to a unit over MQTT, and what became of it.
struct UnitCommand {
  std::string id;
  std::string unit_id;
  std::string action;
  std::string args_json;
  CommandState state = CommandState::sent;
  std::string detail;
  std::optional<std::string> issued_by;
  util::TimePoint issued_at{};
  std::optional<util::TimePoint> expires_at;
  std::optional<util::TimePoint> result_at;
  std::optional<std::string> session_id;
};

// A unit's MQTT login as the broker needs it: the password only as Mosquitto's hash.
struct BrokerCredential {
  std::string unit_id;
  std::string password_hash;
};

enum class ObservationState { scheduled, cancelled };
std::string_view to_string(ObservationState s);

struct Observation {
  std::string id;
  std::string room_id;
  std::string teacher_id;
  std::string title;
  util::TimePoint start{};
  util::TimePoint end{};
  ObservationState state = ObservationState::scheduled;
  std::vector<std::string> coach_ids;  // invited coaches, sorted
  // The teacher agreed in advance that the invited coaches may watch live (no consent on the day).
  bool live_allowed = false;
  std::optional<std::string> created_by;
  util::TimePoint created_at{};
  util::TimePoint updated_at{};
};

// recording: segments still arriving; complete: every segment is in, join pending; joining: the join
// runs; ready: joined into one MP4; failed: the join failed (segments are kept, see `failure`).
enum class RecordingState { recording, complete, joining, ready, failed };
std::string_view to_string(RecordingState s);
std::optional<RecordingState> recording_state_from_string(std::string_view s);

struct Recording {
  std::string id;
  std::string unit_id;
  std::string session_id;
  std::optional<std::string> room_id;
  std::optional<std::string> owner_id;
  std::optional<std::string> observation_id;
  std::string title;
  std::string trigger;
  util::TimePoint started_at{};
  std::optional<util::TimePoint> ended_at;
  std::optional<std::string> end_reason;
  RecordingState state = RecordingState::recording;
  std::optional<std::uint32_t> expected_segments;
  std::uint32_t segments_received = 0;  // counted, not stored
  std::optional<std::string> joined_file;
  std::optional<std::uint64_t> joined_bytes;
  std::int64_t duration_ms = 0;
  std::optional<std::string> failure;
  std::string session_json;  // the unit's SessionInfo as last announced
  util::TimePoint created_at{};
  util::TimePoint updated_at{};
};

struct Segment {
  std::string recording_id;
  std::uint32_t index = 0;
  std::string file;  // path relative to the media directory
  std::uint64_t size_bytes = 0;
  std::string sha256;
  util::TimePoint start_utc{};
  std::int64_t duration_ns = 0;
  bool recovered = false;
  util::TimePoint received_at{};
};

struct Share {
  std::string recording_id;
  std::string user_id;
  std::string granted_by;
  util::TimePoint created_at{};
};

struct Bookmark {
  std::string id;
  std::string recording_id;
  std::optional<std::string> author_id;  // absent for bookmarks a unit sent
  std::int64_t offset_ms = 0;
  std::string label;
  std::string source;  // button, local, hub, schedule, user
  util::TimePoint created_at{};
};

enum class CommentTag { strength, question, suggestion, note };
std::string_view to_string(CommentTag t);
std::optional<CommentTag> comment_tag_from_string(std::string_view s);

struct Comment {
  std::string id;
  std::string recording_id;
  std::optional<std::string> author_id;
  std::string author_name;  // joined from users for display
  std::int64_t offset_ms = 0;
  CommentTag tag = CommentTag::note;
  std::string text;
  util::TimePoint created_at{};
};

enum class UploadState { open, accepted, rejected, terminated, expired };
std::string_view to_string(UploadState s);

struct Upload {
  std::string id;
  std::string unit_id;
  std::optional<std::string> recording_id;
  std::string session_id;
  std::uint32_t index = 0;
  std::uint64_t length = 0;
  std::uint64_t offset = 0;
  std::string metadata;    // the Upload-Metadata header as received (echoed on HEAD)
  std::string entry_json;  // the unit's SegmentEntry
  UploadState state = UploadState::open;
  std::optional<std::string> detail;  // why it was rejected
  util::TimePoint created_at{};
  util::TimePoint updated_at{};
  util::TimePoint expires_at{};
};

enum class FeedKind { room, unit, user };
std::string_view to_string(FeedKind k);

struct Feed {
  FeedKind kind = FeedKind::room;
  std::string subject_id;
};

struct AuditEntry {
  std::int64_t id = 0;
  util::TimePoint at{};
  std::string actor_kind;  // user | unit | system
  std::optional<std::string> actor_id;
  std::string actor_name;
  std::string action;  // e.g. recording.view, recording.download, recording.delete, user.create
  std::string target_kind;
  std::optional<std::string> target_id;
  std::string address;  // client address, or "" for the system
  std::string detail;
};

}  // namespace classcam::hub::store
