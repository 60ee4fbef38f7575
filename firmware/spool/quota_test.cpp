#include "firmware/spool/quota.hpp"

#include <gtest/gtest.h>

using namespace classcam::spool;

namespace {
constexpr std::uint64_t kGB = 1'000'000'000;
}

TEST(Quota, PercentOfTheFilesystemIsTheDefaultBound) {
  const auto d = evaluate_quota({.used_bytes = 10 * kGB,
                                 .fs_total_bytes = 100 * kGB,
                                 .fs_avail_bytes = 50 * kGB,
                                 .max_bytes = 0,
                                 .max_percent = 80,
                                 .evictable_bytes = 0,
                                 .reserve_bytes = kGB});
  EXPECT_EQ(d.limit_bytes, 60 * kGB);  // used + free is the tighter bound here
  EXPECT_EQ(d.to_free_bytes, 0u);
  EXPECT_FALSE(d.full);

  const auto roomy = evaluate_quota({.used_bytes = 10 * kGB,
                                     .fs_total_bytes = 100 * kGB,
                                     .fs_avail_bytes = 85 * kGB,
                                     .max_percent = 80,
                                     .reserve_bytes = kGB});
  EXPECT_EQ(roomy.limit_bytes, 80 * kGB);
}

TEST(Quota, MaxBytesWinsWhenTighter) {
  const auto d = evaluate_quota({.used_bytes = 900,
                                 .fs_total_bytes = 100 * kGB,
                                 .fs_avail_bytes = 90 * kGB,
                                 .max_bytes = 1000,
                                 .max_percent = 80,
                                 .evictable_bytes = 500,
                                 .reserve_bytes = 300});
  EXPECT_EQ(d.limit_bytes, 1000u);
  EXPECT_EQ(d.to_free_bytes, 200u);
  EXPECT_FALSE(d.full);
}

TEST(Quota, FullWhenEvictingEveryUploadedSegmentIsNotEnough) {
  const auto d = evaluate_quota({.used_bytes = 900,
                                 .fs_total_bytes = 100 * kGB,
                                 .fs_avail_bytes = 90 * kGB,
                                 .max_bytes = 1000,
                                 .max_percent = 80,
                                 .evictable_bytes = 199,
                                 .reserve_bytes = 300});
  EXPECT_EQ(d.to_free_bytes, 200u);
  EXPECT_TRUE(d.full);
}

TEST(Quota, ExactlyAtTheLimitIsNotFull) {
  const auto d = evaluate_quota({.used_bytes = 700,
                                 .fs_total_bytes = 100 * kGB,
                                 .fs_avail_bytes = 90 * kGB,
                                 .max_bytes = 1000,
                                 .max_percent = 80,
                                 .evictable_bytes = 0,
                                 .reserve_bytes = 300});
  EXPECT_EQ(d.to_free_bytes, 0u);
  EXPECT_FALSE(d.full);
}

TEST(Quota, AFilesystemFilledByOthersCountsToo) {
  // 5 GB free on the disk, far below the 80% bound: the physical bound decides.
  const auto d = evaluate_quota({.used_bytes = 2 * kGB,
                                 .fs_total_bytes = 100 * kGB,
                                 .fs_avail_bytes = 5 * kGB / 10,
                                 .max_percent = 80,
                                 .evictable_bytes = 0,
                                 .reserve_bytes = kGB});
  EXPECT_EQ(d.limit_bytes, 2 * kGB + 5 * kGB / 10);
  EXPECT_EQ(d.to_free_bytes, kGB / 2);
  EXPECT_TRUE(d.full);
}

TEST(Quota, ReserveIsTwoSegmentsPlusAQuarter) {
  // 4000 + 96 kbit/s for 2 s = 1,024,000 bytes a segment.
  EXPECT_EQ(reserve_for_recording(4000, 96, 2000), 1'024'000u * 2 * 5 / 4);
  EXPECT_EQ(reserve_for_recording(0, 64, 1000), 8000u * 2 * 5 / 4);
}

TEST(Quota, HumanBytes) {
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1500), "1.5 kB");
  EXPECT_EQ(human_bytes(12'000'000'000), "12 GB");
}
