// classcamd with live (issue 12): `live_start` / `live_stop` over the real control socket to a daemon
// enrolled with a test ingest (real HTTPS, a receiving webrtcbin): UnitState.streaming and .live, the
// LED's live pattern, live moving onto a recording that starts, and everything back to idle after; and
// talkback muted by the button's double press and by classcamctl.
#include <gtest/gtest.h>

#include <thread>

#include "common/util/uuid.hpp"
#include "firmware/control/client.hpp"
#include "firmware/daemon/daemon_test_support.hpp"
#include "firmware/enroll/enrollment.hpp"
#include "firmware/live/test_ingest.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tone.hpp"

using namespace classcam;
using namespace classcam::daemon::testkit;
using protocol::Json;

namespace {

// Enrols the unit with the ingest as its hub (the broker named does not answer: MQTT just retries).
void enrol(const config::UnitConfig& c, const live::testing::TestIngest& ingest) {
  std::filesystem::create_directories(c.unit.state_dir);
  protocol::EnrollResponse e;
  e.unit_id = "room-12";
  e.unit_name = "Room 12";
  e.api_token = ingest.token();
  e.mqtt_host = "127.0.0.1";
  e.mqtt_port = test::free_port();
  e.mqtt_username = "room-12";
  e.mqtt_password = "secret";
  e.hub_url = ingest.url();
  e.ca_pem = test::read_file(ingest.ca_file());
  ASSERT_TRUE(enroll::save_enrollment(c.unit.state_dir, e).ok());
}

// A control request from another thread while the test runs the daemon's loop.
Json ask(Harness& h, const std::filesystem::path& socket, const Json& request) {
  std::optional<std::variant<Json, control::CallError>> out;
  std::thread t([&] { out = control::call(socket, request, std::chrono::seconds(30)); });
  h.run_until([&] { return out.has_value(); }, 40s);
  t.join();
  if (!out || std::holds_alternative<control::CallError>(*out)) return Json{{"ok", false}, {"error", "no answer"}};
  return std::get<Json>(*out);
}

}  // namespace

TEST(DaemonLive, ClasscamctlLiveStartAndStopWithTheLedStateAndARecordingInBetween) {
  test::TempDir dir;
  live::testing::TestIngest ingest(dir / "hub");
  const auto cfg = test_config(dir);
  enrol(cfg, ingest);
  Harness h(cfg);

  const Json started = ask(h, cfg.control.socket, {{"cmd", "live_start"}, {"max_s", 600}});
  ASSERT_TRUE(started.value("ok", false)) << started.dump();
  const std::string live_id = started.value("live_id", "");
  EXPECT_FALSE(live_id.empty());
  auto st = h.daemon_->controller().unit_state();
  EXPECT_TRUE(st.streaming);
  ASSERT_TRUE(st.live);
  EXPECT_EQ(st.live->live_id, live_id);
  EXPECT_EQ(st.state, RecorderState::idle) << "live without a recording";
  ASSERT_TRUE(h.run_until([&] { return ingest.video_frames() >= 30; }, 20s)) << ingest.video_frames();
  // The LED: lit, in its live pattern (lit with short dark winks), never steadily off.
  h.run_for(3200ms);
  EXPECT_TRUE(h.led_->history().size() >= 4) << "the live pattern";
  EXPECT_EQ(h.led_->history().at(1), true);

  // A recording starts: live moves onto it with the same live_id.
  start_session(h);
  ASSERT_TRUE(h.run_until([&] { return ingest.posts() == 2; }, 20s));
  EXPECT_EQ(ingest.requests().back().header("Classcam-Live-Id"), live_id);
  const auto frames = ingest.video_frames();
  EXPECT_TRUE(h.run_until([&] { return ingest.video_frames() >= frames + 20; }, 20s));
  EXPECT_TRUE(h.daemon_->controller().unit_state().streaming);

  const Json stopped = ask(h, cfg.control.socket, {{"cmd", "live_stop"}});
  ASSERT_TRUE(stopped.value("ok", false)) << stopped.dump();
  st = h.daemon_->controller().unit_state();
  EXPECT_FALSE(st.streaming);
  EXPECT_FALSE(st.live);
  EXPECT_EQ(st.state, RecorderState::recording) << "the recording goes on";
  EXPECT_TRUE(h.run_until([&] { return ingest.deletes() >= 1; }, 10s));
  EXPECT_TRUE(h.led_->on()) << "steadily lit: recording";

  const Json status = ask(h, cfg.control.socket, {{"cmd", "status"}});
  EXPECT_TRUE(status.value("ok", false));
}

TEST(DaemonLive, LiveStartWithoutEnrolmentIsRefused) {
  test::TempDir dir;
  const auto cfg = test_config(dir);
  Harness h(cfg);
  const Json r = ask(h, cfg.control.socket, {{"cmd", "live_start"}});
  EXPECT_FALSE(r.value("ok", true));
  EXPECT_NE(r.value("error", "").find("not enrolled"), std::string::npos) << r.dump();
  EXPECT_FALSE(h.daemon_->controller().unit_state().streaming);
  EXPECT_FALSE(h.led_->on());
}

// Talkback in the earpiece (a file sink here): the button's double press mutes it at once, tells the hub
// and shows in UnitState; classcamctl live unmute|mute do the same; a single press still starts a
// recording once the double-press window passed.
TEST(DaemonLive, ADoublePressOrClasscamctlMutesTalkbackAtOnce) {
  test::TempDir dir;
  live::testing::TestIngest ingest(dir / "hub");
  ingest.send_talkback(1000);
  auto cfg = test_config(dir);
  const auto wav = dir / "earpiece.wav";
  cfg.live.talkback = "file:" + wav.string();
  enrol(cfg, ingest);
  Harness h(cfg);
  const auto heard_since = [&](std::size_t from) {
    return test::tone_samples(test::read_wav(wav).samples, 48000, 1000, from);
  };
  const auto samples = [&] { return test::read_wav(wav).samples.size(); };

  const Json refused = ask(h, cfg.control.socket, {{"cmd", "live_mute"}});
  EXPECT_FALSE(refused.value("ok", true)) << "no live, nothing to mute";
  ASSERT_TRUE(ask(h, cfg.control.socket, {{"cmd", "live_start"}}).value("ok", false));
  ASSERT_TRUE(ingest.talk(true));
  ASSERT_TRUE(h.run_until([&] { return heard_since(0) >= 9600; }, 10s)) << "the talkback never played";

  // Double press: down, up after 80 ms, down again 150 ms later, up.
  h.button_->press();
  h.run_for(80ms);
  h.button_->release();
  h.run_for(150ms);
  const std::size_t at_mute = samples();
  h.button_->press();
  h.run_for(80ms);
  h.button_->release();
  auto st = h.daemon_->controller().unit_state();
  ASSERT_TRUE(st.live);
  EXPECT_TRUE(st.live->talkback_muted);
  h.run_for(700ms);
  EXPECT_LE(heard_since(at_mute), 4800u) << "more than 100 ms of talkback after the double press";
  EXPECT_EQ(h.state(), RecorderState::idle) << "a double press is not a start";
  const auto told = [&](const std::string& body) {
    for (const auto& r : ingest.requests()) {
      if (r.method == "POST" && r.target.ends_with("/mute") && r.body == body) return true;
    }
    return false;
  };
  EXPECT_TRUE(h.run_until([&] { return told(R"({"muted":true})"); }, 5s)) << "the hub was not told";

  const Json unmuted = ask(h, cfg.control.socket, {{"cmd", "live_unmute"}});
  EXPECT_EQ(unmuted.value("talkback_muted", true), false) << unmuted.dump();
  const std::size_t at_unmute = samples();
  EXPECT_TRUE(h.run_until([&] { return heard_since(at_unmute) >= 4800; }, 5s));
  EXPECT_TRUE(h.run_until([&] { return told(R"({"muted":false})"); }, 5s));
  const Json muted = ask(h, cfg.control.socket, {{"cmd", "live_mute"}});
  EXPECT_EQ(muted.value("talkback_muted", false), true) << muted.dump();
  const std::size_t at_ctl_mute = samples();
  h.run_for(500ms);
  EXPECT_LE(heard_since(at_ctl_mute), 4800u);

  // One short press while live: a recording starts, 400 ms after the button came up.
  h.button_->press();
  h.run_for(80ms);
  h.button_->release();
  EXPECT_EQ(h.state(), RecorderState::idle) << "held back: it could have been a double press";
  EXPECT_TRUE(h.run_until([&] { return h.state() != RecorderState::idle; }, 3s));
  EXPECT_TRUE(h.run_until([&] { return h.state() == RecorderState::recording; }, 20s));
}
