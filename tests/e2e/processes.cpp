#include "tests/e2e/processes.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include "tests/support/ports.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::e2e {

using namespace std::chrono_literals;

std::string hub_binary() { return std::string(CLASSCAM_BINARY_DIR) + "/hub/app/classcam-hub"; }
std::string daemon_binary() { return std::string(CLASSCAM_BINARY_DIR) + "/firmware/daemon/classcamd"; }
std::string ctl_binary() { return std::string(CLASSCAM_BINARY_DIR) + "/firmware/ctl/classcamctl"; }

std::string field(const std::string& output, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(label + ": (\\S+)"))) return "";
  return m[1];
}

HubProcess::HubProcess(const fs::path& dir, bool broker, const std::string& extra, const std::string& listen)
    : dir_(dir), listen_(listen), port_(test::free_port()) {
  std::string cfg = "[hub]\nstate_dir = \"" + (dir / "state").string() + "\"\npublic_url = \"" + url() +
                    "\"\n[http]\nlisten = \"" + listen + "\"\nport = " + std::to_string(port_) +
                    "\nthreads = 2\n[storage]\nmin_free_bytes = 0\n[broker]\n";
  if (broker) {
    broker_port_ = test::free_port();
    cfg += "manage = true\nlisten = \"127.0.0.1\"\nport = " + std::to_string(broker_port_) +
           "\npublic_host = \"127.0.0.1\"\nhost = \"127.0.0.1\"\n";
  } else {
    cfg += "enabled = false\n";
  }
  test::write_file(config(), cfg + extra + "\n");
}

void HubProcess::start() {
  ++starts_;
  proc_ = std::make_unique<test::Process>(std::vector<std::string>{hub_binary(), "--config", config().string()},
                                          dir_ / ("hub-" + std::to_string(starts_) + ".log"));
  ASSERT_TRUE(test::wait_until([&] { return proc_->output().find("serving https") != std::string::npos; }, 30s))
      << proc_->output();
  if (broker_port_ != 0) {
    ASSERT_TRUE(test::wait_until([&] { return test::port_open(broker_port_); }, 20s)) << proc_->output();
  }
}

int HubProcess::stop() { return test::exit_code(proc_->stop(SIGTERM, 20s)); }
void HubProcess::kill9() { proc_->kill9(); }
bool HubProcess::running() { return proc_ && proc_->running(); }
std::string HubProcess::output() const { return proc_ ? proc_->output() : ""; }

test::RunResult HubProcess::admin(std::vector<std::string> args) const {
  args.insert(args.begin(), {hub_binary(), "--config", config().string()});
  return test::run(args);
}

hub::testkit::HttpsClient HubProcess::client(const std::string& bearer) const {
  hub::testkit::ClientOptions o;
  o.ca_file = ca();
  hub::testkit::HttpsClient c(listen_, port_, o);
  c.set_header("Authorization", "Bearer " + bearer);
  return c;
}

Json HubProcess::get(const std::string& bearer, const std::string& target) const {
  try {
    auto c = client(bearer);
    const auto r = c.request("GET", target);
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_object()) return j;
  } catch (const std::exception&) {  // the hub is restarting: the caller polls again
  }
  return Json::object();
}

UnitProcess::UnitProcess(const fs::path& dir, const std::string& extra_config)
    : UnitProcess(dir, Picture{}, extra_config) {}

UnitProcess::UnitProcess(const fs::path& dir, const Picture& p, const std::string& extra_config)
    : dir_(dir), config_(dir / "classcamd.toml") {
  test::write_file(config_, "[unit]\nstate_dir = \"" + state_dir().string() + "\"\n[spool]\ndir = \"" +
                                spool().string() + "\"\n[control]\nsocket = \"" + (dir / "classcamd.sock").string() +
                                "\"\n[video]\nsource = \"test\"\nwidth = " + std::to_string(p.width) + "\nheight = " +
                                std::to_string(p.height) + "\nlatency_strip = " + (p.latency_strip ? "true" : "false") +
                                "\n[audio]\nsource = \"test\"\n[encoder]\npreset = \"" + p.preset +
                                "\"\nbitrate_kbps = " + std::to_string(p.bitrate_kbps) +
                                "\n[telemetry]\ninterval_s = 1\n[mqtt]\nreconnect_min_s = 1\nreconnect_max_s = 2\n"
                                "[upload]\nretry_min_s = 1\nretry_max_s = 2\n" +
                                extra_config + "\n");
}

void UnitProcess::start() {
  proc_ = std::make_unique<test::Process>(std::vector<std::string>{daemon_binary(), "--config", config_.string()},
                                          dir_ / ("classcamd-" + std::to_string(++runs_) + ".log"));
  ASSERT_TRUE(test::wait_until([&] { return ctl({"status"}).exit_code == 0; }, 20s)) << proc_->output();
}

int UnitProcess::stop() { return test::exit_code(proc_->stop(SIGTERM, 20s)); }
void UnitProcess::kill9() { proc_->kill9(); }
std::string UnitProcess::output() const { return proc_ ? proc_->output() : ""; }

test::RunResult UnitProcess::ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {ctl_binary(), "--config", config_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run(argv, timeout);
}

Json UnitProcess::status() {
  Json j = Json::parse(ctl({"--json", "status"}).output, nullptr, false);
  return j.is_object() ? j : Json::object();
}

}  // namespace classcam::e2e
