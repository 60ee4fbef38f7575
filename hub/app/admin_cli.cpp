#include "hub/app/admin_cli.hpp"

#include <filesystem>
#include <map>

#include "common/protocol/json_reader.hpp"
#include "common/util/utf8.hpp"
#include "common/util/uuid.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/auth/password.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/fleet/routes.hpp"
#include "hub/store/store.hpp"
#include "hub/tls/certificates.hpp"

namespace classcam::hub {

namespace {

struct Args {
  std::map<std::string, std::string> options;
  std::string error;
};

// "--login x --role y" -> {login: x, role: y}
Args parse(const std::vector<std::string>& args, std::size_t from) {
  Args a;
  for (std::size_t i = from; i < args.size(); i += 2) {
    if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) {
      a.error = "expected --option value, got \"" + args[i] + "\"";
      return a;
    }
    // A terminal in another encoding (Latin-1) would store names that every JSON answer must repair.
    if (!util::is_valid_utf8(args[i + 1])) {
      a.error = args[i] + ": not valid UTF-8 (set the terminal to UTF-8)";
      return a;
    }
    a.options[args[i].substr(2)] = args[i + 1];
  }
  return a;
}

class Refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
T take(store::Outcome<T> o) {
  if (const auto* r = store::refusal(o)) throw Refused(r->field.empty() ? r->message : r->field + ": " + r->message);
  return std::get<T>(std::move(o));
}

std::string need(const Args& a, const std::string& key) {
  const auto it = a.options.find(key);
  if (it == a.options.end() || it->second.empty()) throw Refused("--" + key + " is required");
  return it->second;
}

std::optional<std::string> opt(const Args& a, const std::string& key) {
  const auto it = a.options.find(key);
  if (it == a.options.end()) return std::nullopt;
  return it->second;
}

store::User user_by_login(store::Store& s, const std::string& login) {
  const auto u = s.user_by_login(login);
  if (!u) throw Refused("no user with login \"" + login + "\"");
  return *u;
}

}  // namespace

bool is_admin_command(const std::string& word) {
  return word == "user" || word == "token" || word == "room" || word == "unit";
}

void print_admin_usage(std::ostream& out) {
  out << "admin commands (work on the database directly):\n"
         "  user add --login L --role admin|technician|teacher|coach [--name \"Display Name\"]\n"
         "  user passwd --login L\n"
         "  user list\n"
         "  token create --login L [--name N]\n"
         "  room add --name N [--default-teacher LOGIN]\n"
         "  unit add --name N [--room ROOM_NAME_OR_ID] [--id ID]\n"
         "  unit token --id ID\n"
         "  unit pair --id ID                    prints a one-time pairing code (classcamctl enroll --code)\n";
}

int run_admin_command(const config::HubConfig& cfg, const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  if (args.size() < 2) {
    print_admin_usage(err);
    return 2;
  }
  const std::string what = args[0] + " " + args[1];
  const Args a = parse(args, 2);
  if (!a.error.empty()) {
    err << "classcam-hub " << what << ": " << a.error << "\n";
    return 2;
  }
  try {
    std::error_code ec;
    std::filesystem::create_directories(cfg.hub.state_dir, ec);
    auto store = store::Store::open_sqlite(cfg.sqlite_path());
    audit::Auditor auditor(*store);
    const std::string actor = "classcam-hub " + args[0] + " " + args[1] + " (command line)";
    if (what == "user add") {
      const std::string login = need(a, "login");
      const std::string role_name = need(a, "role");
      const auto role = store::role_from_string(role_name);
      if (!role) throw Refused("--role must be admin, technician, teacher or coach");
      if (!protocol::is_valid_id(login) &&
          login.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos) {
        throw Refused("--login: use lower-case letters, digits, '.', '_' and '-'");
      }
      const std::string password = auth::generate_password();
      const auto u =
          take(store->create_user(login, opt(a, "name").value_or(login), *role, auth::hash_password(password)));
      auditor.record_system(actor, "user.create", "user", u.id, login + " as " + role_name);
      out << "created " << role_name << " \"" << login << "\" (id " << u.id << ")\npassword: " << password << "\n";
    } else if (what == "user passwd") {
      const auto u = user_by_login(*store, need(a, "login"));
      const std::string password = auth::generate_password();
      store->set_password_hash(u.id, auth::hash_password(password));
      auditor.record_system(actor, "user.reset_password", "user", u.id, u.login);
      out << "new password for \"" << u.login << "\": " << password << "\n";
    } else if (what == "user list") {
      for (const auto& u : store->users()) {
        out << u.login << "\t" << store::to_string(u.role) << "\t" << (u.disabled ? "disabled" : "active") << "\t"
            << u.display_name << "\t" << u.id << "\n";
      }
    } else if (what == "token create") {
      const auto u = user_by_login(*store, need(a, "login"));
      const auto secret = auth::new_secret(auth::kUserTokenPrefix);
      const auto t = store->create_api_token(u.id, opt(a, "name").value_or("command line"), secret.hash);
      auditor.record_system(actor, "token.create", "token", t.id, "for " + u.login);
      out << secret.value << "\n";
    } else if (what == "room add") {
      std::optional<std::string> teacher;
      if (const auto t = opt(a, "default-teacher")) teacher = user_by_login(*store, *t).id;
      const auto room = take(store->create_room(need(a, "name"), teacher));
      auditor.record_system(actor, "room.create", "room", room.id, room.name);
      out << room.id << "\n";
    } else if (what == "unit add") {
      std::optional<std::string> room_id;
      if (const auto r = opt(a, "room")) {
        for (const auto& room : store->rooms()) {
          if (room.name == *r || room.id == *r) room_id = room.id;
        }
        if (!room_id) throw Refused("no room named \"" + *r + "\"");
      }
      const std::string id = opt(a, "id").value_or("unit-" + util::random_hex(4));
      if (!protocol::is_valid_id(id)) throw Refused("--id: 1-64 of [a-z0-9-], not starting with '-'");
      const auto secret = auth::new_secret(auth::kUnitTokenPrefix);
      const auto unit = take(store->create_unit(id, need(a, "name"), room_id, secret.hash));
      auditor.record_system(actor, "unit.create", "unit", unit.id, unit.name);
      out << "unit: " << unit.id << "\ntoken: " << secret.value << "\n";
    } else if (what == "unit token") {
      const std::string id = need(a, "id");
      const auto secret = auth::new_secret(auth::kUnitTokenPrefix);
      if (!store->set_unit_token(id, secret.hash)) throw Refused("no unit \"" + id + "\"");
      auditor.record_system(actor, "unit.new_token", "unit", id);
      out << secret.value << "\n";
    } else if (what == "unit pair") {
      const std::string id = need(a, "id");
      // The code pins the hub's CA: create it now if the hub has never started.
      const auto tls_dir = cfg.hub.state_dir / "tls";
      tls::ensure_local_material(tls_dir, tls::default_names(cfg.hub.public_url));
      const auto code = take(fleet::make_pairing_code(*store, tls_dir / "ca.pem", id,
                                                      std::chrono::minutes(cfg.auth.pairing_code_minutes), actor));
      auditor.record_system(actor, "unit.pairing_code", "unit", id, "expires " + util::to_rfc3339(code.expires_at));
      out << "pairing code: " << code.code << "\nexpires: " << util::to_rfc3339(code.expires_at) << "\n";
    } else {
      err << "classcam-hub: unknown command \"" << what << "\"\n";
      print_admin_usage(err);
      return 2;
    }
    return 0;
  } catch (const Refused& e) {
    err << "classcam-hub " << what << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace classcam::hub
