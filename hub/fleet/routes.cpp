#include "hub/fleet/routes.hpp"

#include <fstream>
#include <sstream>
#include <utility>

#include "common/protocol/pairing_code.hpp"
#include "common/util/uuid.hpp"
#include "hub/api/routes.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/broker/broker.hpp"
#include "hub/fleet/fleet.hpp"
#include "hub/http/files.hpp"

namespace classcam::hub::fleet {

namespace {

using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using protocol::Json;

namespace fs = std::filesystem;

constexpr std::size_t kMaxSnapshotBytes = 4 * 1024 * 1024;

Access staff() { return Access::only({Caller::admin, Caller::technician}); }

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<Json> parse_or_null(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Json command_json(const store::UnitCommand& c) {
  Json j = {{"id", c.id},         {"unit_id", c.unit_id},
            {"action", c.action}, {"state", std::string(store::to_string(c.state))},
            {"detail", c.detail}, {"issued_at", api::time_text(c.issued_at)}};
  j["args"] = parse_or_null(c.args_json).value_or(Json::object());
  j["issued_by"] = c.issued_by ? Json(*c.issued_by) : Json(nullptr);
  j["expires_at"] = c.expires_at ? Json(api::time_text(*c.expires_at)) : Json(nullptr);
  j["result_at"] = c.result_at ? Json(api::time_text(*c.result_at)) : Json(nullptr);
  j["session_id"] = c.session_id ? Json(*c.session_id) : Json(nullptr);
  return j;
}

// What the caller may do with `unit` (access::unit_rights, from who teaches in its room now).
access::UnitRights rights_on(store::Store& store, const Request& req, const store::Unit& unit) {
  return access::unit_rights(req.principal, api::room_facts(store, unit.room_id, util::now_utc()));
}

constexpr const char* kNotYourRoom =
    "only the room's teacher, the teacher of its current or next observation, technicians and admins may "
    "use this unit";

// The unit in the path, if the caller may use it at all (404 when there is none, 403 when not theirs).
std::pair<store::Unit, access::UnitRights> load_for_commands(store::Store& store, const Request& req) {
  const auto unit = store.unit(req.param("id"));
  if (!unit) throw HttpError(404, "no unit " + req.param("id"));
  const auto rights = rights_on(store, req, *unit);
  if (!rights.record) throw HttpError(403, kNotYourRoom);
  return {*unit, rights};
}

// A "sent" command past its expiry is reported expired (the unit will answer so too if it gets it).
store::UnitCommand settle(store::Store& store, store::UnitCommand c) {
  const auto now = util::now_utc();
  if (c.state == store::CommandState::sent && c.expires_at && *c.expires_at < now) {
    const std::string detail = "no result before it expired";
    if (store.set_command_result(c.unit_id, c.id, store::CommandState::expired, detail, now, std::nullopt)) {
      c.state = store::CommandState::expired;
      c.detail = detail;
      c.result_at = now;
    }
  }
  return c;
}

}  // namespace

store::Outcome<FleetRoutes::NewCode> make_pairing_code(store::Store& store, const fs::path& ca_file,
                                                       const std::string& unit_id, std::chrono::minutes lifetime,
                                                       const std::optional<std::string>& created_by) {
  const auto code = protocol::make_pairing_code(read_text(ca_file));
  const auto expires = util::now_utc() + lifetime;
  const auto set = store.set_pairing_code(unit_id, auth::secret_hash(code.secret), created_by, expires);
  if (const auto* r = store::refusal(set)) return *r;
  return FleetRoutes::NewCode{code.text(), expires};
}

FleetRoutes::FleetRoutes(FleetRoutesContext ctx)
    : ctx_(std::move(ctx)), limiter_(ctx_.store, "enrol-address", ctx_.enrol_limit) {}

store::Outcome<FleetRoutes::NewCode> FleetRoutes::new_pairing_code(const std::string& unit_id,
                                                                   const std::optional<std::string>& created_by) {
  return make_pairing_code(ctx_.store, ctx_.ca_file, unit_id, ctx_.pairing_lifetime, created_by);
}

store::Outcome<store::Unit> FleetRoutes::revoke(const std::string& unit_id) {
  auto out = ctx_.store.revoke_unit(unit_id);
  if (store::refusal(out)) return out;
  // The API token is gone with the database row; the broker login goes now, and its connection with it.
  if (ctx_.broker) ctx_.broker->apply_credentials();
  if (ctx_.fleet) ctx_.fleet->publish_schedule(unit_id);
  return out;
}

void FleetRoutes::add(http::Router& router) {
  router.add(
      "POST", "/api/v1/units/{id}/pairing-code", staff(),
      [this](Request& req) {
        const auto code = api::take(new_pairing_code(req.param("id"), req.principal.id));
        ctx_.auditor.record(req.principal, "unit.pairing_code", "unit", req.param("id"),
                            "expires " + api::time_text(code.expires_at));
        return http::json(201, {{"code", code.code}, {"expires_at", api::time_text(code.expires_at)}});
      },
      "a one-time pairing code for enrolling the unit (replaces its previous one)");

  router.add(
      "GET", "/api/v1/enroll/ca", Access::anyone(),
      [this](Request&) {
        http::Response res;
        res.headers.set("Content-Type", "application/x-pem-file");
        res.headers.set("Cache-Control", "no-store");
        res.body = read_text(ctx_.ca_file);
        if (res.body.empty()) throw HttpError(503, "this hub has no local CA to hand out");
        return res;
      },
      "the hub's CA certificate (PEM), which a unit checks against its pairing code");

  router.add(
      "POST", "/api/v1/enroll", Access::anyone(),
      [this](Request& req) {
        if (const auto retry = limiter_.wait(req.remote_address, util::now_utc()); retry.count() > 0) {
          auto res =
              http::problem(429, "too many failed enrolments; try again in " + std::to_string(retry.count()) + " s");
          res.headers.set("Retry-After", std::to_string(retry.count()));
          return res;
        }
        const auto body = http::json_body(req);
        const auto request = protocol::read_enroll_request(protocol::Reader(body, ""));
        const auto code = protocol::parse_pairing_code(request.code);
        auto refuse = [&](const std::string& why) {
          limiter_.record_failure(req.remote_address, util::now_utc());
          ctx_.auditor.record(req.principal, "unit.enroll_refused", "unit", "", why);
          return http::problem(403, why, "code");
        };
        if (!code) return refuse("pairing code not recognised: " + code.error().message);
        const auto token = auth::new_secret(auth::kUnitTokenPrefix);
        const auto mqtt_password = broker::new_unit_password();
        const auto enrolled = ctx_.store.enroll_with_code(auth::secret_hash(code->secret), util::now_utc(), token.hash,
                                                          broker::hash_password(mqtt_password));
        if (const auto* r = store::refusal(enrolled)) return refuse(r->message);
        const auto& unit = std::get<store::Unit>(enrolled);
        limiter_.reset(req.remote_address);
        if (ctx_.broker) ctx_.broker->apply_credentials();
        if (ctx_.fleet) ctx_.fleet->publish_schedule(unit.id);
        ctx_.auditor.record(req.principal, "unit.enroll", "unit", unit.id,
                            "host " + request.hostname + ", software " + request.software_version);
        protocol::EnrollResponse r;
        r.unit_id = unit.id;
        r.unit_name = unit.name;
        r.api_token = token.value;
        r.mqtt_host = ctx_.mqtt_host;
        r.mqtt_port = ctx_.mqtt_port;
        r.mqtt_username = unit.id;
        r.mqtt_password = mqtt_password;
        r.hub_url = ctx_.hub_url;
        r.ca_pem = read_text(ctx_.ca_file);
        http::Response res;
        res.headers.set("Content-Type", "application/json");
        res.headers.set("Cache-Control", "no-store");
        res.body = protocol::encode(r);
        return res;
      },
      "a unit enrols with its pairing code (EnrollRequest -> EnrollResponse)");

  router.add(
      "POST", "/api/v1/units/{id}/revoke", staff(),
      [this](Request& req) {
        const auto unit = api::take(revoke(req.param("id")));
        ctx_.auditor.record(req.principal, "unit.revoke", "unit", unit.id, "API token and MQTT login removed");
        return http::json(200, api::unit_json(unit));
      },
      "revoke a unit: its API token and MQTT login stop working at once");

  router.add(
      "POST", "/api/v1/units/{id}/commands", Access::only({Caller::admin, Caller::technician, Caller::teacher}),
      [this](Request& req) {
        const auto [unit, rights] = load_for_commands(ctx_.store, req);
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        const auto expires_in = r.opt_integer("expires_in_s", 1, 24 * 3600).value_or(120);
        const auto now = util::now_utc();
        Json wire = {{"id", util::uuid_v4()},
                     {"action", r.string("action", 64)},
                     {"issued_at", api::time_text(now)},
                     {"expires_at", api::time_text(now + std::chrono::seconds(expires_in))},
                     {"args", body.contains("args") ? body["args"] : Json::object()}};
        const auto cmd = protocol::read_command(protocol::Reader(wire, ""));
        const bool recording_action = cmd.action == protocol::CommandAction::start ||
                                      cmd.action == protocol::CommandAction::stop ||
                                      cmd.action == protocol::CommandAction::bookmark;
        if (!recording_action && !rights.operate) {
          throw HttpError(403, "teachers may only start, stop and bookmark", "action");
        }
        if (!ctx_.fleet) throw HttpError(503, "this hub runs without a broker (broker.enabled = false)");
        if (!unit.enrolled) throw HttpError(409, "unit " + unit.id + " is not enrolled");
        store::UnitCommand row;
        row.id = cmd.id;
        row.unit_id = unit.id;
        row.action = std::string(protocol::to_string(cmd.action));
        row.args_json = protocol::dump(protocol::to_json(cmd)["args"]);
        row.issued_by = req.principal.id;
        row.issued_at = cmd.issued_at;
        row.expires_at = cmd.expires_at;
        ctx_.store.create_command(row);
        if (!ctx_.fleet->send_command(unit.id, cmd)) {
          ctx_.store.set_command_result(unit.id, row.id, store::CommandState::failed, "could not be published",
                                        util::now_utc(), std::nullopt);
        }
        ctx_.auditor.record(req.principal, "unit.command", "unit", unit.id, row.action + " " + row.id);
        return http::json(202, command_json(*ctx_.store.command(unit.id, row.id)));
      },
      "send a command to a unit (start, stop, bookmark, snapshot, ...; teachers of its room: start, stop, bookmark)");

  router.add(
      "GET", "/api/v1/units/{id}/commands", Access::only({Caller::admin, Caller::technician, Caller::teacher}),
      [this](Request& req) {
        load_for_commands(ctx_.store, req);
        Json out = Json::array();
        for (auto& c : ctx_.store.commands(req.param("id"), api::query_limit(req, 50, 500))) {
          out.push_back(command_json(settle(ctx_.store, std::move(c))));
        }
        return http::json(200, {{"commands", out}});
      },
      "the unit's recent commands, newest first (staff; the teachers of its room)");

  router.add(
      "GET", "/api/v1/units/{id}/commands/{command_id}",
      Access::only({Caller::admin, Caller::technician, Caller::teacher}),
      [this](Request& req) {
        load_for_commands(ctx_.store, req);
        auto c = ctx_.store.command(req.param("id"), req.param("command_id"));
        if (!c) throw HttpError(404, "no command " + req.param("command_id") + " for unit " + req.param("id"));
        return http::json(200, command_json(settle(ctx_.store, std::move(*c))));
      },
      "one command and its result");

  router
      .add(
          "PUT", "/api/v1/unit/snapshots/{command_id}", Access::unit(),
          [this](Request& req) {
            const auto c = ctx_.store.command(req.principal.id, req.param("command_id"));
            if (!c || c->action != "snapshot") throw HttpError(404, "no snapshot command " + req.param("command_id"));
            if (req.header("Content-Type") != "image/jpeg") throw HttpError(415, "Content-Type must be image/jpeg");
            if (req.body.size() > kMaxSnapshotBytes) throw HttpError(413, "a snapshot is at most 4 MiB");
            if (req.body.size() < 4 || static_cast<unsigned char>(req.body[0]) != 0xFF ||
                static_cast<unsigned char>(req.body[1]) != 0xD8) {
              throw HttpError(400, "body: not a JPEG image");
            }
            fs::create_directories(ctx_.snapshot_dir);
            broker::write_file_atomically(ctx_.snapshot_dir / (req.principal.id + ".jpg"), req.body);
            return http::no_content();
          },
          "a unit uploads the JPEG a snapshot command asked for")
      .with_body(http::BodySize::upload)
      .with_body_limit(kMaxSnapshotBytes);

  router.add(
      "GET", "/api/v1/units/{id}/snapshot", staff(),
      [this](Request& req) {
        if (!ctx_.store.unit(req.param("id"))) throw HttpError(404, "no unit " + req.param("id"));
        const auto file = ctx_.snapshot_dir / (req.param("id") + ".jpg");
        if (!fs::exists(file)) throw HttpError(404, "no snapshot from unit " + req.param("id") + " yet");
        ctx_.auditor.record_view(req.principal, "unit.snapshot.view", "unit", req.param("id"));
        auto res = http::file_response(req, file, "image/jpeg");
        res.headers.set("Cache-Control", "no-store");
        return res;
      },
      "the latest snapshot a unit uploaded (JPEG)");
}

}  // namespace classcam::hub::fleet
