// Live observation in the browser with every part real: classcam-hub (its Mosquitto, and coturn for
// TURN), classcamd with the test picture and the latency strip, and Debian's Chromium inside a network
// namespace of the test's own (Chromium gathers no loopback candidates: the hub serves HTTPS and ICE
// on the namespace's host address). The browser steps are in live.mjs.
//
// Threading: the main thread waits for node; a helper thread does what the network and the test's
// own checks do (a blip of the namespace's link, reading coturn's log) when live.mjs asks by creating
// a file, and answers with `<name>.done`.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "tests/e2e/processes.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/tempdir.hpp"
#include "tests/support/tone.hpp"
#include "tests/support/turn.hpp"
#include "tests/support/udp_impair.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

fs::path browser_dir() { return fs::path(CLASSCAM_SOURCE_DIR) / "tests/browser"; }

std::string id_of(const std::string& output) {
  std::smatch m;
  return std::regex_search(output, m, std::regex("\\(id ([^)]+)\\)")) ? m[1].str() : "";
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

TEST(BrowserLive, InvitedCoachAndTeacherWatchTheUnitLiveOthersAreRefused) {
  if (!fs::exists(browser_dir() / "node_modules/playwright-core"))
    GTEST_FAIL() << "playwright-core is missing: run `npm ci` in tests/browser (scripts/test does it)";
  std::string why;
  if (!test::NetNamespace::available(&why)) GTEST_SKIP() << why;
  test::TempDir dir{"browser-live"};
  test::NetNamespace ns("cclive");
  const std::string ip = ns.host_address();

  test::TurnServer::Options turn_options;
  turn_options.address = ip;
  test::TurnServer turn(turn_options);
  // The page reaches TURN through our UDP relay, which impairs the browser's leg when asked (this kernel
  // has no netem): clean until then.
  test::UdpImpairRelay lossy(ip, 0, ip, turn.port(), test::Impairment{});
  // TURN over TCP on the relay's port number (a TCP port apart from the UDP one): where the page goes
  // when UDP is blocked.
  test::TurnServer::Options tcp_options = turn_options;
  tcp_options.port = lossy.port();
  tcp_options.udp = false;
  test::TurnServer turn_tcp(tcp_options);
  const std::string live_config = "[live]\nice_addresses = [\"" + ip + "\"]\ngrace_s = 5\nturn_server = \"" + ip + ":" +
                                  std::to_string(lossy.port()) + "\"\nturn_secret = \"" + turn_options.secret + "\"\n";
  e2e::HubProcess hub(dir / "hub", true, live_config, ip);
  hub.start();
  if (HasFatalFailure()) return;

  std::map<std::string, std::string> passwords, ids;
  for (const auto& [login, role, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"khan", "teacher", "Ms Khan"},
                                                                      {"jones", "coach", "Mr Jones"},
                                                                      {"smith", "coach", "Mx Smith"},
                                                                      {"tech", "technician", "Sam Tech"}}) {
    const auto r = hub.admin({"user", "add", "--login", login, "--role", role, "--name", name});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    passwords[login] = e2e::field(r.output, "password");
    ids[login] = id_of(r.output);
    ASSERT_FALSE(passwords[login].empty() || ids[login].empty()) << r.output;
  }
  const auto token = [&](const std::string& login) {
    const auto t = hub.admin({"token", "create", "--login", login});
    EXPECT_EQ(t.exit_code, 0) << t.output;
    return t.output.substr(0, t.output.find('\n'));
  };
  const std::string teacher_token = token("khan");
  const std::string tech_token = token("tech");
  ASSERT_EQ(hub.admin({"room", "add", "--name", "Room 12", "--default-teacher", "khan"}).exit_code, 0);
  const auto added = hub.admin({"unit", "add", "--name", "Room 12 camera", "--room", "Room 12", "--id", "room-12"});
  ASSERT_EQ(added.exit_code, 0) << added.output;

  // A picture the strip survives and Chromium decodes: the recording's own High-profile H.264.
  e2e::UnitProcess::Picture picture;
  picture.width = 640;
  picture.height = 360;
  picture.preset = "veryfast";
  picture.bitrate_kbps = 1200;
  picture.latency_strip = true;
  // The teacher's earpiece is a WAV file here (this machine has no sound card).
  const fs::path earpiece = dir / "earpiece.wav";
  e2e::UnitProcess unit(dir / "unit", picture, "[live]\ntalkback = \"file:" + earpiece.string() + "\"\n");
  unit.start();
  if (HasFatalFailure()) return;
  {
    auto c = hub.client(tech_token);
    const auto r =
        c.request("POST", "/api/v1/units/room-12/pairing-code", "{}", {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 201) << r.body;
    const auto e = unit.ctl({"enroll", "--hub", hub.url(), "--code", r.json()["code"].get<std::string>()});
    ASSERT_EQ(e.exit_code, 0) << e.output << unit.output();
    ASSERT_TRUE(
        test::wait_until([&] { return hub.get(tech_token, "/api/v1/units/room-12").value("online", false); }, 30s))
        << unit.output() << hub.output();
  }
  std::string room_id;
  const auto rooms = hub.get(teacher_token, "/api/v1/rooms");
  for (const auto& r : rooms.value("rooms", e2e::Json::array())) room_id = r["id"];
  ASSERT_FALSE(room_id.empty()) << rooms.dump() << hub.output();
  {
    // The lesson under way, Mr Jones invited (Mx Smith is not).
    const auto now = std::chrono::system_clock::now();
    const e2e::Json body = {{"room_id", room_id},
                            {"title", "Year 8 maths"},
                            {"start", rfc3339(now + 2s)},
                            {"end", rfc3339(now + 40min)},
                            {"coach_ids", {ids["jones"]}}};
    auto c = hub.client(teacher_token);
    const auto r = c.request("POST", "/api/v1/observations", body.dump(), {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::this_thread::sleep_for(3s);  // the lesson has begun

  std::atomic<bool> done{false};
  std::string helper_log;
  std::size_t talk_from = 0;
  int loud_blocks = 0;
  std::thread helper([&] {
    std::set<std::string> handled;
    while (!done) {
      for (const std::string what :
           {"blip", "relay-check", "talk-start", "talk-heard", "impair", "clear", "block-udp", "unblock-udp"}) {
        if (handled.count(what) != 0 || !fs::exists(dir / what)) continue;
        handled.insert(what);
        if (what == "blip") {
          try {
            ns.blip(4s);
            helper_log += "blip: the namespace's link was down for 4 s\n";
          } catch (const std::exception& e) {
            helper_log += std::string("blip failed: ") + e.what() + "\n";
          }
        } else if (what == "block-udp" || what == "unblock-udp") {
          try {
            ns.block_udp(what == "block-udp");
            helper_log += what + ": done\n";
          } catch (const std::exception& e) {
            helper_log += what + " failed: " + e.what() + "\n";
          }
        } else if (what == "impair") {
          lossy.set(test::Impairment{0.02, 50, 0});
          helper_log += "the browser's leg: 2 % loss and 50 ms delay each way\n";
        } else if (what == "clear") {
          lossy.set(test::Impairment{});
          helper_log += "the browser's leg: " + std::to_string(lossy.dropped()) + " of " +
                        std::to_string(lossy.dropped() + lossy.forwarded()) + " datagrams dropped\n";
        } else if (what == "talk-start") {
          talk_from = test::read_wav(earpiece).samples.size();
        } else if (what == "talk-heard") {
          // Chromium's fake microphone beeps: blocks of 10 ms well above the silence before.
          const auto wav = test::read_wav(earpiece);
          const std::size_t block = wav.rate / 100;
          for (std::size_t i = talk_from; block > 0 && i + block <= wav.samples.size(); i += block) {
            if (test::tone_level(wav.samples.data() + i, block, wav.rate, 1000).rms > 300) ++loud_blocks;
          }
          helper_log += "talkback: " + std::to_string(loud_blocks) + " loud 10 ms blocks in the earpiece of " +
                        std::to_string((wav.samples.size() - std::min(talk_from, wav.samples.size())) /
                                       std::max<std::size_t>(block, 1)) +
                        " while the coach talked\n";
        } else {
          helper_log += "TURN allocations: " + std::to_string(turn.allocations()) + "\n";
        }
        test::write_file(dir / (what + ".done"), "");
      }
      std::this_thread::sleep_for(50ms);
    }
  });

  const e2e::Json config = {{"url", hub.url()},
                            {"people",
                             {{"teacher", {{"login", "khan"}, {"password", passwords["khan"]}}},
                              {"coach", {{"login", "jones"}, {"password", passwords["jones"]}}},
                              {"outsider", {{"login", "smith"}, {"password", passwords["smith"]}}},
                              {"technician", {{"login", "tech"}, {"password", passwords["tech"]}}}}},
                            {"unit", "room-12"},
                            {"dir", dir.path().string()}};
  test::write_file(dir / "config.json", config.dump());
  const auto r =
      test::run(ns.wrap({"node", (browser_dir() / "live.mjs").string(), (dir / "config.json").string()}), 360s);
  done = true;
  helper.join();
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- test helper\n"
                            << helper_log << "\n--- hub\n"
                            << hub.output() << "\n--- unit\n"
                            << unit.output();
  std::cout << r.output << helper_log;
  EXPECT_NE(helper_log.find("TURN allocations: "), std::string::npos) << helper_log;
  EXPECT_GT(loud_blocks, 5) << "the coach's microphone did not reach the unit's earpiece\n" << helper_log;
  EXPECT_GT(turn.allocations(), 0) << "the relay-only view did not go through coturn\n" << turn.log();
  EXPECT_GT(turn_tcp.allocations(), 0) << "with UDP blocked the view did not relay over TCP\n" << turn_tcp.log();
  EXPECT_NE(helper_log.find("block-udp: done"), std::string::npos) << helper_log;
  // Every view is audited: who, and how long; the refusals too.
  const auto audit = hub.get(token("admin"), "/api/v1/audit?target_id=room-12&limit=1000");
  std::set<std::string> seen;
  bool coach_watched_for = false;
  for (const auto& e : audit.value("entries", e2e::Json::array())) {
    const std::string action = e["action"];
    seen.insert(action + " " + e["actor_name"].get<std::string>());
    if (action == "live.view.end" && e["actor_name"] == "Mr Jones")
      coach_watched_for = e["detail"].get<std::string>().find(" s; ended by the teacher") != std::string::npos;
  }
  for (const std::string want : {"live.request Mr Jones", "live.consent Ms Khan", "live.view.start Mr Jones",
                                 "live.view.start Ms Khan", "live.view.ended Ms Khan", "live.refused Mx Smith",
                                 "live.refused Mr Jones", "live.preview.start Sam Tech", "live.preview.end Sam Tech"})
    EXPECT_EQ(seen.count(want), 1u) << want << " is not audited: " << audit.dump();
  EXPECT_TRUE(coach_watched_for) << "the coach's view's end says how long and why: " << audit.dump();
}
