#include "hub/http/router.hpp"

#include <algorithm>
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

// Every reply of an admitted request gets the hardening headers.
Reply hardened(Reply reply) {
  return [reply = std::move(reply)](Response res) {
    harden(res);
    reply(std::move(res));
  };
}

Admission refuse(Response res) {
  harden(res);
  return Admission::refuse(std::move(res));
}

}  // namespace

Router::Router(Authenticate authenticate, BodyLimits limits)
    : authenticate_(std::move(authenticate)), limits_(limits) {}

Route& Router::add(const std::string& method, const std::string& pattern, access::Access access, SyncHandler handler,
                   const std::string& summary) {
  return add_async(
      method, pattern, access,
      [h = std::move(handler)](Request& req, const Reply& reply) { reply(guarded(req, [&] { return h(req); })); },
      summary);
}

Route& Router::add_async(const std::string& method, const std::string& pattern, access::Access access, Handler handler,
                         const std::string& summary) {
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern)
      throw std::logic_error("route added twice: " + method + " " + pattern);
  }
  routes_.push_back(
      {method, pattern, access, std::move(handler), summary, split(pattern), BodySize::json, Preflight{}});
  return routes_.back();
}

Route& Router::add_streaming(const std::string& method, const std::string& pattern, access::Access access,
                             Preflight preflight, const std::string& summary) {
  auto& r = add_async(method, pattern, access, nullptr, summary);
  r.preflight = std::move(preflight);
  r.body = BodySize::upload;
  return r;
}

Admission Router::admit(Request& req) const {
  const Route* route = nullptr;
  if (!observer_) return admit_unobserved(req, route);
  const auto start = std::chrono::steady_clock::now();
  Admission a = admit_unobserved(req, route);
  const std::string pattern = route != nullptr ? route->pattern : "unmatched";
  const std::string method = route != nullptr ? route->method : "other";
  if (a.refusal) {
    observer_(pattern, method, a.refusal->status, std::chrono::steady_clock::now() - start);
    return a;
  }
  a.handler = [h = std::move(a.handler), observer = observer_, pattern, method, start](Request& r, const Reply& reply) {
    h(r, [reply, observer, pattern, method, start](Response res) {
      observer(pattern, method, res.status, std::chrono::steady_clock::now() - start);
      reply(std::move(res));
    });
  };
  return a;
}

Admission Router::admit_unobserved(Request& req, const Route*& route) const {
  // Every handler may echo what it reads into JSON or a log: it reads only UTF-8.
  if (auto bad = refuse_invalid_text(req)) return refuse(std::move(*bad));
  const auto segs = split(req.path);
  std::string allow;
  const Route* get = nullptr;
  bool has_head = false;
  for (const auto& r : routes_) {
    if (!matches(r, segs)) continue;
    if (r.method == req.method) {
      route = &r;
      break;
    }
    if (r.method == "GET") get = &r;
    has_head = has_head || r.method == "HEAD";
    allow += (allow.empty() ? "" : ", ") + r.method;
  }
  // RFC 9110 9.3.2: HEAD wherever GET is (a player probing a recording's size); the server sends the
  // headers the GET would get and no body. A route with its own HEAD (tus offsets) keeps it.
  if (route == nullptr && get != nullptr && req.method == "HEAD") route = get;
  if (get != nullptr && !has_head) allow += ", HEAD";
  if (route == nullptr) {
    if (allow.empty()) return refuse(problem(404, "no such resource: " + req.path));
    auto res = problem(405, req.method + " is not allowed here (allowed: " + allow + ")");
    res.headers.set("Allow", allow);
    return refuse(std::move(res));
  }
  req.params.clear();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!is_param(route->segments[i])) continue;
    const auto name = route->segments[i].substr(1, route->segments[i].size() - 2);
    auto value = percent_decode(segs[i]);
    if (!value) return refuse(problem(400, "malformed percent-encoding in the path", name));
    if (!util::is_valid_utf8(*value)) return refuse(problem(400, "not valid UTF-8 (after percent-decoding)", name));
    req.params[name] = std::move(*value);
  }
  if (!route->access.is_public()) {
    try {
      req.principal = authenticate_(req);
    } catch (...) {
      return refuse(guarded(req, [&]() -> Response { throw; }));
    }
    if (req.principal.caller == access::Caller::anonymous) {
      auto res = problem(401, "sign in first, or send an API token (Authorization: Bearer ...)");
      res.headers.set("WWW-Authenticate", "Bearer realm=\"classcam\"");
      return refuse(std::move(res));
    }
    if (!route->access.allows(req.principal.caller)) {
      return refuse(problem(403, "this is for " + route->access.describe() + "; you are signed in as " +
                                     std::string(access::to_string(req.principal.caller))));
    }
  }
  req.principal.address = req.remote_address;

  // Nobody without a credential needs more than a sign-in's worth of body.
  std::uint64_t limit = route->body == BodySize::upload ? limits_.upload : limits_.json;
  limit = std::min(limit, route->max_body_bytes);
  if (req.principal.caller == access::Caller::anonymous) limit = std::min(limit, limits_.anonymous);

  Admission a;
  if (route->preflight) {
    try {
      a = route->preflight(req);
    } catch (...) {
      return refuse(guarded(req, [&]() -> Response { throw; }));
    }
    if (a.refusal) {
      harden(*a.refusal);
      return a;
    }
    a.max_body_bytes = std::min(a.max_body_bytes, limit);
    a.handler = [h = std::move(a.handler)](Request& r, const Reply& reply_in) {
      const Reply reply = hardened(reply_in);
      try {
        h(r, reply);
      } catch (...) {
        reply(guarded(r, [&]() -> Response { throw; }));
      }
    };
    return a;
  }
  a.max_body_bytes = limit;
  a.handler = [route](Request& r, const Reply& reply_in) {
    const Reply reply = hardened(reply_in);
    try {
      route->handler(r, reply);
    } catch (...) {
      // A handler that throws before replying: answer for it (guarded logs the cause).
      reply(guarded(r, [&]() -> Response { throw; }));
    }
  };
  return a;
}

void Router::dispatch(Request& req, const Reply& reply) const { run_admitted(admit(req), req, reply); }

void run_admitted(Admission a, Request& req, const Reply& reply) {
  if (a.refusal) return reply(std::move(*a.refusal));
  if (req.body.size() > a.max_body_bytes) {
    if (a.sink) a.sink->abandon();
    return reply(problem(413, "the request body is " + std::to_string(req.body.size()) + " bytes; " + req.method + " " +
                                  req.path + " takes at most " + std::to_string(a.max_body_bytes)));
  }
  if (a.sink) {
    (void)a.sink->write(req.body);  // a sink that stops early says why in the handler's answer
    req.body.clear();
  }
  a.handler(req, reply);
}

}  // namespace classcam::hub::http
