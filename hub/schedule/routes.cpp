#include "hub/schedule/routes.hpp"

#include <map>

#include "hub/access/policy.hpp"
#include "hub/api/common.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/schedule/builder.hpp"
#include "hub/schedule/ical.hpp"

namespace classcam::hub::schedule {

namespace {

using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using http::Response;
using protocol::Json;

std::string name_of_user(store::Store& store, const std::string& id) {
  const auto u = store.user(id);
  return u ? u->display_name : "";
}

Json observation_json(store::Store& store, const store::Observation& o, const access::ObservationRights& rights) {
  Json coaches = Json::array();
  for (const auto& c : o.coach_ids) coaches.push_back({{"id", c}, {"display_name", name_of_user(store, c)}});
  const auto room = store.room(o.room_id);
  Json j = {{"id", o.id},
            {"room_id", o.room_id},
            {"room_name", room ? room->name : ""},
            {"teacher_id", o.teacher_id},
            {"teacher_name", name_of_user(store, o.teacher_id)},
            {"title", o.title},
            {"start", api::time_text(o.start)},
            {"end", api::time_text(o.end)},
            {"state", std::string(store::to_string(o.state))},
            {"coach_ids", o.coach_ids},
            {"live_allowed", o.live_allowed},
            {"coaches", coaches},
            {"created_at", api::time_text(o.created_at)},
            {"updated_at", api::time_text(o.updated_at)}};
  j["you_may"] = rights.change ? Json::array({"change"}) : Json::array();
  // The room's cameras, so the pages can offer its live view while the lesson is under way.
  Json units = Json::array();
  for (const auto& u : store.units()) {
    if (u.room_id == o.room_id && !u.revoked) units.push_back(u.id);
  }
  j["unit_ids"] = units;
  return j;
}

access::ObservationRights rights_of(const Request& req, const store::Observation& o) {
  return access::observation_rights(req.principal, {o.teacher_id, o.coach_ids});
}

// The observation in the path, if the caller may see it (404 otherwise).
store::Observation load(store::Store& store, const Request& req) {
  const auto o = store.observation(req.param("id"));
  if (!o || !rights_of(req, *o).see) throw HttpError(404, "no observation " + req.param("id"));
  return *o;
}

// Unwraps a create or update; an overlap names the other observation only to a caller who may see it.
store::Observation take_observation(store::Store& store, const Request& req, store::Outcome<store::Observation> out) {
  if (const auto* r = store::refusal(out); r && r->kind == store::Refusal::conflict && r->other_id) {
    const auto other = store.observation(*r->other_id);
    if (other && rights_of(req, *other).see) {
      throw HttpError(409,
                      "overlaps observation " + other->id + " \"" + other->title + "\" (" +
                          util::to_rfc3339_seconds(other->start) + " to " + util::to_rfc3339_seconds(other->end) +
                          ") in the same room",
                      r->field);
    }
  }
  return api::take(std::move(out));
}

std::vector<std::string> read_ids(const protocol::Reader& r, const std::string& key) {
  std::vector<std::string> out;
  const auto& arr = r.json().at(key);
  if (!arr.is_array()) r.fail(key, "expected an array of user ids");
  if (arr.size() > 50) r.fail(key, "at most 50 people can be invited");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string() || arr[i].get<std::string>().empty()) {
      throw protocol::DecodeError(key + "[" + std::to_string(i) + "]: expected a user id");
    }
    out.push_back(arr[i].get<std::string>());
  }
  return out;
}

void check_times(const protocol::Reader& r, util::TimePoint start, util::TimePoint end) {
  if (end <= start) r.fail("end", "must be after start");
  if (end - start > std::chrono::hours(12)) r.fail("end", "an observation lasts at most 12 hours");
}

// Creates (replacing any previous) the secret feed URL of a room, unit or person.
Response new_feed(store::Store& store, audit::Auditor& auditor, const ScheduleOptions& o, const Request& req,
                  store::FeedKind kind, const std::string& subject) {
  const auto secret = auth::new_secret(auth::kFeedTokenPrefix);
  store.set_feed(kind, subject, secret.hash, req.principal.id);
  auditor.record(req.principal, "calendar.new_url", std::string(store::to_string(kind)), subject,
                 "the previous feed URL, if any, no longer works");
  return http::json(201, {{"url", o.public_url() + "/api/v1/calendars/" + secret.value + ".ics"},
                          {"note", "keep this URL private: anyone who has it can read this calendar"}});
}

}  // namespace

void add_routes(http::Router& router, store::Store& store, audit::Auditor& auditor, const ScheduleOptions& options) {
  router.add(
      "GET", "/api/v1/observations", Access::any_user(),
      [&store](Request& req) {
        store::ObservationFilter f;
        f.from = api::query_time(req, "from");
        f.to = api::query_time(req, "to");
        f.room_id = req.query_param("room_id");
        f.include_cancelled = req.query_param("include_cancelled") == "true";
        if (!access::sees_everything_in_lists(req.principal)) f.involving_user = req.principal.id;
        Json out = Json::array();
        for (const auto& o : store.observations(f)) out.push_back(observation_json(store, o, rights_of(req, o)));
        return http::json(200, {{"observations", out}});
      },
      "observations the caller teaches or is invited to (all, for admins and technicians)");

  router.add(
      "POST", "/api/v1/observations", Access::only({Caller::admin, Caller::teacher}),
      [&store, &auditor](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::Observation o;
        o.room_id = r.string("room_id", 64);
        o.title = r.string("title", 200);
        o.start = r.time("start");
        o.end = r.time("end");
        check_times(r, o.start, o.end);
        if (r.has("teacher_id")) {
          o.teacher_id = r.string("teacher_id", 64);
        } else if (req.principal.is(Caller::teacher)) {
          o.teacher_id = req.principal.id;
        } else {
          r.fail("teacher_id", "missing (an admin schedules for a teacher)");
        }
        if (!access::may_schedule_for(req.principal, o.teacher_id)) {
          throw HttpError(403, "teachers schedule observations of their own lessons only", "teacher_id");
        }
        if (r.has("coach_ids")) o.coach_ids = read_ids(r, "coach_ids");
        o.live_allowed = r.opt_boolean("live_allowed", false);
        // Consent to live is the teacher's own, given only by them.
        if (o.live_allowed && req.principal.id != o.teacher_id)
          throw HttpError(403, "only the teacher allows live for their lesson", "live_allowed");
        o.created_by = req.principal.id;
        const auto created = take_observation(store, req, store.create_observation(o));
        auditor.record(req.principal, "observation.create", "observation", created.id, created.title);
        return http::json(201, observation_json(store, created, rights_of(req, created)));
      },
      "schedule an observation (overlaps in one room are refused with 409)");

  router.add(
      "GET", "/api/v1/observations/{id}", Access::any_user(),
      [&store](Request& req) {
        const auto o = load(store, req);
        return http::json(200, observation_json(store, o, rights_of(req, o)));
      },
      "one observation");

  router.add(
      "PATCH", "/api/v1/observations/{id}", Access::only({Caller::admin, Caller::teacher}),
      [&store, &auditor](Request& req) {
        const auto o = load(store, req);
        if (!rights_of(req, o).change) throw HttpError(403, "only the observation's teacher or an admin can change it");
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::ObservationPatch p;
        if (r.has("room_id")) p.room_id = r.string("room_id", 64);
        if (r.has("title")) p.title = r.string("title", 200);
        if (r.has("start")) p.start = r.time("start");
        if (r.has("end")) p.end = r.time("end");
        check_times(r, p.start.value_or(o.start), p.end.value_or(o.end));
        if (r.has("coach_ids")) p.coach_ids = read_ids(r, "coach_ids");
        if (r.has("live_allowed")) {
          p.live_allowed = r.boolean("live_allowed");
          if (*p.live_allowed && req.principal.id != o.teacher_id)
            throw HttpError(403, "only the teacher allows live for their lesson", "live_allowed");
        }
        if (r.has("teacher_id")) {
          const std::string t = r.string("teacher_id", 64);
          if (t != o.teacher_id && !req.principal.is(Caller::admin)) {
            throw HttpError(403, "only an admin can hand an observation to another teacher", "teacher_id");
          }
          p.teacher_id = t;
        }
        const auto updated = take_observation(store, req, store.update_observation(o.id, p));
        auditor.record(req.principal, "observation.update", "observation", o.id, updated.title);
        return http::json(200, observation_json(store, updated, rights_of(req, updated)));
      },
      "change an observation (its teacher or an admin)");

  router.add(
      "DELETE", "/api/v1/observations/{id}", Access::only({Caller::admin, Caller::teacher}),
      [&store, &auditor](Request& req) {
        const auto o = load(store, req);
        if (!rights_of(req, o).change) throw HttpError(403, "only the observation's teacher or an admin can cancel it");
        const auto cancelled = api::take(store.cancel_observation(o.id));
        auditor.record(req.principal, "observation.cancel", "observation", o.id, o.title);
        return http::json(200, observation_json(store, cancelled, rights_of(req, cancelled)));
      },
      "cancel an observation (kept, with state cancelled)");

  // ---- calendar feeds ----
  router.add(
      "POST", "/api/v1/rooms/{id}/calendar", Access::only({Caller::admin, Caller::technician}),
      [&store, &auditor, options](Request& req) {
        if (!store.room(req.param("id"))) throw HttpError(404, "no room " + req.param("id"));
        return new_feed(store, auditor, options, req, store::FeedKind::room, req.param("id"));
      },
      "a new secret iCal feed URL for a room");

  router.add(
      "POST", "/api/v1/units/{id}/calendar", Access::only({Caller::admin, Caller::technician}),
      [&store, &auditor, options](Request& req) {
        if (!store.unit(req.param("id"))) throw HttpError(404, "no unit " + req.param("id"));
        return new_feed(store, auditor, options, req, store::FeedKind::unit, req.param("id"));
      },
      "a new secret iCal feed URL for a unit (what a capture agent polls)");

  router.add(
      "POST", "/api/v1/me/calendar", Access::only({Caller::teacher, Caller::coach}),
      [&store, &auditor, options](Request& req) {
        return new_feed(store, auditor, options, req, store::FeedKind::user, req.principal.id);
      },
      "a new secret iCal feed URL of the caller's observations");

  router.add(
      "GET", "/api/v1/calendars/{token}", Access::anyone(),
      [&store, options](Request& req) {
        std::string token = req.param("token");
        if (token.size() > 4 && token.substr(token.size() - 4) == ".ics") token.resize(token.size() - 4);
        const auto feed = store.feed_for_token(auth::secret_hash(token));
        if (!feed) throw HttpError(404, "no such calendar (the URL may have been replaced)");
        const auto now = util::now_utc();
        store::ObservationFilter f;
        f.from = now - std::chrono::hours(24 * 30);
        f.to = now + std::chrono::hours(24 * 180);
        std::string name = "classcam";
        if (feed->kind == store::FeedKind::user) {
          f.involving_user = feed->subject_id;
          name = "classcam: " + name_of_user(store, feed->subject_id);
        } else {
          std::optional<std::string> room_id = feed->subject_id;
          if (feed->kind == store::FeedKind::unit) {
            const auto unit = store.unit(feed->subject_id);
            room_id = unit ? unit->room_id : std::nullopt;
            name = "classcam: unit " + feed->subject_id;
          }
          if (!room_id) return Response{200, {}, ical_calendar(name, {}, now), std::nullopt, false};
          f.room_id = room_id;
          if (const auto room = store.room(*room_id); room && feed->kind == store::FeedKind::room) {
            name = "classcam: " + room->name;
          }
        }
        std::vector<CalendarEvent> events;
        std::map<std::string, std::string> rooms;
        for (const auto& o : store.observations(f)) {
          CalendarEvent e;
          e.uid = o.id + "@classcam";
          e.start = o.start;
          e.end = o.end;
          e.summary = o.title;
          if (!rooms.count(o.room_id)) {
            const auto room = store.room(o.room_id);
            rooms[o.room_id] = room ? room->name : "";
          }
          e.location = rooms[o.room_id];
          std::string observers;
          for (const auto& c : o.coach_ids) observers += (observers.empty() ? "" : ", ") + name_of_user(store, c);
          e.description =
              "Teacher: " + name_of_user(store, o.teacher_id) + (observers.empty() ? "" : "\nObservers: " + observers);
          e.last_modified = o.updated_at;
          events.push_back(std::move(e));
        }
        Response res;
        res.headers.set("Content-Type", "text/calendar; charset=utf-8");
        res.headers.set("Cache-Control", "private, max-age=60");
        res.body = ical_calendar(name, events, now);
        return res;
      },
      "an iCal feed (the secret token in the URL is the credential)");

  // ---- the unit's schedule ----
  router.add(
      "GET", "/api/v1/unit/schedule", Access::unit(),
      [&store, options](Request& req) {
        const auto s = build_schedule(store, req.principal.id, util::now_utc(), options.horizon_days, options.timezone);
        Response res;
        res.headers.set("Content-Type", "application/json");
        res.headers.set("Cache-Control", "no-store");
        res.body = protocol::encode(s);
        return res;
      },
      "this unit's schedule (protocol Schedule message)");
}

}  // namespace classcam::hub::schedule
