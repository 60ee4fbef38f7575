#include "firmware/link/mqtt_link.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "common/log/log.hpp"
#include "common/protocol/topics.hpp"

namespace classcam::link {

namespace {

log::Logger logger() { return log::get("link"); }

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

MqttLink::MqttLink(boost::asio::io_context& io, MqttSettings settings, Handlers handlers)
    : io_(io), settings_(std::move(settings)), handlers_(std::move(handlers)) {
  init_library();
  mosq_ = mosquitto_new(settings_.unit_id.c_str(), /*clean_session=*/false, this);
  if (!mosq_) throw std::runtime_error("mosquitto_new failed");
  mosquitto_connect_callback_set(mosq_, &MqttLink::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttLink::on_disconnect);
  mosquitto_message_callback_set(mosq_, &MqttLink::on_message);
  mosquitto_username_pw_set(mosq_, settings_.username.c_str(), settings_.password.c_str());
  if (const int rc = mosquitto_tls_set(mosq_, settings_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
      rc != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("MQTT TLS setup with CA " + settings_.ca_file.string() + ": " + mosquitto_strerror(rc));
  }
  mosquitto_tls_opts_set(mosq_, 1 /* SSL_VERIFY_PEER */, "tlsv1.2", nullptr);
  protocol::UnitState offline;
  offline.unit_id = settings_.unit_id;
  offline.state = protocol::RecorderState::offline;
  offline.since = util::now_utc();
  const auto will = protocol::encode(offline);
  const auto topic = protocol::topic(settings_.unit_id, protocol::Channel::state);
  mosquitto_will_set(mosq_, topic.c_str(), static_cast<int>(will.size()), will.data(), 1, true);
}

MqttLink::~MqttLink() {
  stop();
  *alive_ = false;
  mosquitto_destroy(mosq_);
}

void MqttLink::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void MqttLink::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MqttLink::publish(const protocol::UnitState& s) {
  const std::lock_guard lock(mutex_);
  state_ = Message{protocol::topic(settings_.unit_id, protocol::Channel::state), protocol::encode(s), 1, true, false};
  state_dirty_ = true;
}

void MqttLink::publish(const protocol::Telemetry& t) {
  const std::lock_guard lock(mutex_);
  telemetry_ =
      Message{protocol::topic(settings_.unit_id, protocol::Channel::telemetry), protocol::encode(t), 0, true, false};
  telemetry_dirty_ = true;
}

void MqttLink::publish(const protocol::Event& e) {
  enqueue({protocol::topic(settings_.unit_id, protocol::Channel::events), protocol::encode(e), 1, false, true});
}

void MqttLink::publish(const protocol::CommandResult& r) {
  enqueue({protocol::topic(settings_.unit_id, protocol::Channel::results), protocol::encode(r), 1, false, false});
}

void MqttLink::enqueue(Message m) {
  const std::lock_guard lock(mutex_);
  if (outbox_.size() >= kOutboxLimit) {
    auto victim = std::find_if(outbox_.begin(), outbox_.end(), [](const Message& x) { return x.droppable; });
    if (victim == outbox_.end()) victim = outbox_.begin();
    outbox_.erase(victim);
    ++status_.dropped;
  }
  outbox_.push_back(std::move(m));
}

LinkStatus MqttLink::status() const {
  const std::lock_guard lock(mutex_);
  auto s = status_;
  s.connected = connected_;
  s.outbox = outbox_.size();
  return s;
}

void MqttLink::set_error(const std::string& e) {
  const std::lock_guard lock(mutex_);
  status_.last_error = e;
}

void MqttLink::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [&] { return stopping_; });
}

bool MqttLink::connect_once() {
  const int rc = !tried_ ? mosquitto_connect(mosq_, settings_.host.c_str(), settings_.port,
                                             static_cast<int>(settings_.keepalive.count()))
                         : mosquitto_reconnect(mosq_);
  tried_ = true;
  refused_ = false;
  if (rc != MOSQ_ERR_SUCCESS) {
    const std::string why = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
    set_error(fmt::format("cannot connect to {}:{}: {}", settings_.host, settings_.port, why));
    return false;
  }
  return true;
}

void MqttLink::run() {
  std::mt19937_64 rng{std::random_device{}()};
  int attempt = 0;
  std::string logged_error;
  auto backoff = [&] {
    const auto base = std::min<std::int64_t>(settings_.reconnect_max.count(), settings_.reconnect_min.count()
                                                                                  << std::min(attempt, 20));
    ++attempt;
    // Jitter in [base/2, base]: units that lost the broker together do not come back together.
    std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
    const auto err = status().last_error;
    if (err != logged_error) {
      logger()->warn("MQTT: {}; retrying with backoff", err);
      logged_error = err;
    }
    wait_backoff(std::chrono::milliseconds(jitter(rng)));
  };
  auto stopping = [&] {
    const std::lock_guard lock(mutex_);
    return stopping_;
  };

  while (!stopping()) {
    if (!connect_once()) {
      backoff();
      continue;
    }
    bool session_up = false;  // on_disconnect clears connected_ first, so remember it here
    while (!stopping()) {
      const int rc = mosquitto_loop(mosq_, 100, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        const std::string why = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
        // A refused CONNACK already said why; the closed socket that follows says less.
        if (!refused_) set_error("connection lost: " + why);
        break;
      }
      bool up = false;
      {
        const std::lock_guard lock(mutex_);
        up = connected_;
      }
      if (up) {
        session_up = true;
        attempt = 0;
        logged_error.clear();
        flush();
      }
    }
    if (stopping()) break;  // still connected: the goodbye below needs the connection
    {
      const std::lock_guard lock(mutex_);
      connected_ = false;
    }
    if (session_up) {
      boost::asio::post(io_, [h = handlers_.connection, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock() && h) h(false);
      });
    }
    if (!stopping()) backoff();
  }

  // A clean disconnect sends no last will: say "offline" ourselves, then leave.
  bool up = false;
  {
    const std::lock_guard lock(mutex_);
    up = connected_;
  }
  if (up) {
    protocol::UnitState offline;
    offline.unit_id = settings_.unit_id;
    offline.state = protocol::RecorderState::offline;
    offline.since = util::now_utc();
    flush();
    const auto payload = protocol::encode(offline);
    const auto topic = protocol::topic(settings_.unit_id, protocol::Channel::state);
    mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true);
    for (int i = 0; i < 10 && mosquitto_want_write(mosq_); ++i) mosquitto_loop(mosq_, 50, 1);
    mosquitto_loop(mosq_, 50, 1);  // the PUBACK, usually
    mosquitto_disconnect(mosq_);
    mosquitto_loop(mosq_, 50, 1);
  }
}

void MqttLink::flush() {
  std::vector<Message> batch;
  {
    const std::lock_guard lock(mutex_);
    if (state_dirty_ && state_) batch.push_back(*state_);
    if (telemetry_dirty_ && telemetry_) batch.push_back(*telemetry_);
    state_dirty_ = telemetry_dirty_ = false;
    while (!outbox_.empty()) {
      batch.push_back(std::move(outbox_.front()));
      outbox_.pop_front();
    }
  }
  // Handed to libmosquitto while connected: with clean session off it resends unacknowledged QoS 1
  // messages itself after a reconnect.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    const int rc = mosquitto_publish(mosq_, nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                                     m.payload.data(), m.qos, m.retain);
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) {
      const std::lock_guard lock(mutex_);
      for (std::size_t j = batch.size(); j-- > i;) {
        if (batch[j].topic == (state_ ? state_->topic : "")) {
          state_dirty_ = true;
        } else if (telemetry_ && batch[j].topic == telemetry_->topic) {
          telemetry_dirty_ = true;
        } else {
          outbox_.push_front(std::move(batch[j]));
        }
      }
      return;
    }
    if (rc != MOSQ_ERR_SUCCESS) logger()->warn("MQTT publish to {} failed: {}", m.topic, mosquitto_strerror(rc));
  }
}

void MqttLink::on_connect(mosquitto* m, void* self_ptr, int rc) {
  auto* self = static_cast<MqttLink*>(self_ptr);
  if (rc != 0) {
    self->set_error(std::string("broker refused the connection: ") + mosquitto_connack_string(rc));
    self->refused_ = true;
    return;
  }
  const auto commands = protocol::topic(self->settings_.unit_id, protocol::Channel::commands);
  const auto schedule = protocol::topic(self->settings_.unit_id, protocol::Channel::schedule);
  // Subscribed on every connect, so the subscriptions come back after a reconnect.
  mosquitto_subscribe(m, nullptr, commands.c_str(), 1);
  mosquitto_subscribe(m, nullptr, schedule.c_str(), 1);
  const auto live = protocol::topic(self->settings_.unit_id, protocol::Channel::live);
  mosquitto_subscribe(m, nullptr, live.c_str(), 1);
  {
    const std::lock_guard lock(self->mutex_);
    self->connected_ = true;
    ++self->status_.connects;
    self->status_.last_error.clear();
    // The broker may hold our last will ("offline") as the retained state: say where we are again.
    self->state_dirty_ = self->state_.has_value();
    self->telemetry_dirty_ = self->telemetry_.has_value();
  }
  logger()->info("MQTT connected to {}:{} as {}", self->settings_.host, self->settings_.port, self->settings_.unit_id);
  boost::asio::post(self->io_, [h = self->handlers_.connection, alive = std::weak_ptr<bool>(self->alive_)] {
    if (alive.lock() && h) h(true);
  });
}

void MqttLink::on_disconnect(mosquitto* /*m*/, void* self_ptr, int rc) {
  auto* self = static_cast<MqttLink*>(self_ptr);
  if (rc != 0) self->set_error(std::string("connection lost: ") + mosquitto_strerror(rc));
  const std::lock_guard lock(self->mutex_);
  self->connected_ = false;
}

void MqttLink::on_message(mosquitto* /*m*/, void* self_ptr, const mosquitto_message* msg) {
  auto* self = static_cast<MqttLink*>(self_ptr);
  const auto parsed = protocol::parse_topic(msg->topic ? msg->topic : "");
  if (!parsed || parsed->unit_id != self->settings_.unit_id) return;
  std::string payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(std::max(0, msg->payloadlen)));
  auto alive = std::weak_ptr<bool>(self->alive_);
  if (parsed->channel == protocol::Channel::commands) {
    auto c = protocol::decode<protocol::Command>(payload);
    if (c) {
      boost::asio::post(self->io_, [h = self->handlers_.command, c = std::move(*c), alive] {
        if (alive.lock() && h) h(c);
      });
    } else {
      boost::asio::post(self->io_, [h = self->handlers_.bad_command, payload, e = c.error(), alive] {
        if (alive.lock() && h) h(payload, e);
      });
    }
  } else if (parsed->channel == protocol::Channel::schedule) {
    if (payload.empty()) return;  // a cleared retained message
    auto s = protocol::decode<protocol::Schedule>(payload);
    if (!s) {
      logger()->warn("MQTT: schedule refused: {}", s.error().message);
      return;
    }
    boost::asio::post(self->io_, [h = self->handlers_.schedule, s = std::move(*s), alive] {
      if (alive.lock() && h) h(s);
    });
  } else if (parsed->channel == protocol::Channel::live) {
    // A cleared retained message: no live runs (nobody watches).
    protocol::LiveStatus none;
    none.unit_id = self->settings_.unit_id;
    auto s = payload.empty() ? Result<protocol::LiveStatus>(none) : protocol::decode<protocol::LiveStatus>(payload);
    if (!s) {
      logger()->warn("MQTT: live status refused: {}", s.error().message);
      return;
    }
    boost::asio::post(self->io_, [h = self->handlers_.live, s = std::move(*s), alive] {
      if (alive.lock() && h) h(s);
    });
  }
}

}  // namespace classcam::link
