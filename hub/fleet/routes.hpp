#pragma once
// The fleet's HTTPS routes: pairing codes and enrolment, revocation, commands and their results,
// snapshots. docs/hub-api.md ("Enrolment", "Fleet and commands") is their reference.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "hub/api/common.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/auth/rate_limiter.hpp"
#include "hub/http/router.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::broker {
class Broker;
}

namespace classcam::hub::fleet {

class Fleet;

struct FleetRoutesContext {
  store::Store& store;
  audit::Auditor& auditor;
  Fleet* fleet = nullptr;              // null when the hub runs without a broker
  broker::Broker* broker = nullptr;    // null unless the hub manages the broker
  std::filesystem::path ca_file = {};  // the hub's CA: pinned by pairing codes, handed to units
  std::string hub_url = {};            // what units are told to use for HTTPS
  std::string mqtt_host = {};          // what units are told to dial for MQTT
  std::uint16_t mqtt_port = 8883;
  std::chrono::minutes pairing_lifetime{30};
  std::filesystem::path snapshot_dir = {};
  // Failed enrolments per client address (the same policy as sign-ins per address).
  auth::BackoffPolicy enrol_limit{100, std::chrono::seconds(36), std::chrono::seconds(1), std::chrono::seconds(900)};
};

class FleetRoutes {
 public:
  explicit FleetRoutes(FleetRoutesContext ctx);
  void add(http::Router& router);
  // The hub's address as units are told it; set once before serving (the port may be chosen at bind).
  void set_hub_url(std::string url) { ctx_.hub_url = std::move(url); }

  // A new pairing code for the unit (replacing its previous one), as the text to show; the same as
  // POST /api/v1/units/{id}/pairing-code, for the operator command `unit pair`.
  struct NewCode {
    std::string code;
    util::TimePoint expires_at;
  };
  store::Outcome<NewCode> new_pairing_code(const std::string& unit_id, const std::optional<std::string>& created_by);
  // Revokes a unit on HTTPS and MQTT at once; what PATCH {"revoked": true} does too.
  store::Outcome<store::Unit> revoke(const std::string& unit_id);

 private:
  FleetRoutesContext ctx_;
  auth::RateLimiter limiter_;
};

// Convenience for tools without a running hub (the admin CLI): a pairing code pinned to `ca_file`.
store::Outcome<FleetRoutes::NewCode> make_pairing_code(store::Store& store, const std::filesystem::path& ca_file,
                                                       const std::string& unit_id, std::chrono::minutes lifetime,
                                                       const std::optional<std::string>& created_by);

}  // namespace classcam::hub::fleet
