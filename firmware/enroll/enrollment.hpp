#pragma once
// The unit's enrolment on disk, in its state directory:
//   enrollment.json  the hub's EnrollResponse (API token, MQTT credentials, hub URL, CA), mode 0600
//   hub-ca.pem       the hub's CA certificate, pinned by the pairing code at enrolment
//   unit_id          the unit's id (what classcamd names itself)
// Written atomically, each file fsync'd, enrollment.json last: a unit is enrolled once that file is
// there, and then the others are too.
#include <filesystem>
#include <optional>

#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"

namespace classcam::enroll {

std::filesystem::path enrollment_file(const std::filesystem::path& state_dir);
std::filesystem::path ca_file(const std::filesystem::path& state_dir);

// nullopt when the unit is not enrolled; an Error when the file exists but is unreadable.
Result<std::optional<protocol::EnrollResponse>> load_enrollment(const std::filesystem::path& state_dir);
Status save_enrollment(const std::filesystem::path& state_dir, const protocol::EnrollResponse& e);

}  // namespace classcam::enroll
