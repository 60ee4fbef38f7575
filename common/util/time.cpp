#include "common/util/time.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

namespace classcam::util {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, no time zone database needed.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

std::string format(TimePoint t, bool millis) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t days = ms / 86'400'000;
  std::int64_t rem = ms % 86'400'000;
  if (rem < 0) {
    rem += 86'400'000;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto hh = rem / 3'600'000;
  const auto mm = rem / 60'000 % 60;
  const auto ss = rem / 1000 % 60;
  if (millis) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.y, c.m, c.d, hh, mm, ss, rem % 1000);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.m, c.d, hh, mm, ss);
}

}  // namespace

TimePoint now_utc() { return std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()); }

std::string to_rfc3339(TimePoint t) { return format(t, true); }
std::string to_rfc3339_seconds(TimePoint t) { return format(t, false); }

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&](std::size_t n, int& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += n;
    return true;
  };
  auto expect = [&](auto pred) {
    if (i >= s.size() || !pred(s[i])) return false;
    ++i;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!digits(4, y) || !expect([](char c) { return c == '-'; }) || !digits(2, mo) ||
      !expect([](char c) { return c == '-'; }) || !digits(2, d) ||
      !expect([](char c) { return c == 'T' || c == 't' || c == ' '; }) || !digits(2, h) ||
      !expect([](char c) { return c == ':'; }) || !digits(2, mi) || !expect([](char c) { return c == ':'; }) ||
      !digits(2, se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)) || h > 23 ||
      mi > 59 || se > 60) {
    return std::nullopt;
  }
  int millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    int scale = 100;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  if (i >= s.size()) return std::nullopt;
  int offset_min = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!digits(2, oh) || !expect([](char c) { return c == ':'; }) || !digits(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  if (se == 60) se = 59;  // a leap second maps onto the second before it: POSIX time has no leap seconds.
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - static_cast<std::int64_t>(offset_min) * 60;
  return TimePoint(std::chrono::milliseconds(secs * 1000 + millis));
}

}  // namespace classcam::util
