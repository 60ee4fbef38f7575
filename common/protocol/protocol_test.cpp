#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/protocol/messages.hpp"

using namespace classcam;
using namespace classcam::protocol;

namespace {

util::TimePoint at(const char* s) { return *util::parse_rfc3339(s); }

const char* kSha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

UnitState sample_state() {
  UnitState m;
  m.unit_id = "unit-7";
  m.state = RecorderState::error;
  m.streaming = true;
  m.session_id = "s-1";
  m.observation_id = "obs-3";
  m.reason = "spool full: 0 bytes free";
  m.since = at("2026-11-23T09:00:00.250Z");
  m.live = LiveInfo{"live-9", 3, true};
  return m;
}

Telemetry sample_telemetry() {
  Telemetry m;
  m.unit_id = "unit-7";
  m.at = at("2026-11-23T09:00:05Z");
  m.state = RecorderState::recording;
  m.disk_total_bytes = 32'000'000'000;
  m.disk_free_bytes = 20'000'000'000;
  m.spool_used_bytes = 5'000'000;
  m.spool_backlog_segments = 3;
  m.spool_backlog_bytes = 3'000'000;
  m.cpu_temp_c = 51.5;
  m.uptime_s = 3600;
  m.software_version = "0.1.0";
  m.live_viewers = 2;
  m.last_error = "upload: hub unreachable";
  m.upload_rate_bps = 1'000'000;
  m.spool_set_aside_segments = 1;
  return m;
}

SegmentEntry sample_segment() {
  SegmentEntry m;
  m.session_id = "3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b";
  m.index = 7;
  m.file = "seg-00007.mp4";
  m.start_utc = at("2026-11-23T09:00:14Z");
  m.start_pts_ns = 14'000'000'000;
  m.duration_ns = 2'000'000'000;
  m.size_bytes = 1'048'576;
  m.sha256 = kSha;
  m.recovered = true;
  return m;
}

SessionInfo sample_session() {
  SessionInfo m;
  m.session_id = "3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b";
  m.unit_id = "unit-7";
  m.observation_id = "obs-3";
  m.title = "Year 8 maths";
  m.trigger = Trigger::schedule;
  m.started_at = at("2026-11-23T09:00:00Z");
  m.ended_at = at("2026-11-23T09:50:00Z");
  m.end_reason = "scheduled end";
  m.video = VideoFormat{VideoCodec::h264, 1920, 1080, 30, 4000};
  m.audio = AudioFormat{AudioCodec::aac, 48000, 1, 96};
  m.segment_duration_ms = 2000;
  m.segment_count = 1500;
  return m;
}

Bookmark sample_bookmark() {
  return Bookmark{"123e4567-e89b-42d3-a456-426614174000",
                  "s-1",
                  at("2026-11-23T09:10:00Z"),
                  600'000,
                  "great question",
                  Trigger::button};
}

Command sample_command() {
  Command m;
  m.id = "123e4567-e89b-42d3-a456-426614174000";
  m.action = CommandAction::start;
  m.issued_at = at("2026-11-23T09:00:00Z");
  m.expires_at = at("2026-11-23T09:05:00Z");
  m.args.observation_id = "obs-3";
  m.args.title = "Lesson";
  m.args.duration_s = 3000;
  return m;
}

CommandResult sample_result() {
  CommandResult m;
  m.command_id = "123e4567-e89b-42d3-a456-426614174000";
  m.unit_id = "unit-7";
  m.action = CommandAction::start;
  m.status = CommandStatus::failed;
  m.detail = "camera not found";
  m.at = at("2026-11-23T09:00:01Z");
  m.session_id = "s-1";
  return m;
}

Schedule sample_schedule() {
  Schedule m;
  m.unit_id = "unit-7";
  m.revision = 42;
  m.generated_at = at("2026-11-23T08:00:00Z");
  m.timezone = "Europe/London";
  m.observations.push_back(
      Observation{"obs-1", "Period 1", at("2026-11-23T09:00:00Z"), at("2026-11-23T09:50:00Z"), "Ms Khan", "Room 12"});
  // Back to back with the first.
  m.observations.push_back(Observation{"obs-2", "Period 2", at("2026-11-23T09:50:00Z"), at("2026-11-23T10:40:00Z"),
                                       std::nullopt, std::nullopt});
  return m;
}

EnrollResponse sample_enroll_response() {
  return EnrollResponse{"unit-7",
                        "Room 12 camera",
                        "tok",
                        "hub.school.example",
                        8883,
                        "unit-7",
                        "pw",
                        "https://hub.school.example:8443",
                        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"};
}

template <typename T>
void expect_round_trip(const T& m) {
  const std::string wire = encode(m);
  auto back = decode<T>(wire);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << wire;
  EXPECT_EQ(*back, m) << wire;
  // Encoding is stable: what we decode re-encodes to the same bytes.
  EXPECT_EQ(encode(*back), wire);
}

}  // namespace

TEST(RoundTrip, EveryMessageType) {
  expect_round_trip(sample_state());
  expect_round_trip(sample_telemetry());
  expect_round_trip(sample_segment());
  expect_round_trip(sample_session());
  expect_round_trip(sample_bookmark());
  expect_round_trip(sample_command());
  expect_round_trip(sample_result());
  expect_round_trip(sample_schedule());
  expect_round_trip(EnrollRequest{"ABCD-1234", "unit-host", "0.1.0"});
  expect_round_trip(sample_enroll_response());
  expect_round_trip(Observation{"obs-1", "", at("2026-11-23T09:00:00Z"), at("2026-11-23T09:00:01Z"), {}, {}});
  expect_round_trip(
      LiveStatus{"room-12", "0b5c8a52-7f0e-4b8e-9f4e-1a2b3c4d5e6f", 2, "Ms Khan", false, at("2026-12-02T10:00:00Z")});
  expect_round_trip(LiveStatus{"room-12", "", 0, std::nullopt, true, std::nullopt});
  Command live;
  live.id = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
  live.action = CommandAction::stream_start;
  live.issued_at = at("2026-12-02T09:00:00Z");
  live.args.live_id = "0b5c8a52-7f0e-4b8e-9f4e-1a2b3c4d5e6f";
  live.args.max_s = 3600;
  live.args.reason = "coach asked, teacher accepted";
  expect_round_trip(live);
}

TEST(RoundTrip, EventsOfEveryType) {
  Event e;
  e.unit_id = "unit-7";
  e.at = at("2026-11-23T09:00:00Z");
  e.type = EventType::segment_closed;
  e.segment = sample_segment();
  expect_round_trip(e);

  Event s = e;
  s.segment.reset();
  s.type = EventType::session_ended;
  s.session = sample_session();
  expect_round_trip(s);

  Event b = e;
  b.segment.reset();
  b.type = EventType::bookmark;
  b.bookmark = sample_bookmark();
  expect_round_trip(b);

  Event err = e;
  err.segment.reset();
  err.type = EventType::error;
  err.message = "encoder stalled";
  expect_round_trip(err);
}

TEST(RoundTrip, MinimalMessagesUseDefaults) {
  UnitState m;
  m.unit_id = "u";
  m.since = at("2026-11-23T09:00:00Z");
  expect_round_trip(m);
  auto d = decode<UnitState>(R"({"protocol":"1.0","unit_id":"u","state":"idle","since":"2026-11-23T09:00:00Z"})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->streaming);
  EXPECT_FALSE(d->session_id.has_value());

  SessionInfo audio_only = sample_session();
  audio_only.video.reset();
  expect_round_trip(audio_only);

  Command c = sample_command();
  c.args = {};
  c.expires_at.reset();
  c.action = CommandAction::snapshot;
  expect_round_trip(c);
}

TEST(Envelope, StampsVersion) {
  const auto j = Json::parse(encode(sample_state()));
  EXPECT_EQ(j.at("protocol"), "1.1");
}

TEST(Envelope, IgnoresUnknownFieldsAndAcceptsNewerMinor) {
  auto d = decode<UnitState>(
      R"({"protocol":"1.7","unit_id":"u","state":"idle","since":"2026-11-23T09:00:00Z","future":{"x":[1,2]}})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->unit_id, "u");
}

struct Bad {
  const char* name;
  std::string payload;
  std::string expected_error;  // substring
  friend void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }
};

class Malformed : public testing::TestWithParam<Bad> {};

TEST_P(Malformed, IsRejectedNamingTheField) {
  const auto& c = GetParam();
  // Each payload is tried against the decoder for the message it imitates.
  Result<Json> env = parse_envelope(c.payload);
  std::string error;
  if (!env.ok()) {
    error = env.error().message;
  } else {
    const std::string kind = (*env).value("_kind", std::string());
    if (kind == "state") {
      auto r = decode<UnitState>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "telemetry") {
      auto r = decode<Telemetry>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "schedule") {
      auto r = decode<Schedule>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "command") {
      auto r = decode<Command>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "result") {
      auto r = decode<CommandResult>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "segment") {
      auto r = decode<SegmentEntry>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "event") {
      auto r = decode<Event>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "session") {
      auto r = decode<SessionInfo>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else if (kind == "enroll") {
      auto r = decode<EnrollResponse>(c.payload);
      ASSERT_FALSE(r.ok()) << c.name;
      error = r.error().message;
    } else {
      FAIL() << "test case " << c.name << " has no _kind";
    }
  }
  EXPECT_NE(error.find(c.expected_error), std::string::npos)
      << c.name << ": got \"" << error << "\", wanted it to contain \"" << c.expected_error << "\"";
}

namespace {

Json without(Json base, const std::string& pointer) {
  const Json::json_pointer p(pointer);
  base[p.parent_pointer()].erase(p.back());
  return base;
}

Json as_session_ended(Json event, const Json& session) {
  event["type"] = "session_ended";
  event.erase("segment");
  event["session"] = session;
  return event;
}

// A valid message of each kind with one field replaced (or removed, when `value` is null).
std::string with(Json base, const std::string& kind, const std::string& pointer, const Json& value,
                 bool remove = false) {
  base["_kind"] = kind;
  base["protocol"] = "1.0";
  const Json::json_pointer p(pointer);
  if (remove) {
    base[p.parent_pointer()].erase(p.back());
  } else {
    base[p] = value;
  }
  return base.dump();
}

std::vector<Bad> bad_cases() {
  const Json st = to_json(sample_state());
  const Json te = to_json(sample_telemetry());
  const Json sc = to_json(sample_schedule());
  const Json co = to_json(sample_command());
  const Json re = to_json(sample_result());
  const Json sg = to_json(sample_segment());
  const Json se = to_json(sample_session());
  const Json en = to_json(sample_enroll_response());
  Json ev =
      to_json(Event{"unit-7", at("2026-11-23T09:00:00Z"), EventType::segment_closed, {}, sample_segment(), {}, {}});
  std::vector<Bad> v = {
      {"not json", "{\"protocol\":", "not valid JSON"},
      {"array", "[1,2]", "expected a JSON object"},
      {"no version", R"({"unit_id":"u"})", "protocol: missing"},
      {"numeric version", R"({"protocol":1})", "protocol: expected a string"},
      {"bad version", R"({"protocol":"one"})", "expected \"MAJOR.MINOR\""},
      {"major 2", R"({"protocol":"2.0"})", "unsupported major version 2"},
      {"major 0", R"({"protocol":"0.9"})", "unsupported major version 0"},
      {"too large", "{\"protocol\":\"1.0\",\"x\":\"" + std::string(kMaxPayloadBytes, 'a') + "\"}", "too large"},
      {"state missing unit", with(st, "state", "/unit_id", nullptr, true), "unit_id: missing"},
      {"state null unit", with(st, "state", "/unit_id", nullptr), "unit_id: missing"},
      {"state unit with slash", with(st, "state", "/unit_id", "a/b"), "unit_id: \"a/b\" is not a valid id"},
      {"state unit wildcard", with(st, "state", "/unit_id", "+"), "unit_id: \"+\" is not a valid id"},
      {"state unit upper", with(st, "state", "/unit_id", "Unit"), "unit_id"},
      {"state unit too long", with(st, "state", "/unit_id", std::string(65, 'a')), "unit_id: too long"},
      {"state bad enum", with(st, "state", "/state", "dancing"), "state: unknown value \"dancing\""},
      {"state enum wrong type", with(st, "state", "/state", 3), "state: expected a string, got an integer"},
      {"state bad time", with(st, "state", "/since", "yesterday"), "since: expected an RFC 3339 time"},
      {"state error without reason", with(st, "state", "/reason", nullptr, true), "reason: required when state"},
      {"state streaming not bool", with(st, "state", "/streaming", "yes"), "streaming: expected true or false"},
      {"telemetry negative", with(te, "telemetry", "/disk_free_bytes", -1), "disk_free_bytes: out of range"},
      {"telemetry float count", with(te, "telemetry", "/spool_backlog_segments", 1.5),
       "spool_backlog_segments: expected an integer"},
      {"telemetry free > total", with(te, "telemetry", "/disk_free_bytes", 64'000'000'000LL),
       "disk_free_bytes: greater than disk_total_bytes"},
      {"telemetry hot", with(te, "telemetry", "/cpu_temp_c", 1000), "cpu_temp_c: out of range"},
      {"telemetry version empty", with(te, "telemetry", "/software_version", ""),
       "software_version: must not be empty"},
      {"telemetry huge", with(te, "telemetry", "/uptime_s", 18446744073709551615ULL), "uptime_s: out of range"},
      {"schedule not array", with(sc, "schedule", "/observations", "none"), "observations: expected an array"},
      {"schedule item not object", with(sc, "schedule", "/observations/1", 5), "observations[1]: expected an object"},
      {"schedule end before start", with(sc, "schedule", "/observations/1/end", "2026-11-23T09:40:00Z"),
       "observations[1].end: must be after start"},
      {"schedule too long", with(sc, "schedule", "/observations/1/end", "2026-11-24T09:55:00Z"),
       "observations[1].end: an observation lasts at most 12 hours"},
      {"schedule overlap", with(sc, "schedule", "/observations/1/start", "2026-11-23T09:30:00Z"),
       "observations[1].start: overlaps"},
      {"schedule missing title", with(sc, "schedule", "/observations/0/title", nullptr, true),
       "observations[0].title: missing"},
      {"schedule bad id", with(sc, "schedule", "/observations/0/id", "obs 1"), "observations[0].id"},
      {"schedule negative revision", with(sc, "schedule", "/revision", -1), "revision: out of range"},
      {"command bad id", with(co, "command", "/id", "42"), "id: \"42\" is not a UUID"},
      {"command unknown action", with(co, "command", "/action", "self_destruct"), "action: unknown value"},
      {"command expiry before issue", with(co, "command", "/expires_at", "2026-11-23T08:00:00Z"),
       "expires_at: is before issued_at"},
      {"command args not object", with(co, "command", "/args", "x"), "args: expected an object"},
      {"command zero duration", with(co, "command", "/args/duration_s", 0), "args.duration_s: out of range"},
      {"command long title", with(co, "command", "/args/title", std::string(600, 't')), "args.title: too long"},
      {"result failed no detail", with(re, "result", "/detail", "", false), "detail: required when status"},
      {"result bad status", with(re, "result", "/status", "meh"), "status: unknown value"},
      {"segment bad sha", with(sg, "segment", "/sha256", "abc"), "sha256: expected 64 lower-case hex"},
      {"segment upper sha", with(sg, "segment", "/sha256", std::string(64, 'A')), "sha256: expected 64"},
      {"segment path traversal", with(sg, "segment", "/file", "../etc/passwd"), "file: must be a plain file name"},
      {"segment hidden file", with(sg, "segment", "/file", ".hidden"), "file: must be a plain file name"},
      {"segment negative duration", with(sg, "segment", "/duration_ns", -5), "duration_ns: out of range"},
      {"segment index string", with(sg, "segment", "/index", "7"), "index: expected an integer, got a string"},
      {"session nothing recorded", with(without(se, "/video"), "session", "/audio", nullptr, true),
       "a session needs video, audio or both"},
      {"session ends before start", with(se, "session", "/ended_at", "2026-11-23T08:00:00Z"),
       "ended_at: is before started_at"},
      {"session tiny width", with(se, "session", "/video/width", 2), "video.width: out of range"},
      {"session bad audio codec", with(se, "session", "/audio/codec", "mp3"), "audio.codec: unknown value \"mp3\""},
      {"event missing payload", with(ev, "event", "/segment", nullptr, true), "segment: missing"},
      {"event nested bad", with(ev, "event", "/segment/sha256", 5), "segment.sha256: expected a string"},
      {"event ended without end", with(as_session_ended(ev, se), "event", "/session/ended_at", nullptr, true),
       "session.ended_at: required"},
      {"enroll http", with(en, "enroll", "/hub_url", "http://hub"), "hub_url: must start with https://"},
      {"enroll not pem", with(en, "enroll", "/ca_pem", "hello"), "ca_pem: is not a PEM certificate"},
      {"enroll port", with(en, "enroll", "/mqtt_port", 70000), "mqtt_port: out of range"},
  };
  return v;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Table, Malformed, testing::ValuesIn(bad_cases()), [](const testing::TestParamInfo<Bad>& i) {
  std::string n = i.param.name;
  for (auto& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
});

TEST(Encode, TextThatIsNotUtf8BecomesReplacementCharactersInsteadOfThrowing) {
  // A unit's last error quotes a hub reply cut at 300 bytes, or a file name from a corrupt card: the
  // telemetry (and the control socket's status) must still go out.
  auto t = sample_telemetry();
  t.last_error = "HTTP 409: Salle \xc3";
  t.software_version = "1.0\xff";
  std::string text;
  ASSERT_NO_THROW(text = encode(t));
  const auto back = decode<Telemetry>(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->last_error, "HTTP 409: Salle \xef\xbf\xbd");
  EXPECT_EQ(back->software_version, "1.0\xef\xbf\xbd");
  EXPECT_EQ(dump(Json{{"a", "\xff"}}), "{\"a\":\"\xef\xbf\xbd\"}");
}

TEST(Encode, NoJsonIsWrittenWithoutTheReplacingDump) {
  // nlohmann's own dump() throws on bytes that are not UTF-8; protocol::dump() is the one place that
  // calls it. Looks through every source file of the product (tests may call it on their own JSON).
  const std::filesystem::path root = CLASSCAM_SOURCE_DIR;
  std::vector<std::string> offenders;
  for (const char* top : {"common", "hub", "firmware"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / top)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      const std::string name = e.path().filename().string();
      if (name.find("_test") != std::string::npos || e.path().parent_path().filename() == "testing") continue;
      std::ifstream in(e.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        const bool raw_dump = line.find(".dump(") != std::string::npos;
        if (raw_dump && e.path().filename() != "json_reader.cpp") {
          offenders.push_back(std::filesystem::relative(e.path(), root).string() + ":" + std::to_string(n));
        }
      }
    }
  }
  EXPECT_TRUE(offenders.empty()) << "use protocol::dump() instead of Json::dump() at: "
                                 << testing::PrintToString(offenders);
}
