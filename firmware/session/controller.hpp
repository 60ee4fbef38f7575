#pragma once
// Controller: one recording session at a time, from trigger to closed manifest. It owns the state
// machine (state.hpp), the Recorder of the current session, and the timers (start timeout, stop
// timeout, max session length, periodic fdatasync of the open segment). The recorder's muxed stream
// goes to the spool through SpoolService, which cuts it into segments (spool/segment_writer.hpp).
//
// Threading: everything here runs on the io_context. The recorder posts its events here; spool work
// runs on the spool's strand and posts back; JPEG encoding and idle previews run on the worker pool
// and post back. Callbacks given to start/stop/bookmark/snapshot are called exactly once, on the loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"
#include "firmware/capture/plan.hpp"
#include "firmware/capture/recorder.hpp"
#include "firmware/session/state.hpp"
#include "firmware/spool/service.hpp"

namespace classcam::session {

struct StartRequest {
  protocol::Trigger trigger = protocol::Trigger::local;
  std::optional<std::string> title;
  std::optional<std::string> observation_id;
  std::optional<std::uint32_t> duration_s;  // stop by itself after this long (below max_session_minutes)
};

// What `classcamctl status` shows beyond UnitState.
struct SessionProgress {
  protocol::SessionInfo info;
  std::uint32_t segments_closed = 0;
  std::uint32_t bookmarks = 0;
  std::int64_t recorded_ns = 0;  // sum of closed segment durations
};

class Controller {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& pool;
    spool::SpoolService& spool;
    const config::UnitConfig& config;
    std::string unit_id;
  };
  // `selection` comes from the capability probe at start-up; when it is an Error every start fails
  // with its message (and the unit shows it as its error state).
  Controller(Deps deps, Result<capture::Selection> selection);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  template <typename T>
  using Done = std::function<void(Result<T>)>;

  // Done once the first segment is being written (state recording), or with why it could not start.
  void start(const StartRequest& request, Done<protocol::SessionInfo> done);
  // Done once the session is ended in its manifest (every segment closed, or recovered after a stop
  // that timed out). `reason` becomes the session's end_reason.
  void stop(const std::string& reason, Done<protocol::SessionInfo> done);
  void bookmark(const std::string& label, protocol::Trigger source, Done<protocol::Bookmark> done);
  // A JPEG of the current picture (privacy zones blacked out): from the running recording without
  // disturbing it, or from a short preview pipeline when idle.
  void snapshot(Done<std::string> done);
  // Stops a running session (reason given) and calls done when nothing is left running.
  void shutdown(const std::string& reason, std::function<void()> done);

  protocol::UnitState unit_state() const;
  // What live runs (firmware/live), for UnitState.streaming and .live (and so the LED); nullopt: none.
  void set_live(std::optional<protocol::LiveInfo> live);
  // The running recording's pipeline for a live branch, null when none records.
  GstElement* recording_pipeline() const;
  std::optional<SessionProgress> progress() const;
  bool taking_snapshot() const { return preview_running_; }
  const Result<capture::Selection>& selection() const { return selection_; }
  // After an enrolment: the unit's new id, for the sessions that start from now on.
  void set_unit_id(std::string id) { deps_.unit_id = std::move(id); }
  // Called on every change of unit_state() (and of taking_snapshot()).
  void on_change(std::function<void()> observer) { observers_.push_back(std::move(observer)); }
  // Called with every session_started, segment_closed, bookmark, session_ended and error, in order, on
  // the loop (what the link reports to the hub).
  void on_event(std::function<void(const protocol::Event&)> observer) {
    event_observers_.push_back(std::move(observer));
  }

 private:
  struct Active;
  void go(RecorderState to, std::optional<std::string> reason = std::nullopt);
  void notify();
  void emit(protocol::Event e);
  void launch();
  void fail_start(const std::string& reason);
  void on_data(capture::SamplePtr sample);
  void flush();
  void on_written(const std::string& session_id, Result<spool::WriteOutcome> r);
  void on_recorder_error(const std::string& what);
  void on_eos();
  void begin_stop(const std::string& reason, std::optional<std::string> error);
  void stop_timed_out();
  void finish(Result<spool::RecoveredSession> ended);
  void check_quota();
  void sync_open_segment();
  void run_preview();
  void deliver_snapshot(Result<std::string> jpeg);
  std::uint64_t reserve_bytes() const;

  Deps deps_;
  Result<capture::Selection> selection_;
  StateMachine sm_;
  std::unique_ptr<Active> active_;
  boost::asio::steady_timer start_timer_;
  boost::asio::steady_timer stop_timer_;
  boost::asio::steady_timer limit_timer_;
  boost::asio::steady_timer sync_timer_;
  boost::asio::steady_timer snapshot_timer_;
  std::chrono::seconds limit_{0};  // of the current session
  std::vector<std::function<void()>> observers_;
  std::vector<std::function<void(const protocol::Event&)>> event_observers_;
  std::vector<Done<std::string>> snapshot_waiters_;
  bool preview_running_ = false;
  std::optional<protocol::LiveInfo> live_;
  bool launch_after_preview_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace classcam::session
