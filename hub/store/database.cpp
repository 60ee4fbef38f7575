#include "hub/store/database.hpp"

namespace classcam::hub::store {

const Value& Row::at(std::size_t i) const {
  if (i >= values_.size()) throw StoreError("row has no column " + std::to_string(i));
  return values_[i];
}
bool Row::is_null(std::size_t i) const { return std::holds_alternative<Null>(at(i)); }
std::int64_t Row::integer(std::size_t i) const {
  const auto& v = at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  throw StoreError("column " + std::to_string(i) + " is not an integer");
}
double Row::real(std::size_t i) const {
  const auto& v = at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  throw StoreError("column " + std::to_string(i) + " is not a number");
}
const std::string& Row::text(std::size_t i) const {
  const auto& v = at(i);
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  throw StoreError("column " + std::to_string(i) + " is not text");
}
std::optional<std::int64_t> Row::opt_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}
std::optional<std::string> Row::opt_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::optional<Row> Transaction::query_one(std::string_view sql, const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::int64_t Transaction::query_integer(std::string_view sql, const std::vector<Value>& params) {
  const auto row = query_one(sql, params);
  if (!row || row->is_null(0)) return 0;
  return row->integer(0);
}

}  // namespace classcam::hub::store
