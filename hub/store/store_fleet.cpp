// Enrolment (pairing codes), broker credentials, what units report over MQTT, and unit commands.
#include "hub/store/store.hpp"
#include "hub/store/store_rows.hpp"

namespace classcam::hub::store {

using namespace rows;

namespace {
constexpr std::pair<CommandState, std::string_view> kCommandStates[] = {{CommandState::sent, "sent"},
                                                                        {CommandState::ok, "ok"},
                                                                        {CommandState::failed, "failed"},
                                                                        {CommandState::rejected, "rejected"},
                                                                        {CommandState::expired, "expired"}};

constexpr const char* kCommandCols =
    "id, unit_id, action, args_json, state, detail, issued_by, issued_at, expires_at, result_at, session_id";

UnitCommand command_row(const Row& r) {
  UnitCommand c;
  c.id = r.text(0);
  c.unit_id = r.text(1);
  c.action = r.text(2);
  c.args_json = r.text(3);
  c.state = command_state_from_string(r.text(4)).value_or(CommandState::failed);
  c.detail = r.text(5);
  c.issued_by = r.opt_text(6);
  c.issued_at = time(r.integer(7));
  c.expires_at = opt_ms(r.opt_integer(8));
  c.result_at = opt_ms(r.opt_integer(9));
  c.session_id = r.opt_text(10);
  return c;
}
}  // namespace

std::string_view to_string(CommandState s) {
  for (const auto& [v, name] : kCommandStates) {
    if (v == s) return name;
  }
  return "unknown";
}

std::optional<CommandState> command_state_from_string(std::string_view s) {
  for (const auto& [v, name] : kCommandStates) {
    if (name == s) return v;
  }
  return std::nullopt;
}

Outcome<Ok> Store::set_pairing_code(const std::string& unit_id, const std::string& secret_hash,
                                    const std::optional<std::string>& created_by, util::TimePoint expires_at) {
  Outcome<Ok> out = not_found("no unit " + unit_id);
  db_->transact([&](Transaction& tx) {
    if (!tx.query_one("SELECT id FROM units WHERE id = ?", {unit_id})) return;
    tx.execute("DELETE FROM pairing_codes WHERE unit_id = ?", {unit_id});
    tx.execute(
        "INSERT INTO pairing_codes (unit_id, secret_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        {unit_id, secret_hash, opt_value(created_by), ms(util::now_utc()), ms(expires_at)});
    out = Ok{};
  });
  return out;
}

Outcome<Unit> Store::enroll_with_code(const std::string& secret_hash, util::TimePoint now,
                                      const std::string& token_hash, const std::string& mqtt_password_hash) {
  Outcome<Unit> out = invalid("code", "pairing code not recognised; check it, or ask for a new one");
  std::string unit_id;
  db_->transact([&](Transaction& tx) {
    const auto row =
        tx.query_one("SELECT unit_id, expires_at, used_at FROM pairing_codes WHERE secret_hash = ?", {secret_hash});
    if (!row) return;
    if (!row->is_null(2)) {
      out = invalid("code", "pairing code already used; ask for a new one");
      return;
    }
    if (time(row->integer(1)) <= now) {
      out = invalid("code", "pairing code expired; ask for a new one");
      return;
    }
    unit_id = row->text(0);
    tx.execute("UPDATE pairing_codes SET used_at = ? WHERE unit_id = ?", {ms(now), unit_id});
    tx.execute(
        "UPDATE units SET token_hash = ?, mqtt_password_hash = ?, revoked = 0, enrolled_at = ?, online = 0 WHERE id = "
        "?",
        {token_hash, mqtt_password_hash, ms(now), unit_id});
  });
  if (unit_id.empty()) return out;
  return *unit(unit_id);
}

Outcome<Unit> Store::revoke_unit(const std::string& unit_id) {
  bool found = false;
  db_->transact([&](Transaction& tx) {
    found = tx.execute(
                "UPDATE units SET revoked = 1, token_hash = NULL, mqtt_password_hash = NULL, online = 0 "
                "WHERE id = ?",
                {unit_id}) > 0;
    tx.execute("DELETE FROM pairing_codes WHERE unit_id = ?", {unit_id});
  });
  if (!found) return not_found("no unit " + unit_id);
  return *unit(unit_id);
}

std::vector<BrokerCredential> Store::broker_credentials() {
  std::vector<BrokerCredential> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query("SELECT id, mqtt_password_hash FROM units WHERE revoked = 0 AND mqtt_password_hash "
                                  "IS NOT NULL ORDER BY id")) {
      out.push_back({r.text(0), r.text(1)});
    }
  });
  return out;
}

void Store::set_unit_fleet_state(const std::string& unit_id, util::TimePoint now, std::optional<bool> online,
                                 const std::optional<std::string>& state,
                                 const std::optional<std::string>& telemetry_json,
                                 const std::optional<std::string>& last_error) {
  db_->transact([&](Transaction& tx) {
    if (online) tx.execute("UPDATE units SET online = ? WHERE id = ?", {std::int64_t{*online ? 1 : 0}, unit_id});
    if (state) tx.execute("UPDATE units SET state = ? WHERE id = ?", {*state, unit_id});
    if (telemetry_json) tx.execute("UPDATE units SET telemetry_json = ? WHERE id = ?", {*telemetry_json, unit_id});
    if (last_error) tx.execute("UPDATE units SET last_error = ? WHERE id = ?", {*last_error, unit_id});
    // An offline will is the broker speaking, not the unit: it does not make the unit "seen".
    if (!online || *online) tx.execute("UPDATE units SET last_seen_at = ? WHERE id = ?", {ms(now), unit_id});
  });
}

void Store::create_command(const UnitCommand& c) {
  db_->transact([&](Transaction& tx) {
    tx.execute(
        std::string("INSERT INTO unit_commands (") + kCommandCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {c.id, c.unit_id, c.action, c.args_json, std::string(to_string(c.state)), c.detail, opt_value(c.issued_by),
         ms(c.issued_at), opt_time(c.expires_at), opt_time(c.result_at), opt_value(c.session_id)});
  });
}

std::optional<UnitCommand> Store::command(const std::string& unit_id, const std::string& id) {
  std::optional<UnitCommand> out;
  db_->read([&](Transaction& tx) {
    if (auto r =
            tx.query_one(std::string("SELECT ") + kCommandCols + " FROM unit_commands WHERE id = ? AND unit_id = ?",
                         {id, unit_id})) {
      out = command_row(*r);
    }
  });
  return out;
}

std::vector<UnitCommand> Store::commands(const std::string& unit_id, std::size_t limit) {
  std::vector<UnitCommand> out;
  db_->read([&](Transaction& tx) {
    for (const auto& r : tx.query(std::string("SELECT ") + kCommandCols +
                                      " FROM unit_commands WHERE unit_id = ? ORDER BY issued_at DESC, id LIMIT ?",
                                  {unit_id, static_cast<std::int64_t>(limit)})) {
      out.push_back(command_row(r));
    }
  });
  return out;
}

bool Store::set_command_result(const std::string& unit_id, const std::string& id, CommandState state,
                               const std::string& detail, util::TimePoint at,
                               const std::optional<std::string>& session_id) {
  bool changed = false;
  db_->transact([&](Transaction& tx) {
    changed = tx.execute(
                  "UPDATE unit_commands SET state = ?, detail = ?, result_at = ?, session_id = ? "
                  "WHERE id = ? AND unit_id = ? AND state = 'sent'",
                  {std::string(to_string(state)), detail, ms(at), opt_value(session_id), id, unit_id}) > 0;
  });
  return changed;
}

std::int64_t Store::delete_commands_before(util::TimePoint cutoff) {
  std::int64_t n = 0;
  db_->transact(
      [&](Transaction& tx) { n = tx.execute("DELETE FROM unit_commands WHERE issued_at < ?", {ms(cutoff)}); });
  return n;
}

}  // namespace classcam::hub::store
