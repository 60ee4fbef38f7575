// Every route x every kind of caller -> the status it must get, over real TLS against a real hub.
// The rows are checked against the router's own route list: a route without a row, or a row without
// a route, fails the test, so nobody can add a route without deciding who may call it.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "common/protocol/messages.hpp"
#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/broker/files.hpp"
#include "hub/fleet/routes.hpp"
#include "hub/http/router.hpp"
#include "hub/recordings/library.hpp"
#include "hub/testing/media.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace std::chrono_literals;
using testkit::HttpsClient;
using testkit::TestHub;

namespace {

// The columns of the table. The lesson teacher teaches the observation under way in the table's room
// (whose default teacher is the owner): unless a row says otherwise, they get what the other teacher gets.
enum Who { kAnon, kAdmin, kTech, kTeacher, kOtherTeacher, kCoach, kUnit, kLessonTeacher, kWhoCount };
const char* const kWhoNames[] = {"anonymous",     "admin",
                                 "technician",    "teacher (owner)",
                                 "other teacher", "coach (invited, shared)",
                                 "unit",          "teacher of the lesson under way in the room"};

struct Call {
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct World {
  TestHub hub{testkit::test_config_with_broker("unused")};  // with Mosquitto: the command routes need one
  TestHub::Person admin, tech, teacher, other, coach, probe, share_target, lesson;
  store::Room room;
  TestHub::NewUnit unit;
  store::Observation obs;
  store::Recording rec;       // ready (joined), owned by the teacher, shared with the coach
  store::Recording open_rec;  // still recording: uploads go here
  std::string upload_id;      // an open upload of the unit
  std::string feed_url_token;
  std::map<Who, HttpsClient*> clients;
  std::vector<std::unique_ptr<HttpsClient>> owned;
  int counter = 0;

  std::string fresh(const std::string& prefix) { return prefix + std::to_string(++counter); }

  // A command row of the table's unit, as if sent.
  std::string fresh_command(const std::string& action) {
    store::UnitCommand c;
    c.id = util::uuid_v4();
    c.unit_id = unit.unit.id;
    c.action = action;
    c.args_json = "{}";
    c.issued_at = util::now_utc();
    hub.store().create_command(c);
    return c.id;
  }

  // A new unit with a live pairing code, enrolled by the call.
  Call fresh_enrolment() {
    const auto u = hub.add_unit(fresh("enrol-unit-"), room.id);
    const auto code = std::get<fleet::FleetRoutes::NewCode>(
        fleet::make_pairing_code(hub.store(), hub.ca_file(), u.unit.id, std::chrono::minutes(5), std::nullopt));
    return {"/api/v1/enroll",
            protocol::encode(protocol::EnrollRequest{code.code, "table", "0"}),
            {{"Content-Type", "application/json"}}};
  }

  TestHub::Person& person(Who w) {
    switch (w) {
      case kAdmin: return admin;
      case kTech: return tech;
      case kTeacher: return teacher;
      case kOtherTeacher: return other;
      case kLessonTeacher: return lesson;
      default: return coach;
    }
  }

  store::Recording fresh_recording() {
    store::Recording r;
    r.unit_id = unit.unit.id;
    r.session_id = fresh("table-session-");
    r.room_id = room.id;
    r.owner_id = teacher.user.id;
    r.title = "fresh";
    r.trigger = "button";
    r.started_at = util::now_utc();
    r.session_json = "{}";
    auto created = std::get<store::Recording>(hub.store().create_recording(r));
    hub.store().add_share(created.id, coach.user.id, teacher.user.id);
    return created;
  }

  store::Observation fresh_observation() {
    store::Observation o;
    o.room_id = room.id;
    o.teacher_id = teacher.user.id;
    o.title = "fresh";
    o.start = util::now_utc() + std::chrono::hours(24 * 30 + 2 * ++counter);
    o.end = o.start + std::chrono::hours(1);
    o.coach_ids = {coach.user.id};
    return std::get<store::Observation>(hub.store().create_observation(o));
  }

  std::vector<std::pair<std::string, std::string>> tus_creation(std::uint32_t index) {
    protocol::SegmentEntry e;
    e.session_id = open_rec.session_id;
    e.index = index;
    e.file = "seg.mp4";
    e.start_utc = util::now_utc();
    e.duration_ns = 1'000'000'000;
    e.size_bytes = 3;
    e.sha256 = util::sha256_hex("abc");
    const std::string meta = "session_id " + util::base64_encode(e.session_id) + ",index " +
                             util::base64_encode(std::to_string(index)) + ",entry " +
                             util::base64_encode(protocol::encode(e));
    return {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "3"}, {"Upload-Metadata", meta}};
  }

  std::string fresh_upload() {
    const auto r = clients[kUnit]->request("POST", "/api/v1/uploads", "", tus_creation(1000 + ++counter));
    if (r.status != 201) throw std::runtime_error("fresh upload: " + std::to_string(r.status) + " " + r.body);
    const auto loc = r.header("Location");
    return loc.substr(loc.rfind('/') + 1);
  }
};

using Expect = std::array<int, kLessonTeacher>;
struct Row {
  std::string route;  // "METHOD pattern", exactly as registered
  Expect expect;
  std::function<Call(World&, Who)> call;
  std::optional<int> lesson_teacher = std::nullopt;  // unset: as the other teacher

  int expected(Who who) const {
    if (who == kLessonTeacher) return lesson_teacher.value_or(expect[kOtherTeacher]);
    return expect[static_cast<std::size_t>(who)];
  }
};

std::function<Call(World&, Who)> at(const std::string& path) {
  return [path](World&, Who) { return Call{path, "", {}}; };
}
std::function<Call(World&, Who)> with(const std::function<std::string(World&)>& path, const std::string& body = "") {
  return [path, body](World& w, Who) {
    return Call{path(w), body,
                body.empty() ? std::vector<std::pair<std::string, std::string>>{}
                             : std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}}};
  };
}
Call json_call(std::string path, const protocol::Json& body) {
  return {std::move(path), body.dump(), {{"Content-Type", "application/json"}}};
}

// Statuses, in column order: anonymous, admin, technician, teacher (owner), other teacher, coach, unit.
constexpr Expect kPublic = {200, 200, 200, 200, 200, 200, 200};
constexpr Expect kUsers = {401, 200, 200, 200, 200, 200, 403};
constexpr Expect kAdminOnly = {401, 200, 403, 403, 403, 403, 403};
constexpr Expect kStaff = {401, 200, 200, 403, 403, 403, 403};
constexpr Expect kUnitOnly = {401, 403, 403, 403, 403, 403, 200};
constexpr Expect kWatchers = {401, 403, 403, 200, 404, 200, 403};  // admins/technicians see, don't watch
constexpr Expect kOwnerOnly = {401, 403, 403, 200, 404, 403, 403};

std::vector<Row> table() {
  const std::string R = "/api/v1/recordings/";
  return {
      {"GET /api/v1/health", kPublic, at("/api/v1/health")},
      // Only the metrics token opens it (hub_metrics_test, metrics_e2e_test): no caller's credential does.
      {"GET /metrics", {401, 401, 401, 401, 401, 401, 401}, at("/metrics")},
      {"POST /api/v1/auth/login", kPublic,
       [](World& w, Who) {
         return json_call("/api/v1/auth/login", {{"login", w.probe.user.login}, {"password", w.probe.password}});
       }},
      {"POST /api/v1/auth/logout", {401, 204, 204, 204, 204, 204, 403}, at("/api/v1/auth/logout")},
      {"GET /api/v1/me", kUsers, at("/api/v1/me")},
      {"POST /api/v1/me/password",
       {401, 400, 400, 400, 400, 400, 403},  // right current password, too short a new one
       [](World& w, Who who) {
         const std::string current = (who == kAnon || who == kUnit) ? "x" : w.person(who).password;
         return json_call("/api/v1/me/password", {{"current_password", current}, {"new_password", "short"}});
       }},
      {"GET /api/v1/directory", kUsers, at("/api/v1/directory")},
      {"GET /api/v1/users", kAdminOnly, at("/api/v1/users")},
      {"POST /api/v1/users",
       {401, 201, 403, 403, 403, 403, 403},
       [](World& w, Who) {
         return json_call("/api/v1/users",
                          {{"login", w.fresh("new-user-")}, {"display_name", "New"}, {"role", "coach"}});
       }},
      {"GET /api/v1/users/{id}", kAdminOnly, with([](World& w) { return "/api/v1/users/" + w.other.user.id; })},
      {"PATCH /api/v1/users/{id}", kAdminOnly,
       with([](World& w) { return "/api/v1/users/" + w.other.user.id; }, R"({"display_name": "Mr Other"})")},
      {"POST /api/v1/users/{id}/password", kAdminOnly,
       [](World& w, Who) {
         const auto p = w.hub.add_person(w.fresh("reset-me-"), store::Role::coach);
         return Call{"/api/v1/users/" + p.user.id + "/password", "", {}};
       }},
      {"GET /api/v1/tokens", kUsers, at("/api/v1/tokens")},
      {"POST /api/v1/tokens",
       {401, 201, 201, 201, 201, 201, 403},
       [](World&, Who) {
         return json_call("/api/v1/tokens", {{"name", "script"}});
       }},
      {"DELETE /api/v1/tokens/{id}",
       {401, 204, 204, 204, 204, 204, 403},
       [](World& w, Who who) {
         if (who == kAnon || who == kUnit) return Call{"/api/v1/tokens/whatever", "", {}};
         const auto t = w.hub.store().create_api_token(w.person(who).user.id, "doomed", w.fresh("hash-"));
         return Call{"/api/v1/tokens/" + t.id, "", {}};
       }},
      {"GET /api/v1/rooms", kUsers, at("/api/v1/rooms")},
      {"POST /api/v1/rooms",
       {401, 201, 201, 403, 403, 403, 403},
       [](World& w, Who) {
         return json_call("/api/v1/rooms", {{"name", w.fresh("Room ")}});
       }},
      {"GET /api/v1/rooms/{id}", kUsers, with([](World& w) { return "/api/v1/rooms/" + w.room.id; })},
      {"PATCH /api/v1/rooms/{id}", kStaff,
       [](World& w, Who) {
         return json_call("/api/v1/rooms/" + w.hub.add_room(w.fresh("Patch me ")).id, {{"name", w.fresh("Patched ")}});
       }},
      {"DELETE /api/v1/rooms/{id}",
       {401, 204, 403, 403, 403, 403, 403},
       [](World& w, Who) {
         return Call{"/api/v1/rooms/" + w.hub.add_room(w.fresh("Delete me ")).id, "", {}};
       }},
      {"POST /api/v1/rooms/{id}/calendar", {401, 201, 201, 403, 403, 403, 403}, with([](World& w) {
         return "/api/v1/rooms/" + w.room.id + "/calendar";
       })},
      {"GET /api/v1/units", kStaff, at("/api/v1/units")},
      {"POST /api/v1/units",
       {401, 201, 201, 403, 403, 403, 403},
       [](World& w, Who) {
         return json_call("/api/v1/units", {{"name", w.fresh("camera ")}});
       }},
      {"GET /api/v1/units/{id}", kStaff, with([](World& w) { return "/api/v1/units/" + w.unit.unit.id; })},
      {"PATCH /api/v1/units/{id}", kStaff,
       [](World& w, Who) {
         return json_call("/api/v1/units/" + w.hub.add_unit(w.fresh("patch-unit-"), w.room.id).unit.id,
                          {{"name", "renamed"}});
       }},
      {"POST /api/v1/units/{id}/token", kStaff,
       [](World& w, Who) {
         return Call{"/api/v1/units/" + w.hub.add_unit(w.fresh("token-unit-"), w.room.id).unit.id + "/token", "", {}};
       }},
      {"POST /api/v1/units/{id}/calendar", {401, 201, 201, 403, 403, 403, 403}, with([](World& w) {
         return "/api/v1/units/" + w.unit.unit.id + "/calendar";
       })},
      {"POST /api/v1/units/{id}/pairing-code", {401, 201, 201, 403, 403, 403, 403}, with([](World& w) {
         return "/api/v1/units/" + w.hub.add_unit(w.fresh("pair-unit-"), w.room.id).unit.id + "/pairing-code";
       })},
      {"GET /api/v1/enroll/ca", kPublic, at("/api/v1/enroll/ca")},
      {"POST /api/v1/enroll", kPublic, [](World& w, Who) { return w.fresh_enrolment(); }},
      {"POST /api/v1/units/{id}/revoke", kStaff, with([](World& w) {
         return "/api/v1/units/" + w.hub.add_unit(w.fresh("revoke-unit-"), w.room.id).unit.id + "/revoke";
       })},
      // A room's unit: its default teacher (the owner) and the teacher of the lesson under way or next
      // there, not any teacher.
      {"POST /api/v1/units/{id}/commands",
       {401, 202, 202, 202, 403, 403, 403},
       with([](World& w) { return "/api/v1/units/" + w.unit.unit.id + "/commands"; }, R"({"action": "bookmark"})"),
       202},
      {"GET /api/v1/units/{id}/commands",
       {401, 200, 200, 200, 403, 403, 403},
       with([](World& w) { return "/api/v1/units/" + w.unit.unit.id + "/commands"; }),
       200},
      {"GET /api/v1/units/{id}/commands/{command_id}",
       {401, 200, 200, 200, 403, 403, 403},
       with([](World& w) { return "/api/v1/units/" + w.unit.unit.id + "/commands/" + w.fresh_command("stop"); }),
       200},
      {"PUT /api/v1/unit/snapshots/{command_id}",
       {401, 403, 403, 403, 403, 403, 204},
       [](World& w, Who) {
         return Call{"/api/v1/unit/snapshots/" + w.fresh_command("snapshot"),
                     std::string("\xFF\xD8\xFF\xE0jpeg\xFF\xD9", 10),
                     {{"Content-Type", "image/jpeg"}}};
       }},
      {"GET /api/v1/units/{id}/snapshot", kStaff, with([](World& w) {
         test::write_file(w.hub.service().config().media_dir() / "snapshots" / (w.unit.unit.id + ".jpg"),
                          std::string("\xFF\xD8\xFF\xD9", 4));
         return "/api/v1/units/" + w.unit.unit.id + "/snapshot";
       })},
      {"GET /api/v1/audit", kAdminOnly, at("/api/v1/audit")},
      {"GET /api/v1/settings", kAdminOnly, at("/api/v1/settings")},
      {"PATCH /api/v1/settings", kAdminOnly,
       [](World&, Who) {
         return json_call("/api/v1/settings", {{"retention_days", 365}});
       }},
      {"GET /api/v1/observations", kUsers, at("/api/v1/observations")},
      {"POST /api/v1/observations",
       {401, 201, 403, 201, 403, 403, 403},  // the other teacher may not schedule for the teacher
       [](World& w, Who) {
         const auto start = util::now_utc() + std::chrono::hours(24 * 60 + 2 * ++w.counter);
         return json_call("/api/v1/observations", {{"room_id", w.room.id},
                                                   {"teacher_id", w.teacher.user.id},
                                                   {"title", "Year 9 science"},
                                                   {"start", util::to_rfc3339(start)},
                                                   {"end", util::to_rfc3339(start + std::chrono::minutes(50))}});
       }},
      {"GET /api/v1/observations/{id}", {401, 200, 200, 200, 404, 200, 403}, with([](World& w) {
         return "/api/v1/observations/" + w.obs.id;
       })},
      {"PATCH /api/v1/observations/{id}",
       {401, 200, 403, 200, 404, 403, 403},
       with([](World& w) { return "/api/v1/observations/" + w.obs.id; }, R"({"title": "Year 8 maths"})")},
      {"DELETE /api/v1/observations/{id}",
       {401, 200, 403, 200, 404, 403, 403},
       [](World& w, Who) {
         return Call{"/api/v1/observations/" + w.fresh_observation().id, "", {}};
       }},
      {"POST /api/v1/me/calendar", {401, 403, 403, 201, 201, 201, 403}, at("/api/v1/me/calendar")},
      {"GET /api/v1/calendars/{token}", kPublic,
       with([](World& w) { return "/api/v1/calendars/" + w.feed_url_token + ".ics"; })},
      {"GET /api/v1/unit/schedule", kUnitOnly, at("/api/v1/unit/schedule")},
      {"PUT /api/v1/unit/sessions/{session_id}",
       {401, 403, 403, 403, 403, 403, 201},
       [](World& w, Who) {
         const auto info = testkit::session_info(w.unit.unit.id, w.fresh("put-session-"));
         return Call{"/api/v1/unit/sessions/" + info.session_id,
                     protocol::encode(info),
                     {{"Content-Type", "application/json"}}};
       }},
      {"GET /api/v1/unit/sessions/{session_id}", kUnitOnly,
       with([](World& w) { return "/api/v1/unit/sessions/" + w.open_rec.session_id; })},
      {"OPTIONS /api/v1/uploads", {204, 204, 204, 204, 204, 204, 204}, at("/api/v1/uploads")},
      {"POST /api/v1/uploads",
       {401, 403, 403, 403, 403, 403, 201},
       [](World& w, Who) {
         return Call{"/api/v1/uploads/", "", w.tus_creation(static_cast<std::uint32_t>(500 + ++w.counter))};
       }},
      {"HEAD /api/v1/uploads/{id}", kUnitOnly,
       [](World& w, Who) {
         return Call{"/api/v1/uploads/" + w.upload_id, "", {{"Tus-Resumable", "1.0.0"}}};
       }},
      {"PATCH /api/v1/uploads/{id}",
       {401, 403, 403, 403, 403, 403, 204},
       [](World& w, Who) {
         return Call{
             "/api/v1/uploads/" + w.fresh_upload(),
             "ab",
             {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}}};
       }},
      {"DELETE /api/v1/uploads/{id}",
       {401, 204, 204, 403, 403, 403, 204},
       [](World& w, Who) {
         return Call{"/api/v1/uploads/" + w.fresh_upload(), "", {{"Tus-Resumable", "1.0.0"}}};
       }},
      {"GET /api/v1/uploads", kStaff, at("/api/v1/uploads")},
      {"GET /api/v1/recordings", kUsers, at("/api/v1/recordings")},
      {"GET /api/v1/recordings/{id}", {401, 200, 200, 200, 404, 200, 403}, with([R](World& w) {
         return R + w.rec.id;
       })},
      {"PATCH /api/v1/recordings/{id}", kOwnerOnly,
       with([R](World& w) { return R + w.rec.id; }, R"({"title": "Year 8 maths, Monday"})")},
      {"DELETE /api/v1/recordings/{id}",
       {401, 204, 403, 204, 404, 403, 403},
       [R](World& w, Who) {
         return Call{R + w.fresh_recording().id, "", {}};
       }},
      {"GET /api/v1/recordings/{id}/media", kWatchers, with([R](World& w) { return R + w.rec.id + "/media"; })},
      {"GET /api/v1/recordings/{id}/segments", kWatchers, with([R](World& w) { return R + w.rec.id + "/segments"; })},
      {"GET /api/v1/recordings/{id}/segments/{index}", kWatchers,
       with([R](World& w) { return R + w.rec.id + "/segments/0"; })},
      {"GET /api/v1/recordings/{id}/shares", kOwnerOnly, with([R](World& w) { return R + w.rec.id + "/shares"; })},
      {"PUT /api/v1/recordings/{id}/shares/{user_id}",
       {401, 403, 403, 201, 404, 403, 403},  // the coach it is shared with cannot pass it on
       [R](World& w, Who) {
         return Call{R + w.fresh_recording().id + "/shares/" + w.share_target.user.id, "", {}};
       }},
      {"DELETE /api/v1/recordings/{id}/shares/{user_id}",
       {401, 403, 403, 204, 404, 403, 403},
       [R](World& w, Who) {
         const auto r = w.fresh_recording();
         w.hub.store().add_share(r.id, w.share_target.user.id, w.teacher.user.id);
         return Call{R + r.id + "/shares/" + w.share_target.user.id, "", {}};
       }},
      {"GET /api/v1/recordings/{id}/comments", kWatchers, with([R](World& w) { return R + w.rec.id + "/comments"; })},
      {"POST /api/v1/recordings/{id}/comments",
       {401, 403, 403, 201, 404, 201, 403},
       with([R](World& w) { return R + w.rec.id + "/comments"; },
            R"({"offset_ms": 1000, "tag": "strength", "text": "Clear instructions"})")},
      {"DELETE /api/v1/recordings/{id}/comments/{comment_id}",
       {401, 403, 403, 204, 404, 204, 403},  // the author (coach) and the owner (teacher)
       [R](World& w, Who) {
         store::Comment c;
         c.recording_id = w.rec.id;
         c.author_id = w.coach.user.id;
         c.text = "doomed";
         return Call{R + w.rec.id + "/comments/" + w.hub.store().add_comment(c).id, "", {}};
       }},
      {"GET /api/v1/recordings/{id}/bookmarks", kWatchers, with([R](World& w) { return R + w.rec.id + "/bookmarks"; })},
      {"POST /api/v1/recordings/{id}/bookmarks",
       {401, 403, 403, 201, 404, 201, 403},
       with([R](World& w) { return R + w.rec.id + "/bookmarks"; }, R"({"offset_ms": 500, "label": "group work"})")},
      {"DELETE /api/v1/recordings/{id}/bookmarks/{bookmark_id}",
       {401, 403, 403, 204, 404, 204, 403},
       [R](World& w, Who) {
         store::Bookmark b;
         b.recording_id = w.rec.id;
         b.author_id = w.coach.user.id;
         b.source = "user";
         return Call{R + w.rec.id + "/bookmarks/" + w.hub.store().add_bookmark(b).id, "", {}};
       }},
      // Live (docs/live.md). The unit's offer and the viewers' offers are refused for their body here
      // (the live tests send real ones); who may watch is the teacher of the lesson under way (not the
      // room's default teacher while it runs), its invited coaches (none here) and technicians' preview.
      {"GET /api/v1/live/ice", kUsers, at("/api/v1/live/ice")},
      {"POST /api/v1/unit/live",
       {401, 403, 403, 403, 403, 403, 400},
       [](World&, Who) {
         return Call{"/api/v1/unit/live", "not sdp", {{"Content-Type", "application/sdp"}}};
       }},
      {"DELETE /api/v1/unit/live/{live_id}", {401, 403, 403, 403, 403, 403, 204}, at("/api/v1/unit/live/gone-1")},
      {"POST /api/v1/live/{unit_id}/whep", {401, 415, 415, 415, 415, 415, 403}, with([](World& w) {
         return "/api/v1/live/" + w.unit.unit.id + "/whep";
       })},
      {"DELETE /api/v1/live/{unit_id}/whep/{viewer_id}", {401, 404, 404, 404, 404, 404, 403}, with([](World& w) {
         return "/api/v1/live/" + w.unit.unit.id + "/whep/none";
       })},
      {"GET /api/v1/live/{unit_id}",
       {401, 403, 200, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id; }),
       200},
      {"DELETE /api/v1/live/{unit_id}/viewers/{viewer_id}",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/viewers/none"; }),
       404},
      {"POST /api/v1/live/{unit_id}/consent",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/consent"; }),
       200},
      // Only an invited coach asks for consent (the lesson's teacher needs none: 409); only the room's
      // teacher invites, and only to a manual session (an observation runs here: 409).
      {"POST /api/v1/live/{unit_id}/requests",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/requests"; }),
       409},
      {"POST /api/v1/live/{unit_id}/invites",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/invites"; }, R"({"user_id": "someone"})"),
       409},
      // Talkback: only invited coaches talk (none here), only the lesson's teacher mutes (no live runs:
      // 409), and a unit reports its own mute for a live of its own (none runs: 404).
      {"POST /api/v1/live/{unit_id}/talk",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/talk"; }, R"({"talking": true})")},
      {"POST /api/v1/live/{unit_id}/mute",
       {401, 403, 403, 403, 403, 403, 403},
       with([](World& w) { return "/api/v1/live/" + w.unit.unit.id + "/mute"; }, R"({"muted": true})"),
       409},
      {"POST /api/v1/unit/live/{live_id}/mute",
       {401, 403, 403, 403, 403, 403, 404},
       with([](World&) { return std::string("/api/v1/unit/live/gone-1/mute"); }, R"({"muted": true})")},
  };
}

// Builds the world: people of every role, a room with a unit, an observation, a real recording
// (segments from GStreamer, joined), shares, a feed, an open upload.
void build(World& w) {
  using store::Role;
  w.admin = w.hub.add_person("table-admin", Role::admin);
  w.tech = w.hub.add_person("table-tech", Role::technician);
  w.teacher = w.hub.add_person("table-teacher", Role::teacher);
  w.other = w.hub.add_person("table-other", Role::teacher);
  w.coach = w.hub.add_person("table-coach", Role::coach);
  w.probe = w.hub.add_person("table-probe", Role::coach);
  w.share_target = w.hub.add_person("table-target", Role::coach);
  w.lesson = w.hub.add_person("table-lesson", Role::teacher);
  w.room = w.hub.add_room("Table room", w.teacher.user.id);
  w.unit = w.hub.add_unit("table-unit", w.room.id);
  {
    // Enrolled (commands need that), with a token of its own for the unit column.
    const auto token = auth::new_secret(auth::kUnitTokenPrefix);
    const auto code = auth::new_secret("pc_");
    ASSERT_EQ(store::refusal(w.hub.store().set_pairing_code(w.unit.unit.id, code.hash, std::nullopt,
                                                            util::now_utc() + std::chrono::minutes(5))),
              nullptr);
    ASSERT_EQ(store::refusal(w.hub.store().enroll_with_code(code.hash, util::now_utc(), token.hash,
                                                            broker::hash_password("table-unit-password"))),
              nullptr);
    w.unit.token = token.value;
  }
  w.obs = w.fresh_observation();
  {
    store::Observation now;
    now.room_id = w.room.id;
    now.teacher_id = w.lesson.user.id;
    now.title = "under way";
    now.start = util::now_utc() - std::chrono::minutes(10);
    now.end = util::now_utc() + std::chrono::hours(2);
    ASSERT_EQ(store::refusal(w.hub.store().create_observation(now)), nullptr);
  }

  auto& lib = w.hub.service().library();
  access::Principal unit;
  unit.caller = access::Caller::unit;
  unit.id = w.unit.unit.id;
  unit.room_id = w.room.id;
  const auto media = testkit::make_segments(w.hub.dir() / "media-src", "table-rec", 2);
  auto info = testkit::session_info(unit.id, "table-rec");
  info.segment_count = static_cast<std::uint32_t>(media.files.size());
  info.ended_at = util::now_utc();
  w.rec = std::get<store::Recording>(lib.announce(unit, info));
  for (std::size_t i = 0; i < media.files.size(); ++i) {
    const auto copy = w.hub.dir() / ("upload-" + std::to_string(i));
    std::filesystem::copy_file(media.files[i], copy);
    ASSERT_EQ(store::refusal(lib.accept_segment(w.rec, media.entries[i], copy)), nullptr);
  }
  for (int i = 0; i < 600 && w.hub.store().recording(w.rec.id)->state != store::RecordingState::ready; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(w.hub.store().recording(w.rec.id)->state, store::RecordingState::ready);
  w.hub.store().add_share(w.rec.id, w.coach.user.id, w.teacher.user.id);
  w.open_rec = std::get<store::Recording>(lib.announce(unit, testkit::session_info(unit.id, "table-open")));

  auto anon = std::make_unique<HttpsClient>(w.hub.client());
  w.clients[kAnon] = anon.get();
  w.owned.push_back(std::move(anon));
  for (Who who : {kAdmin, kTech, kTeacher, kOtherTeacher, kCoach, kLessonTeacher}) {
    auto c = std::make_unique<HttpsClient>(w.hub.client(w.person(who).token));
    w.clients[who] = c.get();
    w.owned.push_back(std::move(c));
  }
  auto u = std::make_unique<HttpsClient>(w.hub.client(w.unit.token));
  w.clients[kUnit] = u.get();
  w.owned.push_back(std::move(u));

  w.upload_id = w.fresh_upload();
  // A feed of its own room, so the rows that issue new feed URLs for w.room do not replace it.
  const auto feed_room = w.hub.add_room("Feed room");
  const auto feed = w.clients[kAdmin]->request("POST", "/api/v1/rooms/" + feed_room.id + "/calendar");
  ASSERT_EQ(feed.status, 201) << feed.body;
  const std::string url = feed.json()["url"];
  w.feed_url_token = url.substr(url.rfind('/') + 1, url.size() - url.rfind('/') - 5);
}

}  // namespace

TEST(AccessTable, EveryRouteGivesEveryCallerTheStatusTheTableSays) {
  World w;
  build(w);
  if (HasFatalFailure()) return;
  const auto rows = table();
  std::map<std::string, const Row*> by_route;
  for (const auto& r : rows) {
    EXPECT_TRUE(by_route.emplace(r.route, &r).second) << "two rows for " << r.route;
  }
  std::set<std::string> routes;
  for (const auto& route : w.hub.service().router().routes()) {
    const std::string key = route.method + " " + route.pattern;
    routes.insert(key);
    if (!by_route.count(key))
      ADD_FAILURE() << "route " << key << " has no row in the access table: decide who may call it";
  }
  for (const auto& r : rows) {
    if (!routes.count(r.route)) ADD_FAILURE() << "row " << r.route << " names no route";
  }
  int checked = 0;
  for (const auto& route : w.hub.service().router().routes()) {
    const auto it = by_route.find(route.method + " " + route.pattern);
    if (it == by_route.end()) continue;
    for (int who = 0; who < kWhoCount; ++who) {
      const Call call = it->second->call(w, static_cast<Who>(who));
      const auto res = w.clients[static_cast<Who>(who)]->request(route.method, call.path, call.body, call.headers);
      EXPECT_EQ(res.status, it->second->expected(static_cast<Who>(who)))
          << route.method << " " << call.path << " as " << kWhoNames[who] << ": " << res.body;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(rows.size()) * kWhoCount);
  std::cout << "checked " << checked << " (route, caller) pairs over " << rows.size() << " routes\n";
}
