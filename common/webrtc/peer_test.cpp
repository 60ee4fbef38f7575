// Two real webrtcbins in one process, on loopback: an H.264 sender offers, a receiver answers and
// decodes; the frames counted are real decoded pictures.
#include "common/webrtc/peer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <regex>
#include <set>

namespace classcam::webrtc {
namespace {

constexpr const char* kSender =
    "videotestsrc is-live=true pattern=ball motion=sweep ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=300 ! "
    "video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 pt=96 ssrc=4242 "
    "aggregate-mode=zero-latency ! capsfilter name=rtp "
    "caps=application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,ssrc=(uint)4242";

std::set<std::string> candidate_addresses(const std::string& sdp) {
  std::set<std::string> out;
  const std::regex re("a=candidate:\\S+ \\d+ \\S+ \\d+ (\\S+) \\d+ typ");
  for (auto it = std::sregex_iterator(sdp.begin(), sdp.end(), re); it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

struct Pipeline {
  GstElement* p;
  explicit Pipeline(GstElement* e) : p(e) {}
  ~Pipeline() {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
};

TEST(Peer, OfferAnswerAndDecodedFramesOnLoopback) {
  ensure_gstreamer();
  boost::asio::io_context io;
  GError* err = nullptr;
  Pipeline tx(gst_parse_launch(kSender, &err));
  ASSERT_EQ(err, nullptr);
  Pipeline rx(gst_pipeline_new("rx"));

  PeerOptions opts;
  opts.ice_addresses = {"127.0.0.1"};
  std::vector<GstWebRTCPeerConnectionState> tx_states;
  opts.on_state = [&](GstWebRTCPeerConnectionState s) { tx_states.push_back(s); };
  auto sender = Peer::create(io, GST_BIN(tx.p), "tx_webrtc", opts);
  ASSERT_TRUE(sender) << sender.error().message;

  GstElement* rtp = gst_bin_get_by_name(GST_BIN(tx.p), "rtp");
  GstPad* src = gst_element_get_static_pad(rtp, "src");
  GstPad* sink = gst_element_request_pad_simple((*sender)->element(), "sink_%u");
  ASSERT_EQ(gst_pad_link(src, sink), GST_PAD_LINK_OK);
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(sink, "transceiver", &trans, nullptr);
  ASSERT_NE(trans, nullptr);
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
  gst_object_unref(sink);
  gst_object_unref(src);
  gst_object_unref(rtp);

  std::atomic<int> frames{0};
  PeerOptions ropts;
  ropts.ice_addresses = {"127.0.0.1"};
  ropts.on_pad_added = [&frames](GstElement* webrtc, GstPad* pad) {
    // Streaming thread: depay, decode, count.
    GstElement* bin = gst_parse_bin_from_description(
        "rtph264depay ! avdec_h264 ! fakesink name=count signal-handoffs=true sync=false", TRUE, nullptr);
    GstElement* count = gst_bin_get_by_name(GST_BIN(bin), "count");
    g_signal_connect(count, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer data) {
                       ++*static_cast<std::atomic<int>*>(data);
                     }),
                     &frames);
    gst_object_unref(count);
    GstObject* parent = gst_object_get_parent(GST_OBJECT(webrtc));
    gst_bin_add(GST_BIN(parent), bin);
    gst_object_unref(parent);
    gst_element_sync_state_with_parent(bin);
    GstPad* in = gst_element_get_static_pad(bin, "sink");
    gst_pad_link(pad, in);
    gst_object_unref(in);
  };
  auto receiver = Peer::create(io, GST_BIN(rx.p), "rx_webrtc", ropts);
  ASSERT_TRUE(receiver) << receiver.error().message;

  ASSERT_NE(gst_element_set_state(tx.p, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  ASSERT_NE(gst_element_set_state(rx.p, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

  std::string offer, answer, failure;
  bool accepted = false;
  (*sender)->offer([&](Result<std::string> o) {
    if (!o) {
      failure = "offer: " + o.error().message;
      io.stop();
      return;
    }
    offer = *o;
    (*receiver)->answer(offer, [&](Result<std::string> a) {
      if (!a) {
        failure = "answer: " + a.error().message;
        io.stop();
        return;
      }
      answer = *a;
      (*sender)->accept_answer(answer, [&](Status st) {
        if (!st) failure = "accept: " + st.error().message;
        accepted = st.ok();
      });
    });
  });
  boost::asio::steady_timer poll(io);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::function<void()> tick = [&] {
    if (frames >= 30 || std::chrono::steady_clock::now() > deadline) {
      io.stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  io.run();

  ASSERT_TRUE(failure.empty()) << failure;
  EXPECT_TRUE(accepted);
  // Non-trickle: both descriptions carry their candidates, and only the configured address.
  EXPECT_EQ(candidate_addresses(offer), std::set<std::string>{"127.0.0.1"}) << offer;
  EXPECT_EQ(candidate_addresses(answer), std::set<std::string>{"127.0.0.1"}) << answer;
  EXPECT_NE(offer.find("a=sendonly"), std::string::npos);
  EXPECT_NE(answer.find("a=recvonly"), std::string::npos);
  EXPECT_GE(frames.load(), 30);
  EXPECT_EQ((*sender)->connection_state(), GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
  EXPECT_NE(std::find(tx_states.begin(), tx_states.end(), GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED), tx_states.end());
}

TEST(Peer, MalformedOfferIsRefusedWithAReason) {
  ensure_gstreamer();
  boost::asio::io_context io;
  Pipeline rx(gst_pipeline_new("rx"));
  auto peer = Peer::create(io, GST_BIN(rx.p), "w", {});
  ASSERT_TRUE(peer);
  std::string why;
  (*peer)->answer("hello", [&](Result<std::string> r) {
    ASSERT_FALSE(r);
    why = r.error().message;
  });
  io.run();
  EXPECT_NE(why.find("v=0"), std::string::npos) << why;
}

TEST(Sdp, ParsesMediaDirectionsAndPayloads) {
  const std::string sdp =
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
      "a=rtpmap:102 VP8/90000\r\na=rtpmap:96 H264/90000\r\n"
      "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendrecv\r\n"
      "a=rtpmap:111 opus/48000/2\r\n";
  auto media = parse_sdp(sdp);
  ASSERT_TRUE(media) << media.error().message;
  ASSERT_EQ(media->size(), 2u);
  EXPECT_EQ((*media)[0].kind, "video");
  EXPECT_EQ((*media)[0].direction, "recvonly");
  EXPECT_EQ((*media)[0].payload_for("h264", "packetization-mode=1"), 96);
  EXPECT_EQ((*media)[0].payload_for("VP9"), -1);
  EXPECT_EQ((*media)[1].direction, "sendrecv");
  EXPECT_EQ((*media)[1].payload_for("opus"), 111);
  EXPECT_FALSE(parse_sdp("v=0\r\n"));
}

TEST(TurnUri, EncodesTheSharedSecretSchemesUsernameAndKeepsTheTransport) {
  auto u = webrtc::turn_uri("turn:10.1.2.3:3478?transport=tcp", "1700000000:room-12", "a+b/c=");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, "turn://1700000000%3Aroom-12:a%2Bb%2Fc%3D@10.1.2.3:3478?transport=tcp");
  auto s = webrtc::turn_uri("turns:turn.example.org:5349", "u", "p");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s, "turns://u:p@turn.example.org:5349");
}

TEST(TurnUri, RefusesWhatWebrtcbinCannotUseNamingWhy) {
  EXPECT_NE(webrtc::turn_uri("stun:10.1.2.3:3478", "u", "p").error().message.find("turn:"), std::string::npos);
  EXPECT_NE(webrtc::turn_uri("turn:10.1.2.3", "u", "p").error().message.find("host:port"), std::string::npos);
  EXPECT_NE(webrtc::turn_uri("turn:10.1.2.3:34x", "u", "p").error().message.find("host:port"), std::string::npos);
  EXPECT_NE(webrtc::turn_uri("turn:10.1.2.3:3478?transport=sctp", "u", "p").error().message.find("transport"),
            std::string::npos);
  EXPECT_NE(webrtc::turn_uri("turn:10.1.2.3:3478", "", "p").error().message.find("username"), std::string::npos);
}

TEST(TurnUri, WebrtcbinTakesTheUriWithAnEscapedUsername) {
  webrtc::ensure_gstreamer();
  boost::asio::io_context io;
  GstElement* bin = GST_ELEMENT(gst_object_ref_sink(gst_bin_new("turn_bin")));
  webrtc::PeerOptions o;
  o.relay_only = true;
  auto peer = webrtc::Peer::create(io, GST_BIN(bin), "w", o);
  ASSERT_TRUE(peer) << peer.error().message;
  auto u = webrtc::turn_uri("turn:127.0.0.1:3478?transport=udp", "1700000000:room-12", "secret");
  ASSERT_TRUE(u);
  EXPECT_TRUE((*peer)->add_turn_server(*u));
  GstWebRTCICETransportPolicy policy{};
  g_object_get((*peer)->element(), "ice-transport-policy", &policy, nullptr);
  EXPECT_EQ(policy, GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY);
  EXPECT_FALSE((*peer)->add_turn_server("turn://no-credentials@127.0.0.1:3478"));
  peer->reset();
  gst_object_unref(bin);
}

}  // namespace
}  // namespace classcam::webrtc
