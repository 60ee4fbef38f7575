#pragma once
// A UDP relay that impairs what it forwards, standing in for `tc netem` (this machine's kernel has no
// sch_netem): it listens on one address and forwards every datagram to one target, dropping a share
// of them and delaying the rest (a fixed delay plus uniform jitter, in order per direction unless the
// jitter reorders them), both ways. Each client address gets its own upstream socket, so the target
// sees the relay as a distinct peer per client (as behind a symmetric NAT) and its answers come back
// through the relay, impaired too. For live tests: put it in front of a TURN server's port or of a
// hub's fixed media port advertised under the relay's address.
//
// Threading: one thread of its own polls the sockets and sends what is due; the settings are atomics
// that tests may change while it runs; counters are atomics.
#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace classcam::test {

struct Impairment {
  double loss = 0.0;            // share of datagrams dropped, each direction (0.02 = 2 %)
  std::uint32_t delay_ms = 0;   // added to every datagram, each direction
  std::uint32_t jitter_ms = 0;  // plus a uniform 0..jitter_ms
};

class UdpImpairRelay {
 public:
  // Listens on listen_ip:listen_port (0: a free port) and forwards to target_ip:target_port.
  UdpImpairRelay(const std::string& listen_ip, std::uint16_t listen_port, const std::string& target_ip,
                 std::uint16_t target_port, Impairment impairment, std::uint64_t seed = 1);
  ~UdpImpairRelay();
  UdpImpairRelay(const UdpImpairRelay&) = delete;
  UdpImpairRelay& operator=(const UdpImpairRelay&) = delete;

  std::uint16_t port() const { return port_; }
  void set(Impairment i);

  std::uint64_t forwarded() const { return forwarded_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint32_t clients() const { return clients_; }

 private:
  void run();

  sockaddr_in target_{};
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::uint64_t seed_;
  std::atomic<double> loss_;
  std::atomic<std::uint32_t> delay_ms_;
  std::atomic<std::uint32_t> jitter_ms_;
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint32_t> clients_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace classcam::test
