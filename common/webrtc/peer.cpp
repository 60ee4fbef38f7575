#include "common/webrtc/peer.hpp"

#include <boost/asio/post.hpp>
#include <gst/sdp/sdp.h>
#include <nice/agent.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace classcam::webrtc {

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

// What webrtcbin's callbacks reach: the loop and the liveness flag, never the Peer directly unless
// `alive` still holds on the io thread.
struct Peer::Shared : std::enable_shared_from_this<Peer::Shared> {
  explicit Shared(boost::asio::any_io_executor e, Peer* p) : io(std::move(e)), peer(p) {}
  boost::asio::any_io_executor io;
  Peer* peer;
  bool alive = true;  // io thread only
  std::function<void(GstElement*, GstPad*)> on_pad_added;
  template <typename F>
  void post(F f) {
    boost::asio::post(io, [self = shared_from_this(), f = std::move(f)]() mutable {
      if (self->alive) f(*self->peer);
    });
  }
};

namespace {

using SharedHold = std::shared_ptr<Peer::Shared>;

void drop_hold(gpointer data, GClosure*) { delete static_cast<SharedHold*>(data); }

// A promise whose reply is posted to the loop as the reply structure's copy (nullptr when none).
template <typename F>
GstPromise* posting_promise(const SharedHold& shared, F on_reply) {
  struct Hold {
    SharedHold shared;
    F f;
  };
  auto* hold = new Hold{shared, std::move(on_reply)};
  return gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        // webrtcbin's thread: copy the reply and post.
        auto* h = static_cast<Hold*>(data);
        const GstStructure* reply = gst_promise_get_reply(p);
        std::shared_ptr<GstStructure> copy(reply != nullptr ? gst_structure_copy(reply) : nullptr, [](GstStructure* s) {
          if (s != nullptr) gst_structure_free(s);
        });
        h->shared->post([f = h->f, copy](Peer& peer) { f(peer, copy.get()); });
      },
      hold, [](gpointer data) { delete static_cast<Hold*>(data); });
}

std::string reply_error(const GstStructure* reply) {
  if (reply == nullptr) return {};
  GError* err = nullptr;
  if (!gst_structure_has_field(reply, "error")) return {};
  gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  std::string out = err != nullptr ? err->message : "unknown error";
  if (err != nullptr) g_error_free(err);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

namespace {

// The libnice agent behind a webrtcbin (a ref the caller unrefs), or an Error.
Result<NiceAgent*> nice_agent_of(GstElement* webrtcbin) {
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  if (ice == nullptr) return Error{"webrtcbin has no ICE agent"};
  NiceAgent* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != nullptr) {
    g_object_get(ice, "agent", &agent, nullptr);
  }
  gst_object_unref(ice);
  if (agent == nullptr) return Error{"webrtcbin's ICE agent is not libnice"};
  return agent;
}

}  // namespace

Status restrict_ice_addresses(GstElement* webrtcbin, const std::vector<std::string>& addresses) {
  if (addresses.empty()) return ok_status();
  auto agent = nice_agent_of(webrtcbin);
  if (!agent) return agent.error();
  Status st = ok_status();
  for (const auto& a : addresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, a.c_str()) || !nice_agent_add_local_address(*agent, &addr)) {
      st = Error{"ICE cannot use the local address " + a};
      break;
    }
  }
  g_object_unref(*agent);
  return st;
}

Status fail_when_silent(GstElement* webrtcbin) {
  auto agent = nice_agent_of(webrtcbin);
  if (!agent) return agent.error();
  g_object_set(*agent, "keepalive-conncheck", TRUE, nullptr);
  g_object_unref(*agent);
  return ok_status();
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

std::string pad_media(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  std::string media;
  if (caps != nullptr && gst_caps_get_size(caps) > 0) {
    const char* m = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
    media = m != nullptr ? m : "";
  }
  if (caps != nullptr) gst_caps_unref(caps);
  return media;
}

bool link_beside(GstElement* webrtcbin, GstPad* pad, GstElement* element) {
  GstObject* parent = gst_object_get_parent(GST_OBJECT(webrtcbin));
  if (parent == nullptr) {
    gst_object_unref(gst_object_ref_sink(element));
    return false;
  }
  gst_bin_add(GST_BIN(parent), element);
  gst_object_unref(parent);
  gst_element_sync_state_with_parent(element);
  GstPad* in = gst_element_get_static_pad(element, "sink");
  const bool ok = in != nullptr && gst_pad_link(pad, in) == GST_PAD_LINK_OK;
  if (in != nullptr) gst_object_unref(in);
  return ok;
}

bool link_sending(GstElement* webrtcbin, GstPad* src, GstWebRTCRTPTransceiverDirection direction, bool nack) {
  GstPad* sink = gst_element_request_pad_simple(webrtcbin, "sink_%u");
  if (sink == nullptr) return false;
  const bool linked = gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(sink, "transceiver", &trans, nullptr);
  if (trans != nullptr) {
    g_object_set(trans, "direction", direction, "do-nack", nack ? TRUE : FALSE, nullptr);
    gst_object_unref(trans);
  }
  gst_object_unref(sink);
  return linked && trans != nullptr;
}

GstElement* new_fakesink() {
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  return sink;
}

int SdpMedia::payload_for(std::string_view encoding, std::string_view fmtp_has) const {
  const std::string want = lower(encoding);
  for (int pt : payloads) {
    auto it = std::find_if(rtpmap.begin(), rtpmap.end(), [pt](const auto& e) { return e.first == pt; });
    if (it == rtpmap.end()) continue;
    const std::string enc = lower(it->second.substr(0, it->second.find('/')));
    if (enc != want) continue;
    if (!fmtp_has.empty()) {
      auto f = std::find_if(fmtp.begin(), fmtp.end(), [pt](const auto& e) { return e.first == pt; });
      if (f == fmtp.end() || f->second.find(fmtp_has) == std::string::npos) continue;
    }
    return pt;
  }
  return -1;
}

Result<std::vector<SdpMedia>> parse_sdp(const std::string& text) {
  if (text.empty()) return Error{"the SDP is empty"};
  if (text.rfind("v=0", 0) != 0) return Error{"the SDP does not start with v=0"};
  GstSDPMessage* msg = nullptr;
  if (gst_sdp_message_new_from_text(text.c_str(), &msg) != GST_SDP_OK || msg == nullptr) {
    return Error{"the SDP cannot be parsed"};
  }
  std::vector<SdpMedia> out;
  const guint n = gst_sdp_message_medias_len(msg);
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(msg, i);
    SdpMedia media;
    media.kind = gst_sdp_media_get_media(m) != nullptr ? gst_sdp_media_get_media(m) : "";
    media.direction = "sendrecv";
    for (const char* d : {"sendrecv", "sendonly", "recvonly", "inactive"}) {
      if (gst_sdp_media_get_attribute_val(m, d) != nullptr) media.direction = d;
    }
    const char* mid = gst_sdp_media_get_attribute_val(m, "mid");
    media.mid = mid != nullptr ? mid : "";
    for (guint f = 0; f < gst_sdp_media_formats_len(m); ++f) {
      media.payloads.push_back(std::atoi(gst_sdp_media_get_format(m, f)));
    }
    for (guint a = 0; a < gst_sdp_media_attributes_len(m); ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(m, a);
      if (attr->key == nullptr || attr->value == nullptr) continue;
      const std::string key = attr->key;
      if (key != "rtpmap" && key != "fmtp") continue;
      const std::string value = attr->value;
      const auto space = value.find(' ');
      if (space == std::string::npos) continue;
      const int pt = std::atoi(value.substr(0, space).c_str());
      (key == "rtpmap" ? media.rtpmap : media.fmtp).emplace_back(pt, value.substr(space + 1));
    }
    out.push_back(std::move(media));
  }
  gst_sdp_message_free(msg);
  if (out.empty()) return Error{"the SDP has no media section"};
  return out;
}

Result<std::unique_ptr<Peer>> Peer::create(boost::asio::io_context& io, GstBin* bin, const std::string& name,
                                           PeerOptions options) {
  return create(io.get_executor(), bin, name, std::move(options));
}

Result<std::unique_ptr<Peer>> Peer::create(boost::asio::any_io_executor io, GstBin* bin, const std::string& name,
                                           PeerOptions options) {
  ensure_gstreamer();
  GstElement* webrtc = gst_element_factory_make("webrtcbin", name.c_str());
  if (webrtc == nullptr) return Error{"webrtcbin is not installed (gstreamer1.0-plugins-bad, gstreamer1.0-nice)"};
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", options.latency_ms, nullptr);
  if (options.relay_only) g_object_set(webrtc, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
  if (!options.stun_server.empty()) g_object_set(webrtc, "stun-server", options.stun_server.c_str(), nullptr);
  for (const auto& turn : options.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", turn.c_str(), &added);
    if (!added) {
      gst_object_unref(webrtc);
      return Error{"webrtcbin refuses the TURN server " + turn};
    }
  }
  if (auto st = restrict_ice_addresses(webrtc, options.ice_addresses); !st) {
    gst_object_unref(webrtc);
    return st.error();
  }
  if (auto st = fail_when_silent(webrtc); !st) {
    gst_object_unref(webrtc);
    return st.error();
  }
  gst_object_ref(webrtc);  // the Peer's own ref, beside the bin's
  if (!gst_bin_add(bin, webrtc)) {
    gst_object_unref(webrtc);
    gst_object_unref(webrtc);
    return Error{"cannot add webrtcbin " + name + " to its bin"};
  }
  std::unique_ptr<Peer> peer(new Peer(io, webrtc, std::move(options)));
  peer->connect_signals();
  return peer;
}

Peer::Peer(boost::asio::any_io_executor io, GstElement* webrtc, PeerOptions options)
    : webrtc_(webrtc), options_(std::move(options)), timer_(io) {
  shared_ = std::make_shared<Shared>(io, this);
  shared_->on_pad_added = options_.on_pad_added;
}

Status Peer::add_turn_server(const std::string& uri) {
  gboolean added = FALSE;
  g_signal_emit_by_name(webrtc_, "add-turn-server", uri.c_str(), &added);
  if (!added) return Error{"webrtcbin refuses the TURN server " + uri};
  return ok_status();
}

namespace {

std::string percent_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

Result<std::string> turn_uri(std::string_view url, std::string_view username, std::string_view credential) {
  std::string_view scheme;
  for (std::string_view s : {"turns:", "turn:"}) {
    if (url.substr(0, s.size()) == s) {
      scheme = s.substr(0, s.size() - 1);
      url.remove_prefix(s.size());
      break;
    }
  }
  if (scheme.empty()) return Error{"a TURN server's URL must start with turn: or turns:"};
  std::string_view query;
  if (const auto q = url.find('?'); q != std::string_view::npos) {
    query = url.substr(q + 1);
    url = url.substr(0, q);
  }
  const auto colon = url.rfind(':');
  if (url.empty() || colon == 0 || colon == std::string_view::npos || colon + 1 == url.size() ||
      url.find_first_not_of("0123456789", colon + 1) != std::string_view::npos) {
    return Error{"a TURN server's URL must name host:port"};
  }
  if (!query.empty() && query != "transport=udp" && query != "transport=tcp") {
    return Error{"a TURN server's URL may only add ?transport=udp or ?transport=tcp"};
  }
  if (username.empty() || credential.empty()) return Error{"a TURN server needs a username and a credential"};
  std::string out = std::string(scheme) + "://" + percent_encode(username) + ":" + percent_encode(credential) + "@" +
                    std::string(url);
  if (!query.empty()) out += "?" + std::string(query);
  return out;
}

Peer::~Peer() {
  shared_->alive = false;
  timer_.cancel();
  for (gulong id : handlers_) g_signal_handler_disconnect(webrtc_, id);
  gst_object_unref(webrtc_);
}

void Peer::connect_signals() {
  const auto connect = [this](const char* signal, GCallback cb) {
    handlers_.push_back(
        g_signal_connect_data(webrtc_, signal, cb, new SharedHold(shared_), drop_hold, GConnectFlags{}));
  };
  connect("pad-added", G_CALLBACK(+[](GstElement* element, GstPad* pad, gpointer data) {
            if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
            auto& shared = *static_cast<SharedHold*>(data);
            if (shared->on_pad_added) {
              shared->on_pad_added(element, pad);
              return;
            }
            // Nobody wants this media: a fakesink keeps the pad from stalling the others.
            link_beside(element, pad, new_fakesink());
          }));
  connect("notify::ice-gathering-state", G_CALLBACK(+[](GstElement*, GParamSpec*, gpointer data) {
            (*static_cast<SharedHold*>(data))->post([](Peer& p) { p.check_gathering(); });
          }));
  connect("notify::connection-state", G_CALLBACK(+[](GstElement*, GParamSpec*, gpointer data) {
            (*static_cast<SharedHold*>(data))->post([](Peer& p) {
              if (p.options_.on_state) p.options_.on_state(p.connection_state());
            });
          }));
}

GstWebRTCPeerConnectionState Peer::connection_state() const {
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc_, "connection-state", &state, nullptr);
  return state;
}

std::string Peer::local_description() const { return local_description_text(webrtc_); }

void Peer::finish(Result<std::string> r) {
  timer_.cancel();
  if (!pending_) return;
  auto done = std::move(pending_);
  pending_ = nullptr;
  done(std::move(r));
}

void Peer::offer(SdpDone done) {
  if (pending_) {
    done(Error{"an offer or answer is already under way"});
    return;
  }
  pending_ = std::move(done);
  local_set_ = false;
  timer_.expires_after(options_.gather_timeout);
  timer_.async_wait([s = std::weak_ptr<Shared>(shared_)](const boost::system::error_code& ec) {
    auto shared = s.lock();
    if (ec || !shared || !shared->alive) return;
    shared->peer->finish(Error{"ICE gathering did not complete in time"});
  });
  GstPromise* promise = posting_promise(shared_, [](Peer& p, const GstStructure* reply) {
    GstWebRTCSessionDescription* desc = nullptr;
    if (reply == nullptr || !gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr) ||
        desc == nullptr) {
      const std::string why = reply_error(reply);
      p.finish(Error{"webrtcbin made no offer" + (why.empty() ? std::string{} : ": " + why)});
      return;
    }
    p.set_local(desc);
    gst_webrtc_session_description_free(desc);
  });
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void Peer::answer(const std::string& offer_sdp, SdpDone done) {
  if (pending_) {
    done(Error{"an offer or answer is already under way"});
    return;
  }
  if (auto parsed = parse_sdp(offer_sdp); !parsed) {
    done(parsed.error());
    return;
  }
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text(offer_sdp.c_str(), &sdp);
  pending_ = std::move(done);
  local_set_ = false;
  timer_.expires_after(options_.gather_timeout);
  timer_.async_wait([s = std::weak_ptr<Shared>(shared_)](const boost::system::error_code& ec) {
    auto shared = s.lock();
    if (ec || !shared || !shared->alive) return;
    shared->peer->finish(Error{"ICE gathering did not complete in time"});
  });
  GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  GstPromise* promise = posting_promise(shared_, [](Peer& p, const GstStructure* reply) {
    if (const std::string why = reply_error(reply); !why.empty()) {
      p.finish(Error{"the offer is not acceptable: " + why});
      return;
    }
    GstPromise* created = posting_promise(p.shared_, [](Peer& q, const GstStructure* r) {
      GstWebRTCSessionDescription* desc = nullptr;
      if (r == nullptr || !gst_structure_get(r, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr) ||
          desc == nullptr) {
        const std::string why = reply_error(r);
        q.finish(Error{"no answer to this offer" + (why.empty() ? std::string{} : ": " + why)});
        return;
      }
      q.set_local(desc);
      gst_webrtc_session_description_free(desc);
    });
    g_signal_emit_by_name(p.webrtc_, "create-answer", nullptr, created);
  });
  g_signal_emit_by_name(webrtc_, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free(offer);
}

void Peer::set_local(GstWebRTCSessionDescription* desc) {
  GstPromise* promise = posting_promise(shared_, [](Peer& p, const GstStructure* reply) {
    if (const std::string why = reply_error(reply); !why.empty()) {
      p.finish(Error{"webrtcbin does not take its own description: " + why});
      return;
    }
    p.local_set_ = true;
    p.check_gathering();
  });
  g_signal_emit_by_name(webrtc_, "set-local-description", desc, promise);
}

void Peer::check_gathering() {
  if (!pending_ || !local_set_) return;
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  std::string text = local_description_text(webrtc_);
  if (text.empty()) return;
  finish(std::move(text));
}

void Peer::accept_answer(const std::string& answer_sdp, std::function<void(Status)> done) {
  if (auto parsed = parse_sdp(answer_sdp); !parsed) {
    done(parsed.error());
    return;
  }
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text(answer_sdp.c_str(), &sdp);
  GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise* promise = posting_promise(shared_, [done = std::move(done)](Peer&, const GstStructure* reply) {
    if (const std::string why = reply_error(reply); !why.empty()) {
      done(Error{"the answer is not acceptable: " + why});
      return;
    }
    done(ok_status());
  });
  g_signal_emit_by_name(webrtc_, "set-remote-description", answer, promise);
  gst_webrtc_session_description_free(answer);
}

}  // namespace classcam::webrtc
