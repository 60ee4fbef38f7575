#include "common/config/hub_config.hpp"

#include "common/config/log_section.hpp"
#include "common/config/toml_reader.hpp"

namespace classcam::config {

namespace {

HubConfig read(TomlReader& root) {
  HubConfig c;
  {
    auto s = root.section("hub");
    c.hub.name = s.string("name", c.hub.name);
    c.hub.state_dir = s.path("state_dir", c.hub.state_dir);
    if (c.hub.state_dir.empty()) s.fail("state_dir", "must not be empty");
    c.hub.public_url = s.string("public_url", c.hub.public_url);
    if (!c.hub.public_url.empty() && c.hub.public_url.rfind("https://", 0) != 0) {
      s.fail("public_url", "must start with https:// (units and browsers only talk TLS)");
    }
    while (!c.hub.public_url.empty() && c.hub.public_url.back() == '/') c.hub.public_url.pop_back();
    c.hub.timezone = s.string("timezone", c.hub.timezone);
    if (c.hub.timezone.empty()) s.fail("timezone", "must not be empty (use an IANA name such as \"Europe/London\")");
    s.finish();
  }
  {
    auto s = root.section("log");
    c.log = read_log_section(s);
    s.finish();
  }
  {
    auto s = root.section("http");
    auto& h = c.http;
    h.listen = s.string("listen", h.listen);
    h.port = static_cast<std::uint16_t>(s.integer("port", h.port, 0, 65535));
    h.tls_cert = s.path("tls_cert", h.tls_cert);
    h.tls_key = s.path("tls_key", h.tls_key);
    if (h.tls_cert.empty() != h.tls_key.empty()) {
      s.fail(h.tls_cert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together: set both or neither");
    }
    h.max_body_bytes = static_cast<std::uint64_t>(
        s.integer("max_body_bytes", static_cast<std::int64_t>(h.max_body_bytes), 64 * 1024, 1LL << 30));
    h.max_json_body_bytes = static_cast<std::uint64_t>(
        s.integer("max_json_body_bytes", static_cast<std::int64_t>(h.max_json_body_bytes), 4 * 1024, 1LL << 30));
    h.max_anonymous_body_bytes = static_cast<std::uint64_t>(
        s.integer("max_anonymous_body_bytes", static_cast<std::int64_t>(h.max_anonymous_body_bytes), 1024, 1LL << 30));
    h.handshake_timeout_s =
        static_cast<std::uint32_t>(s.integer("handshake_timeout_s", h.handshake_timeout_s, 1, 3600));
    h.read_timeout_s = static_cast<std::uint32_t>(s.integer("read_timeout_s", h.read_timeout_s, 1, 3600));
    h.min_body_bytes_per_s = static_cast<std::uint64_t>(
        s.integer("min_body_bytes_per_s", static_cast<std::int64_t>(h.min_body_bytes_per_s), 1, 1LL << 40));
    h.idle_timeout_s = static_cast<std::uint32_t>(s.integer("idle_timeout_s", h.idle_timeout_s, 1, 3600));
    h.max_connections = static_cast<std::uint32_t>(s.integer("max_connections", h.max_connections, 1, 100000));
    h.max_connections_per_address =
        static_cast<std::uint32_t>(s.integer("max_connections_per_address", h.max_connections_per_address, 1, 100000));
    h.max_pipelined = static_cast<std::uint32_t>(s.integer("max_pipelined", h.max_pipelined, 1, 64));
    h.threads = static_cast<std::uint32_t>(s.integer("threads", h.threads, 0, 64));
    s.finish();
  }
  {
    auto s = root.section("store");
    c.store.backend = s.choice("backend", c.store.backend, {"sqlite"});
    c.store.sqlite_path = s.path("sqlite_path", c.store.sqlite_path);
    s.finish();
  }
  {
    auto s = root.section("storage");
    auto& st = c.storage;
    st.media_dir = s.path("media_dir", st.media_dir);
    st.max_upload_bytes = static_cast<std::uint64_t>(
        s.integer("max_upload_bytes", static_cast<std::int64_t>(st.max_upload_bytes), 1024 * 1024, 1LL << 40));
    st.upload_expiry_hours =
        static_cast<std::uint32_t>(s.integer("upload_expiry_hours", st.upload_expiry_hours, 1, 24 * 365));
    st.min_free_bytes = static_cast<std::uint64_t>(
        s.integer("min_free_bytes", static_cast<std::int64_t>(st.min_free_bytes), 0, 1LL << 50));
    s.finish();
  }
  {
    auto s = root.section("retention");
    c.retention.days = static_cast<std::uint32_t>(s.integer("days", c.retention.days, 0, 36500));
    c.retention.check_interval_minutes =
        static_cast<std::uint32_t>(s.integer("check_interval_minutes", c.retention.check_interval_minutes, 1, 24 * 60));
    s.finish();
  }
  {
    auto s = root.section("auth");
    auto& a = c.auth;
    a.session_hours = static_cast<std::uint32_t>(s.integer("session_hours", a.session_hours, 1, 24 * 30));
    a.pairing_code_minutes =
        static_cast<std::uint32_t>(s.integer("pairing_code_minutes", a.pairing_code_minutes, 1, 7 * 24 * 60));
    a.login_failures_before_delay =
        static_cast<std::uint32_t>(s.integer("login_failures_before_delay", a.login_failures_before_delay, 1, 1000));
    a.address_failures_per_hour =
        static_cast<std::uint32_t>(s.integer("address_failures_per_hour", a.address_failures_per_hour, 1, 100000));
    a.max_failure_delay_s =
        static_cast<std::uint32_t>(s.integer("max_failure_delay_s", a.max_failure_delay_s, 1, 24 * 3600));
    // The fixed per-minute limit this replaced: still read, so a file written for it loads, but unused.
    (void)s.integer("login_attempts_per_minute", 10, 1, 1000);
    s.finish();
  }
  {
    auto s = root.section("broker");
    auto& b = c.broker;
    b.enabled = s.boolean("enabled", b.enabled);
    b.manage = s.boolean("manage", b.manage);
    b.mosquitto = s.path("mosquitto", b.mosquitto);
    b.listen = s.string("listen", b.listen);
    b.port = static_cast<std::uint16_t>(s.integer("port", b.port, 1, 65535));
    b.public_host = s.string("public_host", b.public_host);
    b.host = s.string("host", b.host);
    s.finish();
  }
  {
    auto s = root.section("schedule");
    c.schedule.horizon_days = static_cast<std::uint32_t>(s.integer("horizon_days", c.schedule.horizon_days, 1, 90));
    s.finish();
  }
  {
    auto s = root.section("live");
    auto& l = c.live;
    l.ice_addresses = s.strings("ice_addresses", l.ice_addresses);
    l.max_s = static_cast<std::uint32_t>(s.integer("max_s", l.max_s, 10, 12 * 3600));
    l.preview_s = static_cast<std::uint32_t>(s.integer("preview_s", l.preview_s, 5, 3600));
    l.grace_s = static_cast<std::uint32_t>(s.integer("grace_s", l.grace_s, 0, 600));
    l.ingest_wait_s = static_cast<std::uint32_t>(s.integer("ingest_wait_s", l.ingest_wait_s, 1, 120));
    l.talk_floor_s = static_cast<std::uint32_t>(s.integer("talk_floor_s", l.talk_floor_s, 1, 3600));
    l.turn_server = s.string("turn_server", l.turn_server);
    l.turn_secret = s.string("turn_secret", l.turn_secret);
    l.turn_credential_s = static_cast<std::uint32_t>(s.integer("turn_credential_s", l.turn_credential_s, 60, 86400));
    s.finish();
  }
  {
    auto s = root.section("metrics");
    c.metrics.token = s.string("token", c.metrics.token);
    // Anyone holding it sees the fleet's health; a short one could be guessed over HTTPS.
    if (!c.metrics.token.empty() && c.metrics.token.size() < 32) {
      s.fail("token", "must be at least 32 characters (e.g. `openssl rand -hex 32`), or empty to turn /metrics off");
    }
    s.finish();
  }
  root.finish();
  return c;
}

}  // namespace

std::filesystem::path HubConfig::sqlite_path() const {
  return store.sqlite_path.empty() ? hub.state_dir / "hub.db" : store.sqlite_path;
}

std::filesystem::path HubConfig::media_dir() const {
  return storage.media_dir.empty() ? hub.state_dir / "media" : storage.media_dir;
}

HubConfig default_hub_config() { return HubConfig{}; }

HubConfig parse_hub_config(std::string_view toml_text, const std::string& file) {
  const toml::table t = parse_toml(toml_text, file);
  TomlReader root(&t, file, "");
  return read(root);
}

HubConfig load_hub_config(const std::filesystem::path& file) {
  const toml::table t = parse_toml_file(file);
  TomlReader root(&t, file.string(), "");
  return read(root);
}

}  // namespace classcam::config
