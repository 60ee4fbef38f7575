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

// While live runs, a double press mutes or unmutes talkback and is never also a start or a bookmark; a
// single press still starts or bookmarks, once the double-press window passed; long presses are as ever.
TEST(ButtonPolicy, DoublePressWhileLiveTogglesTalkbackAndNothingElse) {
  using gpio::GestureKind;
  using std::chrono::milliseconds;
  const gpio::Gesture press{GestureKind::press, {}};
  const gpio::Gesture shortp{GestureKind::short_press, milliseconds(120)};
  const gpio::Gesture longp{GestureKind::long_press, milliseconds(1500)};
  const gpio::Clock::time_point t0{};
  const auto at = [&](int ms) { return t0 + milliseconds(ms); };
  {
    // Recording and live: press, release, press again within 400 ms, release: talkback only.
    ButtonPolicy p;
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(0)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, true, at(120)), ButtonAction::none);
    ASSERT_TRUE(p.deadline());
    EXPECT_EQ(*p.deadline(), at(520));
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(300)), ButtonAction::toggle_talkback);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, true, at(420)), ButtonAction::none);
    EXPECT_FALSE(p.deadline());
    EXPECT_EQ(p.tick(at(2000), S::recording), ButtonAction::none) << "no bookmark from a double press";
  }
  {
    // Idle and live (a coach watches, nothing recorded): a double press does not start a recording.
    ButtonPolicy p;
    EXPECT_EQ(p.on_gesture(press, S::idle, true, at(0)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::idle, true, at(100)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(press, S::idle, true, at(350)), ButtonAction::toggle_talkback);
    EXPECT_EQ(p.on_gesture(shortp, S::idle, true, at(450)), ButtonAction::none);
    EXPECT_EQ(p.tick(at(3000), S::idle), ButtonAction::none);
  }
  {
    // A single short press while live still bookmarks, and one while idle still starts, 400 ms later.
    ButtonPolicy p;
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(0)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, true, at(100)), ButtonAction::none);
    EXPECT_EQ(p.tick(at(499), S::recording), ButtonAction::none) << "not yet";
    EXPECT_EQ(p.tick(at(500), S::recording), ButtonAction::bookmark);
    EXPECT_EQ(p.on_gesture(press, S::idle, true, at(1000)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::idle, true, at(1100)), ButtonAction::none);
    EXPECT_EQ(p.tick(at(1500), S::idle), ButtonAction::start);
    // A second press after the window is a new single press, not a double press.
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(2000)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, true, at(2100)), ButtonAction::none);
    EXPECT_EQ(p.tick(at(2500), S::recording), ButtonAction::bookmark);
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(2600)), ButtonAction::none);
  }
  {
    // Long presses while live: stop while recording, start while idle (held: no double press).
    ButtonPolicy p;
    EXPECT_EQ(p.on_gesture(press, S::recording, true, at(0)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(longp, S::recording, true, at(1500)), ButtonAction::stop);
    EXPECT_EQ(p.on_gesture(press, S::idle, true, at(3000)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(longp, S::idle, true, at(4500)), ButtonAction::start);
    EXPECT_FALSE(p.deadline());
  }
  {
    // Without live a double press is what it always was: a start, then (recording) a bookmark.
    ButtonPolicy p;
    EXPECT_EQ(p.on_gesture(press, S::idle, false, at(0)), ButtonAction::start);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, false, at(100)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(press, S::recording, false, at(300)), ButtonAction::none);
    EXPECT_EQ(p.on_gesture(shortp, S::recording, false, at(400)), ButtonAction::bookmark);
  }
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
