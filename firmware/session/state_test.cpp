#include "firmware/session/state.hpp"

#include <gtest/gtest.h>

#include "firmware/session/button.hpp"
#include "firmware/session/led.hpp"

using namespace classcam;
using namespace classcam::session;
using S = protocol::RecorderState;

TEST(StateMachine, TransitionTable) {
  const S all[] = {S::idle, S::starting, S::recording, S::stopping, S::error, S::offline};
  const std::set<std::pair<S, S>> allowed = {
      {S::idle, S::starting},      {S::starting, S::recording}, {S::starting, S::stopping}, {S::starting, S::error},
      {S::recording, S::stopping}, {S::stopping, S::idle},      {S::stopping, S::error},    {S::error, S::starting}};
  for (S from : all) {
    for (S to : all) {
      EXPECT_EQ(transition_allowed(from, to), allowed.count({from, to}) == 1)
          << protocol::to_string(from) << " -> " << protocol::to_string(to);
    }
  }
}

TEST(StateMachine, ANormalSessionAndAFailedOne) {
  StateMachine m;
  EXPECT_EQ(m.state(), S::idle);
  ASSERT_TRUE(m.go(S::starting).ok());
  ASSERT_TRUE(m.go(S::recording).ok());
  EXPECT_FALSE(m.go(S::idle).ok()) << "a recording ends through stopping";
  ASSERT_TRUE(m.go(S::stopping).ok());
  ASSERT_TRUE(m.go(S::idle).ok());
  EXPECT_FALSE(m.reason());

  ASSERT_TRUE(m.go(S::starting).ok());
  const auto no_reason = m.go(S::error);
  ASSERT_FALSE(no_reason.ok());
  EXPECT_NE(no_reason.error().message.find("needs a reason"), std::string::npos);
  ASSERT_TRUE(m.go(S::error, "libcamera found no camera").ok());
  EXPECT_EQ(m.reason(), "libcamera found no camera");
  ASSERT_TRUE(m.go(S::starting).ok()) << "a new start leaves the error state";
  EXPECT_FALSE(m.reason());
}

TEST(ButtonPolicy, Gestures) {
  using gpio::GestureKind;
  ButtonPolicy p;
  const gpio::Gesture press{GestureKind::press, {}};
  const gpio::Gesture shortp{GestureKind::short_press, std::chrono::milliseconds(200)};
  const gpio::Gesture longp{GestureKind::long_press, std::chrono::milliseconds(1500)};
  // Idle: a press starts; its release (while recording by then) is not a bookmark.
  EXPECT_EQ(p.on_gesture(press, S::idle), ButtonAction::start);
  EXPECT_EQ(p.on_gesture(shortp, S::recording), ButtonAction::none);
  // A long press that started the recording does not stop it either.
  EXPECT_EQ(p.on_gesture(press, S::idle), ButtonAction::start);
  EXPECT_EQ(p.on_gesture(longp, S::recording), ButtonAction::none);
  // Recording: short = bookmark, long = stop.
  EXPECT_EQ(p.on_gesture(press, S::recording), ButtonAction::none);
  EXPECT_EQ(p.on_gesture(shortp, S::recording), ButtonAction::bookmark);
  EXPECT_EQ(p.on_gesture(press, S::recording), ButtonAction::none);
  EXPECT_EQ(p.on_gesture(longp, S::recording), ButtonAction::stop);
  // After an error the button starts again; while starting or stopping it does nothing.
  EXPECT_EQ(p.on_gesture(press, S::error), ButtonAction::start);
  EXPECT_EQ(p.on_gesture(press, S::starting), ButtonAction::none);
  EXPECT_EQ(p.on_gesture(longp, S::starting), ButtonAction::none);
  EXPECT_EQ(p.on_gesture(press, S::stopping), ButtonAction::none);
}

TEST(Led, LitWheneverTheCameraIsInUse) {
  protocol::UnitState s;
  for (S st : {S::idle, S::error}) {
    s.state = st;
    EXPECT_FALSE(recording_led_on(s, false)) << protocol::to_string(st);
    EXPECT_TRUE(recording_led_on(s, true)) << "an idle snapshot lights it too";
  }
  for (S st : {S::starting, S::recording, S::stopping}) {
    s.state = st;
    EXPECT_TRUE(recording_led_on(s, false)) << protocol::to_string(st);
  }
  s.state = S::idle;
  s.streaming = true;
  EXPECT_TRUE(recording_led_on(s, false)) << "streaming";
}
