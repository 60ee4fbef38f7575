// Settings, the audit log and the health check.
#include "common/util/version.hpp"
#include "hub/api/routes.hpp"

namespace classcam::hub::api {

namespace {
using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using protocol::Json;
}  // namespace

void add_admin_routes(http::Router& router, ApiContext& ctx) {
  router.add(
      "GET", "/api/v1/health", Access::anyone(),
      [&ctx](Request&) {
        return http::json(
            200,
            {{"status", "ok"}, {"name", ctx.hub_name}, {"version", classcam::kVersion}, {"timezone", ctx.timezone}});
      },
      "liveness (no secrets)");

  router.add(
      "GET", "/api/v1/settings", Access::only({Caller::admin}),
      [&ctx](Request&) {
        const auto days = ctx.store.setting(kRetentionSetting).value_or("0");
        return http::json(200, {{"retention_days", std::stoll(days)}});
      },
      "school-wide settings");

  router.add(
      "PATCH", "/api/v1/settings", Access::only({Caller::admin}),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        if (r.has("retention_days")) {
          const auto days = r.integer("retention_days", 0, 36500);
          const auto before = ctx.store.setting(kRetentionSetting).value_or("?");
          ctx.store.set_setting(kRetentionSetting, std::to_string(days));
          ctx.auditor.record(req.principal, "settings.update", "settings", kRetentionSetting,
                             "retention_days " + before + " -> " + std::to_string(days));
        }
        const auto days = ctx.store.setting(kRetentionSetting).value_or("0");
        return http::json(200, {{"retention_days", std::stoll(days)}});
      },
      "change retention_days (0 keeps recordings forever; applied by the next retention run)");

  router.add(
      "GET", "/api/v1/audit", Access::only({Caller::admin}),
      [&ctx](Request& req) {
        store::AuditFilter f;
        if (const auto b = req.query_param("before_id")) {
          try {
            f.before_id = std::stoll(*b);
          } catch (const std::exception&) {
            throw HttpError(400, "expected an entry id", "before_id");
          }
        }
        f.target_id = req.query_param("target_id");
        f.action = req.query_param("action");
        f.limit = query_limit(req, 200, 1000);
        Json out = Json::array();
        for (const auto& e : ctx.store.audit_entries(f)) {
          out.push_back({{"id", e.id},
                         {"at", time_text(e.at)},
                         {"actor_kind", e.actor_kind},
                         {"actor_id", e.actor_id ? Json(*e.actor_id) : Json(nullptr)},
                         {"actor_name", e.actor_name},
                         {"action", e.action},
                         {"target_kind", e.target_kind},
                         {"target_id", e.target_id ? Json(*e.target_id) : Json(nullptr)},
                         {"address", e.address},
                         {"detail", e.detail}});
        }
        return http::json(200, {{"entries", out}});
      },
      "the audit log, newest first (page with before_id)");
}

}  // namespace classcam::hub::api
