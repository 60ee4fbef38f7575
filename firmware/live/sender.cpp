#include "firmware/live/sender.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "common/log/log.hpp"
#include "firmware/capture/gst.hpp"

namespace classcam::live {

namespace {
log::Logger logger() { return log::get("live"); }

constexpr const char* kWebrtcElement = "live_webrtc";

// The last path segment of an ingest's Location, which is its live_id.
std::string id_from_location(const std::string& location) {
  const auto slash = location.find_last_of('/');
  return slash == std::string::npos ? location : location.substr(slash + 1);
}

std::string short_body(const std::string& body) { return body.size() > 300 ? body.substr(0, 300) + "..." : body; }

// The request path of the ingest's Location (absolute or not) on the hub's base path.
std::string ingest_path(const net::Url& hub, const std::string& location) {
  std::string path = location;
  if (const auto scheme = path.find("://"); scheme != std::string::npos) path = path.substr(path.find('/', scheme + 3));
  if (!hub.base_path.empty() && path.rfind(hub.base_path, 0) == 0) path = path.substr(hub.base_path.size());
  return path;
}
}  // namespace

Sender::Sender(boost::asio::io_context& io, GstElement* pipeline, SenderOptions options, Events events)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      branch_(std::make_unique<Branch>(io, pipeline, options_.branch)),
      timer_(io),
      live_id_(options_.live_id) {}

Sender::~Sender() {
  alive_.reset();
  timer_.cancel();
  peer_.reset();  // no Peer callback runs after this
  if (branch_->running()) branch_->stop();
  worker_.join();
}

Status Sender::start() {
  if (phase_ != Phase::idle) return ok_status();
  if (auto st = branch_->build(); !st) return st;
  playout_ = std::make_shared<Playout>(parse_talkback(options_.talkback), options_.talkback_muted);
  webrtc::PeerOptions po;
  po.on_pad_added = [playout = playout_](GstElement* webrtc, GstPad* pad) { playout->link(webrtc, pad); };
  po.ice_addresses = options_.ice_addresses;
  po.stun_server = options_.stun_server;
  po.gather_timeout = options_.setup_timeout;
  po.on_state = [this](GstWebRTCPeerConnectionState state) {
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && (phase_ == Phase::posting || phase_ == Phase::connected)) {
      fail("the live connection to the hub failed (ICE or DTLS)");
    }
  };
  auto peer = webrtc::Peer::create(io_, branch_->bin(), "live_webrtc", std::move(po));
  if (!peer) return peer.error();
  peer_ = std::move(*peer);
  GstElement* webrtc = peer_->element();

  const auto link = [&](GstPad* rtp, GstWebRTCRTPTransceiverDirection direction, bool nack) -> Status {
    if (!webrtc::link_sending(webrtc, rtp, direction, nack)) return Error{"cannot link the live branch"};
    return ok_status();
  };
  if (branch_->has_video()) {
    if (auto st = link(branch_->video_rtp(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, true); !st) return st;
  }
  const bool talkback = playout_->enabled();
  if (branch_->has_audio()) {
    const auto direction =
        talkback ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    if (auto st = link(branch_->audio_rtp(), direction, false); !st) return st;
  } else if (talkback) {
    // No microphone: audio only comes in (talkback).
    capture::CapsPtr caps(
        gst_caps_from_string(fmt::format("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={}",
                                         options_.branch.audio_pt)
                                 .c_str()));
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &trans);
    if (trans != nullptr) gst_object_unref(trans);
  }

  if (auto st = branch_->start(); !st) return st;
  phase_ = Phase::offering;
  timer_.expires_after(options_.setup_timeout);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    if (phase_ == Phase::offering || phase_ == Phase::posting) {
      fail("live setup timed out (" + branch_->describe() + ")");
    }
  });
  wait_for_caps(static_cast<int>(options_.setup_timeout.count() / 20));
  return ok_status();
}

void Sender::wait_for_caps(int tries_left) {
  if (phase_ != Phase::offering) return;
  // Both payloaders have caps once their first buffer went through: the offer then names the
  // stream's real parameters.
  bool ready = true;
  for (GstPad* rtp : {branch_->video_rtp(), branch_->audio_rtp()}) {
    if (rtp == nullptr) continue;
    capture::CapsPtr caps(gst_pad_get_current_caps(rtp));
    ready = ready && caps != nullptr;
  }
  if (ready) {
    logger()->info("live: media flows, making the offer");
    peer_->offer([this](Result<std::string> offer) {
      if (phase_ != Phase::offering) return;
      if (!offer) {
        fail(offer.error().message);
        return;
      }
      offer_sdp_ = std::move(*offer);
      post_offer();
    });
    return;
  }
  if (tries_left == 0) {
    fail("no media reached the live branch (" + branch_->describe() + ")");
    return;
  }
  auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(20));
  t->async_wait([this, t, tries_left, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    wait_for_caps(tries_left - 1);
  });
}

void Sender::post_offer() {
  phase_ = Phase::posting;
  net::Headers headers = {{"Authorization", "Bearer " + options_.token}, {"Content-Type", "application/sdp"}};
  if (!live_id_.empty()) headers.emplace_back("Classcam-Live-Id", live_id_);
  logger()->info("live: offering to {} ({} bytes of SDP)", options_.hub.host, offer_sdp_.size());
  boost::asio::post(worker_, [this, headers, body = offer_sdp_, hub = options_.hub,
                              tls = net::TlsOptions{options_.ca_file, true}, alive = std::weak_ptr<bool>(alive_)] {
    // Worker thread: the blocking POST, then its result to the loop.
    net::HttpsClient client(hub, tls, std::chrono::seconds(10));
    auto r = client.request("POST", "/api/v1/unit/live", headers, body);
    boost::asio::post(io_, [this, alive, r = std::move(r)]() mutable {
      if (alive.expired()) return;
      on_answer(std::move(r));
    });
  });
}

void Sender::on_answer(Result<net::Response> r) {
  if (phase_ != Phase::posting) return;
  if (!r) {
    fail("the hub cannot be reached for live: " + r.error().message);
    return;
  }
  if (r->status != 201) {
    fail(fmt::format("the hub refused live ({}): {}", r->status, short_body(r->body)));
    return;
  }
  location_ = r->header("Location");
  if (!location_.empty()) live_id_ = id_from_location(location_);
  peer_->accept_answer(r->body, [this](Status st) {
    if (phase_ != Phase::posting) return;
    if (!st) {
      fail("the hub's answer does not apply: " + st.error().message);
      return;
    }
    phase_ = Phase::connected;
    timer_.cancel();
    logger()->info("live: the hub answered, ingest {}", live_id_);
    if (events_.connected) events_.connected(live_id_);
  });
}

void Sender::fail(const std::string& why) {
  if (phase_ == Phase::failed || phase_ == Phase::stopping || phase_ == Phase::stopped) return;
  logger()->warn("live: {}", why);
  phase_ = Phase::failed;
  timer_.cancel();
  branch_->stop();
  if (events_.failed) events_.failed(why);
}

void Sender::set_talkback_muted(bool muted, bool tell_hub) {
  if (playout_) playout_->set_muted(muted);
  if (!tell_hub || location_.empty()) return;
  boost::asio::post(worker_, [hub = options_.hub, tls = net::TlsOptions{options_.ca_file, true},
                              path = ingest_path(options_.hub, location_) + "/mute", token = options_.token, muted] {
    // Worker thread: best effort; the unit's valve is closed already, whatever the hub says.
    net::HttpsClient client(hub, tls, std::chrono::seconds(5));
    auto r = client.request("POST", path, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                            muted ? R"({"muted":true})" : R"({"muted":false})");
    if (!r) {
      logger()->warn("live: telling the hub talkback is {} failed: {}", muted ? "muted" : "unmuted", r.error().message);
    } else if (r->status != 204) {
      logger()->warn("live: the hub answered {} to talkback {}: {}", r->status, muted ? "muted" : "unmuted",
                     short_body(r->body));
    }
  });
}

void Sender::stop(std::function<void()> done) {
  if (phase_ == Phase::stopping || phase_ == Phase::stopped) {
    if (done) boost::asio::post(io_, std::move(done));
    return;
  }
  phase_ = Phase::stopping;
  timer_.cancel();
  if (!location_.empty()) {
    const std::string target = location_;
    boost::asio::post(
        worker_, [hub = options_.hub, tls = net::TlsOptions{options_.ca_file, true}, target, token = options_.token] {
          // Worker thread: best effort; the hub also ends an ingest whose media stops.
          net::HttpsClient client(hub, tls, std::chrono::seconds(5));
          const std::string path = ingest_path(hub, target);
          auto r = client.request("DELETE", path, {{"Authorization", "Bearer " + token}});
          if (!r) logger()->warn("live: DELETE {} failed: {}", path, r.error().message);
        });
  }
  branch_->stop([this, done = std::move(done), alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) phase_ = Phase::stopped;
    if (done) done();
  });
}

}  // namespace classcam::live
