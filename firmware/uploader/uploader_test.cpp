// The uploader against a real hub in the test process (real TLS, real tus, real SQLite), with a TCP
// proxy in between to cut connections mid-upload, and hub restarts.
#include "firmware/uploader/uploader.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <future>
#include <random>

#include "hub/testing/test_hub.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUnit = "room-12";

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Changes a session before it is written: its info and its segments' durations (ns).
using Tweak = std::function<void(protocol::SessionInfo&, std::vector<std::int64_t>&)>;

// A unit's spool with one ended session of segments of the given sizes (random bytes: the hub checks
// sizes and SHA-256, not the media).
struct UnitSpool {
  explicit UnitSpool(const std::vector<std::size_t>& sizes, std::uint32_t seed = 1, const Tweak& tweak = {}) {
    spool::Spool sp(config());
    EXPECT_TRUE(sp.open());
    info = write_session(sp, sizes, seed, tweak);
    service = std::make_unique<spool::SpoolService>(io, pool, std::move(sp));
  }
  ~UnitSpool() { pool.join(); }
  config::UnitConfig::Spool config() const {
    config::UnitConfig::Spool c;
    c.dir = dir / "spool";
    c.max_percent = 99;
    return c;
  }
  static protocol::SessionInfo write_session(spool::Spool& sp, const std::vector<std::size_t>& sizes,
                                             std::uint32_t seed, const Tweak& tweak) {
    protocol::SessionInfo s;
    s.session_id = fmt::format("5e55{:04}-0000-4000-8000-000000000000", seed);
    s.unit_id = kUnit;
    s.trigger = protocol::Trigger::local;
    s.started_at = util::now_utc() + std::chrono::seconds(seed);
    s.segment_duration_ms = 1000;
    s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 320, 240, 25, 500};
    std::vector<std::int64_t> durations(sizes.size(), 1'000'000'000);
    if (tweak) tweak(s, durations);
    EXPECT_TRUE(sp.begin_session(s));
    for (std::uint32_t i = 0; i < sizes.size(); ++i) {
      test::write_file(sp.session_dir(s.session_id) / spool::Spool::temp_name(i),
                       random_bytes(sizes[i], seed * 100 + i));
      EXPECT_TRUE(
          sp.close_segment(s.session_id, i, 1'000'000'000LL * i, durations[i], s.started_at + std::chrono::seconds(i)));
    }
    EXPECT_TRUE(sp.end_session(s.session_id, util::now_utc() + std::chrono::seconds(seed), "stopped"));
    return s;
  }
  // Another ended session in the same spool (through the service: the spool is its now).
  protocol::SessionInfo add_session(const std::vector<std::size_t>& sizes, std::uint32_t seed,
                                    const Tweak& tweak = {}) {
    std::promise<protocol::SessionInfo> p;
    service->run([&](spool::Spool& s) { p.set_value(write_session(s, sizes, seed, tweak)); });
    return p.get_future().get();
  }
  // As after a restart of classcamd: the spool is read again from disk.
  void reopen() {
    std::promise<void> idle;  // the strand has nothing left in flight once this has run
    service->run([&](spool::Spool&) { idle.set_value(); });
    idle.get_future().wait();
    service.reset();
    spool::Spool sp(config());
    EXPECT_TRUE(sp.open());
    service = std::make_unique<spool::SpoolService>(io, pool, std::move(sp));
  }
  std::filesystem::path segment(std::uint32_t i, const protocol::SessionInfo* of = nullptr) const {
    return spool::Spool::session_dir_in(dir / "spool", (of ? *of : info).session_id) / spool::Spool::segment_name(i);
  }
  std::set<std::uint32_t> uploaded(const protocol::SessionInfo* of = nullptr) {
    std::promise<std::set<std::uint32_t>> p;
    const std::string id = (of ? *of : info).session_id;
    service->run([&](spool::Spool& s) { p.set_value(s.manifest(id)->uploaded); });
    return p.get_future().get();
  }
  std::map<std::uint32_t, spool::SetAside> set_aside() {
    std::promise<std::map<std::uint32_t, spool::SetAside>> p;
    service->run([&](spool::Spool& s) { p.set_value(s.manifest(info.session_id)->set_aside); });
    return p.get_future().get();
  }

  test::TempDir dir{"unit-test"};
  boost::asio::io_context io;
  boost::asio::thread_pool pool{1};
  protocol::SessionInfo info;
  std::unique_ptr<spool::SpoolService> service;
};

hub::testkit::TestHub make_hub_on_fixed_port() {
  test::TempDir tmp;  // only for the path of the config; TestHub puts state in its own dir
  auto c = hub::testkit::test_config(tmp.path());
  c.http.port = test::free_port();
  return hub::testkit::TestHub(c);
}

uploader::Settings settings(std::uint16_t port, const hub::testkit::TestHub& hub, const std::string& token,
                            const std::filesystem::path& state_dir) {
  uploader::Settings s;
  s.hub = *net::parse_url("https://127.0.0.1:" + std::to_string(port));
  s.ca_file = hub.ca_file();
  s.token = token;
  s.unit_id = kUnit;
  s.state_dir = state_dir;
  s.upload.chunk_bytes = 128 * 1024;
  s.upload.retry_min_s = 0;  // 0 s base: retries at once (tests)
  s.upload.retry_max_s = 1;
  return s;
}

// What the hub holds of the session, asked as the unit.
std::set<int> received(hub::testkit::TestHub& hub, const std::string& token, const std::string& session_id) {
  auto c = hub.client(token);
  const auto r = c.request("GET", "/api/v1/unit/sessions/" + session_id);
  std::set<int> out;
  if (r.status != 200) {
    ADD_FAILURE() << "GET session: " << r.status << " " << r.body;
    return out;
  }
  const auto j = r.json();  // not r.json()["received"] in the loop: the temporary would dangle
  for (const auto& i : j.at("received")) out.insert(i.get<int>());
  return out;
}

std::set<int> all(int n) {
  std::set<int> s;
  for (int i = 0; i < n; ++i) s.insert(i);
  return s;
}

}  // namespace

TEST(Uploader, UploadsEverySegmentInOrderAndMarksThemOnlyWhenConfirmed) {
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  // Two small segments (creation-with-upload), three larger than a chunk (POST then PATCHes).
  UnitSpool spool({50'000, 300'000, 90'000, 400'000, 260'000});
  uploader::Uploader up(*spool.service, settings(hub.port(), hub, unit.token, spool.dir / "state"));
  up.start();
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 5; }, 60s)) << up.status().last_error;
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), all(5));
  ASSERT_TRUE(test::wait_until([&] { return up.status().state == "idle"; }, 10s));
  const auto st = up.status();
  EXPECT_EQ(st.uploaded_segments, 5u);
  EXPECT_EQ(st.uploaded_bytes, 1'100'000u);
  EXPECT_EQ(st.sent_bytes, 1'100'000u) << "nothing sent twice without cuts";
  EXPECT_EQ(st.backlog_segments, 0u);
  EXPECT_TRUE(st.last_error.empty());
  // The uploader never deletes: eviction is the spool's, under its quota, of confirmed segments only.
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_TRUE(std::filesystem::exists(spool.segment(i)));
  // The end was announced: the hub expects exactly these segments.
  auto c = hub.client(unit.token);
  const auto r = c.request("GET", "/api/v1/unit/sessions/" + spool.info.session_id);
  EXPECT_EQ(r.json()["expected_segments"], 5) << r.body;
}

TEST(Uploader, ConnectionsCutMidUploadLoseNoSegmentAndNothingIsMarkedWhileTheHubIsAway) {
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  test::TcpProxy proxy(hub.port());
  proxy.set_blocked(true);
  UnitSpool spool({700'000, 500'000, 30'000, 900'000, 650'000, 40'000});
  uploader::Uploader up(*spool.service, settings(proxy.port(), hub, unit.token, spool.dir / "state"));
  up.start();
  // Hub unreachable: failures, backoff, nothing confirmed, every file still there.
  ASSERT_TRUE(test::wait_until([&] { return up.status().failures >= 2; }, 20s));
  EXPECT_TRUE(spool.uploaded().empty());
  EXPECT_FALSE(up.status().last_error.empty());

  // Every connection is dropped after 300 kB of requests: each large segment needs several connections.
  proxy.cut_after(300'000);
  proxy.set_blocked(false);
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 6; }, 120s)) << up.status().last_error;
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), all(6));
  EXPECT_GE(proxy.cuts(), 4u);
  const auto st = up.status();
  EXPECT_EQ(st.uploaded_bytes, 2'820'000u);
  std::cout << "cuts: " << proxy.cuts() << ", bytes re-sent: " << st.resent_bytes << ", sent: " << st.sent_bytes
            << "\n";
}

TEST(Uploader, AHubRestartMidUploadResumesFromTheHubsOffset) {
  auto hub = make_hub_on_fixed_port();
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  UnitSpool spool({4'000'000});
  auto s = settings(hub.port(), hub, unit.token, spool.dir / "state");
  s.upload.chunk_bytes = 256 * 1024;
  s.upload.bandwidth_kbps = 8 * 1000;  // 1 MB/s: the restart lands mid-upload
  uploader::Uploader up(*spool.service, s);
  up.start();
  ASSERT_TRUE(test::wait_until([&] { return up.status().sent_bytes >= 1'500'000; }, 30s));
  hub.restart();
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 1; }, 60s)) << up.status().last_error;
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), all(1));
  const auto st = up.status();
  EXPECT_GE(st.failures, 1u);
  // Resumed at the hub's offset: at most the chunk in flight went twice, not the 1.5 MB before it.
  EXPECT_LE(st.resent_bytes, 2u * 256 * 1024) << "sent " << st.sent_bytes;
  EXPECT_LT(st.sent_bytes, 4'000'000u + 2 * 256 * 1024);
}

TEST(Uploader, ASegmentWhoseBytesNoLongerMatchIsSetAsideAndLaterOnesStillGo) {
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  UnitSpool spool({200'000, 200'000, 200'000});
  // Segment 1 rots on the card after its manifest line was written: its SHA-256 no longer matches.
  {
    auto bytes = test::read_file(spool.segment(1));
    bytes[1000] = static_cast<char>(bytes[1000] ^ 0x55);
    test::write_file(spool.segment(1), bytes);
  }
  uploader::Uploader up(*spool.service, settings(hub.port(), hub, unit.token, spool.dir / "state"));
  up.start();
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 2; }, 60s)) << up.status().last_error;
  EXPECT_EQ(spool.uploaded(), (std::set<std::uint32_t>{0, 2}));
  ASSERT_TRUE(test::wait_until([&] { return up.status().set_aside == 1; }, 10s));
  EXPECT_NE(up.status().last_error.find("set aside"), std::string::npos) << up.status().last_error;
  EXPECT_TRUE(std::filesystem::exists(spool.segment(1))) << "the file is kept";
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), (std::set<int>{0, 2}));
}

TEST(Uploader, AMissingOrUnreadableSegmentIsSetAsideRememberedAcrossARestartAndTriedAgainLater) {
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  UnitSpool spool({100'000, 100'000, 300'000, 100'000});
  // Segment 0's file is gone (a card that lost it); segment 1's cannot be read (open works, read fails).
  const auto kept = test::read_file(spool.segment(0));
  std::filesystem::remove(spool.segment(0));
  std::filesystem::remove(spool.segment(1));
  std::filesystem::create_directories(spool.segment(1));
  auto s = settings(hub.port(), hub, unit.token, spool.dir / "state");
  s.set_aside_retry_min = std::chrono::hours(1);
  {
    uploader::Uploader up(*spool.service, s);
    up.start();
    // The later segments are not held up by the oldest ones.
    ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 2; }, 60s)) << up.status().last_error;
    EXPECT_EQ(spool.uploaded(), (std::set<std::uint32_t>{2, 3}));
    ASSERT_TRUE(test::wait_until([&] { return up.status().state == "idle"; }, 10s));
    const auto st = up.status();
    EXPECT_EQ(st.set_aside, 2u);
    EXPECT_EQ(st.backlog_segments, 2u);
    EXPECT_NE(st.last_error.find("set aside"), std::string::npos) << st.last_error;
    EXPECT_NE(st.last_error.find("seg-0000"), std::string::npos) << "names the file: " << st.last_error;
    EXPECT_EQ(up.status_json()["set_aside"], 2);
  }
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), (std::set<int>{2, 3}));

  // Restarted, with segment 0's file back: it is not tried before its time, which the spool kept.
  test::write_file(spool.segment(0), kept);
  spool.reopen();
  const auto aside = spool.set_aside();
  ASSERT_EQ(aside.size(), 2u);
  EXPECT_EQ(aside.at(0).attempts, 1u);
  EXPECT_GT(aside.at(0).retry_at, util::now_utc() + std::chrono::minutes(30));
  EXPECT_NE(aside.at(1).reason.find("not a regular file"), std::string::npos) << aside.at(1).reason;
  {
    uploader::Uploader up(*spool.service, s);
    up.start();
    ASSERT_TRUE(test::wait_until([&] { return up.status().state == "idle"; }, 20s)) << up.status().last_error;
    EXPECT_EQ(up.status().set_aside, 2u);
    EXPECT_EQ(spool.uploaded(), (std::set<std::uint32_t>{2, 3}));
    EXPECT_EQ(spool.set_aside().at(0).attempts, 1u) << "not tried again before its time";
  }

  // Segment 0's time comes (as if an hour passed): it goes; segment 1 stays set aside.
  {
    std::promise<bool> p;
    spool.service->run([&](spool::Spool& sp) {
      p.set_value(sp.set_aside(spool.info.session_id, 0, "test: due now", util::now_utc()).ok());
    });
    ASSERT_TRUE(p.get_future().get());
    spool.reopen();
  }
  s.set_aside_retry_min = std::chrono::seconds(1);
  uploader::Uploader up(*spool.service, s);
  up.start();
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded().size() == 3; }, 60s)) << up.status().last_error;
  EXPECT_EQ(received(hub, unit.token, spool.info.session_id), (std::set<int>{0, 2, 3}));
  ASSERT_TRUE(test::wait_until([&] { return up.status().state == "idle"; }, 20s)) << up.status().last_error;
  EXPECT_EQ(up.status().set_aside, 1u);
  EXPECT_EQ(spool.set_aside().at(1).attempts, 1u) << "segment 1's time has not come";
  EXPECT_TRUE(std::filesystem::is_directory(spool.segment(1))) << "nothing is deleted";
}

TEST(Uploader, ASegmentOrASessionTheHubRefusesIsSetAsideAndTheRestGoes) {
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Room 12").id);
  // Segment 1 says it lasts 286,331,153 s (as recovery once computed from a corrupt trun): the hub
  // refuses it with a 400. An older session the hub refuses altogether (its segment length is out of
  // range), and the session after them, must not hold anything up either.
  UnitSpool spool({100'000, 100'000, 100'000}, 2,
                  [](protocol::SessionInfo&, std::vector<std::int64_t>& d) { d[1] = 286'331'153'000'000'000; });
  const auto refused = spool.add_session(
      {100'000}, 1, [](protocol::SessionInfo& i, std::vector<std::int64_t>&) { i.segment_duration_ms = 0; });
  const auto next = spool.add_session({100'000, 100'000}, 3);
  uploader::Uploader up(*spool.service, settings(hub.port(), hub, unit.token, spool.dir / "state"));
  up.start();
  ASSERT_TRUE(test::wait_until([&] { return spool.uploaded(&next).size() == 2; }, 60s)) << up.status().last_error;
  EXPECT_EQ(spool.uploaded(), (std::set<std::uint32_t>{0, 2}));
  EXPECT_EQ(received(hub, unit.token, next.session_id), all(2));
  ASSERT_TRUE(test::wait_until([&] { return up.status().set_aside == 1; }, 10s));
  const auto aside = spool.set_aside();
  ASSERT_EQ(aside.count(1), 1u);
  EXPECT_NE(aside.at(1).reason.find("HTTP 400"), std::string::npos) << aside.at(1).reason;
  EXPECT_NE(up.status().last_error.find("set aside"), std::string::npos) << up.status().last_error;
  EXPECT_TRUE(std::filesystem::exists(spool.segment(1))) << "the file is kept";
  EXPECT_TRUE(spool.uploaded(&refused).empty());
  EXPECT_TRUE(std::filesystem::exists(spool.segment(0, &refused)));
}

TEST(Uploader, ASetAsideTheCardCannotRecordStillWaitsItsTime) {
  UnitSpool spool({100'000, 100'000});
  const auto manifest = spool::Spool::session_dir_in(spool.dir / "spool", spool.info.session_id) / "manifest.jsonl";
  // The manifest cannot be appended to (as on a card gone read-only): a directory stands in its place.
  std::filesystem::rename(manifest, manifest.string() + ".kept");
  std::filesystem::create_directory(manifest);
  std::promise<Result<spool::SetAside>> p;
  spool.service->run([&](spool::Spool& sp) {
    p.set_value(sp.set_aside(spool.info.session_id, 0, "test", util::now_utc() + std::chrono::hours(1)));
  });
  const auto r = p.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("stays set aside in memory"), std::string::npos) << r.error().message;
  const auto aside = spool.set_aside();
  ASSERT_EQ(aside.count(0), 1u) << "the uploader still sees the wait";
  EXPECT_GT(aside.at(0).retry_at, util::now_utc() + std::chrono::minutes(30));
  std::filesystem::remove(manifest);
  std::filesystem::rename(manifest.string() + ".kept", manifest);
  EXPECT_TRUE(std::filesystem::exists(spool.segment(0))) << "nothing is deleted";
}
