#include "hub/audit/auditor.hpp"

namespace classcam::hub::audit {

void Auditor::record(const access::Principal& who, const std::string& action, const std::string& target_kind,
                     const std::string& target_id, const std::string& detail) {
  store::AuditEntry e;
  e.at = util::now_utc();
  e.actor_kind = who.is_unit() ? "unit" : "user";
  e.actor_id = who.id.empty() ? std::nullopt : std::optional<std::string>(who.id);
  e.actor_name = who.display_name.empty() ? who.login : who.display_name;
  if (e.actor_name.empty()) e.actor_name = "anonymous";
  e.action = action;
  e.target_kind = target_kind;
  e.target_id = target_id;
  e.address = who.address;
  e.detail = detail;
  store_.audit(e);
}

void Auditor::record_system(const std::string& actor_name, const std::string& action, const std::string& target_kind,
                            const std::string& target_id, const std::string& detail) {
  store::AuditEntry e;
  e.at = util::now_utc();
  e.actor_kind = "system";
  e.actor_name = actor_name;
  e.action = action;
  e.target_kind = target_kind;
  e.target_id = target_id;
  e.detail = detail;
  store_.audit(e);
}

void Auditor::record_view(const access::Principal& who, const std::string& action, const std::string& target_kind,
                          const std::string& target_id, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  {
    const std::lock_guard lock(mutex_);
    const auto key = std::make_tuple(who.id, action, target_id, who.address);
    const auto it = recent_views_.find(key);
    if (it != recent_views_.end() && now - it->second < std::chrono::minutes(5)) return;
    recent_views_[key] = now;
    if (recent_views_.size() > 10000) {
      std::erase_if(recent_views_, [&](const auto& kv) { return now - kv.second >= std::chrono::minutes(5); });
    }
  }
  record(who, action, target_kind, target_id, detail);
}

}  // namespace classcam::hub::audit
