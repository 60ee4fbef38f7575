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

TEST(Log, EscapesControlCharactersAndBytesThatAreNotUtf8) {
  // Messages carry request paths and headers: a newline would forge a second line, a raw byte breaks
  // the journal's text.
  testing::internal::CaptureStderr();
  log::Options o;
  o.journald = true;
  log::init(o);
  log::get("log-test-e")->warn("GET {} failed", std::string("/api/\xff\r\n<3>[hub] forged \x1b[2J"));
  log::get("log-test-e")->warn("Salle \xc3\xa9t\xc3\xa9 is fine");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("<4>[log-test-e] GET /api/\\xff\\x0d\\x0a<3>[hub] forged \\x1b[2J failed\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Salle \xc3\xa9t\xc3\xa9 is fine"), std::string::npos) << out;
  EXPECT_EQ(out.find('\xff'), std::string::npos);
}
