#pragma once
// Writes the audit log: who did what to which thing, when, and from where. Every view and download
// of media, every deletion (by a person or by retention), and every change of ownership, sharing,
// accounts and settings goes through here.
//
// A video player fetches one recording in many range requests; those are one view. record_view()
// therefore writes one entry per (person, action, recording, address) within five minutes.
//
// Threading: safe from any thread (the store serialises; the de-duplication map has its own mutex).
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "hub/access/principal.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::audit {

class Auditor {
 public:
  explicit Auditor(store::Store& store) : store_(store) {}

  void record(const access::Principal& who, const std::string& action, const std::string& target_kind,
              const std::string& target_id, const std::string& detail = "");
  // For the hub itself (retention, start-up): actor_kind "system".
  void record_system(const std::string& actor_name, const std::string& action, const std::string& target_kind,
                     const std::string& target_id, const std::string& detail = "");
  void record_view(const access::Principal& who, const std::string& action, const std::string& target_kind,
                   const std::string& target_id, const std::string& detail = "");

 private:
  store::Store& store_;
  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::chrono::steady_clock::time_point>
      recent_views_;
};

}  // namespace classcam::hub::audit
