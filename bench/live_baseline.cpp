// bench_live_baseline: the baseline of bench/live.sh. A bare webrtcbin per viewer sends the test
// picture (with the latency strip, encoded as the platform notes' reference: x264 zerolatency, constrained
// baseline) and a quiet Opus tone straight to the page, WHEP-style, with no unit and no hub in between:
// what glass to glass costs on this machine before classcam adds anything.
//   bench_live_baseline --listen IP:PORT --page bench/live/baseline.html [--width 1280 --height 720
//                       --fps 30 --kbps 1000 --profile constrained-baseline|high --no-audio]
// Plain HTTP: only the bench's own namespace reaches it. GET / gives the page, POST /whep an answer.
//
// Threading: GStreamer and the Peers live on the io_context thread (main); the HTTP server runs on a
// thread of its own, one connection at a time, and hands each WHEP request to the io_context.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "common/webrtc/peer.hpp"
#include "firmware/capture/frame_probe.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using classcam::Result;

namespace {

struct Options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::string page;
  unsigned width = 1280, height = 720, fps = 30, kbps = 1000;
  std::string profile = "constrained-baseline";  // "high": the recording's own profile
  bool audio = true;
};

struct Viewer {
  classcam::capture::ElementPtr pipeline;
  std::unique_ptr<classcam::capture::FrameProbe> strip;
  std::unique_ptr<classcam::webrtc::Peer> peer;
  ~Viewer() {
    if (strip) strip->detach();
    if (pipeline) gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    peer.reset();
  }
};

class Baseline {
 public:
  Baseline(asio::io_context& io, Options o) : io_(io), o_(std::move(o)) {}

  // io thread. `done` gets the answer, or an error for a 400.
  void whep(const std::string& offer, std::function<void(Result<std::pair<int, std::string>>)> done) {
    auto media = classcam::webrtc::parse_sdp(offer);
    if (!media) return done(media.error());
    int vpt = -1, apt = -1;
    for (const auto& m : *media) {
      if (m.kind == "video") vpt = m.payload_for("H264", "packetization-mode=1");
      if (m.kind == "audio") apt = m.payload_for("opus");
    }
    if (vpt < 0) return done(classcam::Error{"the offer has no H.264 (packetization-mode=1) video"});
    std::string d = fmt::format(
        "videotestsrc is-live=true pattern=ball motion=sweep ! video/x-raw,format=I420,width={},height={},"
        "framerate={}/1 ! identity name=strip ! x264enc tune=zerolatency speed-preset=veryfast bitrate={} "
        "key-int-max={} ! video/x-h264,profile={} ! rtph264pay pt={} ssrc=1111 "
        "config-interval=-1 aggregate-mode=zero-latency ! application/x-rtp,media=video,encoding-name=H264,"
        "payload={},clock-rate=90000,ssrc=(uint)1111,packetization-mode=(string)1 ! queue name=vout",
        o_.width, o_.height, o_.fps, o_.kbps, 2 * o_.fps, o_.profile, vpt, vpt);
    if (o_.audio && apt >= 0) {
      d += fmt::format(
          " audiotestsrc is-live=true wave=sine volume=0.05 ! audioconvert ! audioresample ! opusenc ! "
          "rtpopuspay pt={} ssrc=2222 ! application/x-rtp,media=audio,encoding-name=OPUS,payload={},"
          "clock-rate=48000,ssrc=(uint)2222 ! queue name=aout",
          apt, apt);
    }
    GError* err = nullptr;
    auto v = std::make_shared<Viewer>();
    v->pipeline.reset(gst_parse_launch(d.c_str(), &err));
    if (err != nullptr) {
      const std::string what = err->message;
      g_error_free(err);
      return done(classcam::Error{"pipeline: " + what});
    }
    classcam::webrtc::PeerOptions po;
    po.ice_addresses = {o_.address};
    auto peer = classcam::webrtc::Peer::create(io_, GST_BIN(v->pipeline.get()), "webrtc", po);
    if (!peer) return done(peer.error());
    v->peer = std::move(*peer);
    for (const char* out : {"vout", "aout"}) {
      classcam::capture::ElementPtr q(gst_bin_get_by_name(GST_BIN(v->pipeline.get()), out));
      if (!q) continue;
      GstPad* sink = gst_element_request_pad_simple(v->peer->element(), "sink_%u");
      GstPad* src = gst_element_get_static_pad(q.get(), "src");
      gst_pad_link(src, sink);
      // The answer is made before any buffer flows (webrtcbin asserts on media that reaches a
      // transceiver without a stream): it takes the codec, payload type and SSRC from the preferences.
      GstWebRTCRTPTransceiver* trans = nullptr;
      g_object_get(sink, "transceiver", &trans, nullptr);
      if (trans != nullptr) {
        const bool video = std::string_view(out) == "vout";
        GstCaps* caps = gst_caps_from_string(
            video ? fmt::format("application/x-rtp,media=video,encoding-name=H264,payload={},clock-rate=90000,"
                                "ssrc=(uint)1111,packetization-mode=(string)1",
                                vpt)
                        .c_str()
                  : fmt::format("application/x-rtp,media=audio,encoding-name=OPUS,payload={},clock-rate=48000,"
                                "ssrc=(uint)2222",
                                apt)
                        .c_str());
        g_object_set(trans, "codec-preferences", caps, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                     "do-nack", video, nullptr);
        gst_caps_unref(caps);
        gst_object_unref(trans);
      }
      gst_object_unref(src);
      gst_object_unref(sink);
    }
    classcam::capture::ElementPtr strip(gst_bin_get_by_name(GST_BIN(v->pipeline.get()), "strip"));
    v->strip = std::make_unique<classcam::capture::FrameProbe>(
        std::vector<classcam::config::PrivacyZone>{}, [](classcam::capture::SamplePtr) {}, true);
    v->strip->attach(strip.get());
    // PAUSED: webrtcbin answers only when not NULL, and live sources send nothing before PLAYING.
    gst_element_set_state(v->pipeline.get(), GST_STATE_PAUSED);
    const int id = next_++;
    v->peer->answer(offer, [this, v, id, done](Result<std::string> answer) {
      if (!answer) return done(answer.error());
      gst_element_set_state(v->pipeline.get(), GST_STATE_PLAYING);
      viewers_[id] = v;
      done(std::make_pair(id, *answer));
    });
  }

  void leave(int id) { viewers_.erase(id); }

 private:
  asio::io_context& io_;
  Options o_;
  std::map<int, std::shared_ptr<Viewer>> viewers_;
  int next_ = 1;
};

void serve(asio::io_context& io, Baseline& b, const Options& o, asio::ip::tcp::acceptor& acceptor) {
  std::ifstream f(o.page);
  std::stringstream page;
  page << f.rdbuf();
  for (;;) {
    asio::ip::tcp::socket s(acceptor.get_executor());
    boost::system::error_code ec;
    acceptor.accept(s, ec);
    if (ec) return;
    boost::beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(s, buf, req, ec);
    if (ec) continue;
    http::response<http::string_body> res;
    res.version(11);
    res.keep_alive(false);
    if (req.method() == http::verb::get && req.target() == "/") {
      res.result(200);
      res.set(http::field::content_type, "text/html; charset=utf-8");
      res.body() = page.str();
    } else if (req.method() == http::verb::post && req.target() == "/whep") {
      std::promise<Result<std::pair<int, std::string>>> p;
      auto fut = p.get_future();
      asio::post(io, [&] { b.whep(req.body(), [&](auto r) { p.set_value(std::move(r)); }); });
      auto r = fut.get();
      if (r) {
        res.result(201);
        res.set(http::field::content_type, "application/sdp");
        res.set(http::field::location, "/whep/" + std::to_string(r->first));
        res.body() = r->second;
      } else {
        res.result(400);
        res.body() = r.error().message;
      }
    } else if (req.method() == http::verb::delete_ && req.target().starts_with("/whep/")) {
      const int id = std::atoi(std::string(req.target().substr(6)).c_str());
      asio::post(io, [&b, id] { b.leave(id); });
      res.result(204);
    } else {
      res.result(404);
    }
    res.prepare_payload();
    http::write(s, res, ec);
    s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--listen") {
        const auto v = value();
        const auto colon = v.rfind(':');
        o.address = v.substr(0, colon);
        o.port = static_cast<std::uint16_t>(std::stoi(v.substr(colon + 1)));
      } else if (a == "--page") {
        o.page = value();
      } else if (a == "--width") {
        o.width = static_cast<unsigned>(std::stoi(value()));
      } else if (a == "--height") {
        o.height = static_cast<unsigned>(std::stoi(value()));
      } else if (a == "--fps") {
        o.fps = static_cast<unsigned>(std::stoi(value()));
      } else if (a == "--kbps") {
        o.kbps = static_cast<unsigned>(std::stoi(value()));
      } else if (a == "--profile") {
        o.profile = value();
      } else if (a == "--no-audio") {
        o.audio = false;
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    } catch (const std::exception& e) {
      std::cerr << "bench_live_baseline: " << e.what() << "\n";
      return 2;
    }
  }
  if (o.page.empty()) {
    std::cerr << "bench_live_baseline: --page is required\n";
    return 2;
  }
  classcam::webrtc::ensure_gstreamer();
  asio::io_context io;
  Baseline b(io, o);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address(o.address), o.port});
  std::cout << "bench_live_baseline: serving http://" << o.address << ":" << acceptor.local_endpoint().port() << "/"
            << std::endl;
  std::thread http([&] { serve(io, b, o, acceptor); });
  auto guard = asio::make_work_guard(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    boost::system::error_code ec;
    acceptor.close(ec);
    guard.reset();
    io.stop();
  });
  io.run();
  http.detach();  // blocked in accept on a closed acceptor, or mid-request: the process ends anyway
  return 0;
}
