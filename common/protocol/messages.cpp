#include "common/protocol/messages.hpp"

#include "common/util/uuid.hpp"

namespace classcam::protocol {

namespace {

constexpr EnumName<RecorderState> kRecorderStates[] = {
    {RecorderState::idle, "idle"},           {RecorderState::starting, "starting"},
    {RecorderState::recording, "recording"}, {RecorderState::stopping, "stopping"},
    {RecorderState::error, "error"},         {RecorderState::offline, "offline"}};
constexpr EnumName<Trigger> kTriggers[] = {
    {Trigger::button, "button"}, {Trigger::local, "local"}, {Trigger::hub, "hub"}, {Trigger::schedule, "schedule"}};
constexpr EnumName<CommandAction> kActions[] = {{CommandAction::start, "start"},
                                                {CommandAction::stop, "stop"},
                                                {CommandAction::bookmark, "bookmark"},
                                                {CommandAction::snapshot, "snapshot"},
                                                {CommandAction::reload_schedule, "reload_schedule"},
                                                {CommandAction::stream_start, "stream_start"},
                                                {CommandAction::stream_stop, "stream_stop"}};
constexpr EnumName<CommandStatus> kStatuses[] = {{CommandStatus::ok, "ok"},
                                                 {CommandStatus::failed, "failed"},
                                                 {CommandStatus::rejected, "rejected"},
                                                 {CommandStatus::expired, "expired"}};
constexpr EnumName<EventType> kEventTypes[] = {{EventType::session_started, "session_started"},
                                               {EventType::session_ended, "session_ended"},
                                               {EventType::segment_closed, "segment_closed"},
                                               {EventType::bookmark, "bookmark"},
                                               {EventType::error, "error"}};
constexpr EnumName<VideoCodec> kVideoCodecs[] = {{VideoCodec::h264, "h264"}};
constexpr EnumName<AudioCodec> kAudioCodecs[] = {{AudioCodec::aac, "aac"}, {AudioCodec::opus, "opus"}};

template <typename E, std::size_t N>
std::optional<E> from_name(std::string_view s, const EnumName<E> (&table)[N]) {
  for (const auto& e : table) {
    if (e.name == s) return e.value;
  }
  return std::nullopt;
}

constexpr std::int64_t kU32Max = 0xFFFFFFFF;
constexpr std::int64_t kI64Max = INT64_MAX;
constexpr std::size_t kTextMax = 500;     // titles, labels, names
constexpr std::size_t kDetailMax = 2000;  // error details and reasons

std::string rfc(util::TimePoint t) { return util::to_rfc3339(t); }

template <typename T>
void put_opt(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
void put_opt_time(Json& j, const char* key, const std::optional<util::TimePoint>& v) {
  if (v) j[key] = rfc(*v);
}

std::string read_uuid(const Reader& r, std::string_view key) {
  std::string s = r.string(key, 64);
  if (!util::is_uuid(s)) r.fail(key, "\"" + s + "\" is not a UUID");
  return s;
}

std::string read_sha256(const Reader& r, std::string_view key) {
  std::string s = r.string(key, 64);
  const bool hex = s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex) r.fail(key, "expected 64 lower-case hex digits (SHA-256)");
  return s;
}

}  // namespace

std::string_view to_string(RecorderState v) { return enum_name(v, kRecorderStates); }
std::string_view to_string(Trigger v) { return enum_name(v, kTriggers); }
std::string_view to_string(CommandAction v) { return enum_name(v, kActions); }
std::string_view to_string(CommandStatus v) { return enum_name(v, kStatuses); }
std::string_view to_string(EventType v) { return enum_name(v, kEventTypes); }
std::string_view to_string(VideoCodec v) { return enum_name(v, kVideoCodecs); }
std::string_view to_string(AudioCodec v) { return enum_name(v, kAudioCodecs); }
std::optional<RecorderState> recorder_state_from_string(std::string_view s) { return from_name(s, kRecorderStates); }
std::optional<Trigger> trigger_from_string(std::string_view s) { return from_name(s, kTriggers); }
std::optional<CommandAction> command_action_from_string(std::string_view s) { return from_name(s, kActions); }

// ---- UnitState ----

Json to_json(const UnitState& m) {
  Json j = {{"unit_id", m.unit_id}, {"state", to_string(m.state)}, {"streaming", m.streaming}, {"since", rfc(m.since)}};
  put_opt(j, "session_id", m.session_id);
  put_opt(j, "observation_id", m.observation_id);
  put_opt(j, "reason", m.reason);
  if (m.live) {
    j["live"] = {{"live_id", m.live->live_id},
                 {"viewers", m.live->viewers},
                 {"talking", m.live->talking},
                 {"talkback_muted", m.live->talkback_muted}};
  }
  return j;
}

UnitState read_unit_state(const Reader& r) {
  UnitState m;
  m.unit_id = r.id("unit_id");
  m.state = r.enumeration("state", kRecorderStates);
  m.streaming = r.opt_boolean("streaming", false);
  m.session_id = r.opt_id("session_id");
  m.observation_id = r.opt_id("observation_id");
  m.reason = r.opt_string("reason", kDetailMax);
  m.since = r.time("since");
  if (const auto live = r.opt_object("live")) {
    LiveInfo l;
    l.live_id = live->opt_string("live_id", 64).value_or("");
    l.viewers = static_cast<std::uint32_t>(live->integer("viewers", 0, kU32Max));
    l.talking = live->opt_boolean("talking", false);
    l.talkback_muted = live->opt_boolean("talkback_muted", false);
    m.live = l;
  }
  if (m.state == RecorderState::error && (!m.reason || m.reason->empty())) {
    r.fail("reason", "required when state is \"error\"");
  }
  return m;
}

// ---- Telemetry ----

Json to_json(const Telemetry& m) {
  Json j = {{"unit_id", m.unit_id},
            {"at", rfc(m.at)},
            {"state", to_string(m.state)},
            {"disk_total_bytes", m.disk_total_bytes},
            {"disk_free_bytes", m.disk_free_bytes},
            {"spool_used_bytes", m.spool_used_bytes},
            {"spool_backlog_segments", m.spool_backlog_segments},
            {"spool_backlog_bytes", m.spool_backlog_bytes},
            {"uptime_s", m.uptime_s},
            {"software_version", m.software_version}};
  put_opt(j, "cpu_temp_c", m.cpu_temp_c);
  put_opt(j, "last_error", m.last_error);
  put_opt(j, "upload_rate_bps", m.upload_rate_bps);
  put_opt(j, "spool_set_aside_segments", m.spool_set_aside_segments);
  put_opt(j, "live_viewers", m.live_viewers);
  return j;
}

Telemetry read_telemetry(const Reader& r) {
  Telemetry m;
  m.unit_id = r.id("unit_id");
  m.at = r.time("at");
  m.state = r.enumeration("state", kRecorderStates);
  m.disk_total_bytes = static_cast<std::uint64_t>(r.integer("disk_total_bytes", 0, kI64Max));
  m.disk_free_bytes = static_cast<std::uint64_t>(r.integer("disk_free_bytes", 0, kI64Max));
  if (m.disk_free_bytes > m.disk_total_bytes) r.fail("disk_free_bytes", "greater than disk_total_bytes");
  m.spool_used_bytes = static_cast<std::uint64_t>(r.integer("spool_used_bytes", 0, kI64Max));
  m.spool_backlog_segments = static_cast<std::uint32_t>(r.integer("spool_backlog_segments", 0, kU32Max));
  m.spool_backlog_bytes = static_cast<std::uint64_t>(r.integer("spool_backlog_bytes", 0, kI64Max));
  m.cpu_temp_c = r.opt_number("cpu_temp_c", -60.0, 200.0);
  m.uptime_s = static_cast<std::uint64_t>(r.integer("uptime_s", 0, kI64Max));
  m.software_version = r.string("software_version", 64);
  m.last_error = r.opt_string("last_error", kDetailMax);
  if (const auto v = r.opt_integer("upload_rate_bps", 0, kI64Max)) m.upload_rate_bps = static_cast<std::uint64_t>(*v);
  if (const auto v = r.opt_integer("spool_set_aside_segments", 0, kU32Max)) {
    m.spool_set_aside_segments = static_cast<std::uint32_t>(*v);
  }
  if (const auto v = r.opt_integer("live_viewers", 0, kU32Max)) m.live_viewers = static_cast<std::uint32_t>(*v);
  if (m.spool_set_aside_segments.value_or(0) > m.spool_backlog_segments) {
    r.fail("spool_set_aside_segments", "greater than spool_backlog_segments");
  }
  return m;
}

// ---- SegmentEntry ----

Json to_json(const SegmentEntry& m) {
  return {{"session_id", m.session_id},
          {"index", m.index},
          {"file", m.file},
          {"start_utc", rfc(m.start_utc)},
          {"start_pts_ns", m.start_pts_ns},
          {"duration_ns", m.duration_ns},
          {"size_bytes", m.size_bytes},
          {"sha256", m.sha256},
          {"recovered", m.recovered}};
}

SegmentEntry read_segment_entry(const Reader& r) {
  SegmentEntry m;
  m.session_id = r.id("session_id");
  m.index = static_cast<std::uint32_t>(r.integer("index", 0, 1'000'000));
  m.file = r.string("file", 128);
  if (m.file.find('/') != std::string::npos || m.file.find("..") != std::string::npos || m.file[0] == '.') {
    r.fail("file", "must be a plain file name (no '/', no leading '.', no '..')");
  }
  m.start_utc = r.time("start_utc");
  m.start_pts_ns = r.integer("start_pts_ns", 0, kI64Max);
  m.duration_ns = r.integer("duration_ns", 0, 3'600'000'000'000);  // a segment is never an hour long
  m.size_bytes = static_cast<std::uint64_t>(r.integer("size_bytes", 0, kI64Max));
  m.sha256 = read_sha256(r, "sha256");
  m.recovered = r.opt_boolean("recovered", false);
  return m;
}

// ---- SessionInfo ----

namespace {
Json to_json(const VideoFormat& v) {
  return {{"codec", to_string(v.codec)},
          {"width", v.width},
          {"height", v.height},
          {"framerate", v.framerate},
          {"bitrate_kbps", v.bitrate_kbps}};
}
Json to_json(const AudioFormat& a) {
  return {{"codec", to_string(a.codec)},
          {"sample_rate", a.sample_rate},
          {"channels", a.channels},
          {"bitrate_kbps", a.bitrate_kbps}};
}
VideoFormat read_video(const Reader& r) {
  VideoFormat v;
  v.codec = r.enumeration("codec", kVideoCodecs);
  v.width = static_cast<std::uint32_t>(r.integer("width", 16, 7680));
  v.height = static_cast<std::uint32_t>(r.integer("height", 16, 4320));
  v.framerate = static_cast<std::uint32_t>(r.integer("framerate", 1, 120));
  v.bitrate_kbps = static_cast<std::uint32_t>(r.integer("bitrate_kbps", 0, 100'000));
  return v;
}
AudioFormat read_audio(const Reader& r) {
  AudioFormat a;
  a.codec = r.enumeration("codec", kAudioCodecs);
  a.sample_rate = static_cast<std::uint32_t>(r.integer("sample_rate", 8000, 192000));
  a.channels = static_cast<std::uint32_t>(r.integer("channels", 1, 8));
  a.bitrate_kbps = static_cast<std::uint32_t>(r.integer("bitrate_kbps", 0, 1024));
  return a;
}
}  // namespace

Json to_json(const SessionInfo& m) {
  Json j = {{"session_id", m.session_id},
            {"unit_id", m.unit_id},
            {"trigger", to_string(m.trigger)},
            {"started_at", rfc(m.started_at)},
            {"segment_duration_ms", m.segment_duration_ms}};
  put_opt(j, "observation_id", m.observation_id);
  put_opt(j, "title", m.title);
  put_opt_time(j, "ended_at", m.ended_at);
  put_opt(j, "end_reason", m.end_reason);
  if (m.video) j["video"] = to_json(*m.video);
  if (m.audio) j["audio"] = to_json(*m.audio);
  put_opt(j, "segment_count", m.segment_count);
  return j;
}

SessionInfo read_session_info(const Reader& r) {
  SessionInfo m;
  m.session_id = r.id("session_id");
  m.unit_id = r.id("unit_id");
  m.observation_id = r.opt_id("observation_id");
  m.title = r.opt_string("title", kTextMax);
  m.trigger = r.enumeration("trigger", kTriggers);
  m.started_at = r.time("started_at");
  m.ended_at = r.opt_time("ended_at");
  if (m.ended_at && *m.ended_at < m.started_at) r.fail("ended_at", "is before started_at");
  m.end_reason = r.opt_string("end_reason", kDetailMax);
  if (auto v = r.opt_object("video")) m.video = read_video(*v);
  if (auto a = r.opt_object("audio")) m.audio = read_audio(*a);
  if (!m.video && !m.audio) r.fail("video", "a session needs video, audio or both");
  m.segment_duration_ms = static_cast<std::uint32_t>(r.integer("segment_duration_ms", 500, 60'000));
  if (const auto n = r.opt_integer("segment_count", 0, 1'000'000)) m.segment_count = static_cast<std::uint32_t>(*n);
  return m;
}

// ---- Bookmark ----

Json to_json(const Bookmark& m) {
  return {{"id", m.id},       {"session_id", m.session_id},   {"at", rfc(m.at)}, {"offset_ms", m.offset_ms},
          {"label", m.label}, {"source", to_string(m.source)}};
}

Bookmark read_bookmark(const Reader& r) {
  Bookmark m;
  m.id = read_uuid(r, "id");
  m.session_id = r.id("session_id");
  m.at = r.time("at");
  m.offset_ms = r.integer("offset_ms", 0, 24LL * 3600 * 1000);
  m.label = r.opt_string("label", kTextMax).value_or("");
  m.source = r.enumeration("source", kTriggers);
  return m;
}

// ---- Event ----

Json to_json(const Event& m) {
  Json j = {{"unit_id", m.unit_id}, {"at", rfc(m.at)}, {"type", to_string(m.type)}};
  if (m.session) j["session"] = to_json(*m.session);
  if (m.segment) j["segment"] = to_json(*m.segment);
  if (m.bookmark) j["bookmark"] = to_json(*m.bookmark);
  put_opt(j, "message", m.message);
  return j;
}

Event read_event(const Reader& r) {
  Event m;
  m.unit_id = r.id("unit_id");
  m.at = r.time("at");
  m.type = r.enumeration("type", kEventTypes);
  switch (m.type) {
    case EventType::session_started:
    case EventType::session_ended: m.session = read_session_info(r.object("session")); break;
    case EventType::segment_closed: m.segment = read_segment_entry(r.object("segment")); break;
    case EventType::bookmark: m.bookmark = read_bookmark(r.object("bookmark")); break;
    case EventType::error: m.message = r.string("message", kDetailMax); break;
  }
  if (m.type == EventType::session_ended && !m.session->ended_at) {
    r.fail("session.ended_at", "required in a session_ended event");
  }
  return m;
}

// ---- Command ----

Json to_json(const Command& m) {
  Json args = Json::object();
  put_opt(args, "observation_id", m.args.observation_id);
  put_opt(args, "title", m.args.title);
  put_opt(args, "duration_s", m.args.duration_s);
  put_opt(args, "label", m.args.label);
  put_opt(args, "live_id", m.args.live_id);
  put_opt(args, "max_s", m.args.max_s);
  put_opt(args, "reason", m.args.reason);
  Json j = {{"id", m.id}, {"action", to_string(m.action)}, {"issued_at", rfc(m.issued_at)}, {"args", args}};
  put_opt_time(j, "expires_at", m.expires_at);
  return j;
}

Command read_command(const Reader& r) {
  Command m;
  m.id = read_uuid(r, "id");
  m.action = r.enumeration("action", kActions);
  m.issued_at = r.time("issued_at");
  m.expires_at = r.opt_time("expires_at");
  if (m.expires_at && *m.expires_at < m.issued_at) r.fail("expires_at", "is before issued_at");
  if (auto a = r.opt_object("args")) {
    m.args.observation_id = a->opt_id("observation_id");
    m.args.title = a->opt_string("title", kTextMax);
    if (const auto d = a->opt_integer("duration_s", 1, 12 * 3600)) m.args.duration_s = static_cast<std::uint32_t>(*d);
    m.args.label = a->opt_string("label", kTextMax);
    m.args.live_id = a->opt_id("live_id");
    if (const auto s = a->opt_integer("max_s", 1, 12 * 3600)) m.args.max_s = static_cast<std::uint32_t>(*s);
    m.args.reason = a->opt_string("reason", kTextMax);
  }
  return m;
}

// ---- LiveStatus ----

Json to_json(const LiveStatus& m) {
  Json j = {{"unit_id", m.unit_id},
            {"live_id", m.live_id},
            {"viewers", m.viewers},
            {"talker", m.talker ? Json(*m.talker) : Json(nullptr)},
            {"talkback_muted", m.talkback_muted}};
  j["until"] = m.until ? Json(rfc(*m.until)) : Json(nullptr);
  return j;
}

LiveStatus read_live_status(const Reader& r) {
  LiveStatus m;
  m.unit_id = r.id("unit_id");
  m.live_id = r.opt_string("live_id", 64).value_or("");
  m.viewers = static_cast<std::uint32_t>(r.integer("viewers", 0, 10000));
  m.talker = r.opt_string("talker", kTextMax);
  m.talkback_muted = r.opt_boolean("talkback_muted", false);
  m.until = r.opt_time("until");
  return m;
}

// ---- CommandResult ----

Json to_json(const CommandResult& m) {
  Json j = {{"command_id", m.command_id},    {"unit_id", m.unit_id}, {"action", to_string(m.action)},
            {"status", to_string(m.status)}, {"detail", m.detail},   {"at", rfc(m.at)}};
  put_opt(j, "session_id", m.session_id);
  put_opt(j, "snapshot_url", m.snapshot_url);
  return j;
}

CommandResult read_command_result(const Reader& r) {
  CommandResult m;
  m.command_id = read_uuid(r, "command_id");
  m.unit_id = r.id("unit_id");
  m.action = r.enumeration("action", kActions);
  m.status = r.enumeration("status", kStatuses);
  m.detail = r.opt_string("detail", kDetailMax).value_or("");
  if (m.status != CommandStatus::ok && m.detail.empty()) r.fail("detail", "required when status is not \"ok\"");
  m.at = r.time("at");
  m.session_id = r.opt_id("session_id");
  m.snapshot_url = r.opt_string("snapshot_url", 2048);
  return m;
}

// ---- Observation / Schedule ----

Json to_json(const Observation& m) {
  Json j = {{"id", m.id}, {"title", m.title}, {"start", rfc(m.start)}, {"end", rfc(m.end)}};
  put_opt(j, "teacher_name", m.teacher_name);
  put_opt(j, "room_name", m.room_name);
  return j;
}

Observation read_observation(const Reader& r) {
  Observation m;
  m.id = r.id("id");
  m.title = r.string("title", kTextMax, true);
  m.start = r.time("start");
  m.end = r.time("end");
  if (m.end <= m.start) r.fail("end", "must be after start");
  if (m.end - m.start > std::chrono::hours(12)) r.fail("end", "an observation lasts at most 12 hours");
  m.teacher_name = r.opt_string("teacher_name", kTextMax);
  m.room_name = r.opt_string("room_name", kTextMax);
  return m;
}

Json to_json(const Schedule& m) {
  Json obs = Json::array();
  for (const auto& o : m.observations) obs.push_back(to_json(o));
  return {{"unit_id", m.unit_id},
          {"revision", m.revision},
          {"generated_at", rfc(m.generated_at)},
          {"timezone", m.timezone},
          {"observations", obs}};
}

Schedule read_schedule(const Reader& r) {
  Schedule m;
  m.unit_id = r.id("unit_id");
  m.revision = r.integer("revision", 0, kI64Max);
  m.generated_at = r.time("generated_at");
  m.timezone = r.opt_string("timezone", 64).value_or("UTC");
  m.observations = r.array<Observation>("observations", 2000, read_observation);
  for (std::size_t i = 1; i < m.observations.size(); ++i) {
    if (m.observations[i].start < m.observations[i - 1].end) {
      throw DecodeError("observations[" + std::to_string(i) +
                        "].start: overlaps the previous observation or is out of order");
    }
  }
  return m;
}

// ---- Enrolment ----

Json to_json(const EnrollRequest& m) {
  return {{"code", m.code}, {"hostname", m.hostname}, {"software_version", m.software_version}};
}

EnrollRequest read_enroll_request(const Reader& r) {
  EnrollRequest m;
  m.code = r.string("code", 64);
  m.hostname = r.string("hostname", 255);
  m.software_version = r.string("software_version", 64);
  return m;
}

Json to_json(const EnrollResponse& m) {
  return {{"unit_id", m.unit_id},
          {"unit_name", m.unit_name},
          {"api_token", m.api_token},
          {"mqtt_host", m.mqtt_host},
          {"mqtt_port", m.mqtt_port},
          {"mqtt_username", m.mqtt_username},
          {"mqtt_password", m.mqtt_password},
          {"hub_url", m.hub_url},
          {"ca_pem", m.ca_pem}};
}

EnrollResponse read_enroll_response(const Reader& r) {
  EnrollResponse m;
  m.unit_id = r.id("unit_id");
  m.unit_name = r.string("unit_name", kTextMax);
  m.api_token = r.string("api_token", 256);
  m.mqtt_host = r.string("mqtt_host", 255);
  m.mqtt_port = static_cast<std::uint16_t>(r.integer("mqtt_port", 1, 65535));
  m.mqtt_username = r.string("mqtt_username", 128);
  m.mqtt_password = r.string("mqtt_password", 256);
  m.hub_url = r.string("hub_url", 2048);
  if (m.hub_url.rfind("https://", 0) != 0) r.fail("hub_url", "must start with https://");
  m.ca_pem = r.string("ca_pem", 64 * 1024);
  if (m.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) r.fail("ca_pem", "is not a PEM certificate");
  return m;
}

// ---- envelope ----

Result<Json> parse_envelope(std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    return Error{"message too large (" + std::to_string(payload.size()) + " bytes, at most " +
                 std::to_string(kMaxPayloadBytes) + ")"};
  }
  Json j = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"message is not valid JSON"};
  if (!j.is_object()) return Error{"message: expected a JSON object, got " + Reader::type_name(j)};
  const auto it = j.find("protocol");
  if (it == j.end() || it->is_null()) return Error{"protocol: missing (expected \"1.x\")"};
  if (!it->is_string()) return Error{"protocol: expected a string such as \"1.0\", got " + Reader::type_name(*it)};
  const auto& v = it->get_ref<const std::string&>();
  const auto dot = v.find('.');
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 4 && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (dot == std::string::npos || !digits(std::string_view(v).substr(0, dot)) ||
      !digits(std::string_view(v).substr(dot + 1))) {
    return Error{"protocol: expected \"MAJOR.MINOR\", got \"" + v + "\""};
  }
  const int major = std::stoi(v.substr(0, dot));
  if (major != kProtocolMajor) {
    return Error{"protocol: unsupported major version " + std::to_string(major) + " (this build speaks " +
                 std::to_string(kProtocolMajor) + ".x)"};
  }
  return j;
}

template <>
Result<UnitState> decode(std::string_view p) {
  return decode_with(p, read_unit_state);
}
template <>
Result<Telemetry> decode(std::string_view p) {
  return decode_with(p, read_telemetry);
}
template <>
Result<SegmentEntry> decode(std::string_view p) {
  return decode_with(p, read_segment_entry);
}
template <>
Result<SessionInfo> decode(std::string_view p) {
  return decode_with(p, read_session_info);
}
template <>
Result<Bookmark> decode(std::string_view p) {
  return decode_with(p, read_bookmark);
}
template <>
Result<Event> decode(std::string_view p) {
  return decode_with(p, read_event);
}
template <>
Result<Command> decode(std::string_view p) {
  return decode_with(p, read_command);
}
template <>
Result<CommandResult> decode(std::string_view p) {
  return decode_with(p, read_command_result);
}
template <>
Result<Observation> decode(std::string_view p) {
  return decode_with(p, read_observation);
}
template <>
Result<Schedule> decode(std::string_view p) {
  return decode_with(p, read_schedule);
}
template <>
Result<EnrollRequest> decode(std::string_view p) {
  return decode_with(p, read_enroll_request);
}
template <>
Result<LiveStatus> decode(std::string_view p) {
  return decode_with(p, read_live_status);
}
template <>
Result<EnrollResponse> decode(std::string_view p) {
  return decode_with(p, read_enroll_response);
}

}  // namespace classcam::protocol
