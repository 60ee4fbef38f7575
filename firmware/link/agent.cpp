#include "firmware/link/agent.hpp"

#include <fmt/format.h>

#include <fstream>

#include "common/log/log.hpp"
#include "common/util/version.hpp"

namespace classcam::link {

namespace {
log::Logger logger() { return log::get("link"); }
}  // namespace

using protocol::CommandAction;
using protocol::CommandStatus;
using protocol::RecorderState;

std::optional<double> read_cpu_temp_c(const std::filesystem::path& thermal_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(thermal_dir, ec)) return std::nullopt;
  std::vector<std::filesystem::path> zones;
  for (const auto& e : std::filesystem::directory_iterator(thermal_dir, ec)) {
    if (e.path().filename().string().starts_with("thermal_zone")) zones.push_back(e.path());
  }
  std::sort(zones.begin(), zones.end());
  for (const auto& z : zones) {
    std::ifstream in(z / "temp");
    long long milli = 0;
    if (in >> milli) return static_cast<double>(milli) / 1000.0;
  }
  return std::nullopt;
}

std::uint64_t read_uptime_s() {
  std::ifstream in("/proc/uptime");
  double s = 0;
  if (in >> s) return static_cast<std::uint64_t>(s);
  return 0;
}

Agent::Agent(Deps deps, MqttSettings mqtt)
    : deps_(std::move(deps)),
      mqtt_(std::move(mqtt)),
      book_(deps_.config.unit.state_dir / "commands.jsonl"),
      telemetry_timer_(deps_.io) {
  link_ = std::make_unique<MqttLink>(
      deps_.io, mqtt_,
      MqttLink::Handlers{[this](const protocol::Command& c) { on_command(c); },
                         [this](const std::string& raw, const Error& e) { on_bad_command(raw, e); },
                         [this](const protocol::Schedule& s) {
                           if (auto st = deps_.schedule.offer(s); !st) logger()->info("{}", st.error().message);
                         },
                         [this](bool up) {
                           if (up) send_telemetry();
                         },
                         [this](const protocol::LiveStatus& s) {
                           if (live_) live_->on_live_status(s);
                         }});
}

Agent::~Agent() {
  *alive_ = false;
  stop();
}

void Agent::start() {
  book_.load();
  running_ = true;
  auto alive = std::weak_ptr<bool>(alive_);
  deps_.controller.on_change([this, alive] {
    if (alive.lock() && running_) link_->publish(deps_.controller.unit_state());
  });
  deps_.controller.on_event([this, alive](const protocol::Event& e) {
    if (alive.lock() && running_) link_->publish(e);
  });
  link_->publish(deps_.controller.unit_state());
  link_->start();
  arm_telemetry();
}

void Agent::stop() {
  if (!running_) return;
  running_ = false;
  telemetry_timer_.cancel();
  link_->stop();
}

void Agent::arm_telemetry() {
  telemetry_timer_.expires_after(std::chrono::seconds(std::max<std::uint32_t>(1, deps_.config.telemetry.interval_s)));
  telemetry_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || !alive.lock() || !running_) return;
    send_telemetry();
    arm_telemetry();
  });
}

void Agent::send_telemetry() {
  deps_.spool.run([](spool::Spool& s) { return s.usage(); },
                  [this, alive = std::weak_ptr<bool>(alive_)](const spool::Usage& u) {
                    if (!alive.lock() || !running_) return;
                    protocol::Telemetry t;
                    t.unit_id = deps_.unit_id;
                    t.at = util::now_utc();
                    const auto st = deps_.controller.unit_state();
                    t.state = st.state;
                    t.disk_total_bytes = u.fs_total_bytes;
                    t.disk_free_bytes = u.fs_avail_bytes;
                    t.spool_used_bytes = u.used_bytes;
                    t.spool_backlog_segments = u.backlog_segments;
                    t.spool_backlog_bytes = u.backlog_bytes;
                    t.spool_set_aside_segments = u.set_aside_segments;
                    t.cpu_temp_c = read_cpu_temp_c();
                    t.uptime_s = read_uptime_s();
                    t.software_version = std::string(kVersion);
                    if (st.reason) t.last_error = st.reason;
                    if (st.live) t.live_viewers = st.live->viewers;
                    if (upload_info_) {
                      auto [rate, err] = upload_info_();
                      t.upload_rate_bps = rate;
                      if (!t.last_error && !err.empty()) t.last_error = err;
                    }
                    link_->publish(t);
                  });
}

void Agent::answer(const protocol::Command& c, CommandStatus status, std::string detail,
                   std::optional<std::string> session_id, std::optional<std::string> snapshot_url) {
  in_flight_.erase(c.id);
  protocol::CommandResult r;
  r.command_id = c.id;
  r.unit_id = deps_.unit_id;
  r.action = c.action;
  r.status = status;
  r.detail = std::move(detail);
  r.at = util::now_utc();
  r.session_id = std::move(session_id);
  r.snapshot_url = std::move(snapshot_url);
  if (auto st = book_.record(r); !st) {
    // Still answered: the hub needs the result more than we need the record.
    logger()->error("command {}: its result could not be stored: {}", c.id, st.error().message);
  }
  logger()->info("command {} ({}): {}{}{}", c.id, protocol::to_string(c.action), protocol::to_string(status),
                 r.detail.empty() ? "" : ": ", r.detail);
  if (running_) link_->publish(r);
}

void Agent::on_bad_command(const std::string& raw, const Error& e) {
  logger()->warn("command refused: {}", e.message);
  // Answer "rejected" when the id (and action) can still be read, so the hub is not left waiting.
  const auto j = protocol::Json::parse(raw, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return;
  protocol::Command c;
  c.id = j["id"].get<std::string>();
  if (c.id.empty() || c.id.size() > 64) return;
  if (j.contains("action") && j["action"].is_string()) {
    if (auto a = protocol::command_action_from_string(j["action"].get<std::string>())) c.action = *a;
  }
  if (auto prev = book_.find(c.id)) {
    link_->publish(*prev);
    return;
  }
  answer(c, CommandStatus::rejected, e.message);
}

void Agent::on_command(const protocol::Command& c) {
  if (auto prev = book_.find(c.id)) {
    logger()->info("command {} seen before: answered again with its result", c.id);
    link_->publish(*prev);
    return;
  }
  if (in_flight_.contains(c.id)) return;  // running; its result follows
  const auto now = util::now_utc();
  if (c.expires_at && now > *c.expires_at) {
    answer(c, CommandStatus::expired, "received after it expired at " + util::to_rfc3339(*c.expires_at));
    return;
  }
  in_flight_.insert(c.id);
  auto& ctl = deps_.controller;
  const auto st = ctl.unit_state();
  auto alive = std::weak_ptr<bool>(alive_);
  // Answers `c` once the controller has done it: ok with the session, or failed with why.
  auto when_done = [this, c, alive](const auto& r) {
    if (!alive.lock()) return;
    if (r) {
      answer(c, CommandStatus::ok, "", r->session_id);
    } else {
      answer(c, CommandStatus::failed, r.error().message);
    }
  };
  switch (c.action) {
    case CommandAction::start: {
      if (st.state == RecorderState::starting || st.state == RecorderState::recording ||
          st.state == RecorderState::stopping) {
        answer(c, CommandStatus::rejected,
               st.session_id ? "already recording session " + *st.session_id : "already recording", st.session_id);
        return;
      }
      ctl.start({protocol::Trigger::hub, c.args.title, c.args.observation_id, c.args.duration_s}, when_done);
      return;
    }
    case CommandAction::stop: {
      if (st.state != RecorderState::recording && st.state != RecorderState::stopping) {
        answer(c, CommandStatus::rejected,
               st.state == RecorderState::starting ? "the recording is still starting" : "not recording");
        return;
      }
      ctl.stop("stopped from the hub", when_done);
      return;
    }
    case CommandAction::bookmark: {
      if (st.state != RecorderState::recording) {
        answer(c, CommandStatus::rejected, "not recording");
        return;
      }
      ctl.bookmark(c.args.label.value_or(""), protocol::Trigger::hub, when_done);
      return;
    }
    case CommandAction::snapshot: {
      if (!snapshot_sink_) {
        answer(c, CommandStatus::failed, "this unit cannot send snapshots to the hub yet (no uploader)");
        return;
      }
      ctl.snapshot([this, c, alive](Result<std::string> jpeg) {
        if (!alive.lock()) return;
        if (!jpeg) {
          answer(c, CommandStatus::failed, jpeg.error().message);
          return;
        }
        snapshot_sink_(c.id, std::move(*jpeg), [this, c, alive](const Result<std::string>& url) {
          if (!alive.lock()) return;
          if (url) {
            answer(c, CommandStatus::ok, "", std::nullopt, *url);
          } else {
            answer(c, CommandStatus::failed, "snapshot upload: " + url.error().message);
          }
        });
      });
      return;
    }
    case CommandAction::reload_schedule: {
      deps_.schedule.evaluate();
      const auto& s = deps_.schedule.schedule();
      answer(c, CommandStatus::ok,
             s ? fmt::format("schedule revision {} in force ({} observations)", s->revision, s->observations.size())
               : "no schedule received yet");
      return;
    }
    case CommandAction::stream_start: {
      if (live_ == nullptr) {
        answer(c, CommandStatus::rejected, "live is not available on this unit");
        return;
      }
      // Answered ok once the hub answered the offer 201 (docs/live.md), with the live_id as detail.
      live_->start({c.args.live_id, c.args.max_s.value_or(3600), c.args.reason.value_or("asked by the hub")},
                   [this, c, alive](Result<std::string> r) {
                     if (!alive.lock()) return;
                     if (r) {
                       answer(c, CommandStatus::ok, *r);
                     } else {
                       answer(c, CommandStatus::failed, r.error().message);
                     }
                   });
      return;
    }
    case CommandAction::stream_stop: {
      if (live_ == nullptr) {
        answer(c, CommandStatus::rejected, "live is not available on this unit");
        return;
      }
      live_->stop(c.args.live_id, [this, c, alive](Status stopped) {
        if (!alive.lock()) return;
        answer(c, stopped ? CommandStatus::ok : CommandStatus::failed, stopped ? "" : stopped.error().message);
      });
      return;
    }
  }
}

protocol::Json Agent::status() const {
  const auto s = link_->status();
  protocol::Json j = {{"broker", fmt::format("{}:{}", mqtt_.host, mqtt_.port)},
                      {"connected", s.connected},
                      {"connects", s.connects},
                      {"outbox", s.outbox},
                      {"dropped_events", s.dropped}};
  if (!s.last_error.empty()) j["last_error"] = s.last_error;
  return j;
}

}  // namespace classcam::link
