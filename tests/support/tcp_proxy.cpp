#include "tests/support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "tests/support/ports.hpp"

namespace classcam::test {

namespace {

// Close with RST so the peer sees the cut at once, as a dropped network path would eventually.
void hard_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool send_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::uint16_t target_port) : target_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("TcpProxy: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (::pipe(wake_) != 0) throw std::runtime_error("TcpProxy: pipe failed");
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ++generation_;
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
  acceptor_.join();
  std::vector<std::thread> pumps;
  {
    const std::lock_guard lock(mutex_);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::cut() {
  ++generation_;
  ++cuts_;
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, 200) <= 0) continue;
    if (fds[1].revents) break;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (blocked_) {
      hard_close(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in t = loopback(target_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
      ::close(server);
      hard_close(client);
      continue;
    }
    ++connections_;
    const std::lock_guard lock(mutex_);
    pumps_.emplace_back([this, client, server, limit = cut_after_.load()] { pump(client, server, limit); });
  }
}

void TcpProxy::pump(int client, int server, std::uint64_t limit) {
  const auto gen = generation_.load();
  std::uint64_t up = 0;
  char buf[64 * 1024];
  bool cut = false;
  while (!stopping_) {
    if (generation_ != gen) {
      cut = true;
      break;
    }
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    if (fds[0].revents) {
      std::size_t want = sizeof buf;
      if (limit > 0) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit - up));
      const ssize_t n = ::recv(client, buf, want, 0);
      if (n <= 0 || !send_all(server, buf, static_cast<std::size_t>(n))) break;
      up += static_cast<std::uint64_t>(n);
      bytes_up_ += static_cast<std::uint64_t>(n);
      if (limit > 0 && up >= limit) {
        ++cuts_;
        cut = true;
        break;
      }
    }
    if (fds[1].revents) {
      const ssize_t n = ::recv(server, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(client, buf, static_cast<std::size_t>(n))) break;
    }
  }
  if (cut) {
    hard_close(client);
    hard_close(server);
  } else {
    ::close(client);
    ::close(server);
  }
}

}  // namespace classcam::test
