// classcam-udp-impair: the test relay (udp_impair.hpp) as a process, for tests and benchmarks that
// place it inside a network namespace of their own (`ip netns exec NS classcam-udp-impair ...`).
//   classcam-udp-impair --listen IP:PORT --to IP:PORT [--loss 0.02] [--delay-ms 50] [--jitter-ms 5]
// Runs until SIGTERM or SIGINT, then prints what it forwarded and dropped.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include "tests/support/udp_impair.hpp"

namespace {

std::pair<std::string, std::uint16_t> endpoint(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected IP:PORT, got \"" + s + "\"");
  const int port = std::stoi(s.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range in \"" + s + "\"");
  return {s.substr(0, colon), static_cast<std::uint16_t>(port)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string listen, to;
    classcam::test::Impairment imp;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--listen") {
        listen = v;
      } else if (a == "--to") {
        to = v;
      } else if (a == "--loss") {
        imp.loss = std::stod(v);
        if (imp.loss < 0 || imp.loss > 1) throw std::invalid_argument("--loss is a share between 0 and 1");
      } else if (a == "--delay-ms") {
        imp.delay_ms = static_cast<std::uint32_t>(std::stoul(v));
      } else if (a == "--jitter-ms") {
        imp.jitter_ms = static_cast<std::uint32_t>(std::stoul(v));
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
    if (listen.empty() || to.empty()) throw std::invalid_argument("--listen and --to are required");
    const auto [lip, lport] = endpoint(listen);
    const auto [tip, tport] = endpoint(to);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the relay's thread starts: only sigwait takes them
    classcam::test::UdpImpairRelay relay(lip, lport, tip, tport, imp);
    std::cout << "classcam-udp-impair: " << lip << ":" << relay.port() << " -> " << to << ", loss " << imp.loss
              << ", delay " << imp.delay_ms << " ms + 0.." << imp.jitter_ms << " ms" << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    std::cout << "forwarded " << relay.forwarded() << ", dropped " << relay.dropped() << ", clients " << relay.clients()
              << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "classcam-udp-impair: " << e.what() << std::endl;
    return 2;
  }
}
