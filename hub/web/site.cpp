#include "hub/web/site.hpp"

#include <string_view>

#include "hub/http/responses.hpp"
#include "hub/http/router.hpp"
#include "hub/web/assets.hpp"

namespace classcam::hub::web {

namespace {

// /metrics is Prometheus's default path, so scrape configs need no metrics_path.
bool is_api(std::string_view path) { return path == "/api" || path.rfind("/api/", 0) == 0 || path == "/metrics"; }

bool is_safe_method(std::string_view m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }

std::string_view content_type(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

void page_headers(http::Response& res) {
  res.headers.set("Content-Security-Policy", kContentSecurityPolicy);
  res.headers.set("Strict-Transport-Security", "max-age=31536000");
  res.headers.set("X-Content-Type-Options", "nosniff");
  res.headers.set("Referrer-Policy", "no-referrer");
  res.headers.set("X-Frame-Options", "DENY");
  res.headers.set("Cross-Origin-Opener-Policy", "same-origin");
  res.headers.set("Cross-Origin-Resource-Policy", "same-origin");
  // The microphone for the live view's push-to-talk, from the hub's own pages only (no frames anyway).
  res.headers.set("Permissions-Policy", "camera=(), microphone=(self), geolocation=()");
}

const Asset* find_asset(std::string_view path) {
  if (path == "/" || path.empty()) path = "/index.html";
  for (const auto& a : embedded_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

bool etag_matches(const std::string& if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  // A list of (possibly weak) tags: "a", W/"b"
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto tag = rest.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<http::Response> cross_site_refusal(const http::Request& req) {
  if (is_safe_method(req.method)) return std::nullopt;
  const auto site = req.headers.get("Sec-Fetch-Site");
  if (site && *site != "same-origin" && *site != "none") {
    return http::problem(403,
                         "this request came from another site (Sec-Fetch-Site: " + *site +
                             "); use the hub's own pages, or send an API token instead of a cookie",
                         "Origin");
  }
  const auto origin = req.headers.get("Origin");
  if (origin && *origin != "https://" + req.header("Host")) {
    return http::problem(
        403, "this request came from " + *origin + ", not from the hub's own pages; use an API token from scripts",
        "Origin");
  }
  return std::nullopt;
}

http::Response serve_asset(const http::Request& req) {
  http::Response res;
  if (req.method != "GET" && req.method != "HEAD") {
    res = http::problem(405, req.method + " is not allowed here (allowed: GET, HEAD)");
    res.headers.set("Allow", "GET, HEAD");
  } else if (const Asset* a = find_asset(req.path); a == nullptr) {
    res.status = 404;
    res.headers.set("Content-Type", "text/plain; charset=utf-8");
    res.headers.set("Cache-Control", "no-store");
    res.body = "No such page: " + req.path + ". The hub's pages start at /.\n";
  } else {
    // Asset names carry no version, so browsers revalidate every time: a 304 is cheap, and a hub
    // upgrade is seen at once.
    res.headers.set("ETag", std::string(a->etag));
    res.headers.set("Cache-Control", "no-cache");
    res.headers.set("Content-Type", std::string(content_type(a->path)));
    if (etag_matches(req.header("If-None-Match"), a->etag)) {
      res.status = 304;
    } else {
      res.status = 200;
      res.body = std::string(a->bytes);
    }
  }
  page_headers(res);
  return res;
}

http::Admission admit(const http::Router& router, http::Request& req) {
  // The pages' 404 and the cross-site check echo the path and headers: UTF-8 only, from here on.
  if (auto bad = http::refuse_invalid_text(req)) {
    page_headers(*bad);
    return http::Admission::refuse(std::move(*bad));
  }
  // A page is answered from the header alone; the router admits API requests.
  if (!is_api(req.path)) return http::Admission::refuse(serve_asset(req));
  if (auto refusal = cross_site_refusal(req)) {
    page_headers(*refusal);
    return http::Admission::refuse(std::move(*refusal));
  }
  return router.admit(req);
}

void dispatch(const http::Router& router, http::Request& req, const http::Reply& reply) {
  http::run_admitted(admit(router, req), req, reply);
}

}  // namespace classcam::hub::web
