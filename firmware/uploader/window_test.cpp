#include "firmware/uploader/window.hpp"

#include <gtest/gtest.h>

using namespace classcam::uploader;

TEST(UploadWindow, EmptyIsAlwaysOpen) {
  const auto w = parse_window("");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->contains(0));
  EXPECT_TRUE(w->contains(12 * 60));
}

TEST(UploadWindow, SameDayAndAcrossMidnight) {
  const auto day = *parse_window("09:30-15:00");
  EXPECT_FALSE(day.contains(9 * 60 + 29));
  EXPECT_TRUE(day.contains(9 * 60 + 30));
  EXPECT_FALSE(day.contains(15 * 60));
  EXPECT_EQ(day.minutes_until_open(9 * 60), 30);
  EXPECT_EQ(day.minutes_until_open(16 * 60), 17 * 60 + 30);
  const auto night = *parse_window("16:00-07:00");
  EXPECT_TRUE(night.contains(23 * 60));
  EXPECT_TRUE(night.contains(6 * 60 + 59));
  EXPECT_FALSE(night.contains(7 * 60));
  EXPECT_FALSE(night.contains(12 * 60));
}

TEST(UploadWindow, BadTextSaysWhatIsExpected) {
  for (const char* bad : {"9:30-15:00", "09:30", "25:00-01:00", "09:30-15:60", "nonsense"}) {
    const auto w = parse_window(bad);
    ASSERT_FALSE(w) << bad;
    EXPECT_NE(w.error().message.find("HH:MM-HH:MM"), std::string::npos);
  }
}
