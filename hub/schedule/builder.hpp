#pragma once
// The schedule a unit is sent: its room's observations from now to now + horizon, as the protocol's
// Schedule message. (A later issue publishes it retained over MQTT; today units fetch it with
// GET /api/v1/unit/schedule.)
#include <string>

#include "common/protocol/messages.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::schedule {

// Observations already under way are included (a unit booting mid-lesson still records the rest).
// A unit with no room gets an empty schedule.
protocol::Schedule build_schedule(store::Store& store, const std::string& unit_id, util::TimePoint now,
                                  std::uint32_t horizon_days, const std::string& timezone);

}  // namespace classcam::hub::schedule
