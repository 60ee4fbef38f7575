// Debian's real Prometheus scrapes the hub's /metrics (over its HTTPS, with the metrics token, trusting
// the hub's CA) and node_exporter's textfile collector reading the file the unit's metrics code writes;
// the test asks Prometheus's HTTP API for values back. The alert rules are checked with promtool.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/metrics/textfile.hpp"
#include "common/protocol/messages.hpp"
#include "common/protocol/topics.hpp"
#include "firmware/metrics/unit_metrics.hpp"
#include "hub/broker/broker.hpp"
#include "hub/testing/mqtt_client.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub;
using namespace std::chrono_literals;
using Json = protocol::Json;

namespace {

std::filesystem::path source_dir() { return CLASSCAM_SOURCE_DIR; }

// Debian installs node_exporter as prometheus-node-exporter.
std::string node_exporter() { return "prometheus-node-exporter"; }

// One instant-vector query; the value of its only sample, or nullopt while there is none.
std::optional<double> query(std::uint16_t port, const std::string& promql) {
  const auto r = test::run({"curl", "-sS", "--max-time", "5", "-G", "--data-urlencode", "query=" + promql,
                            fmt::format("http://127.0.0.1:{}/api/v1/query", port)},
                           10s);
  if (r.exit_code != 0) return std::nullopt;
  const auto j = Json::parse(r.output, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

// Waits for a query to have a value that satisfies `ok` (Prometheus scrapes every second).
std::optional<double> query_until(std::uint16_t port, const std::string& promql,
                                  const std::function<bool(double)>& ok) {
  std::optional<double> last;
  (void)test::wait_until(
      [&] {
        last = query(port, promql);
        return last && ok(*last);
      },
      60s);
  return last;
}

}  // namespace

TEST(MetricsE2E, AlertRulesPassPromtoolCheckAndTheirUnitTests) {
  const auto rules = source_dir() / "config/prometheus/classcam.rules.yml";
  const auto check = test::run({"promtool", "check", "rules", rules.string()});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("SUCCESS: 5 rules found"), std::string::npos) << check.output;
  const auto unit =
      test::run({"promtool", "test", "rules", (source_dir() / "config/prometheus/classcam.rules.test.yml").string()});
  EXPECT_EQ(unit.exit_code, 0) << unit.output;
}

TEST(MetricsE2E, PrometheusScrapesTheHubAndTheUnitsTextfile) {
  testkit::TestHub hub(testkit::test_config_with_broker("unused"));
  ASSERT_TRUE(hub.service().broker()->wait_ready(10s));
  test::TempDir dir("metrics-e2e");

  // A unit online: enrolled, connected to the hub's broker, its retained state published.
  const auto tech = hub.add_person("tech", store::Role::technician);
  const auto room = hub.add_room("Room A");
  hub.add_unit("unit-a", room.id);
  const auto code = hub.client(tech.token).request("POST", "/api/v1/units/unit-a/pairing-code");
  ASSERT_EQ(code.status, 201) << code.body;
  const auto enrol = hub.client().request(
      "POST", "/api/v1/enroll",
      protocol::encode(protocol::EnrollRequest{code.json()["code"], "classcam-test", "0.0.0-test"}),
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(enrol.status, 200) << enrol.body;
  const auto creds = *protocol::decode<protocol::EnrollResponse>(enrol.body);
  testkit::MqttClient unit("unit-a", false);
  ASSERT_EQ(unit.connect(hub.service().config().broker.port, hub.ca_file(), creds.mqtt_username, creds.mqtt_password),
            0);
  protocol::UnitState idle;
  idle.unit_id = "unit-a";
  idle.since = util::now_utc();
  ASSERT_TRUE(unit.publish(protocol::topic("unit-a", protocol::Channel::state), protocol::encode(idle), 1, true));

  // The unit's side: what classcamd writes for the textfile collector.
  const auto textfile_dir = dir / "textfile";
  std::filesystem::create_directories(textfile_dir);
  unit_metrics::Sample sample;
  sample.state = protocol::RecorderState::recording;
  sample.segments_closed = 7;
  sample.spool.used_bytes = 1000;
  sample.spool.limit_bytes = 10000;
  ASSERT_TRUE(metrics::write_textfile(textfile_dir / "classcamd.prom", unit_metrics::render(sample)).ok());

  const auto exporter_port = test::free_port();
  test::Process exporter({node_exporter(), "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port),
                          "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + textfile_dir.string()},
                         dir / "node_exporter.log");
  ASSERT_TRUE(test::wait_until([&] { return test::port_open(exporter_port); }, 20s)) << exporter.output();

  // The scrape config docs/metrics.md shows, with test ports: the hub's CA is trusted, no skip-verify.
  const auto prom_port = test::free_port();
  test::write_file(dir / "prometheus.yml",
                   fmt::format(R"(global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: classcam-hub
    scheme: https
    authorization:
      type: Bearer
      credentials: {token}
    tls_config:
      ca_file: {ca}
    static_configs:
      - targets: ["127.0.0.1:{hub}"]
  - job_name: classcam-unit
    static_configs:
      - targets: ["127.0.0.1:{exporter}"]
)",
                               fmt::arg("rules", (source_dir() / "config/prometheus/classcam.rules.yml").string()),
                               fmt::arg("token", testkit::kMetricsToken), fmt::arg("ca", hub.ca_file().string()),
                               fmt::arg("hub", hub.port()), fmt::arg("exporter", exporter_port)));
  test::Process prometheus(
      {"prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "tsdb").string(), "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      dir / "prometheus.log");
  ASSERT_TRUE(test::wait_until([&] { return test::port_open(prom_port); }, 30s)) << prometheus.output();

  const auto hub_up = query_until(prom_port, "up{job=\"classcam-hub\"}", [](double v) { return v == 1; });
  ASSERT_EQ(hub_up, 1.0) << "the hub was not scraped; see " << (dir / "prometheus.log").string() << "\n"
                         << prometheus.output();
  EXPECT_EQ(query_until(prom_port, "classcam_units_online", [](double v) { return v == 1; }), 1.0);
  EXPECT_EQ(query_until(prom_port, "classcam_broker_up", [](double v) { return v == 1; }), 1.0);
  // Prometheus's own scrapes are requests the hub counts, by route pattern.
  const auto scrapes = query_until(prom_port, "classcam_http_requests_total{route=\"/metrics\",status=\"200\"}",
                                   [](double v) { return v > 0; });
  ASSERT_TRUE(scrapes.has_value());
  EXPECT_GT(*scrapes, 0);
  EXPECT_EQ(query_until(prom_port, "up{job=\"classcam-unit\"}", [](double v) { return v == 1; }), 1.0);
  EXPECT_EQ(query_until(prom_port, "classcam_unit_segments_closed_total", [](double v) { return v == 7; }), 7.0);
  EXPECT_EQ(query_until(prom_port, "classcam_unit_state{state=\"recording\"}", [](double v) { return v == 1; }), 1.0);
  EXPECT_EQ(query_until(prom_port, "classcam_unit_spool_bytes / classcam_unit_spool_quota_bytes",
                        [](double v) { return v > 0; }),
            0.1);

  // Without the token the hub refuses the scrape.
  EXPECT_EQ(hub.client().request("GET", "/metrics").status, 401);
  EXPECT_EQ(hub.client(tech.token).request("GET", "/metrics").status, 401);
}
