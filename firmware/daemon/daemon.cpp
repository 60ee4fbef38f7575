#include "firmware/daemon/daemon.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "common/log/log.hpp"
#include "common/util/hash.hpp"
#include "common/util/version.hpp"
#include "firmware/capture/probe.hpp"
#include "firmware/capture/recorder.hpp"
#include "firmware/enroll/enroll.hpp"
#include "firmware/enroll/enrollment.hpp"
#include "firmware/session/led.hpp"

namespace classcam::daemon {

using control::Json;
using protocol::RecorderState;

namespace {

log::Logger logger() { return log::get("daemon"); }

std::string describe_state(const protocol::UnitState& s) {
  switch (s.state) {
    case RecorderState::recording: return "recording session " + s.session_id.value_or("?");
    case RecorderState::error: return "error: " + s.reason.value_or("");
    default: return std::string(protocol::to_string(s.state));
  }
}

}  // namespace

std::string read_unit_id(const std::filesystem::path& state_dir) {
  std::ifstream in(state_dir / "unit_id");
  std::string id;
  if (in && std::getline(in, id)) {
    while (!id.empty() && (id.back() == ' ' || id.back() == '\r')) id.pop_back();
    if (protocol::is_valid_id(id)) return id;
    logger()->warn("{}: not a valid unit id; using \"unenrolled\"", (state_dir / "unit_id").string());
  }
  return "unenrolled";
}

Daemon::Daemon(boost::asio::io_context& io, config::UnitConfig config, std::unique_ptr<gpio::Button> button,
               std::unique_ptr<gpio::Led> led)
    : io_(io),
      config_(std::move(config)),
      unit_id_(read_unit_id(config_.unit.state_dir)),
      button_(std::move(button)),
      led_(std::move(led)),
      led_timer_(io),
      button_timer_(io),
      notifier_(io) {}

Daemon::~Daemon() {
  // Worker-pool jobs post back to the loop and use the spool: let them finish before anything goes.
  server_.reset();
  led_timer_.cancel();
  button_timer_.cancel();
  if (metrics_) metrics_->stop();
  live_.reset();
  if (uploader_) uploader_->stop();
  if (agent_) agent_->stop();
  pool_.join();
}

void Daemon::start() {
  led_->set(false);
  logger()->info("classcamd {} starting: unit {} (\"{}\")", kVersion, unit_id_, config_.unit.name);

  spool::Spool spool(config_.spool);
  if (auto st = spool.open(); !st) throw std::runtime_error(st.error().message);
  const auto recovered = spool.recover();
  for (const auto& r : recovered) {
    logger()->warn("recovered session {} after an unclean stop: {} segments ({} closed by recovery)", r.session_id,
                   r.segments, r.recovered.size());
  }
  spool_ = std::make_unique<spool::SpoolService>(io_, pool_, std::move(spool));

  const auto caps = capture::probe(config_);
  auto selection = capture::select(config_, caps);
  if (selection) {
    if (selection->video) {
      logger()->info("video: {} ({})", capture::to_string(*selection->video), selection->video_reason);
      logger()->info("encoder: {} ({})", capture::to_string(*selection->encoder), selection->encoder_reason);
    } else {
      logger()->info("video: none ({})", selection->video_reason);
    }
    logger()->info("audio: {} ({})", capture::to_string(selection->audio), selection->audio_reason);
    for (const auto& w : selection->warnings) logger()->warn("{}", w);
    if (auto st = capture::warm_up(capture::plan_recording(config_, *selection).description); !st) {
      logger()->warn("the recording pipeline did not warm up: {}", st.error().message);
    }
  } else {
    // Not fatal: the control socket must answer so a technician can see what is wrong.
    logger()->error("capture is not possible: {}", selection.error().message);
  }

  live_ = std::make_unique<live::Service>(
      live::Service::Deps{io_,
                          config_,
                          selection,
                          [this]() -> GstElement* { return controller_ ? controller_->recording_pipeline() : nullptr; },
                          {}});
  controller_ = std::make_unique<session::Controller>(session::Controller::Deps{io_, pool_, *spool_, config_, unit_id_},
                                                      std::move(selection));
  controller_->on_change([this] { on_change(); });
  controller_->on_event([this](const protocol::Event& e) {
    if (e.type == protocol::EventType::segment_closed) ++segments_closed_;
  });
  // Live's state goes into UnitState (and so the hub, the LED and status) through the controller.
  live_->on_change([this] { controller_->set_live(live_->info()); });
  schedule_ = std::make_unique<schedule::ScheduleRunner>(schedule::ScheduleRunner::Deps{
      io_, pool_, *controller_, config_.unit.state_dir / "schedule.json", unit_id_, [] { return util::now_utc(); }});
  schedule_->start();
  start_link();
  if (button_) {
    gestures_ = std::make_unique<gpio::ButtonGestures>(
        io_, *button_, std::chrono::milliseconds(config_.gpio.long_press_ms),
        std::chrono::milliseconds(config_.gpio.debounce_ms), [this](const gpio::Gesture& g) { on_gesture(g); });
  }
  server_ = std::make_unique<control::Server>(
      io_, config_.control.socket,
      [this](const control::Request& r, control::Server::Reply reply) { handle(r, std::move(reply)); });
  if (auto st = server_->listen(); !st) throw std::runtime_error(st.error().message);
  if (!config_.metrics.textfile.empty()) {
    metrics_ = std::make_unique<unit_metrics::MetricsWriter>(
        unit_metrics::MetricsWriter::Deps{io_, pool_, *spool_,
                                          [this] {
                                            unit_metrics::Sample s;
                                            s.state = controller_->unit_state().state;
                                            s.segments_closed = segments_closed_;
                                            if (uploader_) s.upload = uploader_->status();
                                            return s;
                                          },
                                          config_.metrics.textfile, std::chrono::seconds(config_.metrics.interval_s)});
    metrics_->start();
    logger()->info("metrics: writing {} every {} s", config_.metrics.textfile.string(), config_.metrics.interval_s);
  }
  notifier_.ready(describe_state(controller_->unit_state()));
  logger()->info("ready");
}

void Daemon::start_link() {
  auto e = enroll::load_enrollment(config_.unit.state_dir);
  if (!e) {
    logger()->error("enrolment unreadable, not connecting to the hub: {}", e.error().message);
    return;
  }
  if (!*e) {
    logger()->info("not enrolled: recording locally only (classcamctl enroll --hub URL --code CODE)");
    return;
  }
  enrollment_ = std::move(**e);
  link::MqttSettings m;
  m.unit_id = unit_id_;
  m.host = enrollment_->mqtt_host;
  m.port = enrollment_->mqtt_port;
  m.username = enrollment_->mqtt_username;
  m.password = enrollment_->mqtt_password;
  m.ca_file = enroll::ca_file(config_.unit.state_dir);
  m.keepalive = std::chrono::seconds(config_.mqtt.keepalive_s);
  m.reconnect_min = std::chrono::seconds(config_.mqtt.reconnect_min_s);
  m.reconnect_max = std::chrono::seconds(config_.mqtt.reconnect_max_s);
  logger()->info("enrolled with {} as {}; MQTT broker {}:{}", enrollment_->hub_url, unit_id_, m.host, m.port);
  agent_ = std::make_unique<link::Agent>(link::Agent::Deps{io_, *controller_, *schedule_, *spool_, config_, unit_id_},
                                         std::move(m));
  agent_->set_snapshot_sink(
      [this](const std::string& id, std::string jpeg, std::function<void(Result<std::string>)> done) {
        send_snapshot(id, std::move(jpeg), std::move(done));
      });
  agent_->set_live(live_.get());

  const auto url = net::parse_url(enrollment_->hub_url);
  if (url) live_->set_hub(live::HubAccess{*url, enroll::ca_file(config_.unit.state_dir), enrollment_->api_token});
  if (!url) {
    logger()->error("enrolment: {}; segments are not uploaded", url.error().message);
  } else if (!config_.upload.enabled) {
    logger()->info("upload.enabled = false: segments stay in the spool");
  } else {
    uploader::Settings u;
    u.hub = *url;
    u.ca_file = enroll::ca_file(config_.unit.state_dir);
    u.token = enrollment_->api_token;
    u.unit_id = unit_id_;
    u.state_dir = config_.unit.state_dir;
    u.upload = config_.upload;
    uploader_ = std::make_unique<uploader::Uploader>(*spool_, std::move(u));
    if (!upload_wake_registered_) {
      upload_wake_registered_ = true;
      controller_->on_event([this](const protocol::Event& ev) {
        if (uploader_ && ev.type != protocol::EventType::bookmark && ev.type != protocol::EventType::error) {
          uploader_->wake();
        }
      });
    }
    agent_->set_upload_info([this]() -> std::pair<std::optional<std::uint64_t>, std::string> {
      if (!uploader_) return {std::nullopt, ""};
      const auto s = uploader_->status();
      return {s.state == "uploading" ? std::optional<std::uint64_t>(s.rate_bps) : std::nullopt, s.last_error};
    });
    uploader_->start();
  }
  agent_->start();
}

void Daemon::send_snapshot(const std::string& command_id, std::string jpeg,
                           std::function<void(Result<std::string>)> done) {
  auto url = net::parse_url(enrollment_->hub_url);
  if (!url) {
    done(url.error());
    return;
  }
  // Blocking HTTPS on the worker pool; the answer comes back to the loop.
  boost::asio::post(pool_, [this, url = *url, ca = enroll::ca_file(config_.unit.state_dir),
                            token = enrollment_->api_token, hub_url = enrollment_->hub_url, unit = unit_id_, command_id,
                            jpeg = std::move(jpeg), done = std::move(done)]() mutable {
    net::HttpsClient client(url, {ca, true}, std::chrono::seconds(30));
    auto r = client.request("PUT", "/api/v1/unit/snapshots/" + command_id,
                            {{"Authorization", "Bearer " + token}, {"Content-Type", "image/jpeg"}}, jpeg);
    Result<std::string> out = Error{""};
    if (!r) {
      out = r.error();
    } else if (r->status / 100 != 2) {
      out = Error{fmt::format("the hub answered HTTP {}: {}", r->status, r->body.substr(0, 200))};
    } else {
      out = hub_url + "/api/v1/units/" + unit + "/snapshot";
    }
    boost::asio::post(io_, [done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
  });
}

void Daemon::on_change() {
  const auto s = controller_->unit_state();
  update_led();
  notifier_.status(describe_state(s));
  // A recording that started or ended carries live from now on (or no longer does).
  if (live_) live_->recording_changed();
}

void Daemon::update_led() {
  const auto s = controller_->unit_state();
  const bool lit = session::recording_led_on(s, controller_->taking_snapshot());
  if (!lit || !s.streaming) {
    led_timer_.cancel();
    led_blinking_ = false;
    led_->set(lit);
    return;
  }
  // Live: lit, with a short dark wink every 1.5 s, so the room can tell live from recording alone
  // (session/led.hpp: the LED is never off while live runs, only this pattern).
  if (led_blinking_) return;
  led_blinking_ = true;
  led_tick(true);
}

void Daemon::led_tick(bool lit) {
  led_->set(lit);
  led_timer_.expires_after(lit ? std::chrono::milliseconds(1350) : std::chrono::milliseconds(150));
  led_timer_.async_wait([this, lit](const boost::system::error_code& ec) {
    if (ec || !led_blinking_) return;
    led_tick(!lit);
  });
}

void Daemon::on_gesture(const gpio::Gesture& g) {
  const auto state = controller_->unit_state().state;
  const bool live = live_ && live_->streaming();
  button_action(button_policy_.on_gesture(g, state, live, gpio::Clock::now()), g);
  arm_button_timer();
}

void Daemon::arm_button_timer() {
  const auto due = button_policy_.deadline();
  if (!due) return;
  button_timer_.expires_at(*due);
  button_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    button_action(button_policy_.tick(gpio::Clock::now(), controller_->unit_state().state), {});
  });
}

Status Daemon::set_talkback_muted(bool muted, const char* how) {
  if (!live_) return Error{"live is not running: there is no talkback to mute"};
  auto st = live_->set_talkback_muted(muted);
  if (st) logger()->info("{}: talkback {}", how, muted ? "muted" : "unmuted");
  return st;
}

void Daemon::button_action(session::ButtonAction action, const gpio::Gesture& g) {
  switch (action) {
    case session::ButtonAction::toggle_talkback:
      if (live_) (void)set_talkback_muted(!live_->talkback_muted(), "button (double press)");
      break;
    case session::ButtonAction::start:
      logger()->info("button: start");
      controller_->start({protocol::Trigger::button, std::nullopt, std::nullopt, std::nullopt},
                         [](const Result<protocol::SessionInfo>&) {});
      break;
    case session::ButtonAction::bookmark:
      logger()->info("button: bookmark");
      controller_->bookmark("", protocol::Trigger::button, [](const Result<protocol::Bookmark>&) {});
      break;
    case session::ButtonAction::stop:
      logger()->info("button: stop (held {} ms)", g.held.count());
      controller_->stop("stopped with the button", [](const Result<protocol::SessionInfo>&) {});
      break;
    case session::ButtonAction::none: break;
  }
}

void Daemon::shutdown(const std::string& reason, std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  notifier_.stopping();
  logger()->info("shutting down: {}", reason);
  if (schedule_) schedule_->stop();
  if (live_) live_->stop(std::nullopt, [](Status) {});
  if (!controller_) {
    done();
    return;
  }
  controller_->shutdown(reason, [this, done = std::move(done)] {
    // After the recording ended, so the hub hears the session's end before "offline".
    if (uploader_) uploader_->stop();
    if (agent_) agent_->stop();
    if (metrics_) metrics_->stop();
    if (server_) server_->close();
    led_->set(false);
    done();
  });
}

void Daemon::handle(const control::Request& r, control::Server::Reply reply) {
  using control::Command;
  if (shutting_down_ && r.cmd != Command::status) {
    reply(control::error_response("classcamd is shutting down"));
    return;
  }
  switch (r.cmd) {
    case Command::status: status(std::move(reply)); return;
    case Command::enroll: enroll(r, std::move(reply)); return;
    case Command::start:
      controller_->start({protocol::Trigger::local, r.title, std::nullopt, std::nullopt},
                         [reply](Result<protocol::SessionInfo> s) {
                           reply(s ? control::ok_response({{"session", protocol::to_json(*s)}})
                                   : control::error_response(s.error().message));
                         });
      return;
    case Command::stop:
      controller_->stop("stopped with classcamctl", [reply](Result<protocol::SessionInfo> s) {
        reply(s ? control::ok_response({{"session", protocol::to_json(*s)}})
                : control::error_response(s.error().message));
      });
      return;
    case Command::bookmark:
      controller_->bookmark(r.label.value_or(""), protocol::Trigger::local, [reply](Result<protocol::Bookmark> b) {
        reply(b ? control::ok_response({{"bookmark", protocol::to_json(*b)}})
                : control::error_response(b.error().message));
      });
      return;
    case Command::snapshot:
      controller_->snapshot([reply](Result<std::string> jpeg) {
        reply(jpeg ? control::ok_response({{"bytes", jpeg->size()}, {"jpeg_base64", util::base64_encode(*jpeg)}})
                   : control::error_response(jpeg.error().message));
      });
      return;
    case Command::live_start:
      live_->start({std::nullopt, r.max_s.value_or(3600), "started with classcamctl"}, [reply](Result<std::string> id) {
        reply(id ? control::ok_response({{"live_id", *id}}) : control::error_response(id.error().message));
      });
      return;
    case Command::live_stop:
      live_->stop(std::nullopt, [reply](Status st) {
        reply(st ? control::ok_response() : control::error_response(st.error().message));
      });
      return;
    case Command::live_mute:
    case Command::live_unmute: {
      const auto st = set_talkback_muted(r.cmd == Command::live_mute, "classcamctl");
      reply(st ? control::ok_response({{"talkback_muted", live_->talkback_muted()}})
               : control::error_response(st.error().message));
      return;
    }
  }
}

void Daemon::enroll(const control::Request& r, control::Server::Reply reply) {
  if (enrolling_) {
    reply(control::error_response("an enrolment is already under way"));
    return;
  }
  enrolling_ = true;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  logger()->info("enrolling with {}", *r.hub);
  // Blocking HTTPS and fsyncs on the worker pool; the new link starts back on the loop.
  boost::asio::post(
      pool_, [this, hub = *r.hub, code = *r.code, hostname = std::string(host), reply = std::move(reply)]() mutable {
        auto e = enroll::enroll_with_hub(hub, code, hostname, config_.unit.state_dir);
        Status saved = ok_status();
        if (e) saved = enroll::save_enrollment(config_.unit.state_dir, *e);
        boost::asio::post(io_, [this, e = std::move(e), saved, reply = std::move(reply)]() mutable {
          enrolling_ = false;
          if (!e || !saved) {
            const auto why = !e ? e.error().message : "cannot store the enrolment: " + saved.error().message;
            logger()->error("enrolment failed: {}", why);
            reply(control::error_response(why));
            return;
          }
          // A re-enrolment (after a revoke) replaces the old link and uploader.
          if (uploader_) uploader_->stop();
          if (agent_) agent_->stop();
          uploader_.reset();
          agent_.reset();
          enrollment_.reset();
          unit_id_ = e->unit_id;
          controller_->set_unit_id(unit_id_);
          schedule_->set_unit_id(unit_id_);
          logger()->info("enrolled as {} (\"{}\")", e->unit_id, e->unit_name);
          start_link();
          reply(control::ok_response({{"unit_id", e->unit_id}, {"unit_name", e->unit_name}, {"hub_url", e->hub_url}}));
        });
      });
}

Json Daemon::schedule_status() const {
  const auto& s = schedule_->schedule();
  if (!s) return {{"revision", nullptr}};
  Json j = {{"revision", s->revision}, {"timezone", s->timezone}, {"observations", s->observations.size()}};
  auto brief = [](const protocol::Observation& o) {
    return Json{
        {"id", o.id}, {"title", o.title}, {"start", util::to_rfc3339(o.start)}, {"end", util::to_rfc3339(o.end)}};
  };
  if (const auto a = schedule_->active()) j["active"] = brief(*a);
  if (const auto n = schedule_->next()) j["next"] = brief(*n);
  return j;
}

void Daemon::status(control::Server::Reply reply) {
  Json j;
  const auto s = controller_->unit_state();
  j["unit"] = {{"id", unit_id_}, {"name", config_.unit.name}};
  j["state"] = protocol::to_json(s);
  j["led"] = session::recording_led_on(s, controller_->taking_snapshot());
  j["version"] = kVersion;
  if (const auto p = controller_->progress()) {
    j["session"] = protocol::to_json(p->info);
    j["progress"] = {
        {"segments", p->segments_closed}, {"bookmarks", p->bookmarks}, {"recorded_ms", p->recorded_ns / 1'000'000}};
  }
  j["schedule"] = schedule_status();
  if (enrollment_) {
    j["enrolment"] = {{"enrolled", true}, {"hub_url", enrollment_->hub_url}, {"unit_id", unit_id_}};
  } else {
    j["enrolment"] = {{"enrolled", false}};
  }
  j["link"] = agent_ ? agent_->status() : Json{{"connected", false}, {"state", "not enrolled"}};
  j["upload"] = uploader_ ? uploader_->status_json()
                          : Json{{"state", enrollment_ ? "disabled (upload.enabled = false)" : "not enrolled"}};
  const auto& sel = controller_->selection();
  if (sel) {
    Json c = {{"audio", capture::to_string(sel->audio)}, {"audio_reason", sel->audio_reason}};
    if (sel->video) {
      c["video"] = capture::to_string(*sel->video);
      c["video_reason"] = sel->video_reason;
      c["encoder"] = capture::to_string(*sel->encoder);
      c["encoder_reason"] = sel->encoder_reason;
      c["resolution"] = fmt::format("{}x{}@{}", config_.video.width, config_.video.height, config_.video.framerate);
    } else {
      c["video"] = "none";
      c["video_reason"] = sel->video_reason;
    }
    j["capture"] = c;
  } else {
    j["capture"] = {{"error", sel.error().message}};
  }
  spool_->run([](spool::Spool& sp) { return sp.usage(); },
              [j = std::move(j), reply = std::move(reply), dir = config_.spool.dir.string()](spool::Usage u) mutable {
                j["spool"] = {{"dir", dir},
                              {"used_bytes", u.used_bytes},
                              {"limit_bytes", u.limit_bytes},
                              {"fs_avail_bytes", u.fs_avail_bytes},
                              {"backlog_segments", u.backlog_segments},
                              {"backlog_bytes", u.backlog_bytes},
                              {"set_aside_segments", u.set_aside_segments},
                              {"sessions", u.sessions}};
                reply(control::ok_response(std::move(j)));
              });
}

}  // namespace classcam::daemon
