// The iCal feed (RFC 5545) of observations whose titles, rooms and descriptions are anyone's text, read
// back by a strict checker: CRLF line ends and no other CR or LF, lines of at most 75 octets, folds that
// continue with one space and never split a UTF-8 character, no control characters, a VCALENDAR with one
// VEVENT per observation, and TEXT values that unescape to what was written (control characters aside).
// No iCal parser is packaged for this build, so the checker is the oracle.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/schedule/ical.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using namespace classcam::hub::schedule;
using classcam::fuzz::check;

namespace {

bool is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

// What a TEXT value should read back as: the text without control characters, CRLF read as one newline.
std::string expected_text(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      out += '\n';
    } else if (c == '\n' || !is_ctl(c)) {
      out += s[i];
    }
  }
  return out;
}

std::string unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      check(v[i] != ';' && v[i] != ',', "an unescaped ';' or ',' in a TEXT value");
      out += v[i];
      continue;
    }
    check(i + 1 < v.size(), "a TEXT value ending in a lone backslash");
    const char e = v[++i];
    if (e == 'n' || e == 'N') {
      out += '\n';
    } else {
      check(e == '\\' || e == ';' || e == ',', "an escape RFC 5545 does not define");
      out += e;
    }
  }
  return out;
}

// Unfolds the calendar into content lines, checking the physical lines on the way.
std::vector<std::string> content_lines(std::string_view cal, bool utf8_input) {
  std::vector<std::string> lines;
  while (!cal.empty()) {
    const auto crlf = cal.find("\r\n");
    check(crlf != std::string_view::npos, "the calendar does not end with CRLF");
    const std::string_view phys = cal.substr(0, crlf);
    cal.remove_prefix(crlf + 2);
    check(phys.size() <= 75, "a line longer than 75 octets");
    check(phys.find_first_of("\r\n") == std::string_view::npos, "a bare CR or LF inside a line");
    for (const char c : phys) check(!is_ctl(static_cast<unsigned char>(c)), "a control character in the feed");
    if (!phys.empty() && phys.front() == ' ') {
      check(!lines.empty(), "the calendar starts with a continuation line");
      if (utf8_input) {
        check(phys.size() < 2 || (static_cast<unsigned char>(phys[1]) & 0xC0) != 0x80,
              "a fold inside a UTF-8 character");
      }
      lines.back() += phys.substr(1);
    } else {
      check(!phys.empty(), "an empty line");
      lines.emplace_back(phys);
    }
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string name = in.ConsumeRandomLengthString(200);
  std::vector<CalendarEvent> events(in.ConsumeIntegralInRange<std::size_t>(0, 3));
  std::int64_t ms = 1'790'000'000'000;
  for (auto& e : events) {
    e.uid = "obs-" + std::to_string(ms) + "@classcam";
    e.start = util::from_unix_ms(ms);
    e.end = util::from_unix_ms(ms += 3'600'000);
    e.summary = in.ConsumeRandomLengthString(300);
    e.location = in.ConsumeRandomLengthString(100);
    e.description = in.ConsumeRandomLengthString(300);
    if (in.ConsumeBool()) e.last_modified = util::from_unix_ms(ms);
  }
  bool utf8 = fuzz::valid_utf8(name);
  for (const auto& e : events) {
    utf8 = utf8 && fuzz::valid_utf8(e.summary) && fuzz::valid_utf8(e.location) && fuzz::valid_utf8(e.description);
  }

  const std::string cal = ical_calendar(name, events, util::from_unix_ms(1'790'000'000'000));
  const auto lines = content_lines(cal, utf8);
  check(lines.size() >= 2 && lines.front() == "BEGIN:VCALENDAR" && lines.back() == "END:VCALENDAR",
        "not one VCALENDAR");

  std::size_t event = 0;
  bool in_event = false;
  for (const auto& line : lines) {
    const auto colon = line.find(':');
    check(colon != std::string::npos && colon > 0, "a content line without a name");
    const std::string key = line.substr(0, colon);
    const std::string value = line.substr(colon + 1);
    if (key == "BEGIN" && value == "VEVENT") {
      check(!in_event && event < events.size(), "a VEVENT too many, or inside another");
      in_event = true;
    } else if (key == "END" && value == "VEVENT") {
      check(in_event, "END:VEVENT outside a VEVENT");
      in_event = false;
      ++event;
    } else if (key == "X-WR-CALNAME") {
      check(unescape(value) == expected_text(name), "the calendar name does not read back");
    } else if (in_event && (key == "SUMMARY" || key == "LOCATION" || key == "DESCRIPTION")) {
      const auto& e = events[event];
      const std::string& sent = key == "SUMMARY" ? e.summary : key == "LOCATION" ? e.location : e.description;
      check(unescape(value) == expected_text(sent), "a TEXT value does not read back");
    }
  }
  check(!in_event && event == events.size(), "not one VEVENT per observation");
  return 0;
}
