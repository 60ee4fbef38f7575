#include "firmware/live/service.hpp"

#include <boost/asio/post.hpp>

#include "common/log/log.hpp"

namespace classcam::live {

namespace {
log::Logger logger() { return log::get("live"); }
}  // namespace

Service::Service(Deps deps) : deps_(std::move(deps)), limit_timer_(deps_.io) {}

Service::~Service() {
  alive_.reset();
  limit_timer_.cancel();
  sender_.reset();
  if (own_pipeline_) own_pipeline_->abort();
}

std::optional<protocol::LiveInfo> Service::info() const {
  if (!running_) return std::nullopt;
  return protocol::LiveInfo{live_id_, viewers_, talker_ && !muted_, muted_};
}

void Service::notify() {
  for (auto& o : observers_) o();
}

void Service::answer_pending(Result<std::string> r) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& p : pending) p(r);
}

void Service::start(const StartRequest& request, std::function<void(Result<std::string>)> done) {
  if (!hub_) {
    done(Error{"not enrolled: live needs the hub (classcamctl enroll)"});
    return;
  }
  if (running_) {
    if (request.live_id && !live_id_.empty() && *request.live_id != live_id_) {
      done(Error{"live " + live_id_ + " runs already; stop it first"});
    } else if (sender_ && sender_->phase() == Sender::Phase::connected) {
      done(live_id_);
    } else {
      pending_.push_back(std::move(done));
    }
    return;
  }
  running_ = true;
  live_id_ = request.live_id.value_or("");
  viewers_ = 0;
  talker_ = false;
  muted_ = false;  // each live starts unmuted, as the hub's floor does
  hub_muted_seen_ = false;
  pending_.push_back(std::move(done));
  limit_timer_.expires_after(std::chrono::seconds(std::max<std::uint32_t>(1, request.max_s)));
  limit_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired() || !running_) return;
    logger()->info("live {}: its time is up", live_id_);
    stop(std::nullopt, [](Status) {});
  });
  logger()->info("live starting ({})", request.reason.empty() ? "no reason given" : request.reason);
  // Launch first, then tell the observers: they reach recording_changed() (through the controller and
  // the daemon), which before launch() would see no host yet and launch a second branch of its own.
  if (auto st = launch(); !st) {
    fail(st.error().message);
    return;
  }
  notify();
}

Status Service::launch() {
  GstElement* recording = deps_.recording_pipeline ? deps_.recording_pipeline() : nullptr;
  if (recording == nullptr) {
    if (!deps_.selection) return Error{"no camera or microphone to stream: " + deps_.selection.error().message};
    // No recording runs: a live-only pipeline from the recording's own plan.
    const auto plan = capture::plan_live(deps_.config, *deps_.selection);
    std::weak_ptr<bool> alive = alive_;
    capture::Recorder::Events ev;
    ev.started = [this, alive] {
      if (alive.expired() || !running_ || !own_pipeline_ || sender_) return;
      if (auto st = start_sender(own_pipeline_->pipeline()); !st) fail(st.error().message);
    };
    ev.error = [this, alive](const std::string& why) {
      if (!alive.expired()) fail("the live-only pipeline failed: " + why);
    };
    own_pipeline_ = std::make_unique<capture::Recorder>(deps_.io, plan, deps_.config.video.privacy_zones, std::move(ev),
                                                        deps_.config.video.latency_strip);
    return own_pipeline_->start();
  }
  return start_sender(recording);
}

Status Service::start_sender(GstElement* pipeline) {
  host_ = pipeline;
  SenderOptions o;
  o.hub = hub_->hub;
  o.ca_file = hub_->ca_file;
  o.token = hub_->token;
  o.live_id = live_id_;
  o.ice_addresses = deps_.ice_addresses;
  o.talkback = deps_.config.live.talkback;
  o.branch.keyframe_min_interval = std::chrono::milliseconds(deps_.config.live.keyframe_min_ms);
  o.talkback_muted = muted_;  // a live moving pipelines stays as muted as it was
  sender_ = std::make_unique<Sender>(deps_.io, host_, std::move(o),
                                     Sender::Events{[this](const std::string& id) {
                                                      live_id_ = id;
                                                      answer_pending(id);
                                                      notify();
                                                    },
                                                    [this](const std::string& why) { fail(why); }});
  return sender_->start();
}

void Service::teardown(std::function<void()> done) {
  host_ = nullptr;
  auto finish = [this, done = std::move(done), alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    // The sender's branch is gone: the live-only pipeline (if any) can go too, freeing its CPU.
    sender_.reset();
    if (own_pipeline_) own_pipeline_->abort();
    own_pipeline_.reset();
    if (done) done();
  };
  if (sender_) {
    sender_->stop(std::move(finish));
  } else {
    boost::asio::post(deps_.io, std::move(finish));
  }
}

void Service::fail(const std::string& why) {
  if (!running_) return;
  logger()->warn("live stops: {}", why);
  running_ = false;
  limit_timer_.cancel();
  answer_pending(Error{why});
  // Not from inside the Sender's own callback: the teardown is posted.
  boost::asio::post(deps_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) teardown({});
  });
  notify();
}

void Service::stop(const std::optional<std::string>& live_id, std::function<void(Status)> done) {
  if (!running_) {
    done(ok_status());
    return;
  }
  if (live_id && !live_id_.empty() && *live_id != live_id_) {
    done(Error{"live " + *live_id + " is not running (live " + live_id_ + " is)"});
    return;
  }
  logger()->info("live {} stops", live_id_);
  running_ = false;
  limit_timer_.cancel();
  answer_pending(Error{"live was stopped"});
  teardown([done = std::move(done)] { done(ok_status()); });
  notify();
}

void Service::on_live_status(const protocol::LiveStatus& status) {
  if (!running_ || (!status.live_id.empty() && !live_id_.empty() && status.live_id != live_id_)) return;
  viewers_ = status.viewers;
  talker_ = status.talker.has_value();
  if (status.talkback_muted != hub_muted_seen_) {
    hub_muted_seen_ = status.talkback_muted;
    muted_ = status.talkback_muted;
    if (sender_) sender_->set_talkback_muted(muted_, false);
    logger()->info("live {}: talkback {} by the hub", live_id_, muted_ ? "muted" : "unmuted");
  }
  notify();
}

Status Service::set_talkback_muted(bool muted) {
  if (!running_) return Error{"live is not running: there is no talkback to mute"};
  logger()->info("live {}: talkback {} on the unit", live_id_, muted ? "muted" : "unmuted");
  muted_ = muted;
  if (sender_) sender_->set_talkback_muted(muted, true);
  notify();
  return ok_status();
}

void Service::recording_changed() {
  if (!running_) return;
  GstElement* recording = deps_.recording_pipeline ? deps_.recording_pipeline() : nullptr;
  // Live on the recording already, or live-only with no recording: nothing to move.
  if (recording != nullptr && recording == host_) return;
  if (recording == nullptr && own_pipeline_) return;
  logger()->info("live {} moves to the {} pipeline", live_id_, recording != nullptr ? "recording" : "live-only");
  teardown([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired() || !running_) return;
    if (auto st = launch(); !st) fail(st.error().message);
  });
}

}  // namespace classcam::live
