#include "common/protocol/json_reader.hpp"

#include <cmath>

namespace classcam::protocol {

std::string dump(const Json& j, int indent) { return j.dump(indent, ' ', false, Json::error_handler_t::replace); }

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!(alnum || (c == '-' && i > 0))) return false;
  }
  return true;
}

Reader::Reader(const Json& object, std::string path) : obj_(object), path_(std::move(path)) {
  if (!obj_.is_object()) {
    throw DecodeError((path_.empty() ? std::string("message") : path_) + ": expected a JSON object, got " +
                      type_name(obj_));
  }
}

std::string Reader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string Reader::type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

void Reader::fail(std::string_view key, const std::string& problem) const {
  throw DecodeError(path_of(key) + ": " + problem);
}

bool Reader::has(std::string_view key) const {
  const auto it = obj_.find(key);
  return it != obj_.end() && !it->is_null();
}

const Json& Reader::require(std::string_view key) const {
  const auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) fail(key, "missing");
  return *it;
}

std::string Reader::string(std::string_view key, std::size_t max_len, bool allow_empty) const {
  const Json& j = require(key);
  if (!j.is_string()) fail(key, "expected a string, got " + type_name(j));
  const auto& s = j.get_ref<const std::string&>();
  if (!allow_empty && s.empty()) fail(key, "must not be empty");
  if (s.size() > max_len)
    fail(key, "too long (" + std::to_string(s.size()) + " bytes, at most " + std::to_string(max_len) + ")");
  return s;
}

std::optional<std::string> Reader::opt_string(std::string_view key, std::size_t max_len) const {
  if (!has(key)) return std::nullopt;
  return string(key, max_len, true);
}

std::int64_t Reader::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const Json& j = require(key);
  std::int64_t v = 0;
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) fail(key, "out of range");
    v = static_cast<std::int64_t>(u);
  } else if (j.is_number_integer()) {
    v = j.get<std::int64_t>();
  } else {
    fail(key, "expected an integer, got " + type_name(j));
  }
  if (v < min || v > max) {
    fail(key,
         "out of range (" + std::to_string(v) + ", expected " + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return v;
}

std::optional<std::int64_t> Reader::opt_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  if (!has(key)) return std::nullopt;
  return integer(key, min, max);
}

double Reader::number(std::string_view key, double min, double max) const {
  const Json& j = require(key);
  if (!j.is_number()) fail(key, "expected a number, got " + type_name(j));
  const double v = j.get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    fail(key, "out of range (" + dump(j) + ", expected " + dump(Json(min)) + ".." + dump(Json(max)) + ")");
  }
  return v;
}

std::optional<double> Reader::opt_number(std::string_view key, double min, double max) const {
  if (!has(key)) return std::nullopt;
  return number(key, min, max);
}

bool Reader::boolean(std::string_view key) const {
  const Json& j = require(key);
  if (!j.is_boolean()) fail(key, "expected true or false, got " + type_name(j));
  return j.get<bool>();
}

bool Reader::opt_boolean(std::string_view key, bool fallback) const { return has(key) ? boolean(key) : fallback; }

util::TimePoint Reader::time(std::string_view key) const {
  const std::string s = string(key, 64);
  const auto t = util::parse_rfc3339(s);
  if (!t) fail(key, "expected an RFC 3339 time such as 2026-11-23T09:00:00Z, got \"" + s + "\"");
  return *t;
}

std::optional<util::TimePoint> Reader::opt_time(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return time(key);
}

Reader Reader::object(std::string_view key) const {
  const Json& j = require(key);
  if (!j.is_object()) fail(key, "expected an object, got " + type_name(j));
  return Reader(j, path_of(key));
}

std::optional<Reader> Reader::opt_object(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return object(key);
}

std::string Reader::id(std::string_view key) const {
  std::string s = string(key, 64);
  if (!is_valid_id(s)) fail(key, "\"" + s + "\" is not a valid id (lower-case letters, digits and '-', at most 64)");
  return s;
}

std::optional<std::string> Reader::opt_id(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return id(key);
}

}  // namespace classcam::protocol
