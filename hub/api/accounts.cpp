// Sign-in, the caller's own account, users (admin) and API tokens.
#include <regex>

#include "hub/api/routes.hpp"
#include "hub/auth/cookies.hpp"
#include "hub/auth/password.hpp"
#include "hub/auth/tokens.hpp"

namespace classcam::hub::api {

namespace {

using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using protocol::Json;

std::string read_login(const protocol::Reader& r) {
  std::string login = r.string("login", 64);
  static const std::regex pattern("[a-z0-9][a-z0-9._-]*");
  if (!std::regex_match(login, pattern)) {
    r.fail("login", "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit");
  }
  return login;
}

store::Role read_role(const protocol::Reader& r) {
  const std::string s = r.string("role", 32);
  const auto role = store::role_from_string(s);
  if (!role) r.fail("role", "unknown value \"" + s + "\" (expected one of: admin, technician, teacher, coach)");
  return *role;
}

Json token_json(const store::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", time_text(t.created_at)},
          {"last_used_at", t.last_used_at ? Json(time_text(*t.last_used_at)) : Json(nullptr)}};
}

store::User load_user(store::Store& store, const std::string& id) {
  const auto u = store.user(id);
  if (!u) throw HttpError(404, "no user " + id);
  return *u;
}

}  // namespace

Json user_json(const store::User& u) {
  return {{"id", u.id},
          {"login", u.login},
          {"display_name", u.display_name},
          {"role", std::string(store::to_string(u.role))},
          {"disabled", u.disabled},
          {"created_at", time_text(u.created_at)}};
}

void add_account_routes(http::Router& router, ApiContext& ctx) {
  router.add_async(
      "POST", "/api/v1/auth/login", Access::anyone(),
      [&ctx](Request& req, const http::Reply& reply) {
        on_worker(ctx.workers, req, reply, [&ctx](Request& r) {
          const auto body = http::json_body(r);
          const protocol::Reader rd(body, "");
          const std::string login = rd.string("login", 64);
          const std::string password = rd.string("password", 1024);
          const auto result = ctx.authenticator.login(login, password, r.remote_address);
          if (const auto* refused = std::get_if<auth::Authenticator::LoginRefused>(&result)) {
            const auto wait = std::to_string(refused->retry_after.count());
            if (refused->rate_limited) {
              // The password was not even checked: the right one works once the wait is over.
              auto res = http::problem(429, "too many failed sign-ins; try again in " + wait + " s");
              res.headers.set("Retry-After", wait);
              return res;
            }
            if (refused->retry_after.count() > 0) {
              auto res =
                  http::problem(401, "the login or the password is wrong; the next try must wait " + wait + " s");
              res.headers.set("Retry-After", wait);
              return res;
            }
            return http::problem(401, "the login or the password is wrong");
          }
          const auto& ok = std::get<auth::Authenticator::LoginOk>(result);
          auto who = auth::principal_for(ok.user);
          who.address = r.remote_address;
          ctx.auditor.record(who, "user.login", "user", ok.user.id);
          auto res = http::json(200, user_json(ok.user));
          res.headers.set("Set-Cookie", auth::session_cookie(ok.session_value, ok.max_age));
          return res;
        });
      },
      "sign in: sets the session cookie (HttpOnly, Secure, SameSite=Strict)");

  router.add(
      "POST", "/api/v1/auth/logout", Access::any_user(),
      [&ctx](Request& req) {
        ctx.authenticator.logout(req.principal);
        auto res = http::no_content();
        res.headers.set("Set-Cookie", auth::expired_session_cookie());
        return res;
      },
      "sign out (ends this session)");

  router.add(
      "GET", "/api/v1/me", Access::any_user(),
      [&ctx](Request& req) { return http::json(200, user_json(load_user(ctx.store, req.principal.id))); },
      "the signed-in person");

  router.add_async(
      "POST", "/api/v1/me/password", Access::any_user(),
      [&ctx](Request& req, const http::Reply& reply) {
        on_worker(ctx.workers, req, reply, [&ctx](Request& r) {
          const auto body = http::json_body(r);
          const protocol::Reader rd(body, "");
          const std::string current = rd.string("current_password", 1024);
          const std::string next = rd.string("new_password", 1024);
          const auto hash = ctx.store.password_hash(r.principal.id);
          if (!hash || !auth::verify_password(*hash, current)) {
            throw HttpError(403, "is wrong", "current_password");
          }
          if (const auto problem = auth::password_problem(next)) rd.fail("new_password", *problem);
          // The session the change is made in stays signed in; an API token making it is revoked too.
          const auto keep = r.principal.via == access::Principal::Via::session
                                ? std::optional<std::string>(r.principal.credential_hash)
                                : std::nullopt;
          ctx.store.set_password_hash(r.principal.id, auth::hash_password(next), keep);
          ctx.auditor.record(r.principal, "user.change_password", "user", r.principal.id,
                             "every other session of the account was ended and its API tokens revoked");
          return http::no_content();
        });
      },
      "change one's own password (ends the account's other sessions, revokes its API tokens)");

  router.add(
      "GET", "/api/v1/directory", Access::any_user(),
      [&ctx](Request&) {
        Json out = Json::array();
        for (const auto& u : ctx.store.users()) {
          if (u.disabled) continue;
          out.push_back(
              {{"id", u.id}, {"display_name", u.display_name}, {"role", std::string(store::to_string(u.role))}});
        }
        return http::json(200, {{"people", out}});
      },
      "people one can invite or share with (names and roles only)");

  // ---- users (admin) ----
  router.add(
      "GET", "/api/v1/users", Access::only({Caller::admin}),
      [&ctx](Request&) {
        Json out = Json::array();
        for (const auto& u : ctx.store.users()) out.push_back(user_json(u));
        return http::json(200, {{"users", out}});
      },
      "every account");

  router.add_async(
      "POST", "/api/v1/users", Access::only({Caller::admin}),
      [&ctx](Request& req, const http::Reply& reply) {
        on_worker(ctx.workers, req, reply, [&ctx](Request& r) {
          const auto body = http::json_body(r);
          const protocol::Reader rd(body, "");
          const std::string login = read_login(rd);
          const std::string display = rd.string("display_name", 200);
          const store::Role role = read_role(rd);
          std::string password;
          bool generated = false;
          if (rd.has("password")) {
            password = rd.string("password", 1024);
            if (const auto problem = auth::password_problem(password)) rd.fail("password", *problem);
          } else {
            password = auth::generate_password();
            generated = true;
          }
          const auto user = take(ctx.store.create_user(login, display, role, auth::hash_password(password)));
          ctx.auditor.record(r.principal, "user.create", "user", user.id,
                             login + " as " + std::string(store::to_string(role)));
          Json out = {{"user", user_json(user)}};
          if (generated) out["password"] = password;  // shown once; only its hash is kept
          return http::json(201, out);
        });
      },
      "create an account; without a password one is generated and returned once");

  router.add(
      "GET", "/api/v1/users/{id}", Access::only({Caller::admin}),
      [&ctx](Request& req) { return http::json(200, user_json(load_user(ctx.store, req.param("id")))); },
      "one account");

  router.add(
      "PATCH", "/api/v1/users/{id}", Access::only({Caller::admin}),
      [&ctx](Request& req) {
        const auto target = load_user(ctx.store, req.param("id"));
        const auto body = http::json_body(req);
        const protocol::Reader rd(body, "");
        store::UserPatch p;
        std::string changes;
        if (rd.has("display_name")) {
          p.display_name = rd.string("display_name", 200);
          changes += "display name; ";
        }
        if (rd.has("role")) {
          p.role = read_role(rd);
          changes += "role " + std::string(store::to_string(*p.role)) + "; ";
        }
        if (rd.has("disabled")) {
          p.disabled = rd.boolean("disabled");
          changes += *p.disabled ? "disabled; " : "enabled; ";
        }
        if (target.id == req.principal.id &&
            ((p.role && *p.role != store::Role::admin) || p.disabled.value_or(false))) {
          throw HttpError(409, "admins cannot demote or disable themselves (ask another admin)",
                          p.role ? "role" : "disabled");
        }
        const auto updated = take(ctx.store.update_user(target.id, p));
        ctx.auditor.record(req.principal, "user.update", "user", target.id, target.login + ": " + changes);
        return http::json(200, user_json(updated));
      },
      "change an account's name, role, or disable it (ends its sessions and tokens)");

  router.add_async(
      "POST", "/api/v1/users/{id}/password", Access::only({Caller::admin}),
      [&ctx](Request& req, const http::Reply& reply) {
        on_worker(ctx.workers, req, reply, [&ctx](Request& r) {
          const auto target = load_user(ctx.store, r.param("id"));
          const std::string password = auth::generate_password();
          // An admin resetting their own password stays signed in where they did it, as with /me/password.
          const auto keep = target.id == r.principal.id && r.principal.via == access::Principal::Via::session
                                ? std::optional<std::string>(r.principal.credential_hash)
                                : std::nullopt;
          ctx.store.set_password_hash(target.id, auth::hash_password(password), keep);
          ctx.auditor.record(r.principal, "user.reset_password", "user", target.id,
                             target.login + ": sessions ended, API tokens revoked");
          return http::json(200, {{"password", password}});
        });
      },
      "reset an account's password to a generated one (returned once; ends its sessions, revokes its API tokens)");

  // ---- API tokens ----
  router.add(
      "GET", "/api/v1/tokens", Access::any_user(),
      [&ctx](Request& req) {
        Json out = Json::array();
        for (const auto& t : ctx.store.api_tokens(req.principal.id)) out.push_back(token_json(t));
        return http::json(200, {{"tokens", out}});
      },
      "the caller's API tokens (never their values)");

  router.add(
      "POST", "/api/v1/tokens", Access::any_user(),
      [&ctx](Request& req) {
        const auto body = http::json_body(req);
        const protocol::Reader rd(body, "");
        const std::string name = rd.string("name", 100);
        const auto secret = auth::new_secret(auth::kUserTokenPrefix);
        const auto t = ctx.store.create_api_token(req.principal.id, name, secret.hash);
        ctx.auditor.record(req.principal, "token.create", "token", t.id, name);
        Json out = token_json(t);
        out["token"] = secret.value;  // shown once
        return http::json(201, out);
      },
      "create an API token for scripts (Authorization: Bearer cu_...); shown once");

  router.add(
      "DELETE", "/api/v1/tokens/{id}", Access::any_user(),
      [&ctx](Request& req) {
        if (!ctx.store.delete_api_token(req.principal.id, req.param("id"))) {
          throw HttpError(404, "you have no token " + req.param("id"));
        }
        ctx.auditor.record(req.principal, "token.delete", "token", req.param("id"));
        return http::no_content();
      },
      "revoke one of the caller's API tokens");
}

}  // namespace classcam::hub::api
