#pragma once
// Configuration of the classroom unit (classcamd, classcamctl). config/classcamd.toml documents every
// option with its default; keep the two in step (tests/config checks that the example parses to the
// defaults).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/log/log.hpp"

namespace classcam::config {

// A rectangle blacked out before encoding, as fractions (0..1) of the frame so it survives a change
// of resolution.
struct PrivacyZone {
  double x = 0, y = 0, width = 0, height = 0;
  bool operator==(const PrivacyZone&) const = default;
};

struct UnitConfig {
  struct Unit {
    std::string name = "classroom unit";
    std::filesystem::path state_dir = "/var/lib/classcam";  // enrolment, schedule cache, command ids
    bool operator==(const Unit&) const = default;
  } unit;

  log::Options log;

  struct Video {
    bool enabled = true;                 // false: audio-only room, no video at all
    std::string source = "auto";         // auto | libcamera | v4l2 | test | file
    std::string camera;                  // libcamera camera id; empty = first camera
    std::string device = "/dev/video0";  // v4l2
    std::filesystem::path file;          // source = file: a media file replayed as the camera
    std::uint32_t width = 1920;
    std::uint32_t height = 1080;
    std::uint32_t framerate = 30;
    bool timestamp_overlay = false;  // burn the wall clock into the picture
    bool latency_strip = false;      // burn the capture time in machine-readable cells (bench/live.sh)
    std::vector<PrivacyZone> privacy_zones;
    bool operator==(const Video&) const = default;
  } video;

  struct Audio {
    std::string source = "auto";  // auto | alsa | pulse | test | none
    std::string device;           // ALSA device ("hw:1,0") or PulseAudio source; empty = default
    std::string codec = "aac";    // aac | opus
    std::uint32_t bitrate_kbps = 96;
    std::uint32_t sample_rate = 48000;
    std::uint32_t channels = 1;
    bool operator==(const Audio&) const = default;
  } audio;

  struct Encoder {
    std::string kind = "auto";        // auto | v4l2 | x264 | openh264
    std::string profile = "high";     // main | high
    std::string preset = "veryfast";  // x264 speed preset
    std::uint32_t bitrate_kbps = 4000;
    bool operator==(const Encoder&) const = default;
  } encoder;

  struct Recording {
    std::uint32_t segment_ms = 2000;
    std::uint32_t max_session_minutes = 240;  // a forgotten recording stops by itself
    std::uint32_t stop_timeout_ms = 5000;     // EOS wait before a forced teardown
    bool operator==(const Recording&) const = default;
  } recording;

  struct Spool {
    std::filesystem::path dir = "/var/spool/classcam";
    std::uint64_t max_bytes = 0;  // 0 = no byte limit (max_percent still applies)
    double max_percent = 80.0;    // of the spool's filesystem
    bool operator==(const Spool&) const = default;
  } spool;

  struct Gpio {
    bool enabled = false;
    std::string chip = "gpiochip0";
    std::uint32_t button_line = 17;
    bool button_active_low = true;
    std::uint32_t led_line = 27;
    bool led_active_low = false;
    std::uint32_t long_press_ms = 1500;
    std::uint32_t debounce_ms = 30;
    bool operator==(const Gpio&) const = default;
  } gpio;

  // Live observation (docs/live.md).
  struct Live {
    // Where a coach's talkback plays: "off" (never played; the offer does not receive audio),
    // "alsa:<device>" (the teacher's earpiece, e.g. "alsa:plughw:CARD=Headset"), or "file:<path.wav>"
    // (tests). Never the room's speakers unless configured so; never in the recording.
    std::string talkback = "off";
    // A viewer's keyframe requests (PLI/FIR) make at most one extra keyframe per this interval; later
    // ones wait for it to pass (docs/live.md, "Keyframes").
    std::uint32_t keyframe_min_ms = 1000;
    bool operator==(const Live&) const = default;
  } live;

  struct Control {
    std::filesystem::path socket = "/run/classcam/classcamd.sock";
    bool operator==(const Control&) const = default;
  } control;

  struct Snapshot {
    std::uint32_t width = 640;
    std::uint32_t quality = 85;
    bool operator==(const Snapshot&) const = default;
  } snapshot;

  struct Mqtt {
    std::uint32_t keepalive_s = 30;
    std::uint32_t reconnect_min_s = 1;
    std::uint32_t reconnect_max_s = 60;
    bool operator==(const Mqtt&) const = default;
  } mqtt;

  struct Telemetry {
    std::uint32_t interval_s = 30;
    bool operator==(const Telemetry&) const = default;
  } telemetry;

  // Prometheus metrics written for node_exporter's textfile collector (docs/metrics.md).
  struct Metrics {
    std::filesystem::path textfile;  // e.g. /var/lib/prometheus/node-exporter/classcamd.prom; empty = off
    std::uint32_t interval_s = 15;
    bool operator==(const Metrics&) const = default;
  } metrics;

  struct Upload {
    bool enabled = true;
    std::uint32_t bandwidth_kbps = 0;  // 0 = unlimited
    std::string window;                // "HH:MM-HH:MM" local time when uploads may run; empty = always
    std::uint32_t chunk_bytes = 4 * 1024 * 1024;
    std::uint32_t retry_min_s = 1;
    std::uint32_t retry_max_s = 300;
    bool operator==(const Upload&) const = default;
  } upload;

  bool operator==(const UnitConfig&) const = default;
};

// The built-in defaults (what an empty file gives).
UnitConfig default_unit_config();
// Parses TOML text; throws ConfigError naming `file`, the key and what was expected.
UnitConfig parse_unit_config(std::string_view toml_text, const std::string& file = "<config>");
UnitConfig load_unit_config(const std::filesystem::path& file);

}  // namespace classcam::config
