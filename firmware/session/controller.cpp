#include "firmware/session/controller.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "common/log/log.hpp"
#include "common/util/uuid.hpp"
#include "firmware/capture/snapshot.hpp"

namespace classcam::session {

using protocol::SessionInfo;
using spool::Spool;
namespace asio = boost::asio;

namespace {

log::Logger logger() { return log::get("session"); }

}  // namespace

struct Controller::Active {
  SessionInfo info;
  capture::Plan plan;
  std::unique_ptr<capture::Recorder> recorder;
  std::chrono::steady_clock::time_point requested_at = std::chrono::steady_clock::now();
  Done<SessionInfo> start_done;
  std::vector<Done<SessionInfo>> stop_waiters;
  std::string pending;  // stream bytes not yet handed to the spool
  bool flush_posted = false;
  spool::TimeBase time_base;
  std::optional<std::int64_t> first_pts;  // running time of the session's first segment
  std::uint32_t segments_closed = 0;
  std::uint32_t bookmarks = 0;
  std::int64_t recorded_ns = 0;
  bool session_created = false;  // the spool has its directory and manifest
  std::string end_reason = "stopped";
  std::optional<std::string> error;  // the session ends in the error state with this reason
  std::optional<std::pair<std::string, std::function<void()>>> shutdown;  // asked while starting
};

Controller::Controller(Deps deps, Result<capture::Selection> selection)
    : deps_(std::move(deps)),
      selection_(std::move(selection)),
      start_timer_(deps_.io),
      stop_timer_(deps_.io),
      limit_timer_(deps_.io),
      sync_timer_(deps_.io),
      snapshot_timer_(deps_.io) {}

Controller::~Controller() = default;

void Controller::go(RecorderState to, std::optional<std::string> reason) {
  if (auto st = sm_.go(to, std::move(reason)); !st) {
    logger()->error("{}", st.error().message);
    return;
  }
  if (to == RecorderState::error) logger()->error("error state: {}", *sm_.reason());
  notify();
  if (to == RecorderState::error) {
    protocol::Event e;
    e.type = protocol::EventType::error;
    e.message = *sm_.reason();
    emit(std::move(e));
  }
}

void Controller::notify() {
  for (auto& o : observers_) o();
}

void Controller::emit(protocol::Event e) {
  if (event_observers_.empty()) return;
  e.unit_id = deps_.unit_id;
  e.at = util::now_utc();
  for (auto& o : event_observers_) o(e);
}

protocol::UnitState Controller::unit_state() const {
  protocol::UnitState s;
  s.unit_id = deps_.unit_id;
  s.state = sm_.state();
  s.reason = sm_.reason();
  s.since = sm_.since();
  if (active_) {
    s.session_id = active_->info.session_id;
    s.observation_id = active_->info.observation_id;
  }
  s.streaming = live_.has_value();
  s.live = live_;
  return s;
}

void Controller::set_live(std::optional<protocol::LiveInfo> live) {
  if (live == live_) return;
  live_ = std::move(live);
  notify();
}

GstElement* Controller::recording_pipeline() const {
  // Only once the recording runs (its first segment is being written) and until it is finalised: a
  // live branch attaches to a pipeline that is PLAYING and carries media.
  if (!active_ || !active_->recorder || !active_->recorder->active()) return nullptr;
  const auto st = sm_.state();
  if (st != RecorderState::recording && st != RecorderState::stopping) return nullptr;
  return active_->recorder->pipeline();
}

std::optional<SessionProgress> Controller::progress() const {
  if (!active_) return std::nullopt;
  return SessionProgress{active_->info, active_->segments_closed, active_->bookmarks, active_->recorded_ns};
}

std::uint64_t Controller::reserve_bytes() const {
  const auto& c = deps_.config;
  return spool::reserve_for_recording(c.video.enabled ? c.encoder.bitrate_kbps : 0,
                                      c.audio.source == "none" ? 0 : c.audio.bitrate_kbps, c.recording.segment_ms);
}

// Recorders are destroyed from a fresh handler, never from inside one of their own callbacks.
static void dispose(asio::io_context& io, std::unique_ptr<capture::Recorder> r) {
  if (!r) return;
  r->abort();
  asio::post(io, [gone = std::shared_ptr<capture::Recorder>(std::move(r))] {});
}

void Controller::start(const StartRequest& request, Done<SessionInfo> done) {
  const auto state = sm_.state();
  if (state == RecorderState::starting || state == RecorderState::recording || state == RecorderState::stopping) {
    done(Error{active_ ? "already recording session " + active_->info.session_id : "busy"});
    return;
  }
  go(RecorderState::starting);
  active_ = std::make_unique<Active>();
  auto& a = *active_;
  a.start_done = std::move(done);
  a.info.session_id = util::uuid_v4();
  a.info.unit_id = deps_.unit_id;
  a.info.observation_id = request.observation_id;
  a.info.title = request.title;
  a.info.trigger = request.trigger;
  a.info.started_at = util::now_utc();
  a.info.segment_duration_ms = deps_.config.recording.segment_ms;
  if (request.duration_s) a.end_reason = "reached the requested duration";
  logger()->info("starting session {} (trigger: {}{})", a.info.session_id, protocol::to_string(request.trigger),
                 request.title ? ", \"" + *request.title + "\"" : std::string());
  if (!selection_) {
    fail_start(selection_.error().message);
    return;
  }
  a.plan = capture::plan_recording(deps_.config, *selection_);
  a.info.video = a.plan.video;
  a.info.audio = a.plan.audio;
  limit_ = std::chrono::minutes(deps_.config.recording.max_session_minutes);
  if (request.duration_s && std::chrono::seconds(*request.duration_s) < limit_)
    limit_ = std::chrono::seconds(*request.duration_s);

  // The spool prepares the session (quota, directory, fsync'd manifest) while the pipeline starts: the
  // stream waits in memory for the few milliseconds that may take, off the trigger's critical path.
  deps_.spool.run(
      [info = a.info, reserve = reserve_bytes()](Spool& s) -> Status {
        if (auto room = s.make_room(reserve); !room) return room.error();
        return s.begin_session(info);
      },
      [this, id = a.info.session_id](const Status& st) {
        if (!active_ || active_->info.session_id != id) return;
        if (!st) {
          fail_start(st.error().message);
          return;
        }
        active_->session_created = true;
        flush();
      });
  if (preview_running_) {
    launch_after_preview_ = true;  // the camera is busy for a moment with a snapshot
    return;
  }
  launch();
}

void Controller::launch() {
  auto& a = *active_;
  capture::Recorder::Events ev;
  ev.data = [this](capture::SamplePtr s) { on_data(std::move(s)); };
  ev.started = [this] {
    if (!active_) return;
    logger()->debug(
        "session {}: pipeline playing {} ms after the trigger", active_->info.session_id,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - active_->requested_at)
            .count());
  };
  ev.eos = [this] { on_eos(); };
  ev.error = [this](const std::string& e) { on_recorder_error(e); };
  a.recorder = std::make_unique<capture::Recorder>(deps_.io, a.plan, deps_.config.video.privacy_zones, ev,
                                                   deps_.config.video.latency_strip);
  if (auto st = a.recorder->start(); !st) {
    fail_start(st.error().message);
    return;
  }
  start_timer_.expires_after(std::chrono::seconds(15));
  start_timer_.async_wait([this, id = a.info.session_id](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->info.session_id != id || sm_.state() != RecorderState::starting) return;
    fail_start("no frames from the camera within 15 s");
  });
}

void Controller::fail_start(const std::string& reason) {
  start_timer_.cancel();
  std::unique_ptr<Active> a = std::move(active_);
  logger()->error("session {} could not start: {}", a->info.session_id, reason);
  dispose(deps_.io, std::move(a->recorder));
  // Queued behind the session's creation on the spool strand, so it ends a session that got created,
  // and finds nothing when creating it was what failed.
  deps_.spool.run([id = a->info.session_id, why = "could not start: " + reason](Spool& s) {
    if (s.manifest(id) == nullptr) return;
    if (auto r = s.finish_session(id, why); !r) logger()->error("{}", r.error().message);
  });
  go(RecorderState::error, reason);
  if (a->start_done) a->start_done(Error{reason});
  if (a->shutdown) a->shutdown->second();
}

void Controller::on_data(capture::SamplePtr sample) {
  if (!active_ || !active_->recorder) return;
  auto& a = *active_;
  GstBuffer* b = gst_sample_get_buffer(sample.get());
  if (b == nullptr) return;
  if (!a.time_base.first_sample_running_ns) {
    if (GST_BUFFER_DTS_IS_VALID(b)) {
      a.time_base.first_sample_running_ns = static_cast<std::int64_t>(GST_BUFFER_DTS(b));
    } else if (GST_BUFFER_PTS_IS_VALID(b)) {
      a.time_base.first_sample_running_ns = static_cast<std::int64_t>(GST_BUFFER_PTS(b));
    }
  }
  GstMapInfo map;
  if (!gst_buffer_map(b, &map, GST_MAP_READ)) return;
  a.pending.append(reinterpret_cast<const char*>(map.data), map.size);
  gst_buffer_unmap(b, &map);
  // Everything that arrives in one turn of the loop goes to the spool as one write.
  if (!a.flush_posted) {
    a.flush_posted = true;
    asio::post(deps_.io, [this, alive = std::weak_ptr<bool>(alive_), id = a.info.session_id] {
      if (!alive.expired() && active_ && active_->info.session_id == id) flush();
    });
  }
}

void Controller::flush() {
  auto& a = *active_;
  a.flush_posted = false;
  if (a.pending.empty() || !a.session_created) return;
  if (a.recorder) {
    if (const auto zero = a.recorder->utc_at_running_zero()) a.time_base.utc_at_running_zero = *zero;
  }
  deps_.spool.run([id = a.info.session_id, bytes = std::move(a.pending),
                   tb = a.time_base](Spool& s) { return s.write(id, bytes, tb); },
                  [this, id = a.info.session_id](Result<spool::WriteOutcome> r) { on_written(id, std::move(r)); });
  a.pending.clear();
}

void Controller::on_written(const std::string& id, Result<spool::WriteOutcome> r) {
  const bool current = active_ && active_->info.session_id == id;
  if (!r) {
    logger()->error("session {}: {}", id, r.error().message);
    if (current && sm_.state() == RecorderState::recording) {
      begin_stop("stopped after a disk error", "cannot write to the spool: " + r.error().message);
    } else if (current && sm_.state() == RecorderState::starting) {
      fail_start("cannot write to the spool: " + r.error().message);
    }
    return;
  }
  if (!current) return;
  auto& a = *active_;
  for (const auto& e : r->closed) {
    logger()->debug("session {}: segment {} closed, {:.3f} s, {} bytes", id, e.index,
                    static_cast<double>(e.duration_ns) / 1e9, e.size_bytes);
    ++a.segments_closed;
    a.recorded_ns += e.duration_ns;
    protocol::Event ev;
    ev.type = protocol::EventType::segment_closed;
    ev.segment = e;
    emit(std::move(ev));
  }
  if (!r->closed.empty()) check_quota();
  if (r->opened.empty() || sm_.state() != RecorderState::starting) return;

  // The first fragment is on disk: the session is recording.
  a.first_pts = r->opened.front().start_pts_ns;
  start_timer_.cancel();
  go(RecorderState::recording);
  {
    protocol::Event ev;
    ev.type = protocol::EventType::session_started;
    ev.session = a.info;
    emit(std::move(ev));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - a.requested_at);
  logger()->info("recording session {}: first frame on disk {} ms after the trigger", id, ms.count());
  limit_timer_.expires_after(limit_);
  limit_timer_.async_wait([this, id](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->info.session_id != id || sm_.state() != RecorderState::recording) return;
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(limit_).count();
    begin_stop(active_->end_reason == "stopped"
                   ? fmt::format("reached the {}-minute limit (recording.max_session_minutes)", minutes)
                   : active_->end_reason,
               std::nullopt);
  });
  sync_open_segment();
  if (auto done = std::move(a.start_done)) done(a.info);
  if (active_ && active_->shutdown) begin_stop(active_->shutdown->first, std::nullopt);
}

void Controller::check_quota() {
  if (!active_ || sm_.state() != RecorderState::recording) return;
  deps_.spool.run([reserve = reserve_bytes()](Spool& s) { return s.make_room(reserve); },
                  [this, id = active_->info.session_id](const Result<spool::Eviction>& r) {
                    if (r || !active_ || active_->info.session_id != id) return;
                    if (sm_.state() == RecorderState::recording)
                      begin_stop("stopped: the spool is full", r.error().message);
                  });
}

void Controller::sync_open_segment() {
  // Bounds what a power cut can take from the open segment to about a second: a kill -9 loses nothing
  // already written, but the page cache dies with the power.
  sync_timer_.expires_after(std::chrono::seconds(1));
  sync_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !active_) return;
    deps_.spool.run([id = active_->info.session_id](Spool& s) {
      if (auto st = s.sync_open(id); !st) logger()->warn("{}", st.error().message);
    });
    sync_open_segment();
  });
}

void Controller::on_recorder_error(const std::string& what) {
  if (!active_) return;
  if (sm_.state() == RecorderState::starting) {
    fail_start(what);
    return;
  }
  // The pipeline is broken: tear it down and keep what it wrote.
  auto& a = *active_;
  if (sm_.state() == RecorderState::recording) go(RecorderState::stopping);
  a.error = "recording failed: " + what;
  stop_timer_.cancel();
  dispose(deps_.io, std::move(a.recorder));
  flush();
  deps_.spool.run([id = a.info.session_id, why = *a.error](Spool& s) { return s.finish_session(id, why); },
                  [this](Result<spool::RecoveredSession> r) { finish(std::move(r)); });
}

void Controller::on_eos() {
  if (!active_) return;
  if (sm_.state() == RecorderState::starting) {
    fail_start("the video source ended before recording began");
    return;
  }
  if (sm_.state() == RecorderState::recording) {
    active_->end_reason = "the source ended";
    go(RecorderState::stopping);
  }
  if (sm_.state() != RecorderState::stopping) return;
  stop_timer_.cancel();
  dispose(deps_.io, std::move(active_->recorder));
  flush();  // the muxer's last fragment, still waiting to go to the spool
  deps_.spool.run(
      [id = active_->info.session_id, why = active_->end_reason](Spool& s) { return s.finish_session(id, why); },
      [this](Result<spool::RecoveredSession> r) { finish(std::move(r)); });
}

void Controller::begin_stop(const std::string& reason, std::optional<std::string> error) {
  if (!active_ || sm_.state() != RecorderState::recording) return;
  auto& a = *active_;
  a.end_reason = reason;
  a.error = std::move(error);
  go(RecorderState::stopping);
  logger()->info("stopping session {}: {}", a.info.session_id, a.error.value_or(reason));
  limit_timer_.cancel();
  a.recorder->stop();
  stop_timer_.expires_after(std::chrono::milliseconds(deps_.config.recording.stop_timeout_ms));
  stop_timer_.async_wait([this, id = a.info.session_id](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->info.session_id != id) return;
    stop_timed_out();
  });
}

void Controller::stop_timed_out() {
  if (sm_.state() != RecorderState::stopping || !active_->recorder) return;
  auto& a = *active_;
  logger()->warn(
      "session {}: the pipeline did not finish within {} ms; tearing it down, recovery keeps what was written",
      a.info.session_id, deps_.config.recording.stop_timeout_ms);
  dispose(deps_.io, std::move(a.recorder));
  deps_.spool.run([id = a.info.session_id,
                   why = a.end_reason + " (the pipeline did not finish in time; the last segment was recovered)"](
                      Spool& s) { return s.finish_session(id, why); },
                  [this](Result<spool::RecoveredSession> r) { finish(std::move(r)); });
}

void Controller::finish(Result<spool::RecoveredSession> ended) {
  if (!active_) return;
  std::unique_ptr<Active> a = std::move(active_);
  for (auto* t : {&start_timer_, &stop_timer_, &limit_timer_, &sync_timer_}) t->cancel();
  dispose(deps_.io, std::move(a->recorder));
  Result<SessionInfo> info = Error{""};
  if (ended) {
    a->recorded_ns = ended->recorded_ns;
    info = ended->ended;
    logger()->info("session {} ended ({}): {} segments, {:.1f} s recorded", a->info.session_id, *info->end_reason,
                   ended->segments, static_cast<double>(a->recorded_ns) / 1e9);
  } else {
    logger()->error("session {}: {}", a->info.session_id, ended.error().message);
    info = ended.error();
    if (!a->error) a->error = "could not end the session: " + ended.error().message;
  }
  if (a->error) {
    go(RecorderState::error, *a->error);
  } else {
    go(RecorderState::idle);
  }
  for (auto& w : a->stop_waiters) w(info);
  if (a->shutdown) a->shutdown->second();
  if (ended && !event_observers_.empty()) {
    // The segments closed by the end itself never went through on_written: report them from the
    // manifest, then the end.
    deps_.spool.run(
        [id = ended->session_id, from = a->segments_closed](Spool& s) {
          std::vector<protocol::SegmentEntry> tail;
          if (const auto* m = s.manifest(id)) {
            for (const auto& e : m->segments) {
              if (e.index >= from) tail.push_back(e);
            }
          }
          return tail;
        },
        [this, info = ended->ended, alive = std::weak_ptr<bool>(alive_)](std::vector<protocol::SegmentEntry> tail) {
          if (!alive.lock()) return;
          for (auto& e : tail) {
            protocol::Event ev;
            ev.type = protocol::EventType::segment_closed;
            ev.segment = std::move(e);
            emit(std::move(ev));
          }
          protocol::Event ev;
          ev.type = protocol::EventType::session_ended;
          ev.session = info;
          emit(std::move(ev));
        });
  }
}

void Controller::stop(const std::string& reason, Done<SessionInfo> done) {
  switch (sm_.state()) {
    case RecorderState::idle:
    case RecorderState::error:
    case RecorderState::offline: done(Error{"not recording"}); return;
    case RecorderState::starting: done(Error{"the recording is still starting; try again in a moment"}); return;
    case RecorderState::stopping: active_->stop_waiters.push_back(std::move(done)); return;
    case RecorderState::recording:
      active_->stop_waiters.push_back(std::move(done));
      begin_stop(reason, std::nullopt);
      return;
  }
}

void Controller::shutdown(const std::string& reason, std::function<void()> done) {
  switch (sm_.state()) {
    case RecorderState::starting: active_->shutdown = {reason, std::move(done)}; return;
    case RecorderState::recording:
      stop(reason, [done = std::move(done)](const Result<SessionInfo>&) { done(); });
      return;
    case RecorderState::stopping:
      active_->stop_waiters.push_back([done = std::move(done)](const Result<SessionInfo>&) { done(); });
      return;
    default: done(); return;
  }
}

void Controller::bookmark(const std::string& label, protocol::Trigger source, Done<protocol::Bookmark> done) {
  if (sm_.state() != RecorderState::recording || !active_) {
    done(Error{"not recording: a bookmark marks a moment of a recording"});
    return;
  }
  auto& a = *active_;
  protocol::Bookmark b;
  b.id = util::uuid_v4();
  b.session_id = a.info.session_id;
  b.at = util::now_utc();
  b.label = label;
  b.source = source;
  const auto rt = a.recorder ? a.recorder->running_time_ns() : std::optional<std::int64_t>{};
  b.offset_ms = rt && a.first_pts
                    ? std::max<std::int64_t>(0, (*rt - *a.first_pts) / 1'000'000)
                    : std::chrono::duration_cast<std::chrono::milliseconds>(b.at - a.info.started_at).count();
  deps_.spool.run([b](Spool& s) { return s.add_bookmark(b); },
                  [this, b, done = std::move(done)](const Status& st) {
                    if (!st) {
                      done(st.error());
                      return;
                    }
                    if (active_ && active_->info.session_id == b.session_id) ++active_->bookmarks;
                    protocol::Event ev;
                    ev.type = protocol::EventType::bookmark;
                    ev.bookmark = b;
                    emit(std::move(ev));
                    logger()->info("session {}: bookmark at {:.1f} s{}", b.session_id,
                                   static_cast<double>(b.offset_ms) / 1000,
                                   b.label.empty() ? "" : " \"" + b.label + "\"");
                    done(b);
                  });
}

void Controller::snapshot(Done<std::string> done) {
  if (!deps_.config.video.enabled) {
    done(Error{"this unit records sound only (video.enabled = false): there is no picture to take"});
    return;
  }
  if (!selection_) {
    done(selection_.error());
    return;
  }
  snapshot_waiters_.push_back(std::move(done));
  if (snapshot_waiters_.size() > 1) return;  // the capture under way serves every waiter
  snapshot_timer_.expires_after(std::chrono::seconds(10));
  snapshot_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) deliver_snapshot(Error{"no picture from the camera within 10 s"});
  });
  if (active_ && active_->recorder) {
    std::weak_ptr<bool> alive = alive_;
    active_->recorder->grab_frame([this, alive](capture::SamplePtr frame) {
      if (!frame) {
        deliver_snapshot(Error{"the recording stopped before a picture came"});
        return;
      }
      asio::post(deps_.pool, [this, alive, f = std::shared_ptr<GstSample>(frame.release(), capture::GstSampleUnref{}),
                              width = deps_.config.snapshot.width, quality = deps_.config.snapshot.quality] {
        auto jpeg = capture::encode_jpeg(f.get(), width, quality);
        asio::post(deps_.io, [this, alive, jpeg = std::move(jpeg)]() mutable {
          if (!alive.expired()) deliver_snapshot(std::move(jpeg));
        });
      });
    });
    return;
  }
  run_preview();
}

void Controller::run_preview() {
  preview_running_ = true;
  notify();
  const auto plan = capture::plan_preview(deps_.config, *selection_);
  std::weak_ptr<bool> alive = alive_;
  asio::post(deps_.pool, [this, alive, plan, zones = deps_.config.video.privacy_zones,
                          width = deps_.config.snapshot.width, quality = deps_.config.snapshot.quality] {
    Result<std::string> jpeg = Error{""};
    auto frame = capture::preview_frame(plan.description, plan.warmup_frames, zones, std::chrono::seconds(5));
    jpeg = frame ? capture::encode_jpeg(frame->get(), width, quality) : Result<std::string>(frame.error());
    asio::post(deps_.io, [this, alive, jpeg = std::move(jpeg)]() mutable {
      if (alive.expired()) return;
      preview_running_ = false;
      notify();
      deliver_snapshot(std::move(jpeg));
      if (launch_after_preview_) {
        launch_after_preview_ = false;
        if (active_ && sm_.state() == RecorderState::starting && !active_->recorder) launch();
      }
    });
  });
}

void Controller::deliver_snapshot(Result<std::string> jpeg) {
  snapshot_timer_.cancel();
  auto waiters = std::move(snapshot_waiters_);
  snapshot_waiters_.clear();
  if (!waiters.empty()) {
    if (jpeg) {
      logger()->info("snapshot taken ({} bytes)", jpeg->size());
    } else {
      logger()->warn("snapshot failed: {}", jpeg.error().message);
    }
  }
  for (auto& w : waiters) w(jpeg);
}

}  // namespace classcam::session
