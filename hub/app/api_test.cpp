// Behaviour of the JSON API as people use it, over real TLS against an in-process hub.
#include <gtest/gtest.h>

#include <thread>

#include "hub/auth/cookies.hpp"
#include "hub/recordings/library.hpp"
#include "hub/testing/media.hpp"
#include "hub/testing/test_hub.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace std::chrono_literals;
using testkit::HttpsClient;
using testkit::TestHub;
using Json = protocol::Json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers json_headers() { return {{"Content-Type", "application/json"}}; }

std::string cookie_of(const testkit::HttpResponse& r) {
  const auto set = r.header("Set-Cookie");
  return set.substr(0, set.find(';'));
}

class ApiTest : public ::testing::Test {
 protected:
  TestHub hub{[] {
    auto c = testkit::test_config("unused");
    c.auth.login_failures_before_delay = 3;
    c.auth.address_failures_per_hour = 20;
    return c;
  }()};
  TestHub::Person admin = hub.add_person("head", store::Role::admin);
  TestHub::Person teacher = hub.add_person("khan", store::Role::teacher);
  TestHub::Person other = hub.add_person("ali", store::Role::teacher);
  TestHub::Person coach = hub.add_person("coach", store::Role::coach);
  store::Room room = hub.add_room("Room 12");
  HttpsClient as_admin = hub.client(admin.token);
  HttpsClient as_teacher = hub.client(teacher.token);
  HttpsClient as_coach = hub.client(coach.token);

  Json observation(const std::string& start, const std::string& end, const std::string& title = "Year 8 maths") {
    return {{"room_id", room.id}, {"title", title}, {"start", start}, {"end", end}, {"coach_ids", {coach.user.id}}};
  }
};

}  // namespace

TEST_F(ApiTest, FirstStartCreatesAnAdminWhoseGeneratedPasswordWorksOnce) {
  const auto& pw = hub.service().first_admin_password();
  ASSERT_FALSE(pw.empty());
  auto c = hub.client();
  const auto r =
      c.request("POST", "/api/v1/auth/login", Json{{"login", "admin"}, {"password", pw}}.dump(), json_headers());
  EXPECT_EQ(r.status, 200);
  // The same state directory again: the account exists, nothing new is made or printed.
  Service again(hub.service().config());
  EXPECT_TRUE(again.first_admin_password().empty());
}

TEST_F(ApiTest, SignInSetsASecureCookieThatSignOutEnds) {
  auto c = hub.client();
  const auto login = c.request("POST", "/api/v1/auth/login",
                               Json{{"login", "khan"}, {"password", teacher.password}}.dump(), json_headers());
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.json()["role"], "teacher");
  const auto set = login.header("Set-Cookie");
  for (const char* flag : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(set.find(flag), std::string::npos) << flag;
  }
  const auto cookie = cookie_of(login);
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", cookie}}).json()["login"], "khan");
  EXPECT_EQ(c.request("POST", "/api/v1/auth/logout", "", {{"Cookie", cookie}}).status, 204);
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", cookie}}).status, 401);
}

TEST_F(ApiTest, WrongPasswordsSlowTheLoginDownAndTheRightOneWorksAfterTheWait) {
  auto c = hub.client();
  const auto sign_in = [&](const std::string& password) {
    return c.request("POST", "/api/v1/auth/login", Json{{"login", "khan"}, {"password", password}}.dump(),
                     json_headers());
  };
  for (int i = 0; i < 3; ++i) {
    const auto r = sign_in("nope");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.json()["detail"], "the login or the password is wrong");
  }
  const auto fourth = sign_in("nope");
  EXPECT_EQ(fourth.status, 401);
  EXPECT_EQ(fourth.header("Retry-After"), "1");
  EXPECT_EQ(fourth.json()["detail"], "the login or the password is wrong; the next try must wait 1 s");
  const auto early = sign_in(teacher.password);
  EXPECT_EQ(early.status, 429);
  EXPECT_EQ(early.header("Retry-After"), "1");
  EXPECT_NE(early.json()["detail"].get<std::string>().find("try again in 1 s"), std::string::npos) << early.body;
  // Not a lockout: once the wait is over, the right password works.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(sign_in(teacher.password).status, 200);
  // Another person at the same address was never held up.
  EXPECT_EQ(c.request("POST", "/api/v1/auth/login", Json{{"login", "ali"}, {"password", other.password}}.dump(),
                      json_headers())
                .status,
            200);
}

TEST_F(ApiTest, FailedEnrolmentsAreLimitedPerAddressLikeSignInsAndTheCountIsKept) {
  auto c = hub.client();
  const auto enrol = [&] {
    return c.request("POST", "/api/v1/enroll", R"({"code": "not a code", "hostname": "x", "software_version": "0"})",
                     json_headers());
  };
  for (int i = 0; i < 20; ++i) ASSERT_EQ(enrol().status, 403) << i;  // address_failures_per_hour = 20
  EXPECT_EQ(enrol().status, 403) << "the first failure over the allowance is still checked";
  const auto limited = enrol();
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("Retry-After"), "1");
  const auto kept = hub.store().throttle("enrol-address:127.0.0.1");
  ASSERT_TRUE(kept) << "kept in the database, so a restart does not reset it";
  EXPECT_EQ(kept->failures, 21);
  EXPECT_FALSE(hub.store().throttle("address:127.0.0.1")) << "enrolments and sign-ins count apart";
}

TEST_F(ApiTest, ChangingOnesPasswordKeepsThisSessionEndsTheOthersAndRevokesApiTokens) {
  auto c = hub.client();
  const auto sign_in = [&](const std::string& password) {
    return c.request("POST", "/api/v1/auth/login", Json{{"login", "khan"}, {"password", password}}.dump(),
                     json_headers());
  };
  const auto cookie = cookie_of(sign_in(teacher.password));
  const auto elsewhere = cookie_of(sign_in(teacher.password));  // another browser
  ASSERT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", elsewhere}}).status, 200);
  ASSERT_EQ(as_teacher.request("GET", "/api/v1/me").status, 200) << "the API token works before";
  const auto bad = c.request("POST", "/api/v1/me/password",
                             Json{{"current_password", teacher.password}, {"new_password", "short"}}.dump(),
                             {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["field"], "new_password");
  const auto ok = c.request("POST", "/api/v1/me/password",
                            Json{{"current_password", teacher.password}, {"new_password", "a much longer one"}}.dump(),
                            {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(ok.status, 204);
  EXPECT_TRUE(ok.header("Set-Cookie").empty()) << "this session is kept: " << ok.header("Set-Cookie");
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", cookie}}).status, 200) << "the session it was changed in";
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", elsewhere}}).status, 401) << "every other session ends";
  EXPECT_EQ(as_teacher.request("GET", "/api/v1/me").status, 401) << "API tokens are revoked";
  EXPECT_TRUE(hub.store().api_tokens(teacher.user.id).empty());
  EXPECT_EQ(sign_in("a much longer one").status, 200);
  EXPECT_EQ(sign_in(teacher.password).status, 401);

  // An admin's reset ends every session of the account and revokes its tokens too.
  const auto coach_cookie = cookie_of(c.request(
      "POST", "/api/v1/auth/login", Json{{"login", "coach"}, {"password", coach.password}}.dump(), json_headers()));
  ASSERT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", coach_cookie}}).status, 200);
  EXPECT_EQ(as_admin.request("POST", "/api/v1/users/" + coach.user.id + "/password").status, 200);
  EXPECT_EQ(c.request("GET", "/api/v1/me", "", {{"Cookie", coach_cookie}}).status, 401);
  EXPECT_EQ(as_coach.request("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(as_admin.request("GET", "/api/v1/me").status, 200) << "the admin's own token is not touched";
}

TEST_F(ApiTest, OnlyTheRoomsTeachersMayUseItsUnit) {
  const auto lab = hub.add_room("Lab", teacher.user.id);
  const auto unit = hub.add_unit("lab-cam", lab.id);
  const auto third = hub.add_person("third", store::Role::teacher);
  const auto fourth = hub.add_person("fourth", store::Role::teacher);
  const auto lesson = [&](const TestHub::Person& who, util::TimePoint start, util::TimePoint end) {
    store::Observation o;
    o.room_id = lab.id;
    o.teacher_id = who.user.id;
    o.title = "lesson of " + who.user.login;
    o.start = start;
    o.end = end;
    return std::get<store::Observation>(hub.store().create_observation(o));
  };
  const auto may_read = [&](const TestHub::Person& who) {
    return hub.client(who.token).request("GET", "/api/v1/units/" + unit.unit.id + "/commands").status;
  };
  const std::string commands = "/api/v1/units/" + unit.unit.id + "/commands";
  EXPECT_EQ(may_read(teacher), 200) << "the room's default teacher";
  EXPECT_EQ(may_read(other), 403);
  const auto refused = hub.client(other.token).request("POST", commands, R"({"action": "start"})", json_headers());
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("the room's teacher"), std::string::npos) << refused.body;

  const auto now = util::now_utc();
  lesson(third, now - 3h, now - 2h);  // over: gives no right
  const auto next = lesson(other, now + 2h, now + 3h);
  lesson(third, now + 5h, now + 6h);  // not the next one
  EXPECT_EQ(may_read(other), 200) << "the teacher of the next observation";
  EXPECT_EQ(may_read(third), 403);
  lesson(fourth, now - 10min, now + 10min);
  EXPECT_EQ(may_read(fourth), 200) << "the teacher of the observation under way";
  EXPECT_EQ(may_read(other), 200) << "and still the next one's";
  (void)hub.store().cancel_observation(next.id);
  EXPECT_EQ(may_read(other), 403);
  EXPECT_EQ(may_read(third), 200) << "now the next one is the third's";

  // The room's teachers record; snapshots and the rest stay with technicians and admins. (This hub runs
  // without a broker, so an allowed command gets 503 here; tests/e2e sends them for real.)
  EXPECT_EQ(hub.client(teacher.token).request("POST", commands, R"({"action": "start"})", json_headers()).status, 503);
  const auto snapshot =
      hub.client(teacher.token).request("POST", commands, R"({"action": "snapshot"})", json_headers());
  EXPECT_EQ(snapshot.status, 403);
  EXPECT_EQ(snapshot.json()["field"], "action");
  EXPECT_EQ(as_admin.request("POST", commands, R"({"action": "snapshot"})", json_headers()).status, 503);
  EXPECT_EQ(as_coach.request("GET", commands).status, 403);
}

TEST_F(ApiTest, AdminsCreateUsersWithAGeneratedPasswordShownOnce) {
  const auto r = as_admin.request("POST", "/api/v1/users",
                                  Json{{"login", "new.coach"}, {"display_name", "New Coach"}, {"role", "coach"}}.dump(),
                                  json_headers());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string pw = r.json()["password"];
  EXPECT_EQ(pw.size(), 23u);
  EXPECT_EQ(
      hub.client()
          .request("POST", "/api/v1/auth/login", Json{{"login", "new.coach"}, {"password", pw}}.dump(), json_headers())
          .status,
      200);
  EXPECT_EQ(as_admin
                .request("POST", "/api/v1/users",
                         Json{{"login", "new.coach"}, {"display_name", "X"}, {"role", "coach"}}.dump(), json_headers())
                .status,
            409);
  const auto bad =
      as_admin.request("POST", "/api/v1/users",
                       Json{{"login", "Bad Login"}, {"display_name", "X"}, {"role", "boss"}}.dump(), json_headers());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["field"], "login");
  // An admin cannot lock themselves out.
  EXPECT_EQ(as_admin.request("PATCH", "/api/v1/users/" + admin.user.id, R"({"disabled": true})", json_headers()).status,
            409);
}

TEST_F(ApiTest, MalformedBodiesGetProblemJsonNamingTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{
           {"{not json", "body"},
           {R"({"room_id": 5})", "room_id"},
           {R"({"room_id": "r", "title": ""})", "title"},
           {R"({"room_id": "r", "title": "t", "start": "tomorrow"})", "start"},
           {R"({"room_id": "r", "title": "t", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"})", "end"},
           {R"({"room_id": "r", "title": "t", "start": "2026-11-23T09:00:00Z", "end": "2026-11-23T10:00:00Z",
               "coach_ids": [1]})",
            "coach_ids[0]"},
       }) {
    const auto r = as_teacher.request("POST", "/api/v1/observations", c.body, json_headers());
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    const auto j = r.json();
    EXPECT_EQ(j["field"], c.field) << r.body;
    EXPECT_EQ(j["detail"].get<std::string>().rfind(c.field + ":", 0), 0u)
        << "the detail starts with the field: " << r.body;
    EXPECT_EQ(j["status"], 400);
    EXPECT_EQ(j["title"], "Bad Request");
  }
  auto body = observation("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z");
  body["room_id"] = "no-such-room";
  const auto unknown_room = as_teacher.request("POST", "/api/v1/observations", body.dump(), json_headers());
  EXPECT_EQ(unknown_room.status, 400);
  EXPECT_EQ(unknown_room.json()["detail"], "room_id: no room no-such-room");
}

// Live allowed in advance is the teacher's own consent: an admin scheduling for her cannot give it.
TEST_F(ApiTest, OnlyTheTeacherSchedulesALessonWithLiveAllowed) {
  Json body = observation("2026-11-24T09:00:00Z", "2026-11-24T09:50:00Z");
  body["live_allowed"] = true;
  Json for_her = body;
  for_her["teacher_id"] = teacher.user.id;
  const auto by_admin = as_admin.request("POST", "/api/v1/observations", for_her.dump(), json_headers());
  EXPECT_EQ(by_admin.status, 403) << by_admin.body;
  EXPECT_EQ(by_admin.json()["field"], "live_allowed");
  const auto own = as_teacher.request("POST", "/api/v1/observations", body.dump(), json_headers());
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_TRUE(own.json()["live_allowed"]);
  const std::string path = "/api/v1/observations/" + own.json()["id"].get<std::string>();
  EXPECT_EQ(as_admin.request("PATCH", path, R"({"live_allowed": true})", json_headers()).status, 403);
  const auto off = as_admin.request("PATCH", path, R"({"live_allowed": false})", json_headers());
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(off.json()["live_allowed"]) << "withdrawing it is anyone's who may change the lesson";
  EXPECT_EQ(as_teacher.request("PATCH", path, R"({"live_allowed": "yes"})", json_headers()).status, 400);
}

TEST_F(ApiTest, OverlappingObservationsInARoomAreRefusedBackToBackIsFine) {
  const auto first =
      as_teacher.request("POST", "/api/v1/observations",
                         observation("2026-11-23T09:00:00Z", "2026-11-23T09:50:00Z").dump(), json_headers());
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string first_id = first.json()["id"];
  EXPECT_EQ(first.json()["teacher_id"], teacher.user.id);

  const auto clash =
      hub.client(other.token)
          .request("POST", "/api/v1/observations",
                   observation("2026-11-23T09:30:00Z", "2026-11-23T10:20:00Z", "Year 9").dump(), json_headers());
  EXPECT_EQ(clash.status, 409);
  EXPECT_EQ(clash.json()["field"], "start");
  // The other teacher may not see the first observation: told only that the room is taken then.
  EXPECT_EQ(clash.json()["detail"],
            "start: the room is taken then (2026-11-23T09:30:00Z to 2026-11-23T10:20:00Z overlaps another observation)")
      << clash.body;
  for (const auto& secret : {first_id, std::string("Year 8 maths"), std::string("09:50")}) {
    EXPECT_EQ(clash.body.find(secret), std::string::npos) << "leaks " << secret << ": " << clash.body;
  }
  // Those who may see it (its teacher, an admin) are told which observation it is.
  for (auto* who : {&as_teacher, &as_admin}) {
    const auto own = who->request("POST", "/api/v1/observations",
                                  Json{{"room_id", room.id},
                                       {"teacher_id", teacher.user.id},
                                       {"title", "Again"},
                                       {"start", "2026-11-23T09:30:00Z"},
                                       {"end", "2026-11-23T10:20:00Z"}}
                                      .dump(),
                                  json_headers());
    EXPECT_EQ(own.status, 409);
    EXPECT_EQ(own.json()["detail"],
              "start: overlaps observation " + first_id +
                  " \"Year 8 maths\" (2026-11-23T09:00:00Z to 2026-11-23T09:50:00Z) in the same room")
        << own.body;
  }

  const auto next =
      hub.client(other.token)
          .request("POST", "/api/v1/observations",
                   observation("2026-11-23T09:50:00Z", "2026-11-23T10:40:00Z", "Year 9").dump(), json_headers());
  EXPECT_EQ(next.status, 201) << "back-to-back: " << next.body;

  // Moving the first onto the second is refused too; cancelling frees the slot.
  const auto move = as_teacher.request("PATCH", "/api/v1/observations/" + first_id,
                                       R"({"end": "2026-11-23T10:00:00Z"})", json_headers());
  EXPECT_EQ(move.status, 409);
  const std::string next_id = next.json()["id"];
  EXPECT_EQ(hub.client(other.token).request("DELETE", "/api/v1/observations/" + next_id).json()["state"], "cancelled");
  EXPECT_EQ(
      as_teacher
          .request("PATCH", "/api/v1/observations/" + first_id, R"({"end": "2026-11-23T10:00:00Z"})", json_headers())
          .status,
      200);
  // Invited coaches see it; other teachers do not.
  EXPECT_EQ(as_coach.request("GET", "/api/v1/observations").json()["observations"].size(), 1u);
  EXPECT_EQ(hub.client(other.token).request("GET", "/api/v1/observations/" + first_id).status, 404);
}

TEST_F(ApiTest, CalendarFeedsServeICalToAnyoneWithTheSecretUrl) {
  ASSERT_EQ(as_teacher
                .request("POST", "/api/v1/observations",
                         observation("2030-01-07T09:00:00Z", "2030-01-07T09:50:00Z", "Year 8; fractions").dump(),
                         json_headers())
                .status,
            201);
  // Far-future lessons are outside the feed window; schedule one soon as well.
  const auto soon = util::now_utc() + 48h;
  ASSERT_EQ(
      as_teacher
          .request("POST", "/api/v1/observations",
                   observation(util::to_rfc3339(soon), util::to_rfc3339(soon + 50min), "Year 8, fractions").dump(),
                   json_headers())
          .status,
      201);
  const auto feed = as_admin.request("POST", "/api/v1/rooms/" + room.id + "/calendar");
  ASSERT_EQ(feed.status, 201);
  const std::string first_url = feed.json()["url"];
  // The URL is the hub's own (hub.public_url, else the address it serves on), never the client's Host.
  EXPECT_EQ(first_url.rfind("https://127.0.0.1:" + std::to_string(hub.port()) + "/api/v1/calendars/", 0), 0u)
      << first_url;
  auto spoofed = hub.client(admin.token);
  spoofed.set_header("Host", "phish.example");
  const auto spoofed_feed = spoofed.request("POST", "/api/v1/rooms/" + room.id + "/calendar");
  ASSERT_EQ(spoofed_feed.status, 201) << spoofed_feed.body;
  const std::string spoofed_url = spoofed_feed.json()["url"];
  EXPECT_EQ(spoofed_url.find("phish.example"), std::string::npos) << spoofed_url;
  // That request made a new URL, which replaced the first.
  const std::string url = spoofed_url;
  const std::string path = url.substr(url.find("/api/"));
  EXPECT_EQ(hub.client().request("GET", first_url.substr(first_url.find("/api/"))).status, 404);
  const auto cal = hub.client().request("GET", path);
  ASSERT_EQ(cal.status, 200);
  EXPECT_EQ(cal.header("Content-Type"), "text/calendar; charset=utf-8");
  EXPECT_NE(cal.body.find("BEGIN:VEVENT\r\n"), std::string::npos);
  EXPECT_NE(cal.body.find("SUMMARY:Year 8\\, fractions\r\n"), std::string::npos);
  EXPECT_NE(cal.body.find("DTSTART:" + util::to_rfc3339_seconds(soon).substr(0, 4)), std::string::npos);
  EXPECT_NE(cal.body.find("LOCATION:Room 12\r\n"), std::string::npos);
  // A new URL replaces the old one.
  ASSERT_EQ(as_admin.request("POST", "/api/v1/rooms/" + room.id + "/calendar").status, 201);
  EXPECT_EQ(hub.client().request("GET", path).status, 404);
  // A teacher's own feed.
  const auto mine = as_teacher.request("POST", "/api/v1/me/calendar");
  const std::string mine_url = mine.json()["url"];
  EXPECT_NE(hub.client().request("GET", mine_url.substr(mine_url.find("/api/"))).body.find("Year 8\\, fractions"),
            std::string::npos);
}

TEST_F(ApiTest, SharingIsTheOwnersAndCannotBePassedOnAndViewsAreAudited) {
  const auto unit = hub.add_unit("room-12", room.id);
  (void)hub.store().update_room(room.id, {.default_teacher_id = std::optional<std::string>(teacher.user.id)});
  const auto m = testkit::make_segments(hub.dir() / "src", "lesson-1", 2);
  auto info = testkit::session_info("room-12", "lesson-1");
  auto as_unit = hub.client(unit.token);
  ASSERT_EQ(as_unit.request("PUT", "/api/v1/unit/sessions/lesson-1", protocol::encode(info), json_headers()).status,
            201);
  const auto rec = hub.store().recording_by_session("room-12", "lesson-1");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->owner_id, teacher.user.id);
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const auto copy = hub.dir() / ("in-" + std::to_string(i));
    std::filesystem::copy_file(m.files[i], copy);
    ASSERT_EQ(store::refusal(hub.service().library().accept_segment(*rec, m.entries[i], copy)), nullptr);
  }
  const std::string media = "/api/v1/recordings/" + rec->id + "/media";

  // Still recording: a joined-so-far preview plays.
  const auto partial = as_teacher.request("GET", media);
  EXPECT_EQ(partial.status, 200) << partial.body;
  EXPECT_EQ(partial.header("X-Classcam-Segments"), std::to_string(m.files.size()) + "/?");
  EXPECT_FALSE(partial.header("Content-Location").empty());
  // The preview that Content-Location names plays; a ?segments= that is no count of segments is refused
  // by name (atoi once read "x" as 0 and "-1" as 4294967295).
  const auto named = partial.header("Content-Location");
  const auto got = as_teacher.request("GET", named);
  EXPECT_EQ(got.status, 200) << named;
  // HEAD is served wherever GET is (it was 405): the same headers, no body, and it is no view to audit.
  const auto views = [&] {
    return as_admin.request("GET", "/api/v1/audit?action=recording.view&target_id=" + rec->id).json()["entries"].size();
  };
  const auto views_before = views();
  const auto head = as_teacher.request("HEAD", named);
  EXPECT_EQ(head.status, 200) << head.body;
  EXPECT_EQ(head.header("Content-Length"), std::to_string(got.body.size()));
  EXPECT_EQ(head.header("Content-Type"), got.header("Content-Type"));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(views(), views_before) << "a HEAD is not a view";
  EXPECT_EQ(as_coach.request("HEAD", named).status, 404) << "HEAD is refused to whom GET is";
  EXPECT_EQ(as_teacher.request("GET", "/api/v1/health").status, 200) << "the connection is fine after a HEAD";
  for (const std::string bad : {"x", "-1", "0", "", "2x", "99999999999999999999"}) {
    const auto r = as_teacher.request("GET", media + "?segments=" + bad);
    EXPECT_EQ(r.status, 400) << "segments=" << bad << ": " << r.body;
    if (r.status == 400) {
      EXPECT_EQ(r.json()["field"], "segments") << bad;
    }
  }

  EXPECT_EQ(as_coach.request("GET", media).status, 404) << "not shared yet";
  EXPECT_EQ(as_admin.request("GET", media).status, 403) << "admins see it exists but cannot watch";
  EXPECT_EQ(as_teacher.request("PUT", "/api/v1/recordings/" + rec->id + "/shares/" + coach.user.id).status, 201);
  EXPECT_EQ(as_coach.request("GET", media).status, 200);
  EXPECT_EQ(as_coach.request("PUT", "/api/v1/recordings/" + rec->id + "/shares/" + other.user.id).status, 403)
      << "a share cannot be re-shared";
  EXPECT_EQ(as_coach
                .request("POST", "/api/v1/recordings/" + rec->id + "/comments",
                         R"({"offset_ms": 61000, "tag": "question", "text": "Why group work here?"})", json_headers())
                .status,
            201);
  const auto comments = as_teacher.request("GET", "/api/v1/recordings/" + rec->id + "/comments").json()["comments"];
  ASSERT_EQ(comments.size(), 1u);
  EXPECT_EQ(comments[0]["tag"], "question");
  EXPECT_EQ(comments[0]["author_name"], "Name of coach");
  EXPECT_EQ(as_coach
                .request("POST", "/api/v1/recordings/" + rec->id + "/comments",
                         R"({"offset_ms": 1, "tag": "praise", "text": "x"})", json_headers())
                .json()["field"],
            "tag");
  EXPECT_EQ(as_teacher.request("DELETE", "/api/v1/recordings/" + rec->id + "/shares/" + coach.user.id).status, 204);
  EXPECT_EQ(as_coach.request("GET", media).status, 404);

  const auto audit = as_admin.request("GET", "/api/v1/audit?action=recording.view&target_id=" + rec->id).json();
  std::set<std::string> viewers;
  for (const auto& e : audit["entries"]) viewers.insert(e["actor_id"].get<std::string>());
  EXPECT_EQ(viewers, (std::set<std::string>{teacher.user.id, coach.user.id}));
  EXPECT_EQ(as_admin.request("GET", "/api/v1/audit?action=recording.share").json()["entries"].size(), 1u);
}

TEST_F(ApiTest, AdminsAssignOwnersToOrphanRecordingsButStillCannotWatch) {
  const auto unit = hub.add_unit("room-12", room.id);
  auto as_unit = hub.client(unit.token);
  auto info = testkit::session_info("room-12", "orphan");
  ASSERT_EQ(as_unit.request("PUT", "/api/v1/unit/sessions/orphan", protocol::encode(info), json_headers()).status, 201);
  const auto rec = hub.store().recording_by_session("room-12", "orphan");
  ASSERT_FALSE(rec->owner_id);
  const std::string path = "/api/v1/recordings/" + rec->id;
  EXPECT_EQ(as_admin.request("PATCH", path, Json{{"owner_id", coach.user.id}}.dump(), json_headers()).json()["field"],
            "owner_id")
      << "recordings belong to teachers";
  const auto assigned = as_admin.request("PATCH", path, Json{{"owner_id", teacher.user.id}}.dump(), json_headers());
  EXPECT_EQ(assigned.status, 200);
  EXPECT_EQ(assigned.json()["owner_id"], teacher.user.id);
  EXPECT_EQ(as_admin.request("PATCH", path, Json{{"owner_id", other.user.id}}.dump(), json_headers()).status, 403)
      << "an owned recording keeps its owner";
  EXPECT_EQ(as_admin.request("GET", path + "/media").status, 403);
  EXPECT_EQ(as_teacher.request("GET", path).json()["you_may"],
            Json::array({"watch", "annotate", "share", "retitle", "delete"}));
  // The unit announces the end; with no segments at all the recording fails plainly.
  info.ended_at = util::now_utc();
  info.segment_count = 0;
  EXPECT_EQ(
      as_unit.request("PUT", "/api/v1/unit/sessions/orphan", protocol::encode(info), json_headers()).json()["state"],
      "failed");
  // A unit may not speak for another.
  auto other_info = testkit::session_info("someone-else", "x1");
  const auto r = as_unit.request("PUT", "/api/v1/unit/sessions/x1", protocol::encode(other_info), json_headers());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["field"], "unit_id");
  EXPECT_EQ(as_teacher.request("DELETE", path).status, 204);
  EXPECT_EQ(as_admin.request("GET", "/api/v1/audit?action=recording.delete").json()["entries"][0]["actor_id"],
            teacher.user.id);
}

TEST_F(ApiTest, RetentionIsASchoolSettingAdminsChange) {
  EXPECT_EQ(as_admin.request("GET", "/api/v1/settings").json()["retention_days"], 365);
  EXPECT_EQ(as_admin.request("PATCH", "/api/v1/settings", R"({"retention_days": -1})", json_headers()).json()["field"],
            "retention_days");
  EXPECT_EQ(as_admin.request("PATCH", "/api/v1/settings", R"({"retention_days": 30})", json_headers())
                .json()["retention_days"],
            30);
  const auto unit = hub.add_unit("room-12", room.id);
  auto as_unit = hub.client(unit.token);
  auto old_info = testkit::session_info("room-12", "last-term");
  old_info.started_at = util::now_utc() - std::chrono::hours(24 * 31);
  ASSERT_EQ(
      as_unit.request("PUT", "/api/v1/unit/sessions/last-term", protocol::encode(old_info), json_headers()).status,
      201);
  auto new_info = testkit::session_info("room-12", "this-week");
  ASSERT_EQ(
      as_unit.request("PUT", "/api/v1/unit/sessions/this-week", protocol::encode(new_info), json_headers()).status,
      201);
  EXPECT_EQ(hub.service().run_retention_now(), 1u);
  EXPECT_FALSE(hub.store().recording_by_session("room-12", "last-term"));
  EXPECT_TRUE(hub.store().recording_by_session("room-12", "this-week"));
  const auto entries = as_admin.request("GET", "/api/v1/audit?action=recording.delete").json()["entries"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["actor_kind"], "system");
  EXPECT_EQ(as_admin.request("GET", "/api/v1/audit?action=settings.update").json()["entries"].size(), 1u);
}

TEST_F(ApiTest, TheUnitsScheduleIsAProtocolMessage) {
  const auto unit = hub.add_unit("room-12", room.id);
  const auto soon = util::now_utc() + 2h;
  ASSERT_EQ(as_teacher
                .request("POST", "/api/v1/observations",
                         observation(util::to_rfc3339(soon), util::to_rfc3339(soon + 50min)).dump(), json_headers())
                .status,
            201);
  const auto r = hub.client(unit.token).request("GET", "/api/v1/unit/schedule");
  ASSERT_EQ(r.status, 200);
  const auto s = protocol::decode<protocol::Schedule>(r.body);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->observations.size(), 1u);
  EXPECT_EQ(s->observations[0].teacher_name, "Name of khan");
  EXPECT_EQ(s->unit_id, "room-12");
}

// Issue 11, finding 3, through the hub's configuration: every request is refused from its header with
// the limit for who asks (the clients here never send the bodies they announce), before the hub reads
// or authenticates anything more.
TEST(HubLimits, BodiesAreRefusedFromTheHeaderByWhoAsks) {
  TestHub hub{[] {
    auto c = testkit::test_config("unused");
    c.http.max_anonymous_body_bytes = 2048;
    c.http.max_json_body_bytes = 16 * 1024;
    return c;
  }()};
  const auto admin = hub.add_person("head", store::Role::admin);
  auto anonymous = hub.client();
  anonymous.send_raw(
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 4096\r\n\r\n");
  auto r = anonymous.read_response();
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("at most 2048"), std::string::npos) << r.body;
  EXPECT_TRUE(anonymous.closed_by_peer()) << "the body it announced is not read";
  EXPECT_EQ(hub.client()
                .request("POST", "/api/v1/auth/login", Json{{"login", "head"}, {"password", admin.password}}.dump(),
                         json_headers())
                .status,
            200)
      << "a sign-in fits";

  auto no_credential = hub.client();
  no_credential.send_raw(
      "POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 16777216\r\n\r\n");
  EXPECT_EQ(no_credential.read_response().status, 401);

  auto as_admin = hub.client(admin.token);
  EXPECT_EQ(
      as_admin.request("POST", "/api/v1/rooms", Json{{"name", std::string(20 * 1024, 'n')}}.dump(), json_headers())
          .status,
      413)
      << "past http.max_json_body_bytes";
  EXPECT_EQ(as_admin.request("POST", "/api/v1/rooms", Json{{"name", "Room 1"}}.dump(), json_headers()).status, 201);
}

// Issue 11, finding 4, through the hub's configuration: an address has at most
// http.max_connections_per_address connections; more are closed at once, and its slots come back.
TEST(HubLimits, AnAddressGetsAtMostItsConnections) {
  TestHub hub{[] {
    auto c = testkit::test_config("unused");
    c.http.max_connections_per_address = 2;
    return c;
  }()};
  auto a = hub.client();
  auto b = hub.client();
  EXPECT_EQ(a.request("GET", "/api/v1/health").status, 200);
  EXPECT_EQ(b.request("GET", "/api/v1/health").status, 200);
  auto c = hub.client();
  EXPECT_THROW(c.connect(), std::runtime_error);
  a.close();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    try {
      status = c.request("GET", "/api/v1/health").status;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(50ms);  // the hub has not yet seen the close
    }
  }
  EXPECT_EQ(status, 200);
}
