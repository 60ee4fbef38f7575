#include "firmware/gpio/gestures.hpp"

#include <gtest/gtest.h>

#include "firmware/gpio/fake.hpp"

using namespace classcam::gpio;
using namespace std::chrono_literals;

namespace {
constexpr Clock::time_point t0{std::chrono::seconds(10)};
}

TEST(Gestures, ShortPressReportsPressThenShortWithItsDuration) {
  GestureDetector d(1500ms, 30ms);
  auto g = d.edge({true, t0});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GestureKind::press);
  EXPECT_EQ(d.deadline(), t0 + 1500ms);
  EXPECT_FALSE(d.tick(t0 + 1000ms));
  g = d.edge({false, t0 + 400ms});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GestureKind::short_press);
  EXPECT_EQ(g->held, 400ms);
  EXPECT_FALSE(d.deadline());
}

TEST(Gestures, LongPressIsReportedWhileHeldAndOnlyOnce) {
  GestureDetector d(1500ms, 30ms);
  ASSERT_TRUE(d.edge({true, t0}));
  const auto g = d.tick(t0 + 1500ms);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GestureKind::long_press);
  EXPECT_FALSE(d.tick(t0 + 1600ms));
  EXPECT_FALSE(d.edge({false, t0 + 3000ms})) << "the release after a long press is not a short press";
}

TEST(Gestures, ReleaseAfterTheLongThresholdWithoutATickIsStillLong) {
  GestureDetector d(1500ms, 30ms);
  ASSERT_TRUE(d.edge({true, t0}));
  const auto g = d.edge({false, t0 + 2000ms});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GestureKind::long_press);
}

TEST(Gestures, BounceIsIgnored) {
  GestureDetector d(1500ms, 30ms);
  ASSERT_TRUE(d.edge({true, t0}));
  EXPECT_FALSE(d.edge({false, t0 + 5ms}));   // bounce
  EXPECT_FALSE(d.edge({true, t0 + 10ms}));   // no change of level
  EXPECT_FALSE(d.edge({false, t0 + 20ms}));  // bounce
  EXPECT_TRUE(d.pressed());
  const auto g = d.edge({false, t0 + 300ms});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GestureKind::short_press);
  EXPECT_FALSE(d.edge({true, t0 + 310ms})) << "release bounce";
  EXPECT_TRUE(d.edge({true, t0 + 400ms}));
}

TEST(Gestures, ButtonGesturesFiresTheLongPressFromATimer) {
  boost::asio::io_context io;
  FakeButton button;
  std::vector<Gesture> seen;
  ButtonGestures gestures(io, button, 300ms, 10ms, [&](const Gesture& g) { seen.push_back(g); });
  button.press();
  io.run_for(600ms);  // the timer fires while the button is still down
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, GestureKind::press);
  EXPECT_EQ(seen[1].kind, GestureKind::long_press);
  EXPECT_GE(seen[1].held, 300ms);
  button.release();
  EXPECT_EQ(seen.size(), 2u);
  io.restart();
  const auto later = Clock::now() + 50ms;  // past the debounce time of the last release
  button.press(later);
  button.release(later + 100ms);
  io.run_for(400ms);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].kind, GestureKind::short_press);
}
