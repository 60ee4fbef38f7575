#pragma once
// Configuration of the hub (classcam-hub). config/classcam-hub.toml documents every option with its
// default. Paths left empty are derived from hub.state_dir (see resolved paths below).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/log/log.hpp"

namespace classcam::config {

struct HubConfig {
  struct Hub {
    std::string name = "classcam hub";
    std::filesystem::path state_dir = "/var/lib/classcam-hub";
    std::string public_url;        // e.g. "https://hub.school.example:8443"; empty = https://<host>:<port>
    std::string timezone = "UTC";  // IANA zone used to show times to people; times are stored in UTC
    bool operator==(const Hub&) const = default;
  } hub;

  log::Options log;

  struct Http {
    std::string listen = "0.0.0.0";
    std::uint16_t port = 8443;
    std::filesystem::path tls_cert;  // PEM chain; empty = self-signed one generated into state_dir
    std::filesystem::path tls_key;
    std::uint64_t max_body_bytes = 16 * 1024 * 1024;    // an upload request (one tus chunk, streamed to disk)
    std::uint64_t max_json_body_bytes = 64 * 1024;      // any other request with a valid credential
    std::uint64_t max_anonymous_body_bytes = 8 * 1024;  // a request without one (sign-in, enrolment)
    std::uint32_t handshake_timeout_s = 10;
    std::uint32_t read_timeout_s = 30;
    std::uint64_t min_body_bytes_per_s = 8192;
    std::uint32_t idle_timeout_s = 60;
    std::uint32_t max_connections = 512;
    std::uint32_t max_connections_per_address = 64;
    std::uint32_t max_pipelined = 8;
    std::uint32_t threads = 0;  // threads serving HTTPS; 0 = one per CPU core, at most 8
    bool operator==(const Http&) const = default;
  } http;

  struct Store {
    std::string backend = "sqlite";
    std::filesystem::path sqlite_path;  // empty = <state_dir>/hub.db
    bool operator==(const Store&) const = default;
  } store;

  struct Storage {
    std::filesystem::path media_dir;                           // empty = <state_dir>/media
    std::uint64_t max_upload_bytes = 512ULL * 1024 * 1024;     // one segment upload
    std::uint32_t upload_expiry_hours = 72;                    // unfinished tus uploads are removed after this
    std::uint64_t min_free_bytes = 1ULL * 1024 * 1024 * 1024;  // uploads get 507 below this
    bool operator==(const Storage&) const = default;
  } storage;

  struct Retention {
    std::uint32_t days = 365;  // recordings older than this are deleted (audited); 0 = keep forever
    std::uint32_t check_interval_minutes = 60;
    bool operator==(const Retention&) const = default;
  } retention;

  struct Auth {
    std::uint32_t session_hours = 12;
    std::uint32_t pairing_code_minutes = 30;
    // Sign-in and enrolment failures (hub/auth/rate_limiter.hpp): free failures per login, after which
    // each one doubles the wait (1 s, 2 s, ...) up to max_failure_delay_s; and per client address,
    // forgiven at this rate, so a school behind one NAT address is not shut out by a few typos.
    std::uint32_t login_failures_before_delay = 5;
    std::uint32_t address_failures_per_hour = 100;
    std::uint32_t max_failure_delay_s = 900;
    bool operator==(const Auth&) const = default;
  } auth;

  struct Broker {
    bool enabled = true;  // false: no MQTT at all (units are not coordinated; tests of other parts)
    bool manage = true;   // start and configure Mosquitto ourselves
    std::filesystem::path mosquitto = "/usr/sbin/mosquitto";
    std::string listen = "0.0.0.0";
    std::uint16_t port = 8883;       // TLS listener for units
    std::string public_host;         // what units dial; empty = host of public_url
    std::string host = "127.0.0.1";  // what the hub itself dials when manage = false
    bool operator==(const Broker&) const = default;
  } broker;

  struct Schedule {
    std::uint32_t horizon_days = 14;
    bool operator==(const Schedule&) const = default;
  } schedule;

  // Live observation (docs/live.md).
  struct Live {
    // Local addresses the hub's WebRTC (ICE) uses; empty = every interface. Name the addresses units and
    // browsers can reach.
    std::vector<std::string> ice_addresses;
    std::uint32_t max_s = 3600;        // a live stream stops by itself after this long
    std::uint32_t preview_s = 120;     // a technician's framing preview (video only) lasts this long
    std::uint32_t grace_s = 10;        // after the last viewer left, the unit is told to stop after this long
    std::uint32_t ingest_wait_s = 15;  // how long a viewer's POST waits for the unit to start live
    std::uint32_t talk_floor_s = 60;   // a talk floor not renewed for this long is dropped
    // TURN (coturn, shared-secret REST credentials): "host:port"; empty = no TURN.
    std::string turn_server;
    std::string turn_secret;  // coturn's static-auth-secret
    std::uint32_t turn_credential_s = 3600;
    bool operator==(const Live&) const = default;
  } live;

  // Prometheus metrics at GET /metrics on the HTTPS listener (docs/metrics.md).
  struct Metrics {
    // The bearer token Prometheus sends; empty = /metrics is off (404). At least 32 characters.
    std::string token;
    bool operator==(const Metrics&) const = default;
  } metrics;

  // Paths with their defaults from state_dir applied.
  bool operator==(const HubConfig&) const = default;

  std::filesystem::path sqlite_path() const;
  std::filesystem::path media_dir() const;
};

HubConfig default_hub_config();
HubConfig parse_hub_config(std::string_view toml_text, const std::string& file = "<config>");
HubConfig load_hub_config(const std::filesystem::path& file);

}  // namespace classcam::config
