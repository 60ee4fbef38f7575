#include "firmware/schedule/planner.hpp"

#include <gtest/gtest.h>

namespace classcam::schedule {
namespace {

using protocol::RecorderState;
using Kind = Decision::Kind;
using namespace std::chrono_literals;

util::TimePoint at(const char* t) { return *util::parse_rfc3339(t); }

protocol::Observation obs(const std::string& id, const char* start, const char* end) {
  return {id, "title " + id, at(start), at(end), std::nullopt, std::nullopt};
}

protocol::Schedule two_back_to_back() {
  protocol::Schedule s;
  s.unit_id = "room-12";
  s.revision = 3;
  s.observations = {obs("obs-a", "2026-11-23T09:00:00Z", "2026-11-23T09:50:00Z"),
                    obs("obs-b", "2026-11-23T09:50:00Z", "2026-11-23T10:40:00Z")};
  return s;
}

RecorderView idle() { return {}; }
RecorderView scheduled(const std::string& id) { return {RecorderState::recording, id, true}; }
RecorderView manual() { return {RecorderState::recording, std::nullopt, false}; }

TEST(Planner, NothingWithoutASchedule) {
  Planner p;
  EXPECT_EQ(p.decide(at("2026-11-23T09:10:00Z"), idle()).kind, Kind::none);
}

TEST(Planner, BootingMidSlotJoinsIt) {
  Planner p;
  p.set_schedule(two_back_to_back());
  const auto d = p.decide(at("2026-11-23T09:31:00Z"), idle());
  ASSERT_EQ(d.kind, Kind::start);
  EXPECT_EQ(d.observation->id, "obs-a");
}

TEST(Planner, BeforeAndAfterSlotsNothingHappens) {
  Planner p;
  p.set_schedule(two_back_to_back());
  EXPECT_EQ(p.decide(at("2026-11-23T08:59:59.999Z"), idle()).kind, Kind::none);
  EXPECT_EQ(p.decide(at("2026-11-23T10:40:00Z"), idle()).kind, Kind::none);
}

TEST(Planner, BackToBackSlotsBothRecordWithTheirOwnObservationIds) {
  Planner p;
  p.set_schedule(two_back_to_back());
  auto d = p.decide(at("2026-11-23T09:00:00Z"), idle());
  ASSERT_EQ(d.kind, Kind::start);
  EXPECT_EQ(d.observation->id, "obs-a");
  EXPECT_EQ(p.decide(at("2026-11-23T09:49:59Z"), scheduled("obs-a")).kind, Kind::none);
  // At the boundary A stops; once idle, B starts.
  d = p.decide(at("2026-11-23T09:50:00Z"), scheduled("obs-a"));
  ASSERT_EQ(d.kind, Kind::stop);
  EXPECT_EQ(d.reason, "scheduled end (next observation starts)");
  EXPECT_EQ(p.decide(at("2026-11-23T09:50:00.100Z"), {RecorderState::stopping, "obs-a", true}).kind, Kind::none);
  p.ended("obs-a", Planner::EndCause::planner, at("2026-11-23T09:50:00.500Z"));
  d = p.decide(at("2026-11-23T09:50:00.500Z"), idle());
  ASSERT_EQ(d.kind, Kind::start);
  EXPECT_EQ(d.observation->id, "obs-b");
  d = p.decide(at("2026-11-23T10:40:00Z"), scheduled("obs-b"));
  ASSERT_EQ(d.kind, Kind::stop);
  EXPECT_EQ(d.reason, "scheduled end");
}

TEST(Planner, AManualSessionIsStoppedWhenASlotStarts) {
  Planner p;
  p.set_schedule(two_back_to_back());
  EXPECT_EQ(p.decide(at("2026-11-23T08:30:00Z"), manual()).kind, Kind::none);
  const auto d = p.decide(at("2026-11-23T09:00:00Z"), manual());
  ASSERT_EQ(d.kind, Kind::stop);
  EXPECT_EQ(d.reason, "stopped: scheduled observation \"title obs-a\" starts");
  EXPECT_EQ(p.decide(at("2026-11-23T09:00:01Z"), idle()).kind, Kind::start);
}

TEST(Planner, SomeoneStoppingASlotWinsAndTheirManualSessionIsLeftAlone) {
  Planner p;
  p.set_schedule(two_back_to_back());
  p.ended("obs-a", Planner::EndCause::person, at("2026-11-23T09:10:00Z"));
  EXPECT_EQ(p.decide(at("2026-11-23T09:10:01Z"), idle()).kind, Kind::none);
  EXPECT_EQ(p.decide(at("2026-11-23T09:20:00Z"), manual()).kind, Kind::none);
  // ... but the next slot takes over as usual.
  EXPECT_EQ(p.decide(at("2026-11-23T09:50:00Z"), manual()).kind, Kind::stop);
}

TEST(Planner, AFailedStartOrAFaultIsRetriedLater) {
  Planner p;
  p.set_schedule(two_back_to_back());
  p.start_failed("obs-a", at("2026-11-23T09:00:00Z"));
  EXPECT_EQ(p.decide(at("2026-11-23T09:00:10Z"), idle()).kind, Kind::none);
  EXPECT_EQ(p.next_wakeup(at("2026-11-23T09:00:20Z")), at("2026-11-23T09:00:30Z"));
  EXPECT_EQ(p.decide(at("2026-11-23T09:00:30Z"), idle()).kind, Kind::start);
  p.ended("obs-a", Planner::EndCause::fault, at("2026-11-23T09:05:00Z"));
  EXPECT_EQ(p.decide(at("2026-11-23T09:05:01Z"), {RecorderState::error, std::nullopt, false}).kind, Kind::none);
  EXPECT_EQ(p.decide(at("2026-11-23T09:05:30Z"), {RecorderState::error, std::nullopt, false}).kind, Kind::start);
}

TEST(Planner, ClockJumps) {
  Planner p;
  p.set_schedule(two_back_to_back());
  // Forward past A's end while recording it: stop; B is active so it is next.
  EXPECT_EQ(p.decide(at("2026-11-23T10:00:00Z"), scheduled("obs-a")).kind, Kind::stop);
  // Back before A's start while recording it: keep recording.
  EXPECT_EQ(p.decide(at("2026-11-23T08:00:00Z"), scheduled("obs-a")).kind, Kind::none);
  // An observation that ended here is never recorded twice, even if the clock goes back into it.
  p.ended("obs-a", Planner::EndCause::planner, at("2026-11-23T09:50:00Z"));
  EXPECT_EQ(p.decide(at("2026-11-23T09:20:00Z"), idle()).kind, Kind::none);
  // Forward past the end of everything: nothing left to do.
  EXPECT_EQ(p.decide(at("2026-11-24T00:00:00Z"), idle()).kind, Kind::none);
}

TEST(Planner, AnObservationRemovedFromTheScheduleStops) {
  Planner p;
  p.set_schedule(two_back_to_back());
  auto s = two_back_to_back();
  s.revision = 4;
  s.observations.erase(s.observations.begin());
  p.set_schedule(s);
  EXPECT_EQ(p.decide(at("2026-11-23T09:10:00Z"), scheduled("obs-a")).kind, Kind::stop);
}

TEST(Planner, BusyRecorderWaits) {
  Planner p;
  p.set_schedule(two_back_to_back());
  EXPECT_EQ(p.decide(at("2026-11-23T09:10:00Z"), {RecorderState::starting, std::nullopt, false}).kind, Kind::none);
  EXPECT_EQ(p.decide(at("2026-11-23T09:10:00Z"), {RecorderState::stopping, std::nullopt, false}).kind, Kind::none);
}

TEST(Planner, WakesAtTheNextBoundaryOrWithinMaxSleep) {
  Planner p;
  EXPECT_EQ(p.next_wakeup(at("2026-11-23T08:00:00Z")), at("2026-11-23T08:00:00Z") + kMaxSleep);
  p.set_schedule(two_back_to_back());
  EXPECT_EQ(p.next_wakeup(at("2026-11-23T08:59:50Z")), at("2026-11-23T09:00:00Z"));
  EXPECT_EQ(p.next_wakeup(at("2026-11-23T09:49:55Z")), at("2026-11-23T09:50:00Z"));
  EXPECT_EQ(p.next_wakeup(at("2026-11-23T09:20:00Z")), at("2026-11-23T09:20:00Z") + kMaxSleep);
}

}  // namespace
}  // namespace classcam::schedule
