#pragma once
// A TCP proxy on a free loopback port that forwards to 127.0.0.1:<target>, for network-cut tests: cut()
// drops every connection in flight (both sides see a reset/EOF mid-stream), set_blocked(true) refuses
// new ones, and cut_after(bytes) drops a connection once that many client->server bytes went through.
// One thread accepts, one thread per connection pumps both ways (poll); tests only.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace classcam::test {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // Drops every open connection now.
  void cut();
  // While blocked, new connections are accepted and closed at once.
  void set_blocked(bool blocked) { blocked_ = blocked; }
  // Each connection is dropped after forwarding this many client->server bytes (0 = never). Applies to
  // connections opened afterwards.
  void cut_after(std::uint64_t bytes) { cut_after_ = bytes; }
  std::uint64_t bytes_up() const { return bytes_up_; }  // client -> server, all connections
  std::uint32_t connections() const { return connections_; }
  std::uint32_t cuts() const { return cuts_; }

 private:
  void accept_loop();
  void pump(int client, int server, std::uint64_t limit);

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> blocked_{false};
  std::atomic<std::uint64_t> cut_after_{0};
  std::atomic<std::uint64_t> bytes_up_{0};
  std::atomic<std::uint32_t> connections_{0};
  std::atomic<std::uint32_t> cuts_{0};
  std::atomic<std::uint64_t> generation_{0};  // bumped by cut(): pumps of older generations stop
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> pumps_;
};

}  // namespace classcam::test
