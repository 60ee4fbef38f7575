#pragma once
// A network namespace of the test's own, joined to this one by a veth pair: the namespace's side has
// an address and a default route through the host's side. Chromium gathers no 127.0.0.0/8 candidates
// and none at all without a default route (../shared/platform-notes.md, "Live"), so browser tests run
// Chromium inside one and reach the hub at host_address(); servers that must be reached from it bind
// to that address. Needs root (CAP_NET_ADMIN); available() says whether this machine allows it.
// The destructor deletes the namespace (its veth pair goes with it). Processes started in it with
// wrap() must be stopped (by PID) before that.
#include <chrono>
#include <string>
#include <vector>

namespace classcam::test {

class NetNamespace {
 public:
  // Creates a namespace named after `prefix` and this process, on a /30 in 10.100-249.77.0/24 chosen
  // from the PID so parallel tests do not collide. Throws std::runtime_error naming what failed.
  explicit NetNamespace(const std::string& prefix = "cc");
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  // Whether namespaces can be made here (root and the ip tool); a test skips with the reason if not.
  static bool available(std::string* why = nullptr);

  const std::string& name() const { return name_; }
  const std::string& host_address() const { return host_ip_; }    // this namespace's end of the pair
  const std::string& inner_address() const { return inner_ip_; }  // the namespace's end
  // argv run inside the namespace: {"ip", "netns", "exec", name, argv...}.
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const;
  // A network blip: the namespace's end of the pair goes down for `down`, then comes back with its
  // default route (what a Wi-Fi drop looks like to the browser inside). Throws if it cannot.
  void blip(std::chrono::milliseconds down) const;
  // Drops (or lets through again) every UDP datagram the namespace sends: a network that allows only
  // TCP, as some school and office firewalls do. Needs iptables; throws if it cannot.
  void block_udp(bool blocked) const;

 private:
  std::string name_;
  std::string host_if_;
  std::string inner_if_;
  std::string host_ip_;
  std::string inner_ip_;
};

}  // namespace classcam::test
