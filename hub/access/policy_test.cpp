#include "hub/access/policy.hpp"

#include <gtest/gtest.h>

using namespace classcam::hub::access;

namespace {
Principal person(Caller c, const std::string& id) {
  Principal p;
  p.caller = c;
  p.id = id;
  return p;
}
Principal unit_caller() {
  Principal p;
  p.caller = Caller::unit;
  p.id = "room-12";
  return p;
}
Principal owner() { return person(Caller::teacher, "t1"); }
Principal other_teacher() { return person(Caller::teacher, "t2"); }
Principal coach() { return person(Caller::coach, "c1"); }
Principal admin() { return person(Caller::admin, "a1"); }
Principal tech() { return person(Caller::technician, "x1"); }
}  // namespace

TEST(Access, DescribesAndAdmits) {
  const auto a = Access::only({Caller::admin, Caller::technician});
  EXPECT_TRUE(a.allows(Caller::admin));
  EXPECT_FALSE(a.allows(Caller::teacher));
  EXPECT_FALSE(a.is_public());
  EXPECT_EQ(a.describe(), "admin, technician");
  EXPECT_TRUE(Access::anyone().is_public());
  EXPECT_FALSE(Access::any_user().allows(Caller::unit));
  EXPECT_FALSE(Access::unit().allows(Caller::admin));
}

TEST(Policy, OnlyOwnerAndShareesWatch) {
  const RecordingFacts owned{"t1", false};
  EXPECT_TRUE(recording_rights(owner(), owned).watch);
  EXPECT_FALSE(recording_rights(other_teacher(), owned).watch);
  EXPECT_FALSE(recording_rights(other_teacher(), owned).see);
  EXPECT_FALSE(recording_rights(coach(), owned).watch);
  EXPECT_TRUE(recording_rights(coach(), {"t1", true}).watch);
  EXPECT_TRUE(recording_rights(coach(), {"t1", true}).annotate);
  EXPECT_FALSE(recording_rights(unit_caller(), owned).see);
}

TEST(Policy, AdminsAndTechniciansSeeButDoNotWatchUnlessShared) {
  const RecordingFacts owned{"t1", false};
  for (const auto& staff : {admin(), tech()}) {
    EXPECT_TRUE(recording_rights(staff, owned).see);
    EXPECT_FALSE(recording_rights(staff, owned).watch);
    EXPECT_FALSE(recording_rights(staff, owned).annotate);
    EXPECT_TRUE(recording_rights(staff, {"t1", true}).watch);
  }
}

TEST(Policy, ASharedRecordingCannotBeReshared) {
  const RecordingFacts shared{"t1", true};
  EXPECT_FALSE(recording_rights(coach(), shared).share);
  EXPECT_FALSE(may_share_with(coach(), shared, "c2"));
  EXPECT_TRUE(may_share_with(owner(), shared, "c2"));
  EXPECT_FALSE(may_share_with(owner(), shared, "t1")) << "not with oneself";
}

TEST(Policy, DeletionAndOwnerAssignment) {
  EXPECT_TRUE(recording_rights(owner(), {"t1", false}).remove);
  EXPECT_TRUE(recording_rights(admin(), {"t1", false}).remove);
  EXPECT_FALSE(recording_rights(coach(), {"t1", true}).remove);
  EXPECT_FALSE(recording_rights(tech(), {"t1", false}).remove);
  EXPECT_TRUE(recording_rights(admin(), {std::nullopt, false}).assign_owner);
  EXPECT_FALSE(recording_rights(admin(), {"t1", false}).assign_owner) << "an owned recording keeps its owner";
  EXPECT_FALSE(recording_rights(admin(), {std::nullopt, false}).watch) << "assigning does not let the admin watch";
  EXPECT_FALSE(recording_rights(owner(), {std::nullopt, false}).watch);
}

TEST(Policy, AnnotationsAreDeletedByTheirAuthorOrTheOwner) {
  const RecordingFacts shared{"t1", true};
  EXPECT_TRUE(may_delete_annotation(coach(), std::string("c1"), shared));
  EXPECT_FALSE(may_delete_annotation(coach(), std::string("t1"), shared));
  EXPECT_TRUE(may_delete_annotation(owner(), std::string("c1"), {"t1", false}));
  EXPECT_FALSE(may_delete_annotation(admin(), std::string("a1"), {"t1", false})) << "no longer a watcher";
}

TEST(Policy, Observations) {
  const ObservationFacts o{"t1", {"c1"}};
  EXPECT_TRUE(observation_rights(owner(), o).change);
  EXPECT_TRUE(observation_rights(coach(), o).see);
  EXPECT_FALSE(observation_rights(coach(), o).change);
  EXPECT_FALSE(observation_rights(other_teacher(), o).see);
  EXPECT_TRUE(observation_rights(tech(), o).see);
  EXPECT_FALSE(observation_rights(tech(), o).change);
  EXPECT_TRUE(observation_rights(admin(), o).change);
  EXPECT_TRUE(may_schedule_for(owner(), "t1"));
  EXPECT_FALSE(may_schedule_for(owner(), "t2"));
  EXPECT_FALSE(may_schedule_for(coach(), "c1"));
  EXPECT_TRUE(may_schedule_for(admin(), "t2"));
}

TEST(Policy, OnlyTheRoomsTeachersRecordOnItsUnitsStaffDoEverything) {
  const RoomFacts room{true, "t1", {"t3"}};  // t1 the default teacher, t3 teaching now (or next)
  EXPECT_TRUE(unit_rights(owner(), room).record);
  EXPECT_FALSE(unit_rights(owner(), room).operate) << "teachers do not take snapshots or stream";
  EXPECT_TRUE(unit_rights(person(Caller::teacher, "t3"), room).record);
  EXPECT_FALSE(unit_rights(other_teacher(), room).record) << "any teacher used to";
  for (const auto& staff : {admin(), tech()}) {
    EXPECT_TRUE(unit_rights(staff, room).record);
    EXPECT_TRUE(unit_rights(staff, room).operate);
  }
  EXPECT_FALSE(unit_rights(coach(), room).record);
  EXPECT_FALSE(unit_rights(person(Caller::coach, "t3"), room).record) << "the role counts, not only the id";
  EXPECT_FALSE(unit_rights(unit_caller(), room).record);
  EXPECT_FALSE(unit_rights(owner(), RoomFacts{false, "t1", {}}).record) << "a unit in no room";
  EXPECT_TRUE(unit_rights(admin(), RoomFacts{}).operate);
}

TEST(Policy, LiveTheLessonsTeacherAndInvitedCoachesTechniciansPreviewNobodyElse) {
  LiveFacts f;
  f.in_room = true;
  f.default_teacher_id = "t-default";
  f.observation_id = "obs-1";
  f.observation_teacher_id = "t-obs";
  f.observation_coach_ids = {"c-1"};
  const auto teacher = live_rights(person(Caller::teacher, "t-obs"), f);
  EXPECT_TRUE(teacher.watch && teacher.moderate && !teacher.needs_consent);
  // During an observation, the room's default teacher is not its teacher.
  EXPECT_FALSE(live_rights(person(Caller::teacher, "t-default"), f).any());
  const auto coach = live_rights(person(Caller::coach, "c-1"), f);
  EXPECT_TRUE(coach.watch && coach.talk && coach.needs_consent && !coach.moderate);
  EXPECT_FALSE(live_rights(person(Caller::coach, "c-2"), f).any());
  f.observation_coach_ids.push_back("t-peer");
  EXPECT_TRUE(live_rights(person(Caller::teacher, "t-peer"), f).talk) << "a fellow teacher invited as a coach";
  EXPECT_FALSE(live_rights(person(Caller::admin, "a-1"), f).any());
  const auto tech = live_rights(person(Caller::technician, "x-1"), f);
  EXPECT_TRUE(tech.preview && !tech.watch && !tech.talk);
  EXPECT_FALSE(live_rights(unit_caller(), f).any());
  // A manual session: the room's teacher; no coach was invited to anything.
  f.observation_id.reset();
  EXPECT_TRUE(live_rights(person(Caller::teacher, "t-default"), f).moderate);
  EXPECT_FALSE(live_rights(person(Caller::coach, "c-1"), f).any());
  // ... and those the room's teacher invited to it, a fellow teacher among them.
  f.invited_ids = {"c-2", "t-peer"};
  const auto invited = live_rights(person(Caller::coach, "c-2"), f);
  EXPECT_TRUE(invited.watch && invited.talk && invited.needs_consent && !invited.moderate);
  EXPECT_TRUE(live_rights(person(Caller::teacher, "t-peer"), f).watch);
  EXPECT_FALSE(live_rights(person(Caller::coach, "c-1"), f).any());
  f.observation_id = "obs-1";
  EXPECT_FALSE(live_rights(person(Caller::coach, "c-2"), f).any()) << "a manual session's invites end with it";
  f.observation_id.reset();
  f.in_room = false;
  EXPECT_FALSE(live_rights(person(Caller::teacher, "t-default"), f).any());
}
