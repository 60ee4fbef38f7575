#include "firmware/live/test_ingest.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/webrtc/peer.hpp"
#include "hub/tls/certificates.hpp"

namespace classcam::live::testing {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

GstPadProbeReturn count_buffer(GstPad* /*pad*/, GstPadProbeInfo* /*info*/, gpointer data) {
  static_cast<std::atomic<std::uint64_t>*>(data)->fetch_add(1);
  return GST_PAD_PROBE_OK;
}

struct PadAddedContext {
  std::atomic<std::uint64_t>* video;
  std::atomic<std::uint64_t>* audio;
  std::atomic<std::uint64_t>* keyframes;
  std::atomic<std::int64_t>* first_keyframe_ns;
};

GstPadProbeReturn count_keyframe(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer data) {
  auto* ctx = static_cast<PadAddedContext*>(data);
  if (GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_OK;
  std::int64_t none = 0;
  ctx->first_keyframe_ns->compare_exchange_strong(
      none, std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1));
  ctx->keyframes->fetch_add(1);
  return GST_PAD_PROBE_OK;
}

// webrtcbin's thread: decode what arrives and count decoded frames at the fakesink.
void on_pad_added(GstElement* webrtc, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  auto* ctx = static_cast<PadAddedContext*>(data);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const GstStructure* st = gst_caps_get_structure(caps, 0);
  const char* media = gst_structure_get_string(st, "media");
  const bool video = media != nullptr && std::string(media) == "video";
  gst_caps_unref(caps);
  GError* err = nullptr;
  GstElement* chain = gst_parse_bin_from_description(
      video ? "rtph264depay name=depay ! avdec_h264 ! fakesink name=count sync=false async=false"
            : "rtpopusdepay ! opusdec ! fakesink name=count sync=false async=false",
      TRUE, &err);
  if (err != nullptr) g_error_free(err);
  if (chain == nullptr) return;
  if (video) gst_object_set_name(GST_OBJECT(chain), "video_chain");
  GstElement* pipeline = GST_ELEMENT(gst_element_get_parent(webrtc));
  gst_bin_add(GST_BIN(pipeline), chain);
  gst_object_unref(pipeline);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(chain), "count");
  GstPad* sinkpad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, &count_buffer, video ? ctx->video : ctx->audio, nullptr);
  gst_object_unref(sinkpad);
  gst_object_unref(sink);
  if (video) {
    GstElement* depay = gst_bin_get_by_name(GST_BIN(chain), "depay");
    GstPad* depay_src = gst_element_get_static_pad(depay, "src");
    gst_pad_add_probe(depay_src, GST_PAD_PROBE_TYPE_BUFFER, &count_keyframe, ctx, nullptr);
    gst_object_unref(depay_src);
    gst_object_unref(depay);
  }
  gst_element_sync_state_with_parent(chain);
  GstPad* chain_sink = gst_element_get_static_pad(chain, "sink");
  gst_pad_link(pad, chain_sink);
  gst_object_unref(chain_sink);
}

bool wait_promise(GstPromise* p, std::string& error) {
  if (gst_promise_wait(p) != GST_PROMISE_RESULT_REPLIED) {
    error = "promise not replied";
    return false;
  }
  const GstStructure* reply = gst_promise_get_reply(p);
  GError* err = nullptr;
  if (reply != nullptr && gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    error = err != nullptr ? err->message : "error";
    if (err != nullptr) g_error_free(err);
    return false;
  }
  return true;
}

}  // namespace

std::string TestIngest::Request::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (lower(k) == lower(name)) return v;
  }
  return {};
}

TestIngest::TestIngest(const std::filesystem::path& dir, std::string token) : token_(std::move(token)) {
  const auto material = hub::tls::ensure_local_material(dir, {"127.0.0.1", "localhost"});
  cert_ = material.cert_chain;
  key_ = material.key;
  ca_file_ = material.ca_cert;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_.c_str(), SSL_FILETYPE_PEM) != 1) {
    SSL_CTX_free(ctx);
    throw std::runtime_error("TestIngest: cannot load the certificate");
  }
  ctx_ = ctx;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("TestIngest: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TestIngest::~TestIngest() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  drop_receiver();
  SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

std::string TestIngest::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

bool TestIngest::receiving() const {
  std::lock_guard lock(mu_);
  return receiver_ != nullptr;
}

std::optional<std::chrono::steady_clock::time_point> TestIngest::first_keyframe_at() const {
  const std::int64_t ns = first_keyframe_ns_.load();
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}

std::vector<TestIngest::Request> TestIngest::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::string TestIngest::last_answer() const {
  std::lock_guard lock(mu_);
  return last_answer_;
}

bool TestIngest::request_keyframe() {
  std::lock_guard lock(mu_);
  if (receiver_ == nullptr) return false;
  GstElement* chain = gst_bin_get_by_name(GST_BIN(receiver_), "video_chain");
  if (chain == nullptr) return false;
  GstElement* depay = gst_bin_get_by_name(GST_BIN(chain), "depay");
  gst_object_unref(chain);
  if (depay == nullptr) return false;
  GstPad* pad = gst_element_get_static_pad(depay, "sink");
  const bool sent = gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(pad);
  gst_object_unref(depay);
  return sent;
}

std::optional<std::chrono::steady_clock::time_point> TestIngest::talk(bool on) {
  std::lock_guard lock(mu_);
  if (talk_volume_ == nullptr) return std::nullopt;
  g_object_set(talk_volume_, "mute", on ? FALSE : TRUE, nullptr);
  return std::chrono::steady_clock::now();
}

void TestIngest::drop_receiver() {
  GstElement* r = nullptr;
  {
    std::lock_guard lock(mu_);
    std::swap(r, receiver_);
    if (talk_volume_ != nullptr) gst_object_unref(talk_volume_);
    talk_volume_ = nullptr;
  }
  if (r == nullptr) return;
  gst_element_set_state(r, GST_STATE_NULL);
  gst_object_unref(r);
}

void TestIngest::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) handle(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
  }
}

void TestIngest::handle(void* handle) {
  SSL* ssl = static_cast<SSL*>(handle);
  std::string in;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return;
    in.append(buf, static_cast<std::size_t>(n));
  }
  Request req;
  std::size_t line_end = in.find("\r\n");
  const std::string first = in.substr(0, line_end);
  const auto sp1 = first.find(' ');
  const auto sp2 = first.find(' ', sp1 + 1);
  req.method = first.substr(0, sp1);
  req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  for (std::size_t pos = line_end + 2; pos < head_end;) {
    const std::size_t e = in.find("\r\n", pos);
    const std::string line = in.substr(pos, e - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      req.headers.emplace_back(line.substr(0, colon), v);
    }
    pos = e + 2;
  }
  const std::string cl = req.header("Content-Length");
  const std::size_t length = cl.empty() ? 0 : std::stoul(cl);
  req.body = in.substr(head_end + 4);
  while (req.body.size() < length) {
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return;
    req.body.append(buf, static_cast<std::size_t>(n));
  }
  {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
  }

  int status = 404;
  std::string type = "application/problem+json", body = R"({"title":"not found"})", location;
  const bool authorised = req.header("Authorization") == "Bearer " + token_;
  if (!authorised) {
    status = 401;
    body = R"({"title":"unit token required"})";
  } else if (req.method == "POST" && req.target == "/api/v1/unit/live") {
    posts_.fetch_add(1);
    if (const int refuse = refuse_status_.load(); refuse != 0) {
      status = refuse;
      body = R"({"title":"refused by the test"})";
    } else {
      std::string error;
      drop_receiver();  // a newer ingest of the unit replaces the older
      const std::string sdp = answer(req.body, error);
      if (sdp.empty()) {
        status = 400;
        body = R"({"title":")" + error + R"("})";
      } else {
        std::string id = req.header("Classcam-Live-Id");
        if (id.empty()) id = "hub-made-" + std::to_string(++ingests_);
        status = 201;
        type = "application/sdp";
        body = sdp;
        location = "/api/v1/unit/live/" + id;
      }
    }
  } else if (req.method == "POST" && req.target.rfind("/api/v1/unit/live/", 0) == 0 && req.target.size() > 5 &&
             req.target.compare(req.target.size() - 5, 5, "/mute") == 0) {
    status = 204;  // the unit's own mute, recorded in requests()
    body.clear();
  } else if (req.method == "DELETE" && req.target.rfind("/api/v1/unit/live/", 0) == 0) {
    deletes_.fetch_add(1);
    drop_receiver();
    status = 204;
    body.clear();
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + (status < 300 ? " OK" : " Error") + "\r\n";
  if (!body.empty()) out += "Content-Type: " + type + "\r\n";
  if (!location.empty()) out += "Location: " + location + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  SSL_write(ssl, out.data(), static_cast<int>(out.size()));
}

std::string TestIngest::answer(const std::string& offer_text, std::string& error) {
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_text.c_str(), &sdp) != GST_SDP_OK) {
    error = "malformed SDP";
    return {};
  }
  GstElement* pipeline = gst_pipeline_new("ingest");
  GstElement* webrtc = gst_element_factory_make("webrtcbin", "recv");
  // The jitterbuffer adds its latency exactly (platform notes): 50 ms as the hub's ingest would.
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", 50, nullptr);
  gst_bin_add(GST_BIN(pipeline), webrtc);
  gst_object_ref(webrtc);
  static PadAddedContext pad_ctx;
  pad_ctx = PadAddedContext{&video_frames_, &audio_frames_, &video_keyframes_, &first_keyframe_ns_};
  g_signal_connect(webrtc, "pad-added", G_CALLBACK(&on_pad_added), &pad_ctx);
  (void)webrtc::restrict_ice_addresses(webrtc, {"127.0.0.1"});
  GstElement* talk_volume = add_talkback(pipeline, webrtc, offer_text);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  GstPromise* p = gst_promise_new();
  g_signal_emit_by_name(webrtc, "set-remote-description", offer, p);
  const bool remote_ok = wait_promise(p, error);
  gst_promise_unref(p);
  gst_webrtc_session_description_free(offer);
  std::string text;
  if (remote_ok) {
    p = gst_promise_new();
    g_signal_emit_by_name(webrtc, "create-answer", nullptr, p);
    if (wait_promise(p, error)) {
      GstWebRTCSessionDescription* answer = nullptr;
      gst_structure_get(gst_promise_get_reply(p), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
      GstPromise* lp = gst_promise_new();
      g_signal_emit_by_name(webrtc, "set-local-description", answer, lp);
      wait_promise(lp, error);
      gst_promise_unref(lp);
      gst_webrtc_session_description_free(answer);
      // Non-trickle: the answer goes out once gathering is complete, with every candidate in it.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
      while (std::chrono::steady_clock::now() < deadline) {
        g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
        text = webrtc::local_description_text(webrtc);
      } else {
        error = "ICE gathering did not complete";
      }
    }
    gst_promise_unref(p);
  }
  gst_object_unref(webrtc);
  if (text.empty()) {
    if (talk_volume != nullptr) gst_object_unref(talk_volume);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return {};
  }
  std::lock_guard lock(mu_);
  receiver_ = pipeline;
  talk_volume_ = talk_volume;
  last_answer_ = text;
  return text;
}

GstElement* TestIngest::add_talkback(GstElement* pipeline, GstElement* webrtc, const std::string& offer) {
  const double hz = talk_hz_.load();
  const auto media = webrtc::parse_sdp(offer);
  if (hz <= 0 || !media) return nullptr;
  int pt = -1;
  for (const auto& m : *media) {
    if (m.kind == "audio" && (m.direction == "sendrecv" || m.direction == "recvonly")) pt = m.payload_for("opus");
  }
  if (pt < 0) return nullptr;
  // As the hub's ingest sends talkback: Opus on the unit's payload type, SSRC pinned in the caps. 5 ms
  // source buffers, so talk(true) starts the tone within 5 ms of media (a latency figure's start).
  const std::string desc =
      "audiotestsrc is-live=true samplesperbuffer=240 wave=sine freq=" + std::to_string(hz) +
      " volume=0.5 ! audio/x-raw,rate=48000,channels=1 ! volume name=talk_volume mute=true ! opusenc frame-size=20 ! "
      "rtpopuspay pt=" +
      std::to_string(pt) +
      " ssrc=777 ! capsfilter caps=application/x-rtp,media=audio,"
      "encoding-name=OPUS,clock-rate=48000,payload=" +
      std::to_string(pt) + ",ssrc=(uint)777";
  GstElement* bin = gst_parse_bin_from_description(desc.c_str(), TRUE, nullptr);
  if (bin == nullptr) return nullptr;
  gst_bin_add(GST_BIN(pipeline), bin);
  GstPad* src = gst_element_get_static_pad(bin, "src");
  webrtc::link_sending(webrtc, src, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, false);
  gst_object_unref(src);
  return gst_bin_get_by_name(GST_BIN(bin), "talk_volume");
}

}  // namespace classcam::live::testing
