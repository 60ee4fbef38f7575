// Failed sign-in and enrolment attempts per key, kept in the database so a restart (or a crash a
// request provoked) does not hand an attacker a fresh allowance. Part of Store (see store.hpp).
#include "hub/store/store.hpp"
#include "hub/store/store_rows.hpp"

namespace classcam::hub::store {

using namespace rows;

namespace {
std::optional<Throttle> load_throttle(Transaction& tx, const std::string& key) {
  const auto r =
      tx.query_one("SELECT key, failures, last_failure_at, blocked_until FROM auth_throttle WHERE key = ?", {key});
  if (!r) return std::nullopt;
  return Throttle{r->text(0), r->integer(1), time(r->integer(2)), time(r->integer(3))};
}
}  // namespace

std::optional<Throttle> Store::throttle(const std::string& key) {
  std::optional<Throttle> out;
  db_->read([&](Transaction& tx) { out = load_throttle(tx, key); });
  return out;
}

std::optional<Throttle> Store::update_throttle(
    const std::string& key, const std::function<std::optional<Throttle>(std::optional<Throttle>)>& change) {
  std::optional<Throttle> out;
  db_->transact([&](Transaction& tx) {
    out = change(load_throttle(tx, key));
    if (!out) {
      tx.execute("DELETE FROM auth_throttle WHERE key = ?", {key});
      return;
    }
    out->key = key;
    tx.execute(
        "INSERT INTO auth_throttle (key, failures, last_failure_at, blocked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
        "blocked_until = excluded.blocked_until",
        {key, out->failures, ms(out->last_failure_at), ms(out->blocked_until)});
  });
  return out;
}

std::int64_t Store::delete_throttles_before(util::TimePoint cutoff) {
  std::int64_t n = 0;
  db_->transact([&](Transaction& tx) {
    n = tx.execute("DELETE FROM auth_throttle WHERE last_failure_at < ? AND blocked_until < ?",
                   {ms(cutoff), ms(cutoff)});
  });
  return n;
}

}  // namespace classcam::hub::store
