#include "firmware/metrics/unit_metrics.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::unit_metrics;

namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(UnitMetrics, RendersStateSpoolUploadsAndTemperature) {
  Sample s;
  s.state = protocol::RecorderState::recording;
  s.spool.used_bytes = 1000;
  s.spool.limit_bytes = 4000;
  s.spool.backlog_segments = 3;
  s.spool.backlog_bytes = 600;
  s.segments_closed = 12;
  s.upload = uploader::UploadStatus{};
  s.upload->sent_bytes = 5000;
  s.upload->failures = 2;
  s.upload->rate_bps = 800;
  s.cpu_temp_c = 51.5;
  const auto t = render(s);
  EXPECT_TRUE(has(t, "classcam_unit_state{state=\"recording\"} 1")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_state{state=\"idle\"} 0")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_spool_bytes 1000")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_spool_quota_bytes 4000")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_upload_backlog_segments 3")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_segments_closed_total 12")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_upload_bytes_total 5000")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_upload_errors_total 2")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_upload_rate_bits_per_second 800")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_cpu_temperature_celsius 51.5")) << t;
}

TEST(UnitMetrics, OmitsWhatTheUnitDoesNotKnow) {
  Sample s;  // no thermal zone, uploads off
  const auto t = render(s);
  EXPECT_EQ(t.find("cpu_temperature"), std::string::npos) << t;
  EXPECT_EQ(t.find("classcam_unit_upload_bytes_total"), std::string::npos) << t;
  EXPECT_TRUE(has(t, "classcam_unit_state{state=\"idle\"} 1")) << t;
}

TEST(UnitMetrics, WriterWritesTheFileWithTheThermalZoneAndSpoolUsage) {
  test::TempDir dir;
  test::write_file(dir / "thermal/thermal_zone0/temp", "47250\n");
  config::UnitConfig::Spool sc;
  sc.dir = dir / "spool";
  spool::Spool sp(sc);
  ASSERT_TRUE(sp.open().ok());
  boost::asio::io_context io;
  boost::asio::thread_pool pool(1);
  spool::SpoolService service(io, pool, std::move(sp));
  const auto file = dir / "classcamd.prom";
  MetricsWriter writer({io, pool, service,
                        [] {
                          Sample s;
                          s.state = protocol::RecorderState::recording;
                          s.segments_closed = 4;
                          return s;
                        },
                        file, std::chrono::seconds(1), dir / "thermal"});
  bool ok = false;
  writer.on_written([&](bool written) {
    ok = written;
    writer.stop();
    io.stop();
  });
  // The spool's answer comes from the pool: the loop must wait for it.
  const auto work = boost::asio::make_work_guard(io);
  writer.start();
  io.run();
  pool.join();
  ASSERT_TRUE(ok);
  const auto t = test::read_file(file);
  EXPECT_TRUE(has(t, "classcam_unit_cpu_temperature_celsius 47.25")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_segments_closed_total 4")) << t;
  EXPECT_TRUE(has(t, "classcam_unit_state{state=\"recording\"} 1")) << t;
  EXPECT_NE(t.find("classcam_unit_spool_quota_bytes "), std::string::npos) << t;
}

TEST(UnitMetrics, WriterReportsAFailedWrite) {
  test::TempDir dir;
  config::UnitConfig::Spool sc;
  sc.dir = dir / "spool";
  spool::Spool sp(sc);
  ASSERT_TRUE(sp.open().ok());
  boost::asio::io_context io;
  boost::asio::thread_pool pool(1);
  spool::SpoolService service(io, pool, std::move(sp));
  MetricsWriter writer({io, pool, service, [] { return Sample{}; }, dir / "missing" / "classcamd.prom",
                        std::chrono::seconds(1), dir / "no-thermal"});
  std::optional<bool> ok;
  writer.on_written([&](bool written) {
    ok = written;
    writer.stop();
    io.stop();
  });
  // The spool's answer comes from the pool: the loop must wait for it.
  const auto work = boost::asio::make_work_guard(io);
  writer.start();
  io.run();
  pool.join();
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(*ok);
}
