#include "firmware/metrics/unit_metrics.hpp"

#include <boost/asio/post.hpp>

#include "common/metrics/metrics.hpp"
#include "common/metrics/textfile.hpp"
#include "firmware/link/agent.hpp"

namespace classcam::unit_metrics {

namespace m = classcam::metrics;

std::string render(const Sample& s) {
  m::Registry r;
  // One series per state, 1 for the current one: alerts and graphs need no string matching.
  auto& state = r.gauge("classcam_unit_state", "1 for the recorder's current state, 0 for the others.", {"state"});
  for (const auto st :
       {protocol::RecorderState::idle, protocol::RecorderState::starting, protocol::RecorderState::recording,
        protocol::RecorderState::stopping, protocol::RecorderState::error, protocol::RecorderState::offline}) {
    state.gauge({std::string(protocol::to_string(st))}).set(st == s.state ? 1 : 0);
  }
  r.gauge("classcam_unit_spool_bytes", "Bytes the spool holds.").gauge().set(static_cast<double>(s.spool.used_bytes));
  r.gauge("classcam_unit_spool_quota_bytes", "The spool's quota (spool.max_bytes or what the disk allows).")
      .gauge()
      .set(static_cast<double>(s.spool.limit_bytes));
  r.gauge("classcam_unit_disk_free_bytes", "Bytes free for classcamd on the spool's filesystem.")
      .gauge()
      .set(static_cast<double>(s.spool.fs_avail_bytes));
  r.gauge("classcam_unit_upload_backlog_segments", "Closed segments the hub has not yet confirmed.")
      .gauge()
      .set(s.spool.backlog_segments);
  r.gauge("classcam_unit_upload_backlog_bytes", "Bytes of closed segments the hub has not yet confirmed.")
      .gauge()
      .set(static_cast<double>(s.spool.backlog_bytes));
  r.counter("classcam_unit_segments_closed_total", "Segments closed (complete, fsync'd, in the manifest).")
      .counter()
      .inc(static_cast<double>(s.segments_closed));
  if (s.upload) {
    r.counter("classcam_unit_upload_bytes_total", "Request-body bytes the uploader put on the wire.")
        .counter()
        .inc(static_cast<double>(s.upload->sent_bytes));
    r.counter("classcam_unit_uploaded_segments_total", "Segments the hub confirmed.")
        .counter()
        .inc(static_cast<double>(s.upload->uploaded_segments));
    r.counter("classcam_unit_upload_errors_total", "Upload attempts that failed.").counter().inc(s.upload->failures);
    r.gauge("classcam_unit_upload_rate_bits_per_second", "Upload rate over the last few seconds.")
        .gauge()
        .set(static_cast<double>(s.upload->rate_bps));
  }
  if (s.cpu_temp_c) {
    r.gauge("classcam_unit_cpu_temperature_celsius", "CPU temperature from the first thermal zone that reads.")
        .gauge()
        .set(*s.cpu_temp_c);
  }
  return r.expose();
}

MetricsWriter::MetricsWriter(Deps deps) : deps_(std::move(deps)), timer_(deps_.io) {}

MetricsWriter::~MetricsWriter() {
  *alive_ = false;
  stop();
}

void MetricsWriter::start() {
  running_ = true;
  tick();
}

void MetricsWriter::stop() {
  running_ = false;
  timer_.cancel();
}

void MetricsWriter::arm() {
  timer_.expires_after(deps_.interval);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || !alive.lock() || !running_) return;
    tick();
  });
}

void MetricsWriter::tick() {
  deps_.spool.run([](spool::Spool& s) { return s.usage(); },
                  [this, alive = std::weak_ptr<bool>(alive_)](const spool::Usage& u) {
                    if (!alive.lock() || !running_) return;
                    Sample sample = deps_.sample();
                    sample.spool = u;
                    // The pool job touches nothing of this object: it may run while the writer goes.
                    boost::asio::post(deps_.pool, [this, alive, sample = std::move(sample), thermal = deps_.thermal_dir,
                                                   file = deps_.textfile, &io = deps_.io]() mutable {
                      sample.cpu_temp_c = link::read_cpu_temp_c(thermal);
                      auto st = classcam::metrics::write_textfile(file, render(sample));
                      boost::asio::post(io, [this, alive, st = std::move(st)] {
                        if (!alive.lock()) return;
                        if (!st && !failing_)
                          log_->warn("{}; retrying every {} s", st.error().message, deps_.interval.count());
                        if (st && failing_) log_->info("metrics: writing {} again", deps_.textfile.string());
                        failing_ = !st.ok();
                        if (on_written_) on_written_(st.ok());
                        if (running_) arm();
                      });
                    });
                  });
}

}  // namespace classcam::unit_metrics
