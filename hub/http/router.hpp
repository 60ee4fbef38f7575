#pragma once
// Method + path pattern -> handler, with the access rule declared on each route. The router
// authenticates the caller (only for non-public routes), refuses callers the route does not admit
// (401 without credentials, 403 with the wrong role) and runs the handler; ownership checks are the
// handler's, through hub/access/policy.hpp.
//
// Patterns are literal segments and {name} parameters: "/api/v1/recordings/{id}/comments". A
// trailing slash is ignored, so tus clients may POST to "/api/v1/uploads/".
#include <functional>
#include <string>
#include <vector>

#include "hub/access/principal.hpp"
#include "hub/http/message.hpp"

namespace classcam::hub::http {

struct Route {
  std::string method;
  std::string pattern;
  access::Access access;
  Handler handler;
  std::string summary;
  std::vector<std::string> segments;
};

class Router {
 public:
  using Authenticate = std::function<access::Principal(const Request&)>;
  using SyncHandler = std::function<Response(Request&)>;

  explicit Router(Authenticate authenticate);

  void add(const std::string& method, const std::string& pattern, access::Access access, SyncHandler handler,
           const std::string& summary = "");
  void add_async(const std::string& method, const std::string& pattern, access::Access access, Handler handler,
                 const std::string& summary = "");
  const std::vector<Route>& routes() const { return routes_; }

  // Never throws; `reply` is called exactly once.
  void dispatch(Request& req, const Reply& reply) const;

 private:
  Authenticate authenticate_;
  std::vector<Route> routes_;
};

}  // namespace classcam::hub::http
