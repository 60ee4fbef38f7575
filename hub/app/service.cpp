#include "hub/app/service.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "common/log/log.hpp"
#include "common/util/version.hpp"
#include "hub/api/routes.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/auth/authenticator.hpp"
#include "hub/auth/password.hpp"
#include "hub/broker/broker.hpp"
#include "hub/fleet/fleet.hpp"
#include "hub/fleet/routes.hpp"
#include "hub/http/router.hpp"
#include "hub/http/server.hpp"
#include "hub/live/live.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "hub/recordings/joiner.hpp"
#include "hub/recordings/library.hpp"
#include "hub/recordings/routes.hpp"
#include "hub/schedule/routes.hpp"
#include "hub/store/store.hpp"
#include "hub/tls/certificates.hpp"
#include "hub/uploads/tus.hpp"
#include "hub/web/site.hpp"

namespace classcam::hub {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

unsigned io_threads(std::uint32_t configured) {
  if (configured != 0) return configured;
  return std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
}

// What units are told to dial for MQTT: broker.public_host, else the host of hub.public_url, else
// the address the hub itself uses (a single-machine demo).
std::string mqtt_host_for_units(const config::HubConfig& cfg) {
  if (!cfg.broker.public_host.empty()) return cfg.broker.public_host;
  const auto& url = cfg.hub.public_url;
  if (const auto scheme = url.find("://"); scheme != std::string::npos) {
    auto host = url.substr(scheme + 3);
    host = host.substr(0, host.find('/'));
    if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
    return host.substr(0, host.find(':'));
  }
  return cfg.broker.host;
}

// Sign-in limits from [auth]: failures are forgiven one per max_failure_delay_s per login, and at
// address_failures_per_hour per address, so a steady guesser stays at the longest wait.
auth::LoginLimits login_limits(const config::HubConfig::Auth& a) {
  const std::chrono::seconds max_delay(a.max_failure_delay_s);
  auth::LoginLimits l;
  l.per_login = {a.login_failures_before_delay, max_delay, std::chrono::seconds(1), max_delay};
  l.per_address = {a.address_failures_per_hour,
                   std::chrono::seconds(std::max<std::uint32_t>(1, 3600 / a.address_failures_per_hour)),
                   std::chrono::seconds(1), max_delay};
  return l;
}

// Runs the io_context on this thread until it stops. An exception that escapes a completion handler
// ends only the operation (and the connection) it belonged to: the thread logs it and runs on, so one
// request can never take the hub, its broker and its login limits down.
void run_io(net::io_context& io, const log::Logger& log) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log->critical("an I/O thread caught an exception no handler did: {}; the hub goes on", e.what());
    } catch (...) {
      log->critical("an I/O thread caught an exception no handler did; the hub goes on");
    }
  }
}

// A job for a thread pool that cannot end the process: asio's pool threads do not survive an
// exception, and std::terminate would follow.
std::function<void()> contained(std::function<void()> job, log::Logger log) {
  return [job = std::move(job), log = std::move(log)] {
    try {
      job();
    } catch (const std::exception& e) {
      log->critical("a worker job failed: {}; the hub goes on", e.what());
    } catch (...) {
      log->critical("a worker job failed; the hub goes on");
    }
  };
}

void make_private_dir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) throw std::runtime_error("cannot create " + p.string() + ": " + ec.message());
  // Video of children: nobody but the hub's own user reads these.
  fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, ec);
}

}  // namespace

struct Service::Impl {
  explicit Impl(config::HubConfig c) : cfg(std::move(c)) {}

  config::HubConfig cfg;
  log::Logger log = log::get("hub");
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  net::thread_pool workers{2};
  net::thread_pool joiner{1};
  std::unique_ptr<store::Store> store;
  std::string first_admin_password;
  tls::Material tls;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<audit::Auditor> auditor;
  std::unique_ptr<recordings::Library> library;
  std::unique_ptr<uploads::TusServer> tus;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<metrics::HubMetrics> metrics;
  std::atomic<int> joins_queued{0};  // queued or running on `joiner`
  classcam::metrics::Histogram* join_seconds = nullptr;
  std::unique_ptr<api::ApiContext> api_ctx;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<broker::Broker> broker;
  std::unique_ptr<fleet::Fleet> fleet;
  std::unique_ptr<fleet::FleetRoutes> fleet_routes;
  std::unique_ptr<live::Live> live;
  net::steady_timer retention_timer{io};
  net::steady_timer expiry_timer{io};
  std::uint16_t port = 0;
  std::string hub_url;  // see start()
  bool started = false;
  bool stopped = false;

  // Every job for the pools goes through here (see contained()).
  void post_to(net::thread_pool& pool, std::function<void()> job) { net::post(pool, contained(std::move(job), log)); }

  api::Executor workers_exec() {
    return [this](std::function<void()> job) { post_to(workers, std::move(job)); };
  }

  // The gauges a scrape recomputes, from the store and the processes the hub watches.
  void set_metrics_collector() {
    auto& r = metrics->registry();
    auto& units = r.gauge("classcam_units", "Units not revoked, by whether they are online.", {"online"});
    auto& online = r.gauge("classcam_units_online", "Units whose retained state says online.");
    auto& recs = r.gauge("classcam_recordings", "Recordings by state.", {"state"});
    auto& uploads = r.gauge("classcam_uploads_in_flight", "Segment uploads open (started, not complete).");
    auto& upload_bytes = r.gauge("classcam_uploads_in_flight_bytes", "Bytes received so far of open uploads.");
    auto& queue = r.gauge("classcam_join_queue", "Joins queued or running.");
    auto& broker_up = r.gauge("classcam_broker_up", "1 when the hub's MQTT client is connected to the broker.");
    auto& free_bytes = r.gauge("classcam_media_free_bytes", "Bytes free for an unprivileged user on the media disk.");
    auto& size_bytes = r.gauge("classcam_media_size_bytes", "Size of the media disk.");
    metrics->set_collector([this, &units, &online, &recs, &uploads, &upload_bytes, &queue, &broker_up, &free_bytes,
                            &size_bytes](classcam::metrics::Registry&) {
      int on = 0;
      int off = 0;
      for (const auto& u : store->units()) {
        if (u.revoked) continue;
        ++(u.online ? on : off);
      }
      units.gauge({"true"}).set(on);
      units.gauge({"false"}).set(off);
      online.gauge().set(on);
      for (const auto st :
           {store::RecordingState::recording, store::RecordingState::complete, store::RecordingState::joining,
            store::RecordingState::ready, store::RecordingState::failed}) {
        recs.gauge({std::string(store::to_string(st))}).set(static_cast<double>(store->recordings_in_state(st).size()));
      }
      const auto open = store->uploads_in_states({store::UploadState::open});
      double bytes = 0;
      for (const auto& u : open) bytes += static_cast<double>(u.offset);
      uploads.gauge().set(static_cast<double>(open.size()));
      upload_bytes.gauge().set(bytes);
      queue.gauge().set(joins_queued.load());
      broker_up.gauge().set(fleet && fleet->connected() ? 1 : 0);
      std::error_code ec;
      const auto space = fs::space(cfg.media_dir(), ec);
      if (!ec) {
        free_bytes.gauge().set(static_cast<double>(space.available));
        size_bytes.gauge().set(static_cast<double>(space.capacity));
      }
    });
  }

  void ensure_first_admin() {
    if (store->count_users() > 0) return;
    first_admin_password = auth::generate_password();
    const auto created =
        store->create_user("admin", "Administrator", store::Role::admin, auth::hash_password(first_admin_password));
    if (store::refusal(created)) return;
    auditor->record_system("classcam-hub", "user.create", "user", std::get<store::User>(created).id,
                           "the first admin account, created at first start");
    // Said once, plainly, and never again: only its Argon2id hash is kept.
    log->warn(
        "created the first admin account: login \"admin\", password \"{}\". It is shown only this once; "
        "sign in and change it (POST /api/v1/me/password), or reset it with "
        "`classcam-hub --config FILE user passwd --login admin`.",
        first_admin_password);
  }

  void schedule_retention(std::chrono::steady_clock::duration after) {
    retention_timer.expires_after(after);
    retention_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      post_to(workers, [this] { run_retention(); });
      schedule_retention(std::chrono::minutes(cfg.retention.check_interval_minutes));
    });
  }

  std::size_t run_retention() {
    try {
      const auto days = std::stoul(store->setting(api::kRetentionSetting).value_or("0"));
      const auto n = library->apply_retention(util::now_utc(), static_cast<std::uint32_t>(days));
      if (n > 0) log->info("retention: deleted {} recording(s) older than {} days", n, days);
      store->delete_expired_sessions(util::now_utc());
      // Command rows are a log for technicians, not a record of lessons: a month is plenty.
      store->delete_commands_before(util::now_utc() - std::chrono::hours(24 * 30));
      // A week without a failed attempt: that key's count is (nearly) forgiven anyway.
      store->delete_throttles_before(util::now_utc() - std::chrono::hours(24 * 7));
      return n;
    } catch (const std::exception& e) {
      log->error("retention run failed: {}", e.what());
      return 0;
    }
  }

  void schedule_expiry(std::chrono::steady_clock::duration after) {
    expiry_timer.expires_after(after);
    expiry_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      post_to(workers, [this] {
        try {
          tus->expire(util::now_utc());
        } catch (const std::exception& e) {
          log->error("upload expiry failed: {}", e.what());
        }
      });
      schedule_expiry(std::chrono::minutes(10));
    });
  }
};

Service::Service(config::HubConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  auto& s = *impl_;
  const auto& cfg = s.cfg;
  make_private_dir(cfg.hub.state_dir);
  make_private_dir(cfg.media_dir());
  make_private_dir(cfg.media_dir() / "recordings");
  make_private_dir(cfg.media_dir() / "uploads");
  s.store = store::Store::open_sqlite(cfg.sqlite_path());
  s.store->setting_or_init(api::kRetentionSetting, std::to_string(cfg.retention.days));
  s.auditor = std::make_unique<audit::Auditor>(*s.store);
  s.ensure_first_admin();

  if (cfg.http.tls_cert.empty()) {
    s.tls = tls::ensure_local_material(cfg.hub.state_dir / "tls", tls::default_names(cfg.hub.public_url));
    s.log->info("TLS: local CA fingerprint (SHA-256) {}", s.tls.ca_fingerprint);
    if (s.tls.issued_now) s.log->info("TLS: issued a new server certificate, fingerprint {}", s.tls.cert_fingerprint);
  } else {
    s.tls = tls::configured_material(cfg.http.tls_cert, cfg.http.tls_key);
    s.log->info("TLS: using {} (fingerprint {})", cfg.http.tls_cert.string(), s.tls.cert_fingerprint);
  }

  // The CA that signs the broker's certificate and that units pin at enrolment. With an operator's own
  // HTTPS certificate the hub still keeps a local CA for MQTT.
  const auto ca_dir = cfg.hub.state_dir / "tls";
  if (s.tls.ca_cert.empty()) tls::ensure_local_material(ca_dir, tls::default_names(cfg.hub.public_url));

  recordings::ensure_gstreamer();
  s.authenticator = std::make_unique<auth::Authenticator>(*s.store, std::chrono::hours(cfg.auth.session_hours),
                                                          login_limits(cfg.auth));
  s.library = std::make_unique<recordings::Library>(
      *s.store, *s.auditor, recordings::MediaLayout{cfg.media_dir()},
      // Every job on the joiner is a join: its queue and durations are metrics.
      [&s](std::function<void()> job) {
        ++s.joins_queued;
        s.post_to(s.joiner, [&s, job = std::move(job)] {
          const auto start = std::chrono::steady_clock::now();
          try {
            job();
          } catch (...) {
            --s.joins_queued;
            throw;
          }
          --s.joins_queued;
          s.join_seconds->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        });
      },
      // A failed join's retry: a timer on the io_context that only queues the join (a stop drops it).
      [&s](std::chrono::milliseconds delay, std::function<void()> job) {
        auto timer = std::make_shared<net::steady_timer>(s.io, delay);
        timer->async_wait([timer, job = std::move(job)](boost::system::error_code ec) {
          if (!ec) job();
        });
      });
  s.tus = std::make_unique<uploads::TusServer>(*s.store, *s.library,
                                               uploads::Limits{cfg.storage.max_upload_bytes, cfg.storage.min_free_bytes,
                                                               std::chrono::hours(cfg.storage.upload_expiry_hours)},
                                               s.workers_exec());

  s.router = std::make_unique<http::Router>(
      [&s](const http::Request& req) {
        return s.authenticator->authenticate(req.header("Cookie"), req.header("Authorization"), req.remote_address);
      },
      http::BodyLimits{cfg.http.max_anonymous_body_bytes, cfg.http.max_json_body_bytes, cfg.http.max_body_bytes});
  s.metrics = std::make_unique<metrics::HubMetrics>(cfg.metrics.token);
  s.join_seconds = &s.metrics->registry()
                        .histogram("classcam_join_duration_seconds", "Time each join of a recording's segments took.",
                                   {1, 5, 15, 30, 60, 120, 300, 600, 1800})
                        .histogram();
  s.router->set_observer([&s](const std::string& pattern, const std::string& method, int status,
                              std::chrono::steady_clock::duration elapsed) {
    s.metrics->observe_request(pattern, method, status, elapsed);
  });
  s.api_ctx = std::make_unique<api::ApiContext>(
      api::ApiContext{*s.store, *s.authenticator, *s.auditor, s.workers_exec(), cfg.hub.name, cfg.hub.timezone});
  {
    fleet::FleetRoutesContext f{*s.store, *s.auditor};
    if (cfg.broker.enabled) {
      if (cfg.broker.manage) s.broker = std::make_unique<broker::Broker>(cfg, *s.store, ca_dir);
      fleet::FleetOptions fo;
      fo.host = cfg.broker.host;
      fo.port = cfg.broker.port;
      fo.ca_file = ca_dir / "ca.pem";
      fo.hub_password = broker::hub_password(cfg.hub.state_dir);
      fo.horizon_days = cfg.schedule.horizon_days;
      fo.timezone = cfg.hub.timezone;
      fo.on_session = [&s](const store::Unit& unit, const protocol::SessionInfo& info) {
        s.post_to(s.workers, [&s, unit, info] {
          access::Principal p;
          p.caller = access::Caller::unit;
          p.id = unit.id;
          p.login = unit.id;
          p.display_name = unit.name;
          p.room_id = unit.room_id;
          p.via = access::Principal::Via::unit_token;
          try {
            const auto announced = s.library->announce(p, info);
            if (const auto* r = store::refusal(announced)) {
              s.log->warn("session {} announced over MQTT by {}: {}", info.session_id, unit.id, r->message);
            }
          } catch (const std::exception& e) {
            s.log->error("session {} announced over MQTT by {}: {}", info.session_id, unit.id, e.what());
          }
        });
      };
      s.fleet = std::make_unique<fleet::Fleet>(s.io, *s.store, fo);
    }
    f.fleet = s.fleet.get();
    f.broker = s.broker.get();
    f.ca_file = ca_dir / "ca.pem";
    f.mqtt_host = mqtt_host_for_units(cfg);
    f.mqtt_port = cfg.broker.port;
    f.pairing_lifetime = std::chrono::minutes(cfg.auth.pairing_code_minutes);
    f.snapshot_dir = cfg.media_dir() / "snapshots";
    f.enrol_limit = login_limits(cfg.auth).per_address;
    s.fleet_routes = std::make_unique<fleet::FleetRoutes>(f);
    s.api_ctx->revoke_unit = [&s](const std::string& id) { return s.fleet_routes->revoke(id); };
    s.fleet_routes->add(*s.router);
  }
  api::add_account_routes(*s.router, *s.api_ctx);
  api::add_place_routes(*s.router, *s.api_ctx);
  api::add_admin_routes(*s.router, *s.api_ctx);
  schedule::add_routes(*s.router, *s.store, *s.auditor,
                       {[&s] { return s.hub_url; }, cfg.schedule.horizon_days, cfg.hub.timezone});
  recordings::add_routes(*s.router, *s.store, *s.library, *s.auditor);
  s.tus->add_routes(*s.router);
  {
    live::LiveOptions lo;
    lo.ice_addresses = cfg.live.ice_addresses;
    lo.max_live = std::chrono::seconds(cfg.live.max_s);
    lo.preview = std::chrono::seconds(cfg.live.preview_s);
    lo.grace = std::chrono::seconds(cfg.live.grace_s);
    lo.ingest_wait = std::chrono::seconds(cfg.live.ingest_wait_s);
    lo.talk_floor = std::chrono::seconds(cfg.live.talk_floor_s);
    lo.turn_server = cfg.live.turn_server;
    lo.turn_secret = cfg.live.turn_secret;
    lo.turn_credential = std::chrono::seconds(cfg.live.turn_credential_s);
    live::LiveHooks hooks;
    if (s.fleet) {
      hooks.send_command = [&s](const std::string& unit_id, const protocol::Command& c) {
        return s.fleet->send_command(unit_id, c);
      };
      hooks.publish_status = [&s](const protocol::LiveStatus& st) { s.fleet->publish_live(st); };
    }
    s.live = std::make_unique<live::Live>(s.io, *s.store, *s.auditor, lo, std::move(hooks));
    s.live->add_routes(*s.router);
  }
  {
    auto& bytes = s.metrics->registry()
                      .counter("classcam_upload_bytes_total", "Segment bytes the hub stored from units' uploads.")
                      .counter();
    auto& segments = s.metrics->registry().counter("classcam_upload_segments_total",
                                                   "Uploaded segments checked, by outcome.", {"outcome"});
    s.tus->set_observers([&bytes](std::uint64_t n) { bytes.inc(static_cast<double>(n)); },
                         [&segments](const char* outcome) { segments.counter({outcome}).inc(); });
  }
  s.metrics->add_route(*s.router, s.workers_exec());
  s.set_metrics_collector();

  http::ServerOptions o;
  o.listen = cfg.http.listen;
  o.port = cfg.http.port;
  o.cert_chain = s.tls.cert_chain;
  o.key = s.tls.key;
  o.handshake_timeout = std::chrono::seconds(cfg.http.handshake_timeout_s);
  o.read_timeout = std::chrono::seconds(cfg.http.read_timeout_s);
  o.min_body_bytes_per_s = cfg.http.min_body_bytes_per_s;
  o.idle_timeout = std::chrono::seconds(cfg.http.idle_timeout_s);
  o.max_connections = cfg.http.max_connections;
  o.max_connections_per_address = cfg.http.max_connections_per_address;
  o.max_pipelined = cfg.http.max_pipelined;
  s.server = std::make_unique<http::Server>(s.io, o, [&s](http::Request& req) { return web::admit(*s.router, req); });
}

Service::~Service() {
  try {
    stop();
  } catch (const std::exception& e) {
    impl_->log->error("stopping: {}", e.what());
  }
}

std::uint16_t Service::start() {
  auto& s = *impl_;
  s.port = s.server->start();
  // Absolute URLs the hub hands out (units' hub address, calendar feeds) come from here, never from a
  // request's Host header. Set before the I/O threads start, read-only after.
  s.hub_url = s.cfg.hub.public_url.empty() ? "https://" + s.cfg.http.listen + ":" + std::to_string(s.port)
                                           : s.cfg.hub.public_url;
  s.fleet_routes->set_hub_url(s.hub_url);
  if (s.broker) s.broker->start();
  if (s.fleet) s.fleet->start();
  s.work.emplace(s.io.get_executor());
  const unsigned n = io_threads(s.cfg.http.threads);
  for (unsigned i = 0; i < n; ++i) s.threads.emplace_back([&s] { run_io(s.io, s.log); });
  s.library->resume();
  s.schedule_expiry(std::chrono::seconds(0));
  s.schedule_retention(std::chrono::seconds(5));
  s.started = true;
  s.log->info("classcam-hub {} serving https://{}:{} ({} threads), state in {}", kVersion, s.cfg.http.listen, s.port, n,
              s.cfg.hub.state_dir.string());
  return s.port;
}

void Service::stop() {
  auto& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.log->info("stopping: finishing requests in flight");
  std::promise<void> drained;
  s.server->shutdown(std::chrono::seconds(10), [&drained] { drained.set_value(); });
  drained.get_future().wait_for(std::chrono::seconds(15));
  s.live->stop();  // on the I/O threads, which still run
  if (s.fleet) s.fleet->stop();
  s.work.reset();
  s.io.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.workers.join();
  // A join under way stops (its recording is joined again at the next start); queued ones are dropped.
  s.library->stop();
  s.joiner.stop();
  s.joiner.join();
  if (s.broker) s.broker->stop();
  s.log->info("stopped");
}

int Service::run_until_signal() {
  auto& s = *impl_;
  std::promise<int> signalled;
  net::signal_set signals(s.io, SIGTERM, SIGINT);
  signals.async_wait([&signalled](boost::system::error_code ec, int sig) {
    if (!ec) signalled.set_value(sig);
  });
  const auto port = start();
  sd_notifyf(0, "READY=1\nSTATUS=serving https on port %u", static_cast<unsigned>(port));
  const int sig = signalled.get_future().get();
  s.log->info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  sd_notify(0, "STOPPING=1\nSTATUS=finishing requests in flight");
  stop();
  return 0;
}

const std::string& Service::first_admin_password() const { return impl_->first_admin_password; }
store::Store& Service::store() { return *impl_->store; }
const http::Router& Service::router() const { return *impl_->router; }
recordings::Library& Service::library() { return *impl_->library; }
uploads::TusServer& Service::tus() { return *impl_->tus; }
const tls::Material& Service::tls_material() const { return impl_->tls; }
const config::HubConfig& Service::config() const { return impl_->cfg; }
std::size_t Service::run_retention_now() { return impl_->run_retention(); }
broker::Broker* Service::broker() { return impl_->broker.get(); }
fleet::Fleet* Service::fleet() { return impl_->fleet.get(); }
live::Live& Service::live() { return *impl_->live; }

}  // namespace classcam::hub
