#include "hub/testing/test_hub.hpp"

#include "hub/auth/password.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/tls/certificates.hpp"
#include "tests/support/ports.hpp"

namespace classcam::hub::testkit {

config::HubConfig test_config(const std::filesystem::path& state_dir) {
  auto c = config::default_hub_config();
  c.hub.state_dir = state_dir;
  c.http.listen = "127.0.0.1";
  c.http.port = 0;
  c.http.threads = 2;
  c.storage.min_free_bytes = 0;
  c.log.level = log::Level::warn;
  c.broker.enabled = false;  // tests that need MQTT use test_config_with_broker()
  c.metrics.token = kMetricsToken;
  return c;
}

config::HubConfig test_config_with_broker(const std::filesystem::path& state_dir) {
  auto c = test_config(state_dir);
  c.broker.enabled = true;
  c.broker.manage = true;
  c.broker.listen = "127.0.0.1";
  c.broker.host = "127.0.0.1";
  c.broker.port = test::free_port();
  return c;
}

TestHub::TestHub(std::optional<config::HubConfig> config) {
  auto cfg = config ? *config : test_config(dir_.path() / "state");
  if (config) cfg.hub.state_dir = dir_.path() / "state";
  log::init(cfg.log);
  config_ = cfg;
  service_ = std::make_unique<Service>(cfg);
  port_ = service_->start();
}

void TestHub::restart() {
  service_->stop();
  service_.reset();
  service_ = std::make_unique<Service>(config_);
  port_ = service_->start();
}

TestHub::~TestHub() { service_->stop(); }

std::filesystem::path TestHub::ca_file() const { return service_->tls_material().ca_cert; }

HttpsClient TestHub::client() const {
  ClientOptions o;
  o.ca_file = ca_file();
  return HttpsClient("127.0.0.1", port_, o);
}

HttpsClient TestHub::client(const std::string& bearer) const {
  auto c = client();
  c.set_header("Authorization", "Bearer " + bearer);
  return c;
}

TestHub::Person TestHub::add_person(const std::string& login, store::Role role) {
  Person p;
  p.password = "pw-" + login + "-long-enough";
  const auto created = store().create_user(login, "Name of " + login, role, auth::hash_password(p.password));
  if (const auto* r = store::refusal(created)) throw std::runtime_error(r->message);
  p.user = std::get<store::User>(created);
  const auto secret = auth::new_secret(auth::kUserTokenPrefix);
  store().create_api_token(p.user.id, "test", secret.hash);
  p.token = secret.value;
  return p;
}

store::Room TestHub::add_room(const std::string& name, const std::optional<std::string>& default_teacher) {
  auto r = store().create_room(name, default_teacher);
  if (const auto* bad = store::refusal(r)) throw std::runtime_error(bad->message);
  return std::get<store::Room>(r);
}

TestHub::NewUnit TestHub::add_unit(const std::string& id, const std::optional<std::string>& room_id) {
  const auto secret = auth::new_secret(auth::kUnitTokenPrefix);
  auto u = store().create_unit(id, "Unit " + id, room_id, secret.hash);
  if (const auto* bad = store::refusal(u)) throw std::runtime_error(bad->message);
  return {std::get<store::Unit>(u), secret.value};
}

}  // namespace classcam::hub::testkit
