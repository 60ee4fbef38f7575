// classcamd with live (issue 12): `live_start` / `live_stop` over the real control socket to a daemon
// enrolled with a test ingest (real HTTPS, a receiving webrtcbin): UnitState.streaming and .live, the
// LED's live pattern, live moving onto a recording that starts, and everything back to idle after.
#include <gtest/gtest.h>

#include <thread>

#include "common/util/uuid.hpp"
#include "firmware/control/client.hpp"
#include "firmware/daemon/daemon_test_support.hpp"
#include "firmware/enroll/enrollment.hpp"
#include "firmware/live/test_ingest.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"

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
