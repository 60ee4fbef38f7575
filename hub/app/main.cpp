// classcam-hub: the school hub service.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "common/config/hub_config.hpp"
#include "common/config/toml_reader.hpp"
#include "common/log/log.hpp"
#include "common/util/version.hpp"

namespace {
void usage() {
  std::cout << "usage: classcam-hub [--config FILE] [--check] [--version]\n"
               "  --config FILE  hub configuration (TOML); without it the built-in defaults are used\n"
               "  --check        validate the configuration and exit\n";
}
}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else if (a == "--version") {
      std::cout << "classcam-hub " << classcam::kVersion << "\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::cerr << "classcam-hub: unknown argument '" << a << "'\n";
      usage();
      return 2;
    }
  }
  try {
    const auto cfg =
        config_path.empty() ? classcam::config::default_hub_config() : classcam::config::load_hub_config(config_path);
    classcam::log::init(cfg.log);
    if (check) {
      std::cout << (config_path.empty() ? std::string("built-in defaults") : config_path) << ": OK\n";
      return 0;
    }
    classcam::log::get("main")->error("classcam-hub {}: the hub service is not built yet (issue 4)",
                                      classcam::kVersion);
    return 1;
  } catch (const classcam::config::ConfigError& e) {
    std::cerr << "classcam-hub: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "classcam-hub: " << e.what() << "\n";
    return 1;
  }
}
