#include "firmware/schedule/runner.hpp"

#include <boost/asio/post.hpp>

#include "common/log/log.hpp"

namespace classcam::schedule {

namespace {
log::Logger logger() { return log::get("schedule"); }
}  // namespace

using protocol::RecorderState;

ScheduleRunner::ScheduleRunner(Deps deps)
    : deps_(std::move(deps)), store_(deps_.file), timer_(deps_.io), strand_(boost::asio::make_strand(deps_.pool)) {}

ScheduleRunner::~ScheduleRunner() { *alive_ = false; }

void ScheduleRunner::start() {
  auto loaded = store_.load();
  if (!loaded) {
    logger()->warn("stored schedule ignored: {}", loaded.error().message);
  } else if (*loaded) {
    if (auto ok = accepts(std::nullopt, **loaded, deps_.unit_id); ok) {
      logger()->info("schedule revision {} loaded: {} observations", (*loaded)->revision,
                     (*loaded)->observations.size());
      planner_.set_schedule(std::move(*loaded));
    } else {
      logger()->warn("stored {}", ok.error().message);
    }
  }
  running_ = true;
  last_ = view();
  deps_.controller.on_change([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock() && running_) on_recorder_change();
  });
  evaluate();
}

void ScheduleRunner::stop() {
  running_ = false;
  timer_.cancel();
}

Status ScheduleRunner::offer(const protocol::Schedule& s) {
  if (auto ok = accepts(planner_.schedule(), s, deps_.unit_id); !ok) return ok;
  logger()->info("schedule revision {} received: {} observations", s.revision, s.observations.size());
  boost::asio::post(strand_, [store = store_, s] {
    if (auto st = store.save(s); !st) logger()->error("the schedule could not be stored: {}", st.error().message);
  });
  planner_.set_schedule(s);
  evaluate();
  return ok_status();
}

std::optional<protocol::Observation> ScheduleRunner::next() const {
  const auto& s = planner_.schedule();
  if (!s) return std::nullopt;
  const auto now = deps_.clock();
  for (const auto& o : s->observations) {
    if (o.start > now) return o;
  }
  return std::nullopt;
}

RecorderView ScheduleRunner::view() const {
  RecorderView v;
  const auto st = deps_.controller.unit_state();
  v.state = st.state;
  v.observation_id = st.observation_id;
  if (const auto p = deps_.controller.progress()) v.scheduled = p->info.trigger == protocol::Trigger::schedule;
  return v;
}

void ScheduleRunner::on_recorder_change() {
  const auto now_view = view();
  const bool was_ours = last_.scheduled && last_.observation_id &&
                        (last_.state == RecorderState::recording || last_.state == RecorderState::stopping ||
                         last_.state == RecorderState::starting);
  const bool still_ours = now_view.scheduled && now_view.observation_id == last_.observation_id &&
                          now_view.state != RecorderState::idle && now_view.state != RecorderState::error;
  if (was_ours && !still_ours) {
    const auto& id = *last_.observation_id;
    Planner::EndCause cause = Planner::EndCause::person;
    if (stopping_ == id) {
      cause = Planner::EndCause::planner;
    } else if (now_view.state == RecorderState::error) {
      cause = Planner::EndCause::fault;
    }
    logger()->info("observation {} ended ({})", id,
                   cause == Planner::EndCause::planner ? "by the schedule"
                   : cause == Planner::EndCause::fault ? "recorder fault; retried"
                                                       : "stopped by someone; not restarted");
    planner_.ended(id, cause, deps_.clock());
    if (stopping_ == id) stopping_.reset();
  }
  last_ = now_view;
  // Not from inside the controller's notification: the controller may be mid-transition.
  if (!evaluate_posted_) {
    evaluate_posted_ = true;
    boost::asio::post(deps_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.lock()) return;
      evaluate_posted_ = false;
      if (running_) evaluate();
    });
  }
}

void ScheduleRunner::evaluate() {
  if (!running_) return;
  const auto now = deps_.clock();
  const auto d = planner_.decide(now, view());
  switch (d.kind) {
    case Decision::Kind::none: break;
    case Decision::Kind::stop: {
      const auto v = view();
      if (v.scheduled && v.observation_id) stopping_ = v.observation_id;
      logger()->info("stopping the running session: {}", d.reason);
      deps_.controller.stop(d.reason, [](const Result<protocol::SessionInfo>& r) {
        if (!r) logger()->warn("scheduled stop: {}", r.error().message);
      });
      break;
    }
    case Decision::Kind::start: {
      const auto o = *d.observation;
      logger()->info("starting observation {} (\"{}\", until {})", o.id, o.title, util::to_rfc3339(o.end));
      session::StartRequest req{protocol::Trigger::schedule, o.title, o.id, std::nullopt};
      deps_.controller.start(
          req, [this, alive = std::weak_ptr<bool>(alive_), id = o.id](const Result<protocol::SessionInfo>& r) {
            if (r || !alive.lock()) return;
            logger()->error("observation {} could not start: {}; retrying in {} s", id, r.error().message,
                            kRetryAfter.count());
            planner_.start_failed(id, deps_.clock());
            arm();
          });
      break;
    }
  }
  arm();
}

void ScheduleRunner::arm() {
  if (!running_) return;
  const auto now = deps_.clock();
  const auto wake = planner_.next_wakeup(now);
  // Wall-clock targets become a steady-clock sleep, re-evaluated on waking, so a jump costs at most
  // kMaxSleep of lateness.
  timer_.expires_after(std::max(std::chrono::milliseconds(0), wake - now));
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    evaluate();
  });
}

}  // namespace classcam::schedule
