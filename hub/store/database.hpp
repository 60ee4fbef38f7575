#pragma once
// The narrow database interface the hub's store is written against. A backend (SQLite today,
// PostgreSQL for multi-school trusts later) implements Database and Transaction; everything above it
// uses only '?' placeholders and the SQL subset both engines accept (INSERT ... RETURNING,
// ON CONFLICT ... DO, integer milliseconds for times, 0/1 for booleans, TEXT ids).
//
// Threading: a Database may be called from any thread. transact() serialises write transactions; a
// Transaction is only ever used by the thread running the function given to transact() or read().
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace classcam::hub::store {

// A failure of the database itself (I/O error, corrupt file, SQL bug): not an expected outcome.
// Handlers turn it into a 500 and log it; start-up lets it end the process.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Null {
  bool operator==(const Null&) const = default;
};
using Value = std::variant<Null, std::int64_t, double, std::string>;

inline Value opt_value(const std::optional<std::string>& v) { return v ? Value(*v) : Value(Null{}); }
inline Value opt_value(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(Null{}); }

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  double real(std::size_t i) const;
  const std::string& text(std::size_t i) const;
  bool boolean(std::size_t i) const { return integer(i) != 0; }
  std::optional<std::int64_t> opt_integer(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;

 private:
  const Value& at(std::size_t i) const;
  std::vector<Value> values_;
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual std::vector<Row> query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Several statements without parameters (migrations).
  virtual void execute_script(std::string_view sql) = 0;

  std::optional<Row> query_one(std::string_view sql, const std::vector<Value>& params = {});
  // The single integer a query such as SELECT COUNT(*) returns.
  std::int64_t query_integer(std::string_view sql, const std::vector<Value>& params = {});
};

class Database {
 public:
  virtual ~Database() = default;
  // Runs `fn` as one transaction: committed when it returns, rolled back when it throws (the
  // exception then propagates). Transactions never nest.
  virtual void transact(const std::function<void(Transaction&)>& fn) = 0;
  // Runs `fn` as a read-only transaction on the last committed state. Backends may run reads in
  // parallel with each other and with a write (SQLite in WAL mode does), so a slow commit never holds
  // up the io threads' lookups. `fn` must not write.
  virtual void read(const std::function<void(Transaction&)>& fn) { transact(fn); }
  // "sqlite", "postgresql": which dialect of the migrations applies.
  virtual std::string_view backend() const = 0;
};

}  // namespace classcam::hub::store
