#pragma once
// Validating reads of a TOML table. Errors name the file, the full key ("capture.width") and what was
// expected. Keys a reader does not ask for are refused by finish(), so a misspelt option is an error
// at start-up rather than a default silently used.
#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace classcam::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TomlReader {
 public:
  // `table` may be null (a section that is absent): every read then yields its default.
  TomlReader(const toml::table* table, std::string file, std::string path);

  TomlReader section(std::string_view key);
  std::vector<TomlReader> array_of_tables(std::string_view key);

  std::string string(std::string_view key, std::string fallback);
  std::filesystem::path path(std::string_view key, const std::filesystem::path& fallback);
  bool boolean(std::string_view key, bool fallback);
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max);
  double number(std::string_view key, double fallback, double min, double max);
  // One of `allowed`.
  std::string choice(std::string_view key, std::string fallback, const std::vector<std::string_view>& allowed);
  std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback);
  // All keys of this table (for free-form maps such as per-component log levels).
  std::vector<std::string> keys();

  // Throws if the table holds a key nobody read.
  void finish() const;

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  std::string key_path(std::string_view key) const;

 private:
  const toml::node* get(std::string_view key);
  const toml::table* table_;
  std::string file_;
  std::string path_;
  std::set<std::string, std::less<>> used_;
};

// Parses TOML text; syntax errors become ConfigError "<file>:<line>:<col>: <problem>".
toml::table parse_toml(std::string_view text, const std::string& file);
// Reads and parses a file; a missing or unreadable file is a ConfigError naming it.
toml::table parse_toml_file(const std::filesystem::path& file);

}  // namespace classcam::config
