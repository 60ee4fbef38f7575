#include "firmware/live/sender.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <nice/agent.h>
#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

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
}  // namespace

// What webrtcbin's callbacks reach: the loop and a liveness token, never the Sender's state directly.
struct Sender::Context {
  boost::asio::io_context& io;
  std::weak_ptr<bool> alive;
  Sender* sender;
  template <typename F>
  void post(F f) {
    boost::asio::post(io, [alive_token = alive, f = std::move(f)]() mutable {
      if (alive_token.expired()) return;
      f();
    });
  }
};

Status restrict_ice_addresses(GstElement* webrtcbin, const std::vector<std::string>& addresses) {
  if (addresses.empty()) return ok_status();
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  if (ice == nullptr) return Error{"webrtcbin has no ICE agent"};
  NiceAgent* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != nullptr) {
    g_object_get(ice, "agent", &agent, nullptr);
  }
  gst_object_unref(ice);
  if (agent == nullptr) return Error{"webrtcbin's ICE agent is not libnice"};
  Status st = ok_status();
  for (const auto& a : addresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, a.c_str()) || !nice_agent_add_local_address(agent, &addr)) {
      st = Error{"ICE cannot use the local address " + a};
      break;
    }
  }
  g_object_unref(agent);
  return st;
}

std::string local_description_text(GstElement* webrtcbin) {
  GstWebRTCSessionDescription* desc = nullptr;
  g_object_get(webrtcbin, "local-description", &desc, nullptr);
  if (desc == nullptr) return {};
  gchar* text = gst_sdp_message_as_text(desc->sdp);
  std::string out = text != nullptr ? text : "";
  g_free(text);
  gst_webrtc_session_description_free(desc);
  return out;
}

Sender::Sender(boost::asio::io_context& io, GstElement* pipeline, SenderOptions options, Events events)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      ctx_(std::make_shared<Context>(Context{io, alive_, this})),
      branch_(std::make_unique<Branch>(io, pipeline, options_.branch)),
      timer_(io),
      live_id_(options_.live_id) {}

Sender::~Sender() {
  alive_.reset();
  timer_.cancel();
  if (webrtc_ != nullptr) g_signal_handlers_disconnect_by_data(webrtc_, ctx_.get());
  // The branch's clean-up is posted; the context stays alive until it ran, so a webrtcbin signal
  // already under way still finds it.
  if (branch_->running()) branch_->stop([ctx = ctx_] {});
  worker_.join();
}

Status Sender::start() {
  if (phase_ != Phase::idle) return ok_status();
  if (auto st = branch_->build(); !st) return st;
  GstElement* webrtc = gst_element_factory_make("webrtcbin", kWebrtcElement);
  if (webrtc == nullptr) return Error{"webrtcbin is not installed (gstreamer1.0-plugins-bad, gstreamer1.0-nice)"};
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  if (!options_.stun_server.empty()) g_object_set(webrtc, "stun-server", options_.stun_server.c_str(), nullptr);
  gst_bin_add(branch_->bin(), webrtc);
  webrtc_ = webrtc;
  if (auto st = restrict_ice_addresses(webrtc, options_.ice_addresses); !st) return st;

  const auto link = [&](GstPad* rtp, GstWebRTCRTPTransceiverDirection direction, bool nack) -> Status {
    capture::PadPtr sink(gst_element_request_pad_simple(webrtc, "sink_%u"));
    if (!sink || gst_pad_link(rtp, sink.get()) != GST_PAD_LINK_OK) return Error{"cannot link the live branch"};
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink.get(), "transceiver", &trans, nullptr);
    if (trans == nullptr) return Error{"webrtcbin made no transceiver"};
    // NACK/RTX on video only: Chromium rejects an SDP with NACK on audio.
    g_object_set(trans, "direction", direction, "do-nack", nack ? TRUE : FALSE, nullptr);
    gst_object_unref(trans);
    return ok_status();
  };
  if (branch_->has_video()) {
    if (auto st = link(branch_->video_rtp(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, true); !st) return st;
  }
  if (branch_->has_audio()) {
    if (auto st = link(branch_->audio_rtp(), GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, false); !st) return st;
  } else {
    // No microphone: audio only comes in (talkback).
    capture::CapsPtr caps(gst_caps_from_string(
        fmt::format("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={}",
                    options_.branch.audio_pt)
            .c_str()));
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(),
                          &trans);
    if (trans != nullptr) gst_object_unref(trans);
  }

  // Incoming audio (talkback): linked at once, on webrtcbin's thread (see the top of sender.hpp).
  g_signal_connect(webrtc, "pad-added", G_CALLBACK(+[](GstElement* element, GstPad* pad, gpointer) {
                     if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
                     GstElement* sink = gst_element_factory_make("fakesink", nullptr);
                     g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
                     GstObject* parent = gst_object_get_parent(GST_OBJECT(element));
                     gst_bin_add(GST_BIN(parent), sink);
                     gst_object_unref(parent);
                     gst_element_sync_state_with_parent(sink);
                     capture::PadPtr sinkpad(gst_element_get_static_pad(sink, "sink"));
                     gst_pad_link(pad, sinkpad.get());
                   }),
                   nullptr);
  g_signal_connect(webrtc, "notify::ice-gathering-state", G_CALLBACK(+[](GstElement*, GParamSpec*, gpointer data) {
                     auto* ctx = static_cast<Context*>(data);
                     ctx->post([s = ctx->sender] { s->on_gathering_changed(); });
                   }),
                   ctx_.get());
  g_signal_connect(webrtc, "notify::connection-state", G_CALLBACK(+[](GstElement*, GParamSpec*, gpointer data) {
                     auto* ctx = static_cast<Context*>(data);
                     ctx->post([s = ctx->sender] { s->on_connection_state(); });
                   }),
                   ctx_.get());

  if (auto st = branch_->start(); !st) return st;
  phase_ = Phase::offering;
  timer_.expires_after(options_.setup_timeout);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    if (phase_ == Phase::offering || phase_ == Phase::posting) fail("live setup timed out");
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
    create_offer();
    return;
  }
  if (tries_left == 0) {
    std::string detail;
    for (auto [name, rtp] : {std::pair{"video", branch_->video_rtp()}, std::pair{"audio", branch_->audio_rtp()}}) {
      if (rtp == nullptr) continue;
      capture::CapsPtr caps(gst_pad_get_current_caps(rtp));
      detail += fmt::format("{}{}: {}", detail.empty() ? "" : ", ", name, caps ? "flowing" : "nothing");
    }
    fail("no media reached the live branch (" + detail + ")");
    return;
  }
  auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(20));
  t->async_wait([this, t, tries_left, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    wait_for_caps(tries_left - 1);
  });
}

void Sender::create_offer() {
  auto* hold = new std::shared_ptr<Context>(ctx_);
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* ctx = static_cast<std::shared_ptr<Context>*>(data)->get();
        // webrtcbin's thread: take a ref on the promise and post.
        auto ref = std::shared_ptr<GstPromise>(gst_promise_ref(p), gst_promise_unref);
        ctx->post([s = ctx->sender, ref] { s->on_offer(ref.get()); });
      },
      hold, [](gpointer data) { delete static_cast<std::shared_ptr<Context>*>(data); });
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void Sender::on_offer(GstPromise* promise) {
  if (phase_ != Phase::offering) return;
  const GstStructure* reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription* offer = nullptr;
  if (reply == nullptr || !gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr) ||
      offer == nullptr) {
    GError* err = nullptr;
    if (reply != nullptr) gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    const std::string why = err != nullptr ? err->message : "no offer";
    if (err != nullptr) g_error_free(err);
    fail("webrtcbin made no offer: " + why);
    return;
  }
  g_signal_emit_by_name(webrtc_, "set-local-description", offer, nullptr);
  gst_webrtc_session_description_free(offer);
  on_gathering_changed();
}

void Sender::on_gathering_changed() {
  if (phase_ != Phase::offering || webrtc_ == nullptr) return;
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  offer_sdp_ = local_description_text(webrtc_);
  if (offer_sdp_.empty()) return;  // gathering completed before the local description was set
  post_offer();
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
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(r->body.c_str(), &sdp) != GST_SDP_OK || sdp == nullptr) {
    fail("the hub's answer is not SDP");
    return;
  }
  location_ = r->header("Location");
  if (!location_.empty()) live_id_ = id_from_location(location_);
  GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc_, "set-remote-description", answer, promise);
  // set-remote-description on a description webrtcbin parsed already is quick; waiting on it here
  // keeps the outcome in order with the rest of the loop's work.
  gst_promise_wait(promise);
  const GstStructure* reply = gst_promise_get_reply(promise);
  GError* err = nullptr;
  if (reply != nullptr) gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
  if (err != nullptr) {
    const std::string why = err->message;
    g_error_free(err);
    fail("webrtcbin does not take the hub's answer: " + why);
    return;
  }
  phase_ = Phase::connected;
  timer_.cancel();
  logger()->info("live: the hub answered, ingest {}", live_id_);
  if (events_.connected) events_.connected(live_id_);
}

void Sender::on_connection_state() {
  if (webrtc_ == nullptr || (phase_ != Phase::connected && phase_ != Phase::posting)) return;
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc_, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) fail("the live connection to the hub failed (ICE or DTLS)");
}

void Sender::fail(const std::string& why) {
  if (phase_ == Phase::failed || phase_ == Phase::stopping || phase_ == Phase::stopped) return;
  logger()->warn("live: {}", why);
  phase_ = Phase::failed;
  timer_.cancel();
  branch_->stop();
  if (events_.failed) events_.failed(why);
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
    boost::asio::post(worker_, [hub = options_.hub, tls = net::TlsOptions{options_.ca_file, true}, target,
                                token = options_.token] {
      // Worker thread: best effort; the hub also ends an ingest whose media stops.
      net::HttpsClient client(hub, tls, std::chrono::seconds(5));
      std::string path = target;
      if (const auto scheme = path.find("://"); scheme != std::string::npos) {
        path = path.substr(path.find('/', scheme + 3));
      }
      if (!hub.base_path.empty() && path.rfind(hub.base_path, 0) == 0) path = path.substr(hub.base_path.size());
      auto r = client.request("DELETE", path, {{"Authorization", "Bearer " + token}});
      if (!r) logger()->warn("live: DELETE {} failed: {}", path, r.error().message);
    });
  }
  branch_->stop([this, done = std::move(done), ctx = ctx_, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) phase_ = Phase::stopped;
    if (done) done();
  });
}

}  // namespace classcam::live
