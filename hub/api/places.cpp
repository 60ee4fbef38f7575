// Rooms and the units in them.
#include "common/util/uuid.hpp"
#include "hub/api/routes.hpp"
#include "hub/auth/tokens.hpp"

namespace classcam::hub::api {

namespace {

using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using protocol::Json;

Access staff() { return Access::only({Caller::admin, Caller::technician}); }

Json room_json(store::Store& store, const store::Room& r, const std::vector<store::Unit>& units) {
  Json j = {{"id", r.id}, {"name", r.name}, {"created_at", time_text(r.created_at)}};
  j["default_teacher_id"] = r.default_teacher_id ? Json(*r.default_teacher_id) : Json(nullptr);
  if (r.default_teacher_id) {
    if (const auto t = store.user(*r.default_teacher_id)) j["default_teacher_name"] = t->display_name;
  }
  // Teachers need these for "record now" in their room.
  Json ids = Json::array();
  for (const auto& u : units) {
    if (u.room_id == r.id && !u.revoked) ids.push_back(u.id);
  }
  j["unit_ids"] = ids;
  return j;
}

Json room_json(store::Store& store, const store::Room& r) { return room_json(store, r, store.units()); }

// What the caller may do with the room's units ("record": start, stop, bookmark), so pages offer
// "record now" only where it works.
Json with_rights(store::Store& store, Json room, const Request& req) {
  const auto rights =
      access::unit_rights(req.principal, room_facts(store, room["id"].get<std::string>(), util::now_utc()));
  room["you_may"] = rights.record ? Json::array({"record"}) : Json::array();
  return room;
}

std::optional<std::string> read_optional_teacher(const protocol::Reader& r) {
  if (!r.has("default_teacher_id")) return std::nullopt;
  return r.string("default_teacher_id", 64);
}

}  // namespace

Json unit_json(const store::Unit& u) {
  Json j = {{"id", u.id},
            {"name", u.name},
            {"room_id", u.room_id ? Json(*u.room_id) : Json(nullptr)},
            {"revoked", u.revoked},
            {"enrolled", u.enrolled},
            {"online", u.online && u.enrolled},
            {"created_at", time_text(u.created_at)},
            {"last_seen_at", u.last_seen_at ? Json(time_text(*u.last_seen_at)) : Json(nullptr)},
            {"last_address", u.last_address ? Json(*u.last_address) : Json(nullptr)}};
  j["state"] = u.state ? Json(*u.state) : Json(nullptr);
  j["telemetry"] = nullptr;
  if (u.telemetry_json) {
    auto t = Json::parse(*u.telemetry_json, nullptr, false);
    if (!t.is_discarded()) j["telemetry"] = std::move(t);
  }
  j["last_error"] = u.last_error ? Json(*u.last_error) : Json(nullptr);
  return j;
}

void add_place_routes(http::Router& router, ApiContext& ctx) {
  router.add(
      "GET", "/api/v1/rooms", Access::any_user(),
      [&ctx](Request& req) {
        Json out = Json::array();
        const auto units = ctx.store.units();
        for (const auto& r : ctx.store.rooms())
          out.push_back(with_rights(ctx.store, room_json(ctx.store, r, units), req));
        return http::json(200, {{"rooms", out}});
      },
      "every room (everyone needs them to schedule)");

  router.add(
      "POST", "/api/v1/rooms", staff(),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        const auto room = take(ctx.store.create_room(r.string("name", 200), read_optional_teacher(r)));
        ctx.auditor.record(req.principal, "room.create", "room", room.id, room.name);
        return http::json(201, room_json(ctx.store, room));
      },
      "create a room, optionally with a default teacher (who owns unscheduled recordings there)");

  router.add(
      "GET", "/api/v1/rooms/{id}", Access::any_user(),
      [&ctx](Request& req) {
        const auto room = ctx.store.room(req.param("id"));
        if (!room) throw HttpError(404, "no room " + req.param("id"));
        return http::json(200, with_rights(ctx.store, room_json(ctx.store, *room), req));
      },
      "one room");

  router.add(
      "PATCH", "/api/v1/rooms/{id}", staff(),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::RoomPatch p;
        if (r.has("name")) p.name = r.string("name", 200);
        if (body.contains("default_teacher_id")) p.default_teacher_id = read_optional_teacher(r);  // null clears
        const auto room = take(ctx.store.update_room(req.param("id"), p));
        ctx.auditor.record(req.principal, "room.update", "room", room.id, room.name);
        return http::json(200, room_json(ctx.store, room));
      },
      "rename a room or set/clear its default teacher (null clears)");

  router.add(
      "DELETE", "/api/v1/rooms/{id}", Access::only({Caller::admin}),
      [&ctx](Request& req) {
        take(ctx.store.delete_room(req.param("id")));
        ctx.auditor.record(req.principal, "room.delete", "room", req.param("id"));
        return http::no_content();
      },
      "delete a room that has no units and no observations");

  router.add(
      "GET", "/api/v1/units", staff(),
      [&ctx](Request&) {
        Json out = Json::array();
        for (const auto& u : ctx.store.units()) out.push_back(unit_json(u));
        return http::json(200, {{"units", out}});
      },
      "every unit");

  router.add(
      "POST", "/api/v1/units", staff(),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        const std::string id = r.has("id") ? r.id("id") : "unit-" + util::random_hex(4);
        const std::string name = r.string("name", 200);
        const std::optional<std::string> room =
            r.has("room_id") ? std::optional(r.string("room_id", 64)) : std::nullopt;
        const auto secret = auth::new_secret(auth::kUnitTokenPrefix);
        const auto unit = take(ctx.store.create_unit(id, name, room, secret.hash));
        ctx.auditor.record(req.principal, "unit.create", "unit", unit.id, name);
        Json out = {{"unit", unit_json(unit)}, {"token", secret.value}};  // the token is shown once
        return http::json(201, out);
      },
      "add a unit (to a room); returns its API token once");

  router.add(
      "GET", "/api/v1/units/{id}", staff(),
      [&ctx](Request& req) {
        const auto u = ctx.store.unit(req.param("id"));
        if (!u) throw HttpError(404, "no unit " + req.param("id"));
        return http::json(200, unit_json(*u));
      },
      "one unit");

  router.add(
      "PATCH", "/api/v1/units/{id}", staff(),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::UnitPatch p;
        std::string changes;
        if (r.has("name")) p.name = r.string("name", 200);
        if (r.has("room_id")) {
          p.room_id = r.string("room_id", 64);
          changes += "moved to room " + *p.room_id + "; ";
        }
        const bool revoke = r.has("revoked") && r.boolean("revoked");
        if (r.has("revoked") && !revoke) {
          throw HttpError(409,
                          "revoked: a revoked unit comes back only by enrolling again: make a pairing code "
                          "(POST /api/v1/units/" +
                              req.param("id") +
                              "/pairing-code) and run "
                              "`classcamctl enroll` on the unit",
                          "revoked");
        }
        auto unit = take(ctx.store.update_unit(req.param("id"), p));
        if (revoke) {
          unit = ctx.revoke_unit ? take(ctx.revoke_unit(unit.id)) : take(ctx.store.revoke_unit(unit.id));
          changes += "revoked: API token and MQTT login removed; ";
        }
        ctx.auditor.record(req.principal, "unit.update", "unit", unit.id, changes);
        return http::json(200, unit_json(unit));
      },
      "rename a unit, move it to another room, or revoke it (revoked: true; false is refused)");

  router.add(
      "POST", "/api/v1/units/{id}/token", staff(),
      [&ctx](Request& req) {
        const auto unit = ctx.store.unit(req.param("id"));
        if (!unit) throw HttpError(404, "no unit " + req.param("id"));
        if (unit->revoked) {
          throw HttpError(409, "the unit is revoked; it comes back only by enrolling again with a new pairing code");
        }
        const auto secret = auth::new_secret(auth::kUnitTokenPrefix);
        if (!ctx.store.set_unit_token(req.param("id"), secret.hash)) throw HttpError(404, "no unit " + req.param("id"));
        ctx.auditor.record(req.principal, "unit.new_token", "unit", req.param("id"),
                           "the previous token stops working");
        return http::json(200, {{"token", secret.value}});
      },
      "issue a new token for a unit (the old one stops working); shown once");
}

}  // namespace classcam::hub::api
