#pragma once
// ScheduleRunner: the Planner (planner.hpp) wired to the session controller and the stored schedule.
// It evaluates at every start and end of an observation (and at least every kMaxSleep, so a wall-clock
// jump is seen within seconds), on every change of the recorder's state, and when a new schedule
// arrives from the hub.
//
// Threading: everything runs on the io_context; only ScheduleStore::save runs on a strand of the
// worker pool (it fsyncs), in arrival order, so a newer schedule is never overwritten by an older one.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "firmware/schedule/planner.hpp"
#include "firmware/schedule/store.hpp"
#include "firmware/session/controller.hpp"

namespace classcam::schedule {

class ScheduleRunner {
 public:
  using Clock = std::function<util::TimePoint()>;
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& pool;
    session::Controller& controller;
    std::filesystem::path file;  // <state_dir>/schedule.json
    std::string unit_id;
    Clock clock;  // util::now_utc in the daemon; tests move time themselves
  };
  explicit ScheduleRunner(Deps deps);
  ~ScheduleRunner();
  ScheduleRunner(const ScheduleRunner&) = delete;
  ScheduleRunner& operator=(const ScheduleRunner&) = delete;

  // Loads the stored schedule and starts evaluating. An unreadable file is logged and ignored (the hub
  // sends the schedule again, retained).
  void start();
  void stop();
  // A schedule from the hub: stored and applied when it is for this unit and newer than the one in
  // force; otherwise an Error saying why it was ignored.
  Status offer(const protocol::Schedule& s);
  // Evaluates now (after a clock change, or on the hub's reload_schedule command).
  void evaluate();
  // After an enrolment: schedules are for this id from now on.
  void set_unit_id(std::string id) { deps_.unit_id = std::move(id); }

  const std::optional<protocol::Schedule>& schedule() const { return planner_.schedule(); }
  std::optional<protocol::Observation> active() const { return planner_.active(deps_.clock()); }
  // The next observation that starts after now.
  std::optional<protocol::Observation> next() const;

 private:
  RecorderView view() const;
  void on_recorder_change();
  void arm();

  Deps deps_;
  ScheduleStore store_;
  Planner planner_;
  boost::asio::steady_timer timer_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  RecorderView last_;
  std::optional<std::string> stopping_;  // observation the runner asked to stop
  bool running_ = false;
  bool evaluate_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace classcam::schedule
