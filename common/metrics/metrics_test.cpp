#include "common/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "common/metrics/textfile.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::metrics {
namespace {

TEST(Metrics, CounterAndGaugeWithHelpAndType) {
  Registry r;
  auto& c = r.counter("classcam_things_total", "Things seen.");
  c.counter().inc();
  c.counter().inc(2);
  auto& g = r.gauge("classcam_level", "A level.", {"room"});
  g.gauge({"a"}).set(4.5);
  g.gauge({"b"}).add(-1);
  EXPECT_EQ(r.expose(),
            "# HELP classcam_things_total Things seen.\n"
            "# TYPE classcam_things_total counter\n"
            "classcam_things_total 3\n"
            "# HELP classcam_level A level.\n"
            "# TYPE classcam_level gauge\n"
            "classcam_level{room=\"a\"} 4.5\n"
            "classcam_level{room=\"b\"} -1\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("classcam_wait_seconds", "Waits.", {0.1, 1}, {"route"});
  auto& s = h.histogram({"/x"});
  s.observe(0.05);
  s.observe(0.1);  // a bound is inclusive (le)
  s.observe(0.5);
  s.observe(7);
  EXPECT_EQ(r.expose(),
            "# HELP classcam_wait_seconds Waits.\n"
            "# TYPE classcam_wait_seconds histogram\n"
            "classcam_wait_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "classcam_wait_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "classcam_wait_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "classcam_wait_seconds_sum{route=\"/x\"} 7.65\n"
            "classcam_wait_seconds_count{route=\"/x\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabels) {
  Registry r;
  r.histogram("h", "H.", {1}).histogram().observe(2);
  EXPECT_NE(r.expose().find("h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("line\\one\ntwo \"q\""), "line\\\\one\\ntwo \"q\"");
  Registry r;
  r.gauge("g", "G.", {"v"}).gauge({"say \"hi\"\n"}).set(1);
  EXPECT_NE(r.expose().find("g{v=\"say \\\"hi\\\"\\n\"} 1\n"), std::string::npos);
}

TEST(Metrics, SpecialValues) {
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(123456789), "123456789");
}

TEST(Metrics, RefusesBadNamesAndMisuse) {
  Registry r;
  EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2", "x", {2, 1}), std::invalid_argument);
  auto& c = r.counter("c_total", "x", {"a"});
  EXPECT_THROW(r.counter("c_total", "x"), std::invalid_argument);
  EXPECT_THROW(c.counter({}), std::invalid_argument);
  EXPECT_THROW(c.gauge({"x"}), std::logic_error);
  EXPECT_THROW(c.counter({"x"}).inc(-1), std::invalid_argument);
  EXPECT_TRUE(valid_metric_name("classcam:ratio"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(Metrics, ClearDropsSeries) {
  Registry r;
  auto& g = r.gauge("units", "U.", {"state"});
  g.gauge({"online"}).set(2);
  g.clear();
  g.gauge({"offline"}).set(1);
  const auto text = r.expose();
  EXPECT_EQ(text.find("online"), std::string::npos);
  EXPECT_NE(text.find("units{state=\"offline\"} 1\n"), std::string::npos);
}

TEST(MetricsTextfile, WritesAtomicallyAndReplaces) {
  test::TempDir dir;
  const auto path = dir.path() / "classcamd.prom";
  ASSERT_TRUE(write_textfile(path, "a 1\n").ok());
  ASSERT_TRUE(write_textfile(path, "a 2\n").ok());
  EXPECT_EQ(test::read_file(path), "a 2\n");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);  // no temporary file left behind
  // Readable by node_exporter's user whatever the writer's umask.
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
}

TEST(MetricsTextfile, MissingDirectoryIsAnError) {
  test::TempDir dir;
  const auto st = write_textfile(dir.path() / "nope" / "x.prom", "a 1\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace classcam::metrics
