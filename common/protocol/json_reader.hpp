#pragma once
// Validating reads of JSON objects. Every accessor names the field by its full path
// ("observations[2].start") when it rejects a value, so a bad message is reported as exactly what is
// wrong with it. Reader throws DecodeError; decode functions catch it once and return an Error.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/time.hpp"

namespace classcam::protocol {

using Json = nlohmann::json;

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Serialises JSON for the wire, a file or a reply. Strings may hold bytes from outside (a request, a
// file name from a corrupt card, a hub's reply), and nlohmann's own dump() throws on bytes that are
// not UTF-8; here each such byte becomes U+FFFD instead. Every JSON the project writes goes through
// this (a test checks that no other dump() call is left).
std::string dump(const Json& j, int indent = -1);

// A small table of enum <-> name. Each enum in the protocol has one (see messages.cpp).
template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

class Reader {
 public:
  // `path` is the prefix of this object's fields ("" for the message itself, "observations[0]" ...).
  Reader(const Json& object, std::string path);

  const Json& json() const { return obj_; }
  std::string path_of(std::string_view key) const;
  bool has(std::string_view key) const;  // present and not null

  std::string string(std::string_view key, std::size_t max_len = 1024, bool allow_empty = false) const;
  std::optional<std::string> opt_string(std::string_view key, std::size_t max_len = 1024) const;
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::optional<std::int64_t> opt_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  double number(std::string_view key, double min, double max) const;
  std::optional<double> opt_number(std::string_view key, double min, double max) const;
  bool boolean(std::string_view key) const;
  bool opt_boolean(std::string_view key, bool fallback) const;
  util::TimePoint time(std::string_view key) const;
  std::optional<util::TimePoint> opt_time(std::string_view key) const;
  Reader object(std::string_view key) const;
  std::optional<Reader> opt_object(std::string_view key) const;
  // A string matching [a-z0-9][a-z0-9-]* (unit ids and the like: safe inside an MQTT topic).
  std::string id(std::string_view key) const;
  std::optional<std::string> opt_id(std::string_view key) const;

  template <typename E, std::size_t N>
  E enumeration(std::string_view key, const EnumName<E> (&table)[N]) const {
    const std::string s = string(key, 64);
    for (const auto& e : table) {
      if (e.name == s) return e.value;
    }
    std::string allowed;
    for (const auto& e : table) allowed += (allowed.empty() ? "" : ", ") + std::string(e.name);
    fail(key, "unknown value \"" + s + "\" (expected one of: " + allowed + ")");
  }
  template <typename E, std::size_t N>
  std::optional<E> opt_enumeration(std::string_view key, const EnumName<E> (&table)[N]) const {
    if (!has(key)) return std::nullopt;
    return enumeration(key, table);
  }

  // Decodes each element of an array of objects with `fn`, refusing more than `max_items`.
  template <typename T>
  std::vector<T> array(std::string_view key, std::size_t max_items, const std::function<T(const Reader&)>& fn,
                       bool optional = false) const {
    std::vector<T> out;
    if (optional && !has(key)) return out;
    const Json& a = require(key);
    if (!a.is_array()) fail(key, "expected an array, got " + type_name(a));
    if (a.size() > max_items)
      fail(key, "too many items (" + std::to_string(a.size()) + ", at most " + std::to_string(max_items) + ")");
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string p = path_of(key) + "[" + std::to_string(i) + "]";
      if (!a[i].is_object()) throw DecodeError(p + ": expected an object, got " + type_name(a[i]));
      out.push_back(fn(Reader(a[i], p)));
    }
    return out;
  }

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  static std::string type_name(const Json& j);

 private:
  const Json& require(std::string_view key) const;
  const Json& obj_;
  std::string path_;
};

template <typename E, std::size_t N>
std::string_view enum_name(E value, const EnumName<E> (&table)[N]) {
  for (const auto& e : table) {
    if (e.value == value) return e.name;
  }
  return "unknown";
}

// True for [a-z0-9][a-z0-9-]{0,63}: an id that is safe as an MQTT topic level and a path segment.
bool is_valid_id(std::string_view id);

}  // namespace classcam::protocol
