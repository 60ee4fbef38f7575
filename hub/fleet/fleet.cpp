#include "hub/fleet/fleet.hpp"

#include <boost/asio/post.hpp>

#include "common/protocol/topics.hpp"
#include "hub/broker/files.hpp"
#include "hub/schedule/builder.hpp"

namespace classcam::hub::fleet {

namespace net = boost::asio;
using protocol::Channel;

Fleet::Fleet(net::io_context& io, store::Store& store, FleetOptions options)
    : store_(store), options_(std::move(options)), strand_(net::make_strand(io)), timer_(strand_) {
  MqttLink::Options o;
  o.host = options_.host;
  o.port = options_.port;
  o.ca_file = options_.ca_file;
  o.username = broker::kHubUser;
  o.password = options_.hub_password;
  // The broker makes every client's id its login (use_username_as_clientid), so the hub's id is its login.
  o.client_id = broker::kHubUser;
  for (const auto c : {Channel::state, Channel::telemetry, Channel::events, Channel::results}) {
    o.subscriptions.push_back(protocol::wildcard_topic(c));
  }
  link_ = std::make_unique<MqttLink>(
      strand_, std::move(o), [this](const std::string& t, const std::string& p) { handle_message(t, p); },
      [this] { on_connected(); });
}

Fleet::~Fleet() { stop(); }

void Fleet::start() {
  link_->start();
  net::post(strand_, [this] { check_revision(); });
}

void Fleet::stop() {
  stopped_ = true;
  link_->stop();
}

bool Fleet::send_command(const std::string& unit_id, const protocol::Command& c) {
  return link_->publish(protocol::topic(unit_id, Channel::commands), protocol::encode(c), 1, false);
}

bool Fleet::publish_live(const protocol::LiveStatus& status) {
  return link_->publish(protocol::topic(status.unit_id, Channel::live), protocol::encode(status), 1, true);
}

void Fleet::publish_schedule(const std::string& unit_id) {
  const auto unit = store_.unit(unit_id);
  if (!unit) return;
  const auto topic = protocol::topic(unit_id, Channel::schedule);
  if (!unit->enrolled) {
    link_->publish(topic, "", 1, true);  // an empty retained message clears the old schedule
    return;
  }
  auto s = schedule::build_schedule(store_, unit_id, util::now_utc(), options_.horizon_days, options_.timezone);
  s.revision = store_.schedule_revision();
  link_->publish(topic, protocol::encode(s), 1, true);
}

void Fleet::publish_all_schedules() {
  for (const auto& u : store_.units()) {
    if (u.enrolled) publish_schedule(u.id);
  }
  published_at_ = std::chrono::steady_clock::now();
}

void Fleet::on_connected() {
  try {
    published_revision_ = store_.schedule_revision();
    publish_all_schedules();
  } catch (const std::exception& e) {
    log_->error("publishing schedules: {}", e.what());
  }
}

void Fleet::check_revision() {
  if (stopped_) return;
  try {
    const auto rev = store_.schedule_revision();
    const bool daily = std::chrono::steady_clock::now() - published_at_ > std::chrono::hours(24);
    if (link_->connected() && (rev != published_revision_ || daily)) {
      published_revision_ = rev;
      publish_all_schedules();
    }
  } catch (const std::exception& e) {
    log_->error("publishing schedules: {}", e.what());
  }
  timer_.expires_after(options_.revision_check);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped_) check_revision();
  });
}

void Fleet::handle_message(const std::string& topic, const std::string& payload) {
  const auto parsed = protocol::parse_topic(topic);
  if (!parsed || payload.empty()) return;  // an empty payload is a retained message being cleared
  const auto& unit_id = parsed->unit_id;
  try {
    const auto unit = store_.unit(unit_id);
    if (!unit) {
      log_->warn("message on {} from a unit this hub does not know; dropped", topic);
      return;
    }
    const auto now = util::now_utc();
    switch (parsed->channel) {
      case Channel::state: {
        const auto s = protocol::decode<protocol::UnitState>(payload);
        if (!s || s->unit_id != unit_id) break;
        const bool online = s->state != protocol::RecorderState::offline;
        std::optional<std::string> error;
        if (s->state == protocol::RecorderState::error && s->reason) error = *s->reason;
        store_.set_unit_fleet_state(unit_id, now, online, std::string(protocol::to_string(s->state)), std::nullopt,
                                    error);
        return;
      }
      case Channel::telemetry: {
        const auto t = protocol::decode<protocol::Telemetry>(payload);
        if (!t || t->unit_id != unit_id) break;
        store_.set_unit_fleet_state(unit_id, now, std::nullopt, std::nullopt, protocol::dump(protocol::to_json(*t)),
                                    t->last_error);
        return;
      }
      case Channel::events: {
        const auto e = protocol::decode<protocol::Event>(payload);
        if (!e || e->unit_id != unit_id) break;
        std::optional<std::string> error;
        if (e->type == protocol::EventType::error && e->message) error = *e->message;
        store_.set_unit_fleet_state(unit_id, now, std::nullopt, std::nullopt, std::nullopt, error);
        if (e->session && e->session->unit_id == unit_id && options_.on_session)
          options_.on_session(*unit, *e->session);
        if (e->type == protocol::EventType::bookmark && e->bookmark) {
          const auto rec = store_.recording_by_session(unit_id, e->bookmark->session_id);
          if (rec && !store_.bookmark(e->bookmark->id)) {
            store::Bookmark b;
            b.id = e->bookmark->id;
            b.recording_id = rec->id;
            b.offset_ms = e->bookmark->offset_ms;
            b.label = e->bookmark->label;
            b.source = std::string(protocol::to_string(e->bookmark->source));
            b.created_at = e->bookmark->at;
            store_.add_bookmark(b);
          }
        }
        return;
      }
      case Channel::results: {
        const auto r = protocol::decode<protocol::CommandResult>(payload);
        if (!r || r->unit_id != unit_id) break;
        const auto state = store::command_state_from_string(protocol::to_string(r->status));
        store_.set_command_result(unit_id, r->command_id, state.value_or(store::CommandState::failed), r->detail, r->at,
                                  r->session_id);
        store_.set_unit_fleet_state(unit_id, now, std::nullopt, std::nullopt, std::nullopt, std::nullopt);
        return;
      }
      case Channel::commands:
      case Channel::schedule:
      case Channel::live: return;  // our own messages
    }
    log_->warn("dropped a message on {}: not a valid {} message from this unit: {}", topic,
               protocol::to_string(parsed->channel), payload.substr(0, 200));
  } catch (const std::exception& e) {
    log_->error("handling a message on {}: {}", topic, e.what());
  }
}

}  // namespace classcam::hub::fleet
