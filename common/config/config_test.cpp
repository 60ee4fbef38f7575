#include <gtest/gtest.h>

#include <filesystem>

#include "common/config/hub_config.hpp"
#include "common/config/toml_reader.hpp"
#include "common/config/unit_config.hpp"

using namespace classcam;
using namespace classcam::config;

namespace {
std::filesystem::path source_dir() { return CLASSCAM_SOURCE_DIR; }

// The error text of parsing `text`, or "" when it parses.
template <typename F>
std::string error_of(F parse, const std::string& text) {
  try {
    parse(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
std::string unit_error(const std::string& t) {
  return error_of([](const std::string& s, const std::string& f) { return parse_unit_config(s, f); }, t);
}
std::string hub_error(const std::string& t) {
  return error_of([](const std::string& s, const std::string& f) { return parse_hub_config(s, f); }, t);
}
}  // namespace

TEST(UnitConfig, EmptyFileGivesDefaults) {
  EXPECT_EQ(parse_unit_config(""), default_unit_config());
  const auto c = default_unit_config();
  EXPECT_EQ(c.recording.segment_ms, 2000u);
  EXPECT_EQ(c.video.width, 1920u);
}

TEST(UnitConfig, ExampleFileDocumentsTheDefaults) {
  const auto c = load_unit_config(source_dir() / "config/classcamd.toml");
  EXPECT_EQ(c, default_unit_config());
}

TEST(HubConfig, ExampleFileDocumentsTheDefaults) {
  const auto c = load_hub_config(source_dir() / "config/classcam-hub.toml");
  EXPECT_EQ(c, default_hub_config());
  EXPECT_EQ(c.sqlite_path(), "/var/lib/classcam-hub/hub.db");
  EXPECT_EQ(c.media_dir(), "/var/lib/classcam-hub/media");
}

TEST(UnitConfig, ReadsEverySection) {
  const auto c = parse_unit_config(R"(
[unit]
name = "Room 12"
state_dir = "/tmp/state"
[log]
level = "debug"
[log.components]
capture = "trace"
[video]
source = "test"
width = 1280
height = 720
framerate = 25
[[video.privacy_zones]]
x = 0.5
y = 0.25
width = 0.5
height = 0.5
[[video.privacy_zones]]
x = 0
y = 0
width = 0.1
height = 0.1
[audio]
source = "test"
codec = "opus"
[encoder]
kind = "x264"
profile = "main"
preset = "ultrafast"
bitrate_kbps = 2500
[recording]
segment_ms = 1000
[spool]
dir = "/tmp/spool"
max_bytes = 1000000
max_percent = 50
[gpio]
enabled = true
button_line = 5
led_line = 6
[upload]
window = "16:00-07:00"
bandwidth_kbps = 2000
[live]
talkback = "alsa:plughw:CARD=Headset"
keyframe_min_ms = 500
)");
  EXPECT_EQ(c.unit.name, "Room 12");
  EXPECT_EQ(c.log.level, log::Level::debug);
  EXPECT_EQ(c.log.components.at("capture"), log::Level::trace);
  EXPECT_EQ(c.video.source, "test");
  EXPECT_EQ(c.video.width, 1280u);
  ASSERT_EQ(c.video.privacy_zones.size(), 2u);
  EXPECT_EQ(c.video.privacy_zones[0], (PrivacyZone{0.5, 0.25, 0.5, 0.5}));
  EXPECT_EQ(c.audio.codec, "opus");
  EXPECT_EQ(c.encoder.kind, "x264");
  EXPECT_EQ(c.recording.segment_ms, 1000u);
  EXPECT_EQ(c.spool.max_bytes, 1000000u);
  EXPECT_DOUBLE_EQ(c.spool.max_percent, 50.0);
  EXPECT_TRUE(c.gpio.enabled);
  EXPECT_EQ(c.gpio.button_line, 5u);
  EXPECT_EQ(c.upload.window, "16:00-07:00");
  EXPECT_EQ(c.live.talkback, "alsa:plughw:CARD=Headset");
  EXPECT_EQ(c.live.keyframe_min_ms, 500u);
}

struct ConfigCase {
  const char* name;
  const char* toml;
  const char* error;  // substring of the message
  friend void PrintTo(const ConfigCase& c, std::ostream* os) { *os << c.name; }
};

class BadUnitConfig : public testing::TestWithParam<ConfigCase> {};
TEST_P(BadUnitConfig, IsRejectedWithFileKeyAndExpectation) {
  const std::string e = unit_error(GetParam().toml);
  EXPECT_NE(e.find("test.toml"), std::string::npos) << e;
  EXPECT_NE(e.find(GetParam().error), std::string::npos) << "got: " << e;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadUnitConfig,
    testing::Values(
        ConfigCase{"syntax", "[video\nwidth = 1", "test.toml:1:"},
        ConfigCase{"unknown key", "[video]\nwidht = 1280", "video.widht: unknown option (line 2)"},
        ConfigCase{"unknown section", "[vidoe]\nwidth = 1280", "vidoe: unknown option"},
        ConfigCase{"unknown top key", "verbose = true", "verbose: unknown option"},
        ConfigCase{"wrong type", "[video]\nwidth = \"wide\"",
                   "video.width: expected an integer from 160 to 3840, got a string"},
        ConfigCase{"out of range", "[video]\nwidth = 100000",
                   "video.width: expected an integer from 160 to 3840, got 100000"},
        ConfigCase{"odd width", "[video]\nwidth = 1281", "video.width: must be even"},
        ConfigCase{"bad choice", "[video]\nsource = \"webcam\"",
                   "video.source: expected one of \"auto\", \"libcamera\""},
        ConfigCase{"file without path", "[video]\nsource = \"file\"", "video.file: required when source = \"file\""},
        ConfigCase{"section not table", "video = 3", "video: expected a table"},
        ConfigCase{"zone outside", "[[video.privacy_zones]]\nx = 0.9\ny = 0\nwidth = 0.2\nheight = 0.1",
                   "video.privacy_zones[0].width: x + width goes past the right edge"},
        ConfigCase{"zone missing", "[[video.privacy_zones]]\nx = 0.1\ny = 0\nwidth = 0.2",
                   "video.privacy_zones[0].height: required"},
        ConfigCase{"zone unknown key", "[[video.privacy_zones]]\nx = 0.1\ny = 0\nwidth = 0.2\nheight = 0.2\nw = 1",
                   "video.privacy_zones[0].w: unknown option"},
        ConfigCase{"zones not array", "[video]\nprivacy_zones = 1", "video.privacy_zones: expected an array of tables"},
        ConfigCase{"nothing to record", "[video]\nenabled = false\n[audio]\nsource = \"none\"",
                   "there would be nothing to record"},
        ConfigCase{"bad level", "[log]\nlevel = \"loud\"", "log.level: expected one of"},
        ConfigCase{"bad component level", "[log.components]\ncapture = \"loud\"",
                   "log.components.capture: expected one of"},
        ConfigCase{"segment too short", "[recording]\nsegment_ms = 10",
                   "recording.segment_ms: expected an integer from 500"},
        ConfigCase{"percent", "[spool]\nmax_percent = 120", "spool.max_percent: expected a number from 1 to 99"},
        ConfigCase{"negative bytes", "[spool]\nmax_bytes = -1", "spool.max_bytes: expected an integer from 0"},
        ConfigCase{"same gpio lines", "[gpio]\nbutton_line = 4\nled_line = 4", "gpio.led_line: must differ"},
        ConfigCase{"bad window", "[upload]\nwindow = \"after school\"", "upload.window: expected \"HH:MM-HH:MM\""},
        ConfigCase{"empty window", "[upload]\nwindow = \"16:00-16:00\"", "upload.window"},
        ConfigCase{"window hours", "[upload]\nwindow = \"25:00-07:00\"", "upload.window"},
        ConfigCase{"backoff order", "[upload]\nretry_min_s = 10\nretry_max_s = 5",
                   "upload.retry_max_s: must be >= retry_min_s"},
        ConfigCase{"long socket",
                   "[control]\nsocket = "
                   "\"/tmp/"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaa.sock\"",
                   "control.socket: path too long"},
        ConfigCase{"bool type", "[gpio]\nenabled = \"yes\"", "gpio.enabled: expected true or false, got a string"},
        ConfigCase{"talkback kind", "[live]\ntalkback = \"speakers\"", "live.talkback: expected \"off\""},
        ConfigCase{"talkback no device", "[live]\ntalkback = \"alsa:\"", "live.talkback: expected \"off\""},
        ConfigCase{"talkback type", "[live]\ntalkback = 1", "live.talkback"},
        ConfigCase{"keyframe interval", "[live]\nkeyframe_min_ms = 10", "live.keyframe_min_ms"}),
    [](const testing::TestParamInfo<ConfigCase>& i) {
      std::string n = i.param.name;
      for (auto& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

TEST(HubConfig, ReadsAndDerivesPaths) {
  const auto c = parse_hub_config(R"(
[hub]
state_dir = "/srv/hub"
public_url = "https://hub.example:8443/"
timezone = "Europe/London"
[http]
port = 0
[retention]
days = 30
)");
  EXPECT_EQ(c.hub.public_url, "https://hub.example:8443");
  EXPECT_EQ(c.http.port, 0);
  EXPECT_EQ(c.retention.days, 30u);
  EXPECT_EQ(c.sqlite_path(), "/srv/hub/hub.db");
  EXPECT_EQ(c.media_dir(), "/srv/hub/media");
}

TEST(HubConfig, RejectsBadValues) {
  EXPECT_NE(hub_error("[hub]\npublic_url = \"http://hub\"").find("hub.public_url: must start with https://"),
            std::string::npos);
  EXPECT_NE(hub_error("[http]\ntls_cert = \"/a.pem\"").find("tls_key: tls_cert and tls_key go together"),
            std::string::npos);
  EXPECT_NE(hub_error("[http]\nport = 70000").find("http.port: expected an integer from 0 to 65535"),
            std::string::npos);
  EXPECT_NE(hub_error("[store]\nbackend = \"postgres\"").find("store.backend: expected one of \"sqlite\""),
            std::string::npos);
  EXPECT_NE(hub_error("[retention]\ndays = -1").find("retention.days"), std::string::npos);
  EXPECT_NE(hub_error("[broker]\nmanaged = true").find("broker.managed: unknown option"), std::string::npos);
  EXPECT_NE(hub_error("[metrics]\ntoken = \"short\"").find("metrics.token: must be at least 32 characters"),
            std::string::npos);
}

TEST(UnitConfig, MetricsTextfileMustEndInProm) {
  EXPECT_NE(
      unit_error("[metrics]\ntextfile = \"/var/lib/x/classcamd.txt\"").find("metrics.textfile: must end in .prom"),
      std::string::npos);
  EXPECT_EQ(parse_unit_config("[metrics]\ntextfile = \"/run/x/classcamd.prom\"\ninterval_s = 5").metrics.interval_s,
            5U);
}

TEST(HubConfig, ReadsMetricsToken) {
  const std::string token(40, 'k');
  EXPECT_EQ(parse_hub_config("[metrics]\ntoken = \"" + token + "\"").metrics.token, token);
}

TEST(Config, MissingFileIsNamed) {
  try {
    (void)load_unit_config("/nonexistent/classcamd.toml");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/classcamd.toml: cannot read config file"), std::string::npos)
        << e.what();
  }
}
