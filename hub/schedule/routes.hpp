#pragma once
// The observations API (/api/v1/observations), the calendar feeds (/api/v1/calendars/{token}, whose
// secret token stands in for a login because calendar apps and capture agents cannot sign in), and
// the unit's schedule (/api/v1/unit/schedule).
#include <functional>
#include <string>

#include "hub/audit/auditor.hpp"
#include "hub/http/router.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::schedule {

struct ScheduleOptions {
  // The base of feed URLs: hub.public_url, else the address the hub serves on (known once it listens).
  // Never the request's Host header, which the client chooses.
  std::function<std::string()> public_url;
  std::uint32_t horizon_days = 14;
  std::string timezone = "UTC";
};

void add_routes(http::Router& router, store::Store& store, audit::Auditor& auditor, const ScheduleOptions& options);

}  // namespace classcam::hub::schedule
