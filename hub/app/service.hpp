#pragma once
// classcam-hub assembled: the store (migrated at start), the first admin account, TLS material, the
// HTTPS server with every route, the worker pools, and the timers for retention and upload expiry.
//
// Threading: one io_context run by http.threads threads (sessions on strands); a worker pool of two
// threads for blocking request work (Argon2id, disk writes and fsync, hashing); one join thread for
// GStreamer remuxing. Timers fire on the io_context and hand their work to the workers. With a broker:
// the supervisor thread of the Mosquitto child (hub/broker) and the MQTT network thread (hub/fleet),
// which only posts to a strand of the io_context.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/config/hub_config.hpp"

namespace classcam::hub {

namespace store {
class Store;
}
namespace http {
class Router;
}
namespace recordings {
class Library;
}
namespace uploads {
class TusServer;
}
namespace tls {
struct Material;
}
namespace broker {
class Broker;
}
namespace live {
class Live;
}
namespace fleet {
class Fleet;
}

class Service {
 public:
  // Opens the store (applying migrations), creates the first admin when there are no users, and
  // prepares TLS. Throws on start-up errors (unwritable state_dir, bad certificate, newer database).
  explicit Service(config::HubConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds and starts serving; returns the port (useful with http.port = 0).
  std::uint16_t start();
  // Graceful: stops accepting, lets requests in flight finish (up to 10 s), then stops the workers
  // (a join in progress is interrupted and, like queued ones, runs again at the next start).
  void stop();
  // start(), tell systemd READY, serve until SIGTERM or SIGINT, stop(). Returns the exit code.
  int run_until_signal();

  // The first admin's generated password, when this start created the account (else empty).
  const std::string& first_admin_password() const;

  store::Store& store();
  const http::Router& router() const;
  recordings::Library& library();
  uploads::TusServer& tus();
  const tls::Material& tls_material() const;
  const config::HubConfig& config() const;

  // Null when broker.enabled is false (fleet) or broker.manage is false (broker).
  broker::Broker* broker();
  fleet::Fleet* fleet();
  live::Live& live();

  // What the timers do, callable directly (tests, the admin CLI).
  std::size_t run_retention_now();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace classcam::hub
