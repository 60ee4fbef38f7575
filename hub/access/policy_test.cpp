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
const Principal kOwner = person(Caller::teacher, "t1");
const Principal kOtherTeacher = person(Caller::teacher, "t2");
const Principal kCoach = person(Caller::coach, "c1");
const Principal kAdmin = person(Caller::admin, "a1");
const Principal kTech = person(Caller::technician, "x1");
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
  EXPECT_TRUE(recording_rights(kOwner, owned).watch);
  EXPECT_FALSE(recording_rights(kOtherTeacher, owned).watch);
  EXPECT_FALSE(recording_rights(kOtherTeacher, owned).see);
  EXPECT_FALSE(recording_rights(kCoach, owned).watch);
  EXPECT_TRUE(recording_rights(kCoach, {"t1", true}).watch);
  EXPECT_TRUE(recording_rights(kCoach, {"t1", true}).annotate);
  EXPECT_FALSE(recording_rights(unit_caller(), owned).see);
}

TEST(Policy, AdminsAndTechniciansSeeButDoNotWatchUnlessShared) {
  const RecordingFacts owned{"t1", false};
  for (const auto& staff : {kAdmin, kTech}) {
    EXPECT_TRUE(recording_rights(staff, owned).see);
    EXPECT_FALSE(recording_rights(staff, owned).watch);
    EXPECT_FALSE(recording_rights(staff, owned).annotate);
    EXPECT_TRUE(recording_rights(staff, {"t1", true}).watch);
  }
}

TEST(Policy, ASharedRecordingCannotBeReshared) {
  const RecordingFacts shared{"t1", true};
  EXPECT_FALSE(recording_rights(kCoach, shared).share);
  EXPECT_FALSE(may_share_with(kCoach, shared, "c2"));
  EXPECT_TRUE(may_share_with(kOwner, shared, "c2"));
  EXPECT_FALSE(may_share_with(kOwner, shared, "t1")) << "not with oneself";
}

TEST(Policy, DeletionAndOwnerAssignment) {
  EXPECT_TRUE(recording_rights(kOwner, {"t1", false}).remove);
  EXPECT_TRUE(recording_rights(kAdmin, {"t1", false}).remove);
  EXPECT_FALSE(recording_rights(kCoach, {"t1", true}).remove);
  EXPECT_FALSE(recording_rights(kTech, {"t1", false}).remove);
  EXPECT_TRUE(recording_rights(kAdmin, {std::nullopt, false}).assign_owner);
  EXPECT_FALSE(recording_rights(kAdmin, {"t1", false}).assign_owner) << "an owned recording keeps its owner";
  EXPECT_FALSE(recording_rights(kAdmin, {std::nullopt, false}).watch) << "assigning does not let the admin watch";
  EXPECT_FALSE(recording_rights(kOwner, {std::nullopt, false}).watch);
}

TEST(Policy, AnnotationsAreDeletedByTheirAuthorOrTheOwner) {
  const RecordingFacts shared{"t1", true};
  EXPECT_TRUE(may_delete_annotation(kCoach, std::string("c1"), shared));
  EXPECT_FALSE(may_delete_annotation(kCoach, std::string("t1"), shared));
  EXPECT_TRUE(may_delete_annotation(kOwner, std::string("c1"), {"t1", false}));
  EXPECT_FALSE(may_delete_annotation(kAdmin, std::string("a1"), {"t1", false})) << "no longer a watcher";
}

TEST(Policy, Observations) {
  const ObservationFacts o{"t1", {"c1"}};
  EXPECT_TRUE(observation_rights(kOwner, o).change);
  EXPECT_TRUE(observation_rights(kCoach, o).see);
  EXPECT_FALSE(observation_rights(kCoach, o).change);
  EXPECT_FALSE(observation_rights(kOtherTeacher, o).see);
  EXPECT_TRUE(observation_rights(kTech, o).see);
  EXPECT_FALSE(observation_rights(kTech, o).change);
  EXPECT_TRUE(observation_rights(kAdmin, o).change);
  EXPECT_TRUE(may_schedule_for(kOwner, "t1"));
  EXPECT_FALSE(may_schedule_for(kOwner, "t2"));
  EXPECT_FALSE(may_schedule_for(kCoach, "c1"));
  EXPECT_TRUE(may_schedule_for(kAdmin, "t2"));
}
