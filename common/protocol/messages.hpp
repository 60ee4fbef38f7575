#pragma once
// Every message that crosses between a unit and the hub, as plain C++ types with JSON encode/decode.
// docs/protocol.md is the wire reference; keep the two in step.
//
// Rules every message follows:
//   - it is a JSON object with "protocol": "MAJOR.MINOR"; a major other than kProtocolMajor is refused,
//     any minor is accepted (minors only add optional fields);
//   - unknown extra fields are ignored, so newer peers can add fields;
//   - decoding validates every field (type, range, format) and names the first bad one in the error.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/json_reader.hpp"
#include "common/util/result.hpp"
#include "common/util/time.hpp"

namespace classcam::protocol {

inline constexpr int kProtocolMajor = 1;
inline constexpr int kProtocolMinor = 1;  // 1.1: Telemetry.spool_set_aside_segments
// Payloads larger than this are refused before parsing (a schedule of 14 days is a few tens of kB).
inline constexpr std::size_t kMaxPayloadBytes = 1 << 20;

// ---- enums ---------------------------------------------------------------------------------------

// What the unit's recorder is doing. "offline" is only ever set by the broker, from the last will.
enum class RecorderState { idle, starting, recording, stopping, error, offline };
// What started a recording session.
enum class Trigger { button, local, hub, schedule };
enum class CommandAction { start, stop, bookmark, snapshot, reload_schedule, stream_start, stream_stop };
enum class CommandStatus { ok, failed, rejected, expired };
enum class EventType { session_started, session_ended, segment_closed, bookmark, error };
enum class VideoCodec { h264 };
enum class AudioCodec { aac, opus };

std::string_view to_string(RecorderState v);
std::string_view to_string(Trigger v);
std::string_view to_string(CommandAction v);
std::string_view to_string(CommandStatus v);
std::string_view to_string(EventType v);
std::string_view to_string(VideoCodec v);
std::string_view to_string(AudioCodec v);
std::optional<RecorderState> recorder_state_from_string(std::string_view s);
std::optional<Trigger> trigger_from_string(std::string_view s);
std::optional<CommandAction> command_action_from_string(std::string_view s);

// ---- unit -> hub -----------------------------------------------------------------------------------

// What UnitState says about a running live stream (docs/live.md); since 1.1.
struct LiveInfo {
  std::string live_id;          // empty until the hub answered (or made one)
  std::uint32_t viewers = 0;    // from the hub's LiveStatus
  bool talking = false;         // someone holds the talk floor (LiveStatus.talker) and talkback is not muted
  bool talkback_muted = false;  // talkback is muted (on the unit, or by the teacher through the hub)
  bool operator==(const LiveInfo&) const = default;
};

// Retained on .../state. The last will publishes {state: offline}.
struct UnitState {
  std::string unit_id;
  RecorderState state = RecorderState::idle;
  bool streaming = false;
  std::optional<std::string> session_id;      // set while a session is open
  std::optional<std::string> observation_id;  // when the session belongs to a scheduled observation
  std::optional<std::string> reason;          // required when state == error: what went wrong, for people
  util::TimePoint since{};                    // when `state` was entered
  std::optional<LiveInfo> live;               // while streaming
  bool operator==(const UnitState&) const = default;
};

struct Telemetry {
  std::string unit_id;
  util::TimePoint at{};
  RecorderState state = RecorderState::idle;
  std::uint64_t disk_total_bytes = 0;
  std::uint64_t disk_free_bytes = 0;
  std::uint64_t spool_used_bytes = 0;
  std::uint32_t spool_backlog_segments = 0;  // closed segments not yet confirmed by the hub
  std::uint64_t spool_backlog_bytes = 0;
  std::optional<double> cpu_temp_c;  // absent where the board has no sensor
  std::uint64_t uptime_s = 0;
  std::string software_version;
  std::optional<std::string> last_error;
  std::optional<std::uint64_t> upload_rate_bps;  // while uploading
  // Of the backlog, segments the uploader set aside (unreadable, or refused by the hub); since 1.1.
  std::optional<std::uint32_t> spool_set_aside_segments;
  std::optional<std::uint32_t> live_viewers;  // while live runs; since 1.1
  bool operator==(const Telemetry&) const = default;
};

// One closed segment, as written to the unit's manifest and sent to the hub with its upload.
struct SegmentEntry {
  std::string session_id;
  std::uint32_t index = 0;        // 0-based, contiguous within a session
  std::string file;               // file name inside the session directory, e.g. "seg-00007.mp4"
  util::TimePoint start_utc{};    // wall clock of the first sample
  std::int64_t start_pts_ns = 0;  // pipeline running time of the first sample
  std::int64_t duration_ns = 0;
  std::uint64_t size_bytes = 0;
  std::string sha256;      // lower-case hex of the file
  bool recovered = false;  // closed by crash recovery rather than by the recorder
  bool operator==(const SegmentEntry&) const = default;
};

struct VideoFormat {
  VideoCodec codec = VideoCodec::h264;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t framerate = 0;
  std::uint32_t bitrate_kbps = 0;
  bool operator==(const VideoFormat&) const = default;
};

struct AudioFormat {
  AudioCodec codec = AudioCodec::aac;
  std::uint32_t sample_rate = 48000;
  std::uint32_t channels = 1;
  std::uint32_t bitrate_kbps = 0;
  bool operator==(const AudioFormat&) const = default;
};

// A recording session's metadata: the first record of its manifest, and what the hub is told when the
// session starts and ends.
struct SessionInfo {
  std::string session_id;
  std::string unit_id;
  std::optional<std::string> observation_id;
  std::optional<std::string> title;
  Trigger trigger = Trigger::local;
  util::TimePoint started_at{};
  std::optional<util::TimePoint> ended_at;
  std::optional<std::string> end_reason;  // "stopped", "scheduled end", "spool full", "recovered after crash" ...
  std::optional<VideoFormat> video;       // absent in audio-only rooms
  std::optional<AudioFormat> audio;       // absent when the room records no sound
  std::uint32_t segment_duration_ms = 2000;
  std::optional<std::uint32_t> segment_count;  // set when ended: how many segments the hub should expect
  bool operator==(const SessionInfo&) const = default;
};

struct Bookmark {
  std::string id;
  std::string session_id;
  util::TimePoint at{};
  std::int64_t offset_ms = 0;  // from the session's start
  std::string label;           // may be empty
  Trigger source = Trigger::local;
  bool operator==(const Bookmark&) const = default;
};

// Sent on .../events. Exactly the member that matches `type` is set.
struct Event {
  std::string unit_id;
  util::TimePoint at{};
  EventType type = EventType::error;
  std::optional<SessionInfo> session;   // session_started, session_ended
  std::optional<SegmentEntry> segment;  // segment_closed
  std::optional<Bookmark> bookmark;     // bookmark
  std::optional<std::string> message;   // error
  bool operator==(const Event&) const = default;
};

// ---- hub -> unit ------------------------------------------------------------------------------------

struct CommandArgs {
  std::optional<std::string> observation_id;  // start
  std::optional<std::string> title;           // start
  std::optional<std::uint32_t> duration_s;    // start: stop by itself after this long
  std::optional<std::string> label;           // bookmark
  std::optional<std::string> live_id;         // stream_start, stream_stop (docs/live.md)
  std::optional<std::uint32_t> max_s;         // stream_start: live stops by itself after this long
  std::optional<std::string> reason;          // stream_start: why, for the teacher's screen and the log
  bool operator==(const CommandArgs&) const = default;
};

// On .../commands, QoS 1. Units execute each id at most once and answer every copy with a result.
struct Command {
  std::string id;  // UUID
  CommandAction action = CommandAction::start;
  util::TimePoint issued_at{};
  std::optional<util::TimePoint> expires_at;  // a command older than this is answered "expired", not run
  CommandArgs args;
  bool operator==(const Command&) const = default;
};

struct CommandResult {
  std::string command_id;
  std::string unit_id;
  CommandAction action = CommandAction::start;
  CommandStatus status = CommandStatus::ok;
  std::string detail;  // human-readable; required unless status == ok
  util::TimePoint at{};
  std::optional<std::string> session_id;    // start/stop/bookmark
  std::optional<std::string> snapshot_url;  // snapshot: where the hub can fetch it
  bool operator==(const CommandResult&) const = default;
};

struct Observation {
  std::string id;
  std::string title;
  util::TimePoint start{};
  util::TimePoint end{};  // after start; at most 12 hours later
  std::optional<std::string> teacher_name;
  std::optional<std::string> room_name;
  bool operator==(const Observation&) const = default;
};

// Retained on .../schedule: the unit's observations for the next days, sorted by start, not
// overlapping. `revision` only grows, so a unit can ignore an older copy.
struct Schedule {
  std::string unit_id;
  std::int64_t revision = 0;
  util::TimePoint generated_at{};
  std::string timezone = "UTC";  // IANA name of the school's zone, for display only: times are UTC
  std::vector<Observation> observations;
  bool operator==(const Schedule&) const = default;
};

// Retained on .../live (hub -> unit, docs/live.md): who watches the unit's live stream now. The unit
// shows `viewers` in its state and on its LED. `live_id` empty: no live runs.
struct LiveStatus {
  std::string unit_id;
  std::string live_id;
  std::uint32_t viewers = 0;
  std::optional<std::string> talker;  // display name of whoever holds the talk floor
  bool talkback_muted = false;
  std::optional<util::TimePoint> until;
  bool operator==(const LiveStatus&) const = default;
};

// ---- enrolment (HTTPS) --------------------------------------------------------------------------------

struct EnrollRequest {
  std::string code;  // the one-time pairing code a technician got from the hub
  std::string hostname;
  std::string software_version;
  bool operator==(const EnrollRequest&) const = default;
};

struct EnrollResponse {
  std::string unit_id;
  std::string unit_name;
  std::string api_token;  // bearer token for the hub's HTTPS API
  std::string mqtt_host;
  std::uint16_t mqtt_port = 8883;
  std::string mqtt_username;
  std::string mqtt_password;
  std::string hub_url;
  std::string ca_pem;  // the CA that signs the hub's and the broker's certificates
  bool operator==(const EnrollResponse&) const = default;
};

// ---- codec ------------------------------------------------------------------------------------------

Json to_json(const UnitState& m);
Json to_json(const Telemetry& m);
Json to_json(const SegmentEntry& m);
Json to_json(const SessionInfo& m);
Json to_json(const Bookmark& m);
Json to_json(const Event& m);
Json to_json(const Command& m);
Json to_json(const CommandResult& m);
Json to_json(const Observation& m);
Json to_json(const Schedule& m);
Json to_json(const LiveStatus& m);
Json to_json(const EnrollRequest& m);
Json to_json(const EnrollResponse& m);

// Message bodies without the envelope check, for nesting (e.g. a SegmentEntry inside an Event).
UnitState read_unit_state(const Reader& r);
Telemetry read_telemetry(const Reader& r);
SegmentEntry read_segment_entry(const Reader& r);
SessionInfo read_session_info(const Reader& r);
Bookmark read_bookmark(const Reader& r);
Event read_event(const Reader& r);
Command read_command(const Reader& r);
CommandResult read_command_result(const Reader& r);
Observation read_observation(const Reader& r);
Schedule read_schedule(const Reader& r);
LiveStatus read_live_status(const Reader& r);
EnrollRequest read_enroll_request(const Reader& r);
EnrollResponse read_enroll_response(const Reader& r);

// Serialises with the protocol version stamped in.
template <typename T>
std::string encode(const T& message) {
  Json j = to_json(message);
  j["protocol"] = std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor);
  return dump(j);
}

// Checks size, JSON syntax and protocol version, then reads the body with `read`.
Result<Json> parse_envelope(std::string_view payload);

template <typename T>
Result<T> decode_with(std::string_view payload, T (*read)(const Reader&)) {
  auto j = parse_envelope(payload);
  if (!j) return j.error();
  try {
    return read(Reader(*j, ""));
  } catch (const DecodeError& e) {
    return Error{e.what()};
  }
}

// decode<UnitState>(payload) and so on, one per message type below.
template <typename T>
Result<T> decode(std::string_view payload);
template <>
Result<UnitState> decode(std::string_view payload);
template <>
Result<Telemetry> decode(std::string_view payload);
template <>
Result<SegmentEntry> decode(std::string_view payload);
template <>
Result<SessionInfo> decode(std::string_view payload);
template <>
Result<Bookmark> decode(std::string_view payload);
template <>
Result<Event> decode(std::string_view payload);
template <>
Result<Command> decode(std::string_view payload);
template <>
Result<CommandResult> decode(std::string_view payload);
template <>
Result<Observation> decode(std::string_view payload);
template <>
Result<Schedule> decode(std::string_view payload);
template <>
Result<EnrollRequest> decode(std::string_view payload);
template <>
Result<LiveStatus> decode(std::string_view payload);
template <>
Result<EnrollResponse> decode(std::string_view payload);

}  // namespace classcam::protocol
