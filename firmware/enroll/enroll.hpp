#pragma once
// Enrolment with a hub (docs/protocol.md "Enrolment"), as classcamd runs it for `classcamctl enroll`:
//   1. GET <hub>/api/v1/enroll/ca WITHOUT verifying TLS (the unit trusts nothing yet) and check that the
//      CA certificate is the one the pairing code pins; refuse otherwise;
//   2. POST <hub>/api/v1/enroll with the code, now verifying the hub against that CA;
//   3. check the answer's CA against the pin as well.
// The caller stores the answer (enrollment.hpp). Blocking: run it on a worker thread.
#include <filesystem>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"

namespace classcam::enroll {

inline constexpr const char* kNotPinned =
    "the hub's certificate does not match the pairing code: wrong hub URL or a machine in the middle";

// `scratch_dir` holds the fetched CA while the enrolment request is made (the state directory).
Result<protocol::EnrollResponse> enroll_with_hub(const std::string& hub_url, const std::string& typed_code,
                                                 const std::string& hostname, const std::filesystem::path& scratch_dir);

}  // namespace classcam::enroll
