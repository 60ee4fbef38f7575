// classcamd: the classroom unit's capture daemon. Thin: arguments, signals, the event loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <exception>
#include <iostream>
#include <string>

#include "common/config/toml_reader.hpp"
#include "common/config/unit_config.hpp"
#include "common/log/log.hpp"
#include "common/util/version.hpp"
#include "firmware/capture/probe.hpp"
#include "firmware/daemon/daemon.hpp"
#include "firmware/gpio/gpiod.hpp"

namespace {

void usage() {
  std::cout << "usage: classcamd [--config FILE] [--check | --print-pipeline] [--version]\n"
               "  --config FILE     unit configuration (TOML); without it the built-in defaults are used\n"
               "  --check           validate the configuration and exit\n"
               "  --print-pipeline  print the recording pipeline this machine would run, in gst-launch syntax\n"
               "                    (writing recording.mp4 instead of segments)\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace classcam;
  std::string config_path;
  bool check = false;
  bool print_pipeline = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else if (a == "--print-pipeline") {
      print_pipeline = true;
    } else if (a == "--version") {
      std::cout << "classcamd " << kVersion << "\n";
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
    const auto cfg = config_path.empty() ? config::default_unit_config() : config::load_unit_config(config_path);
    log::init(cfg.log);
    if (check) {
      std::cout << (config_path.empty() ? std::string("built-in defaults") : config_path) << ": OK\n";
      return 0;
    }
    if (print_pipeline) {
      const auto sel = capture::select(cfg, capture::probe(cfg));
      if (!sel) {
        std::cerr << "classcamd: " << sel.error().message << "\n";
        return 1;
      }
      // The same stream the daemon records, written to one file instead of cut into segments.
      std::cout << capture::plan_recording(cfg, *sel, std::string("recording.mp4")).description << "\n";
      return 0;
    }

    boost::asio::io_context io;
    gpio::Gpio g;
    if (cfg.gpio.enabled) {
      g = gpio::open_gpiod(io, cfg.gpio);
    } else {
      g.led = std::make_unique<gpio::NoLed>();
    }
    daemon::Daemon d(io, cfg, std::move(g.button), std::move(g.led));
    d.start();

    // SIGTERM (systemd stop) and SIGINT finalise the current segment, then the loop ends.
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      d.shutdown(sig == SIGTERM ? "classcamd stopped (SIGTERM)" : "classcamd stopped (SIGINT)", [&] { io.stop(); });
      // A second signal while finalising ends at once; recovery at the next start keeps what was written.
      signals.async_wait([&](const boost::system::error_code& ec2, int) {
        if (!ec2) io.stop();
      });
    });
    std::signal(SIGPIPE, SIG_IGN);
    io.run();
    log::get("main")->info("classcamd stopped");
    return 0;
  } catch (const config::ConfigError& e) {
    std::cerr << "classcamd: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "classcamd: " << e.what() << "\n";
    return 1;
  }
}
