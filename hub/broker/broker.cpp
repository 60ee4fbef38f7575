#include "hub/broker/broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/util/uuid.hpp"
#include "hub/tls/certificates.hpp"

namespace classcam::hub::broker {

namespace fs = std::filesystem;

namespace {
std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string current_user_name() {
  if (const auto* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "root";
}

bool tcp_accepts(const std::string& host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

std::string hub_password(const fs::path& state_dir) {
  const Layout l{state_dir / "broker"};
  fs::create_directories(l.dir);
  if (fs::exists(l.hub_secret())) {
    auto text = read_text(l.hub_secret());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty()) return text;
  }
  std::string pw = "h_" + util::random_hex(24);
  write_file_atomically(l.hub_secret(), pw + "\n");
  return pw;
}

std::string new_unit_password() { return "m_" + util::random_hex(24); }

Broker::Broker(const config::HubConfig& config, store::Store& store, fs::path ca_dir)
    : config_(config), store_(store), ca_dir_(std::move(ca_dir)), layout_{config.hub.state_dir / "broker"} {
  if (!fs::exists(config.broker.mosquitto)) {
    throw std::runtime_error("broker.mosquitto: " + config.broker.mosquitto.string() +
                             " does not exist (install the mosquitto package, or set broker.manage = false)");
  }
  fs::create_directories(layout_.data());
  fs::permissions(layout_.dir, fs::perms::owner_all);
  hub_password_ = hub_password(config.hub.state_dir);
  Supervisor::Options o;
  o.argv = {config.broker.mosquitto.string(), "-c", layout_.conf().string()};
  o.log_file = layout_.log();
  supervisor_ = std::make_unique<Supervisor>(
      std::move(o), [this] { write_files(true); }, log_);
}

Broker::~Broker() { stop(); }

void Broker::start() { supervisor_->start(); }

void Broker::stop() { supervisor_->stop(); }

void Broker::write_files(bool with_certificate) {
  std::lock_guard lock(files_mutex_);
  if (with_certificate) {
    // Issued at every start: cheap, and it follows broker.public_host and the CA.
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    for (const auto& n : {config_.broker.public_host, config_.broker.host}) {
      if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    tls::issue_leaf(ca_dir_, names, layout_.cert(), layout_.key(), 397);
  }
  ListenerSettings s;
  s.listen = config_.broker.listen;
  s.port = config_.broker.port;
  s.ca_file = ca_file();
  if (::geteuid() == 0) s.run_as_user = current_user_name();
  write_file_atomically(layout_.conf(), config_text(layout_, s));
  const auto units = store_.broker_credentials();
  write_file_atomically(layout_.passwd(), passwd_text(hash_password(hub_password_), units));
  write_file_atomically(layout_.acl(), acl_text(units));
}

void Broker::apply_credentials() {
  write_files(false);
  // Mosquitto rereads both files on SIGHUP and disconnects clients they no longer admit. When the
  // broker is down (restarting), its next start reads the new files anyway.
  if (!supervisor_->signal(SIGHUP)) log_->info("broker: not running; it gets the new logins when it starts");
}

bool Broker::wait_ready(std::chrono::milliseconds timeout) const {
  const auto host = config_.broker.listen == "0.0.0.0" || config_.broker.listen.empty() ? std::string("127.0.0.1")
                                                                                        : config_.broker.listen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (tcp_accepts(host, config_.broker.port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace classcam::hub::broker
