#include "hub/http/router.hpp"

#include <stdexcept>

#include "common/util/utf8.hpp"
#include "hub/http/responses.hpp"

namespace classcam::hub::http {

namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

bool matches(const Route& r, const std::vector<std::string>& segs) {
  if (r.segments.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!is_param(r.segments[i]) && r.segments[i] != segs[i]) return false;
    if (is_param(r.segments[i]) && segs[i].empty()) return false;
  }
  return true;
}

// Headers every response carries: the hub only speaks HTTPS, sends no referrers and lets browsers
// guess no content types.
void harden(Response& res) {
  res.headers.set("Strict-Transport-Security", "max-age=31536000");
  res.headers.set("X-Content-Type-Options", "nosniff");
  res.headers.set("Referrer-Policy", "no-referrer");
  res.headers.set("X-Frame-Options", "DENY");
}

}  // namespace

Router::Router(Authenticate authenticate) : authenticate_(std::move(authenticate)) {}

void Router::add(const std::string& method, const std::string& pattern, access::Access access, SyncHandler handler,
                 const std::string& summary) {
  add_async(
      method, pattern, access,
      [h = std::move(handler)](Request& req, const Reply& reply) { reply(guarded(req, [&] { return h(req); })); },
      summary);
}

void Router::add_async(const std::string& method, const std::string& pattern, access::Access access, Handler handler,
                       const std::string& summary) {
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern)
      throw std::logic_error("route added twice: " + method + " " + pattern);
  }
  routes_.push_back({method, pattern, access, std::move(handler), summary, split(pattern)});
}

void Router::dispatch(Request& req, const Reply& reply_in) const {
  const Reply reply = [reply_in](Response res) {
    harden(res);
    reply_in(std::move(res));
  };
  // Every handler may echo what it reads into JSON or a log: it reads only UTF-8.
  if (auto bad = refuse_invalid_text(req)) {
    reply(std::move(*bad));
    return;
  }
  const auto segs = split(req.path);
  const Route* route = nullptr;
  std::string allow;
  for (const auto& r : routes_) {
    if (!matches(r, segs)) continue;
    if (r.method == req.method) {
      route = &r;
      break;
    }
    allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (route == nullptr) {
    if (allow.empty()) {
      reply(problem(404, "no such resource: " + req.path));
    } else {
      auto res = problem(405, req.method + " is not allowed here (allowed: " + allow + ")");
      res.headers.set("Allow", allow);
      reply(std::move(res));
    }
    return;
  }
  req.params.clear();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!is_param(route->segments[i])) continue;
    const auto name = route->segments[i].substr(1, route->segments[i].size() - 2);
    auto value = percent_decode(segs[i]);
    if (!value) {
      reply(problem(400, "malformed percent-encoding in the path", name));
      return;
    }
    if (!util::is_valid_utf8(*value)) {
      reply(problem(400, "not valid UTF-8 (after percent-decoding)", name));
      return;
    }
    req.params[name] = std::move(*value);
  }
  if (!route->access.is_public()) {
    try {
      req.principal = authenticate_(req);
    } catch (...) {
      reply(guarded(req, [&]() -> Response { throw; }));
      return;
    }
    if (req.principal.caller == access::Caller::anonymous) {
      auto res = problem(401, "sign in first, or send an API token (Authorization: Bearer ...)");
      res.headers.set("WWW-Authenticate", "Bearer realm=\"classcam\"");
      reply(std::move(res));
      return;
    }
    if (!route->access.allows(req.principal.caller)) {
      reply(problem(403, "this is for " + route->access.describe() + "; you are signed in as " +
                             std::string(access::to_string(req.principal.caller))));
      return;
    }
  }
  req.principal.address = req.remote_address;
  try {
    route->handler(req, reply);
  } catch (...) {
    // A handler that throws before replying: answer for it (guarded logs the cause).
    reply(guarded(req, [&]() -> Response { throw; }));
  }
}

}  // namespace classcam::hub::http
