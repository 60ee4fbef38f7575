#pragma once
// A real TURN server (Debian's coturn `turnserver`) for live tests: REST-API shared-secret
// authentication (the scheme the hub hands credentials out with), listening on one address of the
// test's choosing (127.0.0.1, or a namespace's veth address so Chromium must relay through it), UDP
// and TCP on port(), TLS on tls_port() when a certificate is given, relay ports from a small range.
// Stopped by its PID, never by name.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::test {

class TurnServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    std::string secret = "turn-test-secret";
    std::string realm = "classcam";
    std::filesystem::path cert;  // with key: TURN over TLS on tls_port()
    std::filesystem::path key;
    bool allow_loopback_peers = true;  // relaying to 127.0.0.1 (the hub on loopback)
    std::uint16_t port = 0;            // 0: a free one
    bool udp = true;                   // false: TCP only (a second server beside a UDP relay's port)
  };
  explicit TurnServer(Options options);
  ~TurnServer();
  TurnServer(const TurnServer&) = delete;
  TurnServer& operator=(const TurnServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t tls_port() const { return tls_port_; }
  const Options& options() const { return options_; }
  std::string log() const;
  // Allocations the server reported in its log so far (a relay was used).
  int allocations() const;

 private:
  Options options_;
  TempDir dir_{"turn"};
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace classcam::test
