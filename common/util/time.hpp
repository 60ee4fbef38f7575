#pragma once
// Wall-clock time in UTC. On the wire every time is RFC 3339 in UTC ("2026-11-23T09:00:00.000Z");
// parsing accepts any offset and converts it to UTC.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace classcam::util {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::milliseconds>;

// Now, truncated to milliseconds (the wire precision).
TimePoint now_utc();

// "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string to_rfc3339(TimePoint t);
// "YYYY-MM-DDTHH:MM:SSZ" (iCal and HTTP-date style contexts that want whole seconds).
std::string to_rfc3339_seconds(TimePoint t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; 't'/'z' and a space separator are
// accepted too. Fractions beyond milliseconds are truncated. nullopt when malformed or out of range.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// Milliseconds since the Unix epoch, and back.
inline std::int64_t to_unix_ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_unix_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace classcam::util
