#include "firmware/uploader/window.hpp"

#include <ctime>
#include <string>

namespace classcam::uploader {

namespace {
std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (const int i : {0, 1, 3, 4}) {
    if (s[static_cast<std::size_t>(i)] < '0' || s[static_cast<std::size_t>(i)] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}
}  // namespace

bool Window::contains(int minute) const {
  if (always || start_min == end_min) return true;
  if (start_min < end_min) return minute >= start_min && minute < end_min;
  return minute >= start_min || minute < end_min;
}

int Window::minutes_until_open(int minute) const {
  if (contains(minute)) return 0;
  return (start_min - minute + 1440) % 1440;
}

Result<Window> parse_window(std::string_view text) {
  if (text.empty()) return Window{};
  const auto dash = text.find('-');
  const auto a = parse_hhmm(text.substr(0, dash));
  const auto b = dash == std::string_view::npos ? std::nullopt : parse_hhmm(text.substr(dash + 1));
  if (!a || !b)
    return Error{"upload.window \"" + std::string(text) + "\": expected \"HH:MM-HH:MM\", e.g. \"16:00-07:00\""};
  return Window{*a, *b, false};
}

int local_minute_of_day(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return tm.tm_hour * 60 + tm.tm_min;
}

}  // namespace classcam::uploader
