#pragma once
// Routes for accounts (sign-in, users, API tokens), places (rooms, units) and administration
// (settings, the audit log, health).
#include <string>

#include "hub/api/common.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/auth/authenticator.hpp"
#include "hub/http/router.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::api {

inline constexpr const char* kRetentionSetting = "retention_days";

struct ApiContext {
  store::Store& store;
  auth::Authenticator& authenticator;
  audit::Auditor& auditor;
  Executor workers;  // for Argon2id
  std::string hub_name;
  std::string timezone;  // the school's (hub.timezone): pages show every time in it
  // Revokes a unit on HTTPS and MQTT at once (hub/fleet); unset = the database only (no broker).
  std::function<store::Outcome<store::Unit>(const std::string&)> revoke_unit = {};
};

void add_account_routes(http::Router& router, ApiContext& ctx);
void add_place_routes(http::Router& router, ApiContext& ctx);
void add_admin_routes(http::Router& router, ApiContext& ctx);

protocol::Json user_json(const store::User& u);
// A unit with its fleet state (online, state, telemetry, last_error, enrolled, revoked).
protocol::Json unit_json(const store::Unit& u);

}  // namespace classcam::hub::api
