#include "tests/support/turn.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/ports.hpp"

namespace classcam::test {

namespace {

bool tcp_accepts(const std::string& ip, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

TurnServer::TurnServer(Options options) : options_(std::move(options)) {
  port_ = options_.port != 0 ? options_.port : free_port();
  const std::uint16_t relay_min = free_port();
  std::vector<std::string> argv = {"turnserver",
                                   "-n",
                                   "-v",  // no configuration file: everything is here; -v logs each session
                                   "--listening-ip",
                                   options_.address,
                                   "--relay-ip",
                                   options_.address,
                                   "--listening-port",
                                   std::to_string(port_),
                                   "--use-auth-secret",
                                   "--static-auth-secret",
                                   options_.secret,
                                   "--realm",
                                   options_.realm,
                                   "--fingerprint",
                                   "--no-cli",
                                   "--no-multicast-peers",
                                   "--simple-log",
                                   "--log-file",
                                   "stdout",
                                   "--pidfile",
                                   (dir_ / "turnserver.pid").string(),
                                   "--min-port",
                                   std::to_string(relay_min),
                                   "--max-port",
                                   std::to_string(relay_min + 200 > 65535 ? 65535 : relay_min + 200),
                                   "--no-rfc5780",
                                   "--no-stun-backward-compatibility"};
  if (options_.allow_loopback_peers) argv.push_back("--allow-loopback-peers");
  if (!options_.udp) argv.push_back("--no-udp");
  if (!options_.cert.empty()) {
    tls_port_ = free_port();
    argv.insert(argv.end(), {"--tls-listening-port", std::to_string(tls_port_), "--cert", options_.cert.string(),
                             "--pkey", options_.key.string(), "--no-dtls", "--no-tlsv1", "--no-tlsv1_1"});
  } else {
    argv.insert(argv.end(), {"--no-tls", "--no-dtls"});
  }
  process_ = std::make_unique<Process>(argv, dir_ / "turnserver.log");
  if (!wait_until([&] { return !process_->running() || tcp_accepts(options_.address, port_); },
                  std::chrono::seconds(10)) ||
      !process_->running()) {
    throw std::runtime_error("TurnServer: turnserver did not start on " + options_.address + ":" +
                             std::to_string(port_) + ": " + log());
  }
  if (tls_port_ != 0 &&
      !wait_until([&] { return tcp_accepts(options_.address, tls_port_); }, std::chrono::seconds(5))) {
    throw std::runtime_error("TurnServer: no TLS listener on " + std::to_string(tls_port_) + ": " + log());
  }
}

TurnServer::~TurnServer() {
  if (process_) process_->stop();
}

std::string TurnServer::log() const { return process_ ? process_->output() : std::string(); }

int TurnServer::allocations() const {
  const auto text = log();
  int n = 0;
  for (auto pos = text.find("ALLOCATE processed, success"); pos != std::string::npos;
       pos = text.find("ALLOCATE processed, success", pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace classcam::test
