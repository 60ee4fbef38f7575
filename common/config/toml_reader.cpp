#include "common/config/toml_reader.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace classcam::config {

namespace {
std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    default: return "nothing";
  }
}
}  // namespace

TomlReader::TomlReader(const toml::table* table, std::string file, std::string path)
    : table_(table), file_(std::move(file)), path_(std::move(path)) {}

std::string TomlReader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TomlReader::fail(std::string_view key, const std::string& problem) const {
  throw ConfigError(file_ + ": " + key_path(key) + ": " + problem);
}

const toml::node* TomlReader::get(std::string_view key) {
  used_.emplace(key);
  if (table_ == nullptr) return nullptr;
  return table_->get(key);
}

TomlReader TomlReader::section(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return TomlReader(nullptr, file_, key_path(key));
  if (!n->is_table()) fail(key, "expected a table ([" + key_path(key) + "]), got " + type_name(*n));
  return TomlReader(n->as_table(), file_, key_path(key));
}

std::vector<TomlReader> TomlReader::array_of_tables(std::string_view key) {
  std::vector<TomlReader> out;
  const toml::node* n = get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) fail(key, "expected an array of tables ([[" + key_path(key) + "]]), got " + type_name(*n));
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    const std::string p = key_path(key) + "[" + std::to_string(i) + "]";
    if (!e.is_table()) throw ConfigError(file_ + ": " + p + ": expected a table, got " + type_name(e));
    out.emplace_back(e.as_table(), file_, p);
  }
  return out;
}

std::string TomlReader::string(std::string_view key, std::string fallback) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  if (!n->is_string()) fail(key, "expected a string, got " + type_name(*n));
  return n->as_string()->get();
}

std::filesystem::path TomlReader::path(std::string_view key, const std::filesystem::path& fallback) {
  const std::string s = string(key, fallback.string());
  if (s.find('\0') != std::string::npos) fail(key, "contains a NUL byte");
  return s;
}

bool TomlReader::boolean(std::string_view key, bool fallback) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  if (!n->is_boolean()) fail(key, "expected true or false, got " + type_name(*n));
  return n->as_boolean()->get();
}

std::int64_t TomlReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  if (!n->is_integer()) {
    fail(key,
         "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " + type_name(*n));
  }
  const std::int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                  std::to_string(v));
  }
  return v;
}

double TomlReader::number(std::string_view key, double fallback, double min, double max) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  double v = 0;
  if (n->is_floating_point()) {
    v = n->as_floating_point()->get();
  } else if (n->is_integer()) {
    v = static_cast<double>(n->as_integer()->get());
  } else {
    fail(key, "expected a number, got " + type_name(*n));
  }
  if (!std::isfinite(v) || v < min || v > max) {
    std::ostringstream os;
    os << "expected a number from " << min << " to " << max << ", got " << v;
    fail(key, os.str());
  }
  return v;
}

std::string TomlReader::choice(std::string_view key, std::string fallback,
                               const std::vector<std::string_view>& allowed) {
  std::string v = string(key, std::move(fallback));
  for (const auto a : allowed) {
    if (a == v) return v;
  }
  std::string list;
  for (const auto a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  fail(key, "expected one of " + list + ", got \"" + v + "\"");
}

std::vector<std::string> TomlReader::strings(std::string_view key, std::vector<std::string> fallback) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  const toml::array* a = n->as_array();
  if (a == nullptr) fail(key, "expected an array of strings, got " + type_name(*n));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    if (!e.is_string()) fail(key, "item " + std::to_string(i) + ": expected a string, got " + type_name(e));
    out.push_back(e.as_string()->get());
  }
  return out;
}

std::vector<std::string> TomlReader::keys() {
  std::vector<std::string> out;
  if (table_ == nullptr) return out;
  for (const auto& [k, v] : *table_) {
    out.emplace_back(k.str());
    used_.emplace(k.str());
  }
  return out;
}

void TomlReader::finish() const {
  if (table_ == nullptr) return;
  for (const auto& [k, v] : *table_) {
    if (!used_.contains(k.str())) {
      throw ConfigError(file_ + ": " + key_path(k.str()) + ": unknown option (line " +
                        std::to_string(v.source().begin.line) + "); see the commented example config");
    }
  }
}

toml::table parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(file + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                      std::string(e.description()));
  }
}

toml::table parse_toml_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read config file: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_toml(ss.str(), file.string());
}

}  // namespace classcam::config
