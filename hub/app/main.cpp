// classcam-hub: the school hub service, and its operator commands.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "common/config/hub_config.hpp"
#include "common/config/toml_reader.hpp"
#include "common/log/log.hpp"
#include "common/util/version.hpp"
#include "hub/app/admin_cli.hpp"
#include "hub/app/service.hpp"

namespace {
void usage() {
  std::cout << "usage: classcam-hub [--config FILE] [--state-dir DIR] [--port N] [--check] [--version] [COMMAND ...]\n"
               "  --config FILE    hub configuration (TOML); without it the built-in defaults are used\n"
               "  --state-dir DIR  overrides hub.state_dir (database, media, certificates)\n"
               "  --port N         overrides http.port (0 = any free port)\n"
               "  --check          validate the configuration and exit\n"
               "Without a command it serves until SIGTERM.\n";
  classcam::hub::print_admin_usage(std::cout);
}
}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string state_dir;
  std::string port;
  bool check = false;
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!command.empty()) {
      command.push_back(a);
    } else if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--state-dir" && i + 1 < argc) {
      state_dir = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else if (a == "--version") {
      std::cout << "classcam-hub " << classcam::kVersion << "\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (classcam::hub::is_admin_command(a)) {
      command.push_back(a);
    } else {
      std::cerr << "classcam-hub: unknown argument '" << a << "'\n";
      usage();
      return 2;
    }
  }
  try {
    auto cfg =
        config_path.empty() ? classcam::config::default_hub_config() : classcam::config::load_hub_config(config_path);
    if (!state_dir.empty()) cfg.hub.state_dir = state_dir;
    if (!port.empty()) {
      const int p = std::stoi(port);
      if (p < 0 || p > 65535) throw classcam::config::ConfigError("--port must be 0-65535");
      cfg.http.port = static_cast<std::uint16_t>(p);
    }
    classcam::log::init(cfg.log);
    if (check) {
      std::cout << (config_path.empty() ? std::string("built-in defaults") : config_path) << ": OK\n";
      return 0;
    }
    if (!command.empty()) return classcam::hub::run_admin_command(cfg, command, std::cout, std::cerr);
    classcam::hub::Service service(cfg);
    return service.run_until_signal();
  } catch (const classcam::config::ConfigError& e) {
    std::cerr << "classcam-hub: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "classcam-hub: " << e.what() << "\n";
    return 1;
  }
}
