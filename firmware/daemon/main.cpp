// classcamd: the classroom unit's capture daemon.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "common/config/toml_reader.hpp"
#include "common/config/unit_config.hpp"
#include "common/log/log.hpp"
#include "common/util/version.hpp"

namespace {
void usage() {
  std::cout << "usage: classcamd [--config FILE] [--check] [--version]\n"
               "  --config FILE  unit configuration (TOML); without it the built-in defaults are used\n"
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
      std::cout << "classcamd " << classcam::kVersion << "\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::cerr << "classcamd: unknown argument '" << a << "'\n";
      usage();
      return 2;
    }
  }
  try {
    const auto cfg =
        config_path.empty() ? classcam::config::default_unit_config() : classcam::config::load_unit_config(config_path);
    classcam::log::init(cfg.log);
    if (check) {
      std::cout << (config_path.empty() ? std::string("built-in defaults") : config_path) << ": OK\n";
      return 0;
    }
    classcam::log::get("main")->error("classcamd {}: the capture daemon is not built yet (issue 3)",
                                      classcam::kVersion);
    return 1;
  } catch (const classcam::config::ConfigError& e) {
    std::cerr << "classcamd: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "classcamd: " << e.what() << "\n";
    return 1;
  }
}
