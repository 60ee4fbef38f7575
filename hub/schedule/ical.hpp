#pragma once
// iCalendar (RFC 5545) feeds of observations, in the shape Opencast capture agents and calendar apps
// read: VEVENTs with UID, DTSTAMP, DTSTART/DTEND in UTC, SUMMARY; CRLF line ends; lines folded at
// 75 octets (never inside a UTF-8 character); TEXT values escaped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/time.hpp"

namespace classcam::hub::schedule {

struct CalendarEvent {
  std::string uid;
  util::TimePoint start{};
  util::TimePoint end{};
  std::string summary;
  std::string location;
  std::string description;
  std::optional<util::TimePoint> last_modified;
};

// "20261123T090000Z"
std::string ical_time(util::TimePoint t);
// Backslash, semicolon, comma and newlines escaped as TEXT requires.
std::string ical_escape(std::string_view text);
// One content line, folded, with its CRLF.
std::string ical_line(std::string_view line);
// A whole VCALENDAR with METHOD:PUBLISH.
std::string ical_calendar(const std::string& name, const std::vector<CalendarEvent>& events, util::TimePoint stamp);

}  // namespace classcam::hub::schedule
