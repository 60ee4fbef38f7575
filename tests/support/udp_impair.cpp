#include "tests/support/udp_impair.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <queue>
#include <random>
#include <stdexcept>
#include <vector>

namespace classcam::test {

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in address(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::invalid_argument("not an IPv4 address: " + ip);
  return a;
}

std::uint64_t key(const sockaddr_in& a) { return (static_cast<std::uint64_t>(a.sin_addr.s_addr) << 16) | a.sin_port; }

int udp_socket() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error("UdpImpairRelay: socket failed");
  // A deep receive buffer: a relay thread that a loaded machine starves for a while must not add
  // losses of its own to the ones it was asked for (FORCE, as root, goes past rmem_max).
  const int bytes = 4 * 1024 * 1024;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  return fd;
}

struct Datagram {
  Clock::time_point due;
  std::uint64_t order;  // equal due times leave in arrival order
  int from_fd;
  sockaddr_in to;
  std::string bytes;
  bool operator>(const Datagram& o) const { return due != o.due ? due > o.due : order > o.order; }
};

}  // namespace

UdpImpairRelay::UdpImpairRelay(const std::string& listen_ip, std::uint16_t listen_port, const std::string& target_ip,
                               std::uint16_t target_port, Impairment impairment, std::uint64_t seed)
    : target_(address(target_ip, target_port)),
      seed_(seed),
      loss_(impairment.loss),
      delay_ms_(impairment.delay_ms),
      jitter_ms_(impairment.jitter_ms) {
  listen_fd_ = udp_socket();
  sockaddr_in a = address(listen_ip, listen_port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("UdpImpairRelay: cannot bind " + listen_ip + ":" + std::to_string(listen_port));
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("UdpImpairRelay: pipe failed");
  thread_ = std::thread([this] { run(); });
}

UdpImpairRelay::~UdpImpairRelay() {
  stopping_ = true;
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void UdpImpairRelay::set(Impairment i) {
  loss_ = i.loss;
  delay_ms_ = i.delay_ms;
  jitter_ms_ = i.jitter_ms;
}

void UdpImpairRelay::run() {
  std::mt19937_64 rng(seed_);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::map<std::uint64_t, int> upstream;  // client address -> the relay's socket towards the target
  std::map<int, sockaddr_in> client_of;   // that socket -> the client it speaks for
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> queue;
  std::uint64_t order = 0;
  std::vector<char> buf(65536);

  const auto admit = [&](int from_fd, const sockaddr_in& to, const char* p, std::size_t n) {
    if (coin(rng) < loss_) {
      ++dropped_;
      return;
    }
    const auto jitter = jitter_ms_.load();
    const auto ms = delay_ms_ + (jitter ? static_cast<std::uint32_t>(coin(rng) * (jitter + 1)) : 0);
    queue.push({Clock::now() + std::chrono::milliseconds(ms), order++, from_fd, to, std::string(p, n)});
  };

  while (!stopping_) {
    const auto now = Clock::now();
    while (!queue.empty() && queue.top().due <= now) {
      const auto& d = queue.top();
      // A full socket buffer drops the datagram, as a congested link would.
      if (::sendto(d.from_fd, d.bytes.data(), d.bytes.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&d.to),
                   sizeof d.to) >= 0) {
        ++forwarded_;
      }
      queue.pop();
    }
    int timeout_ms = 200;
    if (!queue.empty()) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(queue.top().due - now).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(wait, 0, 200));
    }
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& [fd, client] : client_of) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) continue;
    if (fds[0].revents) break;
    for (const auto& p : fds) {
      if (p.fd == wake_[0] || (p.revents & POLLIN) == 0) continue;
      for (int i = 0; i < 64; ++i) {  // drain a burst without starving the other sockets
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(p.fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) break;
        if (p.fd == listen_fd_) {
          auto it = upstream.find(key(from));
          if (it == upstream.end()) {
            const int fd = udp_socket();
            it = upstream.emplace(key(from), fd).first;
            client_of.emplace(fd, from);
            ++clients_;
          }
          admit(it->second, target_, buf.data(), static_cast<std::size_t>(n));
        } else {
          admit(listen_fd_, client_of.at(p.fd), buf.data(), static_cast<std::size_t>(n));
        }
      }
    }
  }
  for (const auto& [fd, client] : client_of) ::close(fd);
}

}  // namespace classcam::test
