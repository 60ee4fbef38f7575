#pragma once
// The upload window: "HH:MM-HH:MM" in the unit's local time (the school's; set the unit's time zone),
// possibly wrapping midnight ("16:00-07:00"). Empty = always open.
#include <chrono>
#include <optional>
#include <string_view>

#include "common/util/result.hpp"

namespace classcam::uploader {

struct Window {
  int start_min = 0;  // minutes after local midnight
  int end_min = 0;
  bool always = true;
  // Is `minute_of_day` (0..1439) inside? Start inclusive, end exclusive; start == end means all day.
  bool contains(int minute_of_day) const;
  // Minutes from `minute_of_day` until the window opens (0 when open).
  int minutes_until_open(int minute_of_day) const;
};

Result<Window> parse_window(std::string_view text);
// Local minute of the day of `t` (localtime_r, so the TZ of the unit).
int local_minute_of_day(std::chrono::system_clock::time_point t);

}  // namespace classcam::uploader
