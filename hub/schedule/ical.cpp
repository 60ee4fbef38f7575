#include "hub/schedule/ical.hpp"

namespace classcam::hub::schedule {

std::string ical_time(util::TimePoint t) {
  const std::string s = util::to_rfc3339_seconds(t);  // 2026-11-23T09:00:00Z
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2) + "T" + s.substr(11, 2) + s.substr(14, 2) + s.substr(17, 2) +
         "Z";
}

std::string ical_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\n': out += "\\n"; break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      default:
        // Other control characters (DEL included) are not allowed in TEXT.
        if ((static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) || c == '\t') out += c;
    }
  }
  return out;
}

std::string ical_line(std::string_view line) {
  // RFC 5545 section 3.1: lines SHOULD NOT be longer than 75 octets; continuation lines start with a
  // space (which counts towards their 75). Never split a UTF-8 sequence.
  std::string out;
  std::size_t limit = 75;
  while (line.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = limit;  // no character starts here (not UTF-8): cut at the limit, but go on
    out.append(line.substr(0, cut));
    out += "\r\n ";
    line.remove_prefix(cut);
    limit = 74;
  }
  out.append(line);
  out += "\r\n";
  return out;
}

std::string ical_calendar(const std::string& name, const std::vector<CalendarEvent>& events, util::TimePoint stamp) {
  std::string out;
  out += ical_line("BEGIN:VCALENDAR");
  out += ical_line("VERSION:2.0");
  out += ical_line("PRODID:-//classcam//classcam-hub//EN");
  out += ical_line("CALSCALE:GREGORIAN");
  out += ical_line("METHOD:PUBLISH");
  out += ical_line("X-WR-CALNAME:" + ical_escape(name));
  for (const auto& e : events) {
    out += ical_line("BEGIN:VEVENT");
    out += ical_line("UID:" + e.uid);
    out += ical_line("DTSTAMP:" + ical_time(stamp));
    out += ical_line("DTSTART:" + ical_time(e.start));
    out += ical_line("DTEND:" + ical_time(e.end));
    out += ical_line("SUMMARY:" + ical_escape(e.summary));
    if (!e.location.empty()) out += ical_line("LOCATION:" + ical_escape(e.location));
    if (!e.description.empty()) out += ical_line("DESCRIPTION:" + ical_escape(e.description));
    if (e.last_modified) out += ical_line("LAST-MODIFIED:" + ical_time(*e.last_modified));
    out += ical_line("STATUS:CONFIRMED");
    out += ical_line("END:VEVENT");
  }
  out += ical_line("END:VCALENDAR");
  return out;
}

}  // namespace classcam::hub::schedule
