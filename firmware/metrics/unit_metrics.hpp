#pragma once
// classcamd's Prometheus metrics, written for node_exporter's textfile collector (docs/metrics.md):
// no listening port on a classroom device; node_exporter, which a school's monitoring may already
// scrape, carries them along with the board's own health.
//
// Threading: the MetricsWriter lives on the io_context. Each tick gathers the spool's usage through
// SpoolService (its strand), the recorder's state and the uploader's counters on the loop, then reads
// the thermal zone and writes the file on the worker pool; a write failure comes back to the loop and is
// logged once until writes succeed again.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/log/log.hpp"
#include "common/protocol/messages.hpp"
#include "firmware/spool/service.hpp"
#include "firmware/spool/spool.hpp"
#include "firmware/uploader/uploader.hpp"

namespace classcam::unit_metrics {

struct Sample {
  protocol::RecorderState state = protocol::RecorderState::idle;
  spool::Usage spool;
  std::optional<uploader::UploadStatus> upload;  // unset while not enrolled or uploads are off
  std::uint64_t segments_closed = 0;             // since classcamd started
  std::optional<double> cpu_temp_c;              // unset without a thermal zone: then no metric at all
};

// The exposition for one sample (pure).
std::string render(const Sample& s);

class MetricsWriter {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& pool;
    spool::SpoolService& spool;
    // What only the loop knows: state, uploader counters, segments closed (spool usage is filled in).
    std::function<Sample()> sample;
    std::filesystem::path textfile;
    std::chrono::seconds interval{15};
    std::filesystem::path thermal_dir = "/sys/class/thermal";  // a test points it elsewhere
  };
  explicit MetricsWriter(Deps deps);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  void start();  // writes at once, then every interval
  void stop();
  // Called on the loop after each write attempt (tests wait on it).
  void on_written(std::function<void(bool ok)> f) { on_written_ = std::move(f); }

 private:
  void tick();
  void arm();

  Deps deps_;
  boost::asio::steady_timer timer_;
  std::function<void(bool)> on_written_;
  bool running_ = false;
  bool failing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  log::Logger log_ = log::get("metrics");
};

}  // namespace classcam::unit_metrics
