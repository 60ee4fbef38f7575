#pragma once
// What the hub answers in front of its API router: the embedded web pages for every path outside
// /api/, and a cross-site request check on unsafe API requests.
//
// The session cookie is already SameSite=Strict; the Origin / Sec-Fetch-Site check is the second
// line (older browsers, sibling subdomains), and refuses a cross-site form or fetch before the
// router authenticates it. Clients that are not browsers (units, scripts) send neither header and
// are not affected.
#include <optional>
#include <string>

#include "hub/http/message.hpp"

namespace classcam::hub::http {
class Router;
}

namespace classcam::hub::web {

// The Content-Security-Policy of the pages: everything from the hub itself, no inline script or
// style, no framing.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// A 403 problem when `req` is an unsafe (not GET/HEAD/OPTIONS) request that a browser says comes
// from another site; nullopt when it may proceed.
std::optional<http::Response> cross_site_refusal(const http::Request& req);

// The page or asset for a path outside /api/ (GET and HEAD): "/" is index.html. ETag and
// If-None-Match (304); 404 for an unknown path, 405 for other methods.
http::Response serve_asset(const http::Request& req);

// Admits a request from its header (the server's http::Admit): pages outside /api/, the router for
// the API (after the cross-site check).
http::Admission admit(const http::Router& router, http::Request& req);
// The same for a request whose body is already in memory (tests).
void dispatch(const http::Router& router, http::Request& req, const http::Reply& reply);

}  // namespace classcam::hub::web
