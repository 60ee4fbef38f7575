#include "hub/schedule/ical.hpp"

#include <gtest/gtest.h>

#include "hub/schedule/builder.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace classcam::hub::schedule;

namespace {
util::TimePoint at(const char* s) { return *util::parse_rfc3339(s); }
}  // namespace

TEST(ICal, FormatsUtcTimesAndEscapesText) {
  EXPECT_EQ(ical_time(at("2026-11-23T09:05:07.250Z")), "20261123T090507Z");
  EXPECT_EQ(ical_escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
  EXPECT_EQ(ical_escape("x\r\ny\x01"), "x\\ny");
}

// Found by tests/fuzz (fuzz_ical): DEL (0x7F) is a control character in RFC 5545 too, and was kept.
TEST(ICal, DropsDelLikeOtherControlCharacters) {
  EXPECT_EQ(ical_escape("a\x7F"
                        "b\tc"),
            "ab\tc");
}

// Found by tests/fuzz (fuzz_ical): a line of 75 bytes that are not the start of a UTF-8 character (no
// valid text has them, but the writer must not trust that) left the fold point at 0, and ical_line
// folded nothing forever, growing its output until memory ran out. It now cuts at 75 octets.
TEST(ICal, FoldsBytesThatAreNoUtf8Text) {
  const std::string bytes(200, '\x80');
  const std::string folded = ical_line(bytes);
  std::size_t start = 0;
  std::size_t payload = 0;
  while (start < folded.size()) {
    const auto end = folded.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 75u);
    payload += end - start - (start == 0 ? 0 : 1);
    start = end + 2;
  }
  EXPECT_EQ(payload, bytes.size());
}

TEST(ICal, FoldsLongLinesAt75OctetsWithoutSplittingCharacters) {
  const std::string text = "SUMMARY:" + std::string(100, 'a');
  const std::string folded = ical_line(text);
  EXPECT_EQ(folded.substr(0, 75), text.substr(0, 75));
  EXPECT_EQ(folded.substr(75, 3), "\r\n ");
  EXPECT_EQ(folded.size(), text.size() + 3 + 2);
  // Each physical line is at most 75 octets; a 2-byte character is never cut.
  std::string utf8 = "SUMMARY:";
  for (int i = 0; i < 60; ++i) utf8 += "\xC3\xA9";  // é
  const std::string f2 = ical_line(utf8);
  std::size_t start = 0;
  while (start < f2.size()) {
    const auto end = f2.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 75u);
    const unsigned char first = static_cast<unsigned char>(f2[start == 0 ? 0 : start + 1]);
    EXPECT_NE(first & 0xC0, 0x80) << "a continuation line starts inside a character";
    start = end + 2;
  }
  // Unfolding gives the original back.
  std::string unfolded;
  for (std::size_t i = 0; i < f2.size(); ++i) {
    if (f2.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded += f2[i];
  }
  EXPECT_EQ(unfolded, utf8 + "\r\n");
}

TEST(ICal, CalendarHasTheFieldsCaptureAgentsRead) {
  CalendarEvent e;
  e.uid = "obs-1@classcam";
  e.start = at("2026-11-23T09:00:00Z");
  e.end = at("2026-11-23T09:50:00Z");
  e.summary = "Year 8, maths";
  e.location = "Room 12";
  const auto cal = ical_calendar("Room 12", {e}, at("2026-11-20T08:00:00Z"));
  for (const char* line : {"BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", "PRODID:-//classcam//classcam-hub//EN\r\n",
                           "BEGIN:VEVENT\r\n", "UID:obs-1@classcam\r\n", "DTSTAMP:20261120T080000Z\r\n",
                           "DTSTART:20261123T090000Z\r\n", "DTEND:20261123T095000Z\r\n", "SUMMARY:Year 8\\, maths\r\n",
                           "LOCATION:Room 12\r\n", "END:VEVENT\r\n", "END:VCALENDAR\r\n"}) {
    EXPECT_NE(cal.find(line), std::string::npos) << line;
  }
  // Every line ends with CRLF: no bare LF.
  for (std::size_t i = 0; i < cal.size(); ++i) {
    if (cal[i] == '\n') {
      EXPECT_EQ(cal[i - 1], '\r');
    }
  }
}

TEST(ScheduleBuilder, GivesAUnitItsRoomsObservationsInTheHorizon) {
  test::TempDir dir;
  auto store = store::Store::open_sqlite(dir / "hub.db");
  const auto t = std::get<store::User>(store->create_user("khan", "Ms Khan", store::Role::teacher, "h"));
  const auto room = std::get<store::Room>(store->create_room("Room 12", std::nullopt));
  const auto other = std::get<store::Room>(store->create_room("Room 13", std::nullopt));
  (void)store->create_unit("room-12", "Camera", room.id, "h1");
  (void)store->create_unit("spare", "Spare", std::nullopt, "h2");
  auto add = [&](const std::string& r, const char* s, const char* e) {
    store::Observation o;
    o.room_id = r;
    o.teacher_id = t.id;
    o.title = "Lesson";
    o.start = at(s);
    o.end = at(e);
    return std::get<store::Observation>(store->create_observation(o));
  };
  add(room.id, "2026-11-23T08:00:00Z", "2026-11-23T08:50:00Z");                      // over
  const auto now_on = add(room.id, "2026-11-23T09:00:00Z", "2026-11-23T09:50:00Z");  // under way
  const auto later = add(room.id, "2026-11-24T09:00:00Z", "2026-11-24T09:50:00Z");
  add(room.id, "2026-12-20T09:00:00Z", "2026-12-20T09:50:00Z");   // past the horizon
  add(other.id, "2026-11-23T09:00:00Z", "2026-11-23T09:50:00Z");  // another room

  const auto s = build_schedule(*store, "room-12", at("2026-11-23T09:10:00Z"), 14, "Europe/London");
  ASSERT_EQ(s.observations.size(), 2u);
  EXPECT_EQ(s.observations[0].id, now_on.id);
  EXPECT_EQ(s.observations[1].id, later.id);
  EXPECT_EQ(s.observations[0].teacher_name, "Ms Khan");
  EXPECT_EQ(s.observations[0].room_name, "Room 12");
  EXPECT_EQ(s.timezone, "Europe/London");
  EXPECT_GT(s.revision, 0);
  // It is a valid protocol message.
  EXPECT_TRUE(protocol::decode<protocol::Schedule>(protocol::encode(s)));
  EXPECT_TRUE(build_schedule(*store, "spare", at("2026-11-23T09:10:00Z"), 14, "UTC").observations.empty());
}
