#include "common/protocol/topics.hpp"

#include <gtest/gtest.h>

#include "common/protocol/json_reader.hpp"

using namespace classcam::protocol;

TEST(Topics, BuildAndParseEveryChannel) {
  for (Channel c : {Channel::state, Channel::telemetry, Channel::events, Channel::results, Channel::commands,
                    Channel::schedule, Channel::live}) {
    const std::string t = topic("unit-7", c);
    EXPECT_EQ(t, "classcam/v1/units/unit-7/" + std::string(to_string(c)));
    const auto p = parse_topic(t);
    ASSERT_TRUE(p.has_value()) << t;
    EXPECT_EQ(p->unit_id, "unit-7");
    EXPECT_EQ(p->channel, c);
  }
  EXPECT_EQ(wildcard_topic(Channel::state), "classcam/v1/units/+/state");
  EXPECT_EQ(unit_prefix("unit-7"), "classcam/v1/units/unit-7/#");
}

TEST(Topics, RejectsForeignOrMalformedTopics) {
  for (const char* t :
       {"", "classcam/v1/units", "classcam/v1/units/unit-7", "classcam/v1/units/unit-7/",
        "classcam/v1/units/unit-7/state/extra", "classcam/v1/units/+/state", "classcam/v1/units/#",
        "classcam/v2/units/unit-7/state", "other/v1/units/unit-7/state", "classcam/v1/units/Unit-7/state",
        "classcam/v1/units/unit-7/unknown", "classcam/v1/units//state"}) {
    EXPECT_FALSE(parse_topic(t).has_value()) << t;
  }
}

TEST(Topics, QosAndRetainFollowTheProtocol) {
  EXPECT_EQ(spec(Channel::state).qos, 1);
  EXPECT_TRUE(spec(Channel::state).retained);
  EXPECT_TRUE(spec(Channel::schedule).retained);
  EXPECT_FALSE(spec(Channel::schedule).from_unit);
  EXPECT_FALSE(spec(Channel::commands).retained);
  EXPECT_EQ(spec(Channel::commands).qos, 1);
  EXPECT_EQ(spec(Channel::results).qos, 1);
  EXPECT_EQ(spec(Channel::telemetry).qos, 0);
}

TEST(Ids, OnlyTopicSafeIds) {
  EXPECT_TRUE(is_valid_id("unit-7"));
  EXPECT_TRUE(is_valid_id("3f2c1a9e-0b1d-4e2f-9a8b-7c6d5e4f3a2b"));
  for (const char* bad : {"", "-unit", "Unit", "unit/7", "unit+", "unit#", "unit 7", "unit_7", "ünit"}) {
    EXPECT_FALSE(is_valid_id(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
}
