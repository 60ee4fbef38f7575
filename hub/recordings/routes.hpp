#pragma once
// The recordings API (/api/v1/recordings/...) and the unit-facing session announcements
// (/api/v1/unit/sessions/{session_id}). Ownership is decided by hub/access/policy.hpp; every media
// view and download is audited.
#include "hub/audit/auditor.hpp"
#include "hub/http/router.hpp"
#include "hub/recordings/library.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::recordings {

void add_routes(http::Router& router, store::Store& store, Library& library, audit::Auditor& auditor);

}  // namespace classcam::hub::recordings
