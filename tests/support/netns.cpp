#include "tests/support/netns.hpp"

#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "tests/support/process.hpp"

namespace classcam::test {

namespace {

void must(const std::vector<std::string>& argv) {
  const auto r = run(argv, std::chrono::seconds(20));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("NetNamespace: `" + cmd + "` failed: " + r.output);
  }
}

std::atomic<unsigned> g_count{0};

}  // namespace

bool NetNamespace::available(std::string* why) {
  const auto say = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  if (::geteuid() != 0) return say("network namespaces need root");
  if (run({"ip", "netns", "list"}, std::chrono::seconds(5)).exit_code != 0) return say("`ip netns` does not work here");
  return true;
}

NetNamespace::NetNamespace(const std::string& prefix) {
  const unsigned n = g_count++;
  // A /30 per namespace in 10.100-249.77.0/24, chosen from the PID and a counter.
  const unsigned id = (static_cast<unsigned>(::getpid()) * 8 + n) % (150 * 64);
  const std::string base = "10." + std::to_string(100 + id / 64) + ".77.";
  const unsigned first = (id % 64) * 4;
  host_ip_ = base + std::to_string(first + 1);
  inner_ip_ = base + std::to_string(first + 2);
  const std::string tag = std::to_string(::getpid() % 100000) + "-" + std::to_string(n);
  name_ = prefix + "-" + tag;
  host_if_ = "v" + std::to_string(::getpid() % 100000) + "h" + std::to_string(n);  // at most 15 characters
  inner_if_ = "v" + std::to_string(::getpid() % 100000) + "n" + std::to_string(n);
  const std::string& inner_if = inner_if_;
  must({"ip", "netns", "add", name_});
  try {
    must({"ip", "link", "add", host_if_, "type", "veth", "peer", "name", inner_if});
    must({"ip", "link", "set", inner_if, "netns", name_});
    must({"ip", "addr", "add", host_ip_ + "/30", "dev", host_if_});
    must({"ip", "link", "set", host_if_, "up"});
    must({"ip", "netns", "exec", name_, "ip", "addr", "add", inner_ip_ + "/30", "dev", inner_if});
    must({"ip", "netns", "exec", name_, "ip", "link", "set", inner_if, "up"});
    must({"ip", "netns", "exec", name_, "ip", "link", "set", "lo", "up"});
    must({"ip", "netns", "exec", name_, "ip", "route", "add", "default", "via", host_ip_});
  } catch (...) {
    run({"ip", "link", "del", host_if_}, std::chrono::seconds(10));
    run({"ip", "netns", "del", name_}, std::chrono::seconds(10));
    throw;
  }
}

NetNamespace::~NetNamespace() {
  run({"ip", "link", "del", host_if_}, std::chrono::seconds(10));
  run({"ip", "netns", "del", name_}, std::chrono::seconds(10));
}

std::vector<std::string> NetNamespace::wrap(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {"ip", "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void NetNamespace::block_udp(bool blocked) const {
  must(wrap({"iptables", blocked ? "-A" : "-D", "OUTPUT", "-p", "udp", "-j", "DROP"}));
}

void NetNamespace::blip(std::chrono::milliseconds down) const {
  must(wrap({"ip", "link", "set", inner_if_, "down"}));
  std::this_thread::sleep_for(down);
  must(wrap({"ip", "link", "set", inner_if_, "up"}));
  // The route went with the link; `replace` also works if the kernel kept it.
  must(wrap({"ip", "route", "replace", "default", "via", host_ip_}));
}

}  // namespace classcam::test
