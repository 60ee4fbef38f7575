#include "common/log/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

#include "common/util/utf8.hpp"

namespace classcam::log {

namespace {

// sd-daemon(3) priority prefix: journald maps "<3>" to err, "<6>" to info and so on.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const auto idx = static_cast<std::size_t>(msg.level);
    const char* p = idx < std::size(kPrefix) ? kPrefix[idx] : "<6>";
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriorityFlag>(); }
};

// The message with control characters and bytes that are not UTF-8 escaped: messages carry request
// paths, headers, file names and hub replies, and none of those may forge a log line or break the
// journal's text.
class EscapedPayloadFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string escaped = util::escape_for_log(payload);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedPayloadFlag>(); }
};

struct State {
  std::mutex mutex;
  Options options;
  spdlog::sink_ptr sink;
};

State& state() {
  static State s;
  return s;
}

std::unique_ptr<spdlog::formatter> make_formatter(bool journald) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedPayloadFlag>('V');
  if (journald) {
    f->add_flag<SyslogPriorityFlag>('*').set_pattern("%*[%n] %V");
  } else {
    f->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %V");
  }
  return f;
}

Level level_for(const Options& o, const std::string& component) {
  const auto it = o.components.find(component);
  return it == o.components.end() ? o.level : it->second;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {
      {"trace", Level::trace}, {"debug", Level::debug},       {"info", Level::info}, {"warn", Level::warn},
      {"error", Level::err},   {"critical", Level::critical}, {"off", Level::off}};
  for (const auto& [n, l] : kLevels) {
    if (n == name) return l;
  }
  return std::nullopt;
}

void init(const Options& options) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.options = options;
  const bool journald = options.journald.value_or(std::getenv("JOURNAL_STREAM") != nullptr);
  if (!s.sink) s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  s.sink->set_formatter(make_formatter(journald));
  s.sink->set_level(Level::trace);
  spdlog::apply_all([&](const Logger& l) { l->set_level(level_for(s.options, l->name())); });
}

Logger get(const std::string& component) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(component)) return existing;
  if (!s.sink) {
    s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s.sink->set_formatter(make_formatter(std::getenv("JOURNAL_STREAM") != nullptr));
  }
  auto logger = std::make_shared<spdlog::logger>(component, s.sink);
  logger->set_level(level_for(s.options, component));
  logger->flush_on(Level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace classcam::log
