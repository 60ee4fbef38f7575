#pragma once
// Logging is set up once per process (log::init, from main) and used through a named logger per
// component (log::get("spool")). Loggers are spdlog's thread-safe kind, so GStreamer and libmosquitto
// threads may log too. Under systemd (JOURNAL_STREAM set) lines carry a "<N>" priority prefix and no
// timestamp, since journald adds its own; on a terminal they carry a timestamp and a coloured level.
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace classcam::log {

using Level = spdlog::level::level_enum;
using Logger = std::shared_ptr<spdlog::logger>;

// "trace", "debug", "info", "warn", "error", "critical", "off"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view name);

struct Options {
  Level level = Level::info;
  // Per-component overrides, e.g. {"capture": debug}.
  std::map<std::string, Level> components;
  // Force the journald format even when JOURNAL_STREAM is not set (and vice versa).
  std::optional<bool> journald;
  bool operator==(const Options&) const = default;
};

// (Re)configures every logger, existing and future. Safe to call more than once (tests do).
void init(const Options& options);

// The logger for one component; created on first use with the current options.
Logger get(const std::string& component);

}  // namespace classcam::log
