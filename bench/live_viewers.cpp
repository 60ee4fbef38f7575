// bench_live_viewers: N receive-only WebRTC viewers that are not Chromium (one 2-core machine cannot
// render ten Chromium videos), for the hub's CPU per viewer in bench/live.sh. Each is a webrtcbin
// that offers recvonly H.264 video and Opus audio, POSTs the offer WHEP-style to the hub over HTTPS,
// applies the answer, counts the RTP it receives (no decoding: the hub's cost is measured, not ours),
// and DELETEs its view at the end.
//   bench_live_viewers --url https://HOST:PORT --path /api/v1/live/UNIT/whep --ca CA.pem
//                      --token TOKEN --count 10 --seconds 20 [--ice IP]
// Prints one JSON line: viewers connected, RTP packets and bytes received per viewer.
//
// Threading: everything runs on the io_context (main thread); HTTPS requests block it briefly, which
// is fine for a load tool; webrtcbin's threads post through common/webrtc's Peer and count with atomics.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/webrtc/peer.hpp"
#include "firmware/net/https_client.hpp"

namespace asio = boost::asio;
using namespace classcam;

namespace {

struct Counter {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> bytes{0};
};

GstPadProbeReturn count(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<Counter*>(data);
  ++c->packets;
  c->bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  return GST_PAD_PROBE_OK;
}

struct Viewer {
  GstElement* pipeline = nullptr;
  std::unique_ptr<webrtc::Peer> peer;
  Counter counter;
  std::string location;
  bool connected = false;
  ~Viewer() {
    peer.reset();
    if (pipeline != nullptr) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string url, path, ca, token, ice = "127.0.0.1";
  int n = 1, seconds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--url")
      url = v;
    else if (a == "--path")
      path = v;
    else if (a == "--ca")
      ca = v;
    else if (a == "--token")
      token = v;
    else if (a == "--count")
      n = std::stoi(v);
    else if (a == "--seconds")
      seconds = std::stoi(v);
    else if (a == "--ice")
      ice = v;
    else {
      std::cerr << "bench_live_viewers: unknown option " << a << "\n";
      return 2;
    }
  }
  const auto parsed = net::parse_url(url);
  if (!parsed || path.empty()) {
    std::cerr << "bench_live_viewers: --url https://... and --path are required\n";
    return 2;
  }
  webrtc::ensure_gstreamer();
  asio::io_context io;
  net::HttpsClient client(*parsed, {ca, true});
  const net::Headers auth = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/sdp"}};
  std::vector<std::unique_ptr<Viewer>> viewers;
  for (int k = 0; k < n; ++k) {
    auto v = std::make_unique<Viewer>();
    v->pipeline = gst_pipeline_new(fmt::format("viewer{}", k).c_str());
    webrtc::PeerOptions po;
    po.ice_addresses = {ice};
    Counter* counter = &v->counter;
    po.on_pad_added = [counter](GstElement* webrtcbin, GstPad* pad) {
      GstElement* sink = gst_element_factory_make("fakesink", nullptr);
      g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
      gst_bin_add(GST_BIN(GST_ELEMENT_PARENT(webrtcbin)), sink);
      gst_element_sync_state_with_parent(sink);
      GstPad* in = gst_element_get_static_pad(sink, "sink");
      gst_pad_link(pad, in);
      gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, count, counter, nullptr);
      gst_object_unref(in);
    };
    Viewer* raw = v.get();
    po.on_state = [raw](GstWebRTCPeerConnectionState s) {
      if (s == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) raw->connected = true;
    };
    auto peer = webrtc::Peer::create(io, GST_BIN(v->pipeline), "webrtc", po);
    if (!peer) {
      std::cerr << "bench_live_viewers: " << peer.error().message << "\n";
      return 1;
    }
    v->peer = std::move(*peer);
    for (const char* caps_text : {"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
                                  "packetization-mode=(string)1",
                                  "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111"}) {
      GstCaps* caps = gst_caps_from_string(caps_text);
      GstWebRTCRTPTransceiver* trans = nullptr;
      g_signal_emit_by_name(v->peer->element(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                            &trans);
      if (trans != nullptr) gst_object_unref(trans);
      gst_caps_unref(caps);
    }
    gst_element_set_state(v->pipeline, GST_STATE_PLAYING);
    bool done = false;
    std::string failure;
    raw->peer->offer([&](Result<std::string> offer) {
      if (!offer) {
        failure = offer.error().message;
        done = true;
        return;
      }
      auto r = client.request("POST", path, auth, *offer);
      if (!r || r->status != 201) {
        failure = r ? fmt::format("{} {}", r->status, r->body) : r.error().message;
        done = true;
        return;
      }
      raw->location = r->header("Location");
      raw->peer->accept_answer(r->body, [&](Status st) {
        if (!st) failure = st.error().message;
        done = true;
      });
    });
    while (!done) io.run_one();
    if (!failure.empty()) {
      std::cerr << "bench_live_viewers: viewer " << k << ": " << failure << "\n";
      return 1;
    }
    viewers.push_back(std::move(v));
  }
  asio::steady_timer t(io, std::chrono::seconds(seconds));
  t.async_wait([&](auto) { io.stop(); });
  io.run();
  int connected = 0;
  std::uint64_t packets = 0, bytes = 0;
  for (auto& v : viewers) {
    connected += v->connected ? 1 : 0;
    packets += v->counter.packets;
    bytes += v->counter.bytes;
    if (const auto at = v->location.find("/api/"); at != std::string::npos) {
      (void)client.request("DELETE", v->location.substr(at), {{"Authorization", "Bearer " + token}});
    }
  }
  std::cout << fmt::format(
                   R"({{"viewers": {}, "connected": {}, "packets_per_viewer": {}, "kbit_per_s_per_viewer": {}}})", n,
                   connected, n ? packets / n : 0, n ? bytes * 8 / 1000 / n / seconds : 0)
            << std::endl;
  return connected == n ? 0 : 1;
}
