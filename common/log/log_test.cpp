#include "common/log/log.hpp"

#include <gtest/gtest.h>

using namespace classcam;

TEST(Log, ParsesLevelNames) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_EQ(log::parse_level("error"), log::Level::err);
  EXPECT_EQ(log::parse_level("off"), log::Level::off);
  EXPECT_FALSE(log::parse_level("verbose").has_value());
  EXPECT_FALSE(log::parse_level("INFO").has_value());
}

TEST(Log, ComponentLevelsApplyToExistingAndNewLoggers) {
  auto before = log::get("log-test-a");
  log::Options o;
  o.level = log::Level::warn;
  o.components["log-test-b"] = log::Level::trace;
  log::init(o);
  EXPECT_EQ(before->level(), log::Level::warn);
  EXPECT_EQ(log::get("log-test-b")->level(), log::Level::trace);
  EXPECT_EQ(log::get("log-test-c")->level(), log::Level::warn);
  EXPECT_EQ(log::get("log-test-a"), before);  // one logger per component
}

TEST(Log, JournaldFormatCarriesPriorityPrefix) {
  testing::internal::CaptureStderr();
  log::Options o;
  o.journald = true;
  log::init(o);
  log::get("log-test-j")->error("disk full");
  log::get("log-test-j")->info("hello");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("<3>[log-test-j] disk full"), std::string::npos) << out;
  EXPECT_NE(out.find("<6>[log-test-j] hello"), std::string::npos) << out;
}
