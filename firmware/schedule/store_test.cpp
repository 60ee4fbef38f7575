#include "firmware/schedule/store.hpp"

#include <gtest/gtest.h>

#include "tests/support/tempdir.hpp"

namespace classcam::schedule {
namespace {

protocol::Schedule schedule(std::int64_t revision, const std::string& unit = "room-12") {
  protocol::Schedule s;
  s.unit_id = unit;
  s.revision = revision;
  s.generated_at = *util::parse_rfc3339("2026-11-23T08:00:00Z");
  s.timezone = "Europe/London";
  s.observations = {{"obs-41", "Year 8 maths", *util::parse_rfc3339("2026-11-23T09:00:00Z"),
                     *util::parse_rfc3339("2026-11-23T09:50:00Z"), "Ms Khan", std::nullopt}};
  return s;
}

TEST(ScheduleStore, NoFileIsNoSchedule) {
  test::TempDir dir;
  ScheduleStore store(dir / "state" / "schedule.json");
  auto s = store.load();
  ASSERT_TRUE(s);
  EXPECT_FALSE(*s);
}

TEST(ScheduleStore, SavesAtomicallyAndLoadsBack) {
  test::TempDir dir;
  ScheduleStore store(dir / "state" / "schedule.json");
  ASSERT_TRUE(store.save(schedule(3)));
  ASSERT_TRUE(store.save(schedule(4)));
  auto s = store.load();
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s);
  EXPECT_EQ(**s, schedule(4));
  // Only the schedule itself is left: no temporary files.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "state")) ++files;
  EXPECT_EQ(files, 1);
}

TEST(ScheduleStore, AGarbledFileIsAnErrorNotACrash) {
  test::TempDir dir;
  test::write_file(dir / "schedule.json", "{\"protocol\": \"1.0\", \"unit_id\": ");
  ScheduleStore store(dir / "schedule.json");
  auto s = store.load();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("schedule.json"), std::string::npos);
}

TEST(ScheduleStore, RevisionOnlyGrowsAndUnitMustMatch) {
  EXPECT_TRUE(accepts(std::nullopt, schedule(1), "room-12"));
  EXPECT_TRUE(accepts(schedule(3), schedule(4), "room-12"));
  const auto same = accepts(schedule(4), schedule(4), "room-12");
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().message, "schedule revision 4 ignored: revision 4 is already in force");
  EXPECT_FALSE(accepts(schedule(4), schedule(2), "room-12"));
  const auto other = accepts(std::nullopt, schedule(9, "room-13"), "room-12");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "schedule for unit \"room-13\" ignored: this unit is \"room-12\"");
}

}  // namespace
}  // namespace classcam::schedule
