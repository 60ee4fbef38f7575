#include "common/config/unit_config.hpp"

#include <cctype>

#include "common/config/log_section.hpp"
#include "common/config/toml_reader.hpp"

namespace classcam::config {

namespace {

bool valid_window(const std::string& w) {
  // "HH:MM-HH:MM"; a window may wrap past midnight ("16:00-07:00").
  if (w.size() != 11 || w[2] != ':' || w[5] != '-' || w[8] != ':') return false;
  auto num = [&](std::size_t at, int max) {
    if (!std::isdigit(static_cast<unsigned char>(w[at])) || !std::isdigit(static_cast<unsigned char>(w[at + 1]))) {
      return false;
    }
    return (w[at] - '0') * 10 + (w[at + 1] - '0') <= max;
  };
  return num(0, 23) && num(3, 59) && num(6, 23) && num(9, 59) && w.substr(0, 5) != w.substr(6, 5);
}

UnitConfig read(TomlReader& root) {
  UnitConfig c;
  {
    auto s = root.section("unit");
    c.unit.name = s.string("name", c.unit.name);
    c.unit.state_dir = s.path("state_dir", c.unit.state_dir);
    if (c.unit.state_dir.empty()) s.fail("state_dir", "must not be empty");
    s.finish();
  }
  {
    auto s = root.section("log");
    c.log = read_log_section(s);
    s.finish();
  }
  {
    auto s = root.section("video");
    auto& v = c.video;
    v.enabled = s.boolean("enabled", v.enabled);
    v.source = s.choice("source", v.source, {"auto", "libcamera", "v4l2", "test", "file"});
    v.camera = s.string("camera", v.camera);
    v.device = s.string("device", v.device);
    v.file = s.path("file", v.file);
    if (v.source == "file" && v.file.empty()) s.fail("file", "required when source = \"file\"");
    v.width = static_cast<std::uint32_t>(s.integer("width", v.width, 160, 3840));
    v.height = static_cast<std::uint32_t>(s.integer("height", v.height, 120, 2160));
    if (v.width % 2 != 0) s.fail("width", "must be even (4:2:0 video)");
    if (v.height % 2 != 0) s.fail("height", "must be even (4:2:0 video)");
    v.framerate = static_cast<std::uint32_t>(s.integer("framerate", v.framerate, 1, 60));
    v.timestamp_overlay = s.boolean("timestamp_overlay", v.timestamp_overlay);
    v.latency_strip = s.boolean("latency_strip", v.latency_strip);
    for (auto& z : s.array_of_tables("privacy_zones")) {
      PrivacyZone p;
      p.x = z.number("x", -1, 0, 1);
      p.y = z.number("y", -1, 0, 1);
      p.width = z.number("width", -1, 0, 1);
      p.height = z.number("height", -1, 0, 1);
      if (p.x < 0) z.fail("x", "required (fraction 0..1 of the frame width)");
      if (p.y < 0) z.fail("y", "required (fraction 0..1 of the frame height)");
      if (p.width <= 0) z.fail("width", "required and > 0 (fraction of the frame width)");
      if (p.height <= 0) z.fail("height", "required and > 0 (fraction of the frame height)");
      if (p.x + p.width > 1.0 + 1e-9) z.fail("width", "x + width goes past the right edge (> 1)");
      if (p.y + p.height > 1.0 + 1e-9) z.fail("height", "y + height goes past the bottom edge (> 1)");
      z.finish();
      v.privacy_zones.push_back(p);
    }
    s.finish();
  }
  {
    auto s = root.section("audio");
    auto& a = c.audio;
    a.source = s.choice("source", a.source, {"auto", "alsa", "pulse", "test", "none"});
    a.device = s.string("device", a.device);
    a.codec = s.choice("codec", a.codec, {"aac", "opus"});
    a.bitrate_kbps = static_cast<std::uint32_t>(s.integer("bitrate_kbps", a.bitrate_kbps, 16, 512));
    a.sample_rate = static_cast<std::uint32_t>(s.integer("sample_rate", a.sample_rate, 8000, 96000));
    a.channels = static_cast<std::uint32_t>(s.integer("channels", a.channels, 1, 2));
    s.finish();
  }
  if (!c.video.enabled && c.audio.source == "none") {
    root.fail("video.enabled", "video is disabled and audio.source is \"none\": there would be nothing to record");
  }
  {
    auto s = root.section("encoder");
    auto& e = c.encoder;
    e.kind = s.choice("kind", e.kind, {"auto", "v4l2", "x264", "openh264"});
    e.profile = s.choice("profile", e.profile, {"main", "high"});
    e.preset = s.choice("preset", e.preset, {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"});
    e.bitrate_kbps = static_cast<std::uint32_t>(s.integer("bitrate_kbps", e.bitrate_kbps, 100, 50000));
    s.finish();
  }
  {
    auto s = root.section("recording");
    auto& r = c.recording;
    r.segment_ms = static_cast<std::uint32_t>(s.integer("segment_ms", r.segment_ms, 500, 60000));
    r.max_session_minutes =
        static_cast<std::uint32_t>(s.integer("max_session_minutes", r.max_session_minutes, 1, 12 * 60));
    r.stop_timeout_ms = static_cast<std::uint32_t>(s.integer("stop_timeout_ms", r.stop_timeout_ms, 500, 60000));
    s.finish();
  }
  {
    auto s = root.section("spool");
    c.spool.dir = s.path("dir", c.spool.dir);
    if (c.spool.dir.empty()) s.fail("dir", "must not be empty");
    c.spool.max_bytes = static_cast<std::uint64_t>(s.integer("max_bytes", 0, 0, INT64_MAX));
    c.spool.max_percent = s.number("max_percent", c.spool.max_percent, 1, 99);
    s.finish();
  }
  {
    auto s = root.section("gpio");
    auto& g = c.gpio;
    g.enabled = s.boolean("enabled", g.enabled);
    g.chip = s.string("chip", g.chip);
    g.button_line = static_cast<std::uint32_t>(s.integer("button_line", g.button_line, 0, 1023));
    g.button_active_low = s.boolean("button_active_low", g.button_active_low);
    g.led_line = static_cast<std::uint32_t>(s.integer("led_line", g.led_line, 0, 1023));
    g.led_active_low = s.boolean("led_active_low", g.led_active_low);
    if (g.led_line == g.button_line) s.fail("led_line", "must differ from button_line");
    g.long_press_ms = static_cast<std::uint32_t>(s.integer("long_press_ms", g.long_press_ms, 300, 10000));
    g.debounce_ms = static_cast<std::uint32_t>(s.integer("debounce_ms", g.debounce_ms, 0, 500));
    s.finish();
  }
  {
    auto s = root.section("live");
    auto& l = c.live;
    l.talkback = s.string("talkback", l.talkback);
    const auto colon = l.talkback.find(':');
    const std::string kind = l.talkback.substr(0, colon);
    const bool has_target = colon != std::string::npos && colon + 1 < l.talkback.size();
    if (!(l.talkback == "off" || ((kind == "alsa" || kind == "file") && has_target))) {
      s.fail("talkback",
             "expected \"off\", \"alsa:<device>\" (e.g. \"alsa:plughw:CARD=Headset\") or "
             "\"file:<path.wav>\", got \"" +
                 l.talkback + "\"");
    }
    l.keyframe_min_ms = static_cast<std::uint32_t>(s.integer("keyframe_min_ms", l.keyframe_min_ms, 100, 60000));
    s.finish();
  }
  {
    auto s = root.section("control");
    c.control.socket = s.path("socket", c.control.socket);
    if (c.control.socket.empty()) s.fail("socket", "must not be empty");
    if (c.control.socket.string().size() >= 108) s.fail("socket", "path too long for a unix socket (max 107 bytes)");
    s.finish();
  }
  {
    auto s = root.section("snapshot");
    c.snapshot.width = static_cast<std::uint32_t>(s.integer("width", c.snapshot.width, 160, 3840));
    c.snapshot.quality = static_cast<std::uint32_t>(s.integer("quality", c.snapshot.quality, 10, 100));
    s.finish();
  }
  {
    auto s = root.section("mqtt");
    auto& m = c.mqtt;
    m.keepalive_s = static_cast<std::uint32_t>(s.integer("keepalive_s", m.keepalive_s, 5, 3600));
    m.reconnect_min_s = static_cast<std::uint32_t>(s.integer("reconnect_min_s", m.reconnect_min_s, 1, 3600));
    m.reconnect_max_s = static_cast<std::uint32_t>(s.integer("reconnect_max_s", m.reconnect_max_s, 1, 3600));
    if (m.reconnect_max_s < m.reconnect_min_s) s.fail("reconnect_max_s", "must be >= reconnect_min_s");
    s.finish();
  }
  {
    auto s = root.section("telemetry");
    c.telemetry.interval_s = static_cast<std::uint32_t>(s.integer("interval_s", c.telemetry.interval_s, 1, 3600));
    s.finish();
  }
  {
    auto s = root.section("metrics");
    c.metrics.textfile = s.path("textfile", c.metrics.textfile);
    // The collector reads only *.prom; any other name would be written and never scraped.
    if (!c.metrics.textfile.empty() && c.metrics.textfile.extension() != ".prom") {
      s.fail("textfile", "must end in .prom (node_exporter's textfile collector reads only those)");
    }
    c.metrics.interval_s = static_cast<std::uint32_t>(s.integer("interval_s", c.metrics.interval_s, 1, 3600));
    s.finish();
  }
  {
    auto s = root.section("upload");
    auto& u = c.upload;
    u.enabled = s.boolean("enabled", u.enabled);
    u.bandwidth_kbps = static_cast<std::uint32_t>(s.integer("bandwidth_kbps", u.bandwidth_kbps, 0, 10'000'000));
    u.window = s.string("window", u.window);
    if (!u.window.empty() && !valid_window(u.window)) {
      s.fail("window", "expected \"HH:MM-HH:MM\" (24-hour local time, may wrap midnight), got \"" + u.window + "\"");
    }
    u.chunk_bytes = static_cast<std::uint32_t>(s.integer("chunk_bytes", u.chunk_bytes, 64 * 1024, 64LL * 1024 * 1024));
    u.retry_min_s = static_cast<std::uint32_t>(s.integer("retry_min_s", u.retry_min_s, 1, 3600));
    u.retry_max_s = static_cast<std::uint32_t>(s.integer("retry_max_s", u.retry_max_s, 1, 86400));
    if (u.retry_max_s < u.retry_min_s) s.fail("retry_max_s", "must be >= retry_min_s");
    s.finish();
  }
  root.finish();
  return c;
}

}  // namespace

UnitConfig default_unit_config() { return UnitConfig{}; }

UnitConfig parse_unit_config(std::string_view toml_text, const std::string& file) {
  const toml::table t = parse_toml(toml_text, file);
  TomlReader root(&t, file, "");
  return read(root);
}

UnitConfig load_unit_config(const std::filesystem::path& file) {
  const toml::table t = parse_toml_file(file);
  TomlReader root(&t, file.string(), "");
  return read(root);
}

}  // namespace classcam::config
