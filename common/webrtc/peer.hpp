#pragma once
// Peer: one GStreamer 1.22 webrtcbin driven from a boost::asio::io_context, shared by the unit's live
// sender (firmware/live) and the hub's ingest and viewers (hub/live); docs/live.md is the contract.
// Signalling is non-trickle: offer() and answer() hand back the local description only once ICE
// gathering is complete, so the one SDP sent over HTTPS carries every candidate.
//
// Threading: every public method, and every callback passed to them or set in PeerOptions (but
// on_pad_added), runs on the io_context's thread (or, with the executor overload of create(), on that
// executor: a strand when the io_context has several threads, as the hub's has). webrtcbin's signals and promise
// replies arrive on its own threads and only post to the io_context, through a shared state whose `alive` flag the
// destructor clears (on the io thread), so nothing posted runs after the Peer is gone. The exception
// is PeerOptions::on_pad_added: a src pad must be linked before data flows (an unlinked pad posts a
// not-linked flow error), so it runs on webrtcbin's streaming thread and may touch GStreamer objects
// only.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::webrtc {

// Initialises GStreamer once per process (thread-safe, idempotent).
void ensure_gstreamer();

struct PeerOptions {
  // Local addresses ICE gathers on; empty: every interface (libnice's default). The hub names the
  // addresses browsers and units can reach; loopback tests name 127.0.0.1.
  std::vector<std::string> ice_addresses;
  std::string stun_server;                // "stun://host:port", empty: none
  std::vector<std::string> turn_servers;  // "turn://user:password@host:port", empty: none (see turn_uri())
  // Only relayed candidates (TURN): every packet goes through the TURN server, as a network that lets
  // nothing else out requires (and as tests put an impaired link in front of one).
  bool relay_only = false;
  // The receiving jitterbuffer's latency: webrtcbin's default (200 ms) adds that much to glass to
  // glass by itself (platform notes, "Live").
  unsigned latency_ms = 40;
  // How long offer() and answer() wait for ICE gathering before they give up.
  std::chrono::milliseconds gather_timeout{10000};
  // webrtcbin's streaming thread (see the top of this file): link `pad` (a new src pad: incoming
  // media) at once. Unset: the pad goes to a fakesink so it never stalls the others.
  std::function<void(GstElement* webrtcbin, GstPad* pad)> on_pad_added;
  // io thread: the connection state changed (new, connecting, connected, disconnected, failed, closed).
  std::function<void(GstWebRTCPeerConnectionState)> on_state;
};

class Peer {
 public:
  using SdpDone = std::function<void(Result<std::string>)>;

  // Makes a webrtcbin named `name` (max-bundle, the options' STUN/TURN and latency), adds it to `bin`
  // and restricts its ICE addresses. The caller links its sink pads (outgoing media) and sets the bin's
  // state; the bin owns the element, the Peer holds a ref until it is destroyed.
  static Result<std::unique_ptr<Peer>> create(boost::asio::io_context& io, GstBin* bin, const std::string& name,
                                              PeerOptions options);
  static Result<std::unique_ptr<Peer>> create(boost::asio::any_io_executor executor, GstBin* bin,
                                              const std::string& name, PeerOptions options);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  GstElement* element() const { return webrtc_; }

  // Adds a TURN server (turn_uri()) before the offer or answer is made; an Error when webrtcbin refuses it.
  Status add_turn_server(const std::string& uri);

  // Offerer: create-offer, set it as local description, wait for gathering; `done` gets the offer's text.
  void offer(SdpDone done);
  // Answerer: set `offer_sdp` as remote description, create the answer, set it, wait for gathering;
  // `done` gets the answer's text, or an Error naming what is wrong (a malformed offer among others).
  void answer(const std::string& offer_sdp, SdpDone done);
  // Offerer: apply the far end's answer.
  void accept_answer(const std::string& answer_sdp, std::function<void(Status)> done);

  GstWebRTCPeerConnectionState connection_state() const;
  std::string local_description() const;

  struct Shared;

 private:
  Peer(boost::asio::any_io_executor executor, GstElement* webrtc, PeerOptions options);
  void connect_signals();
  void set_local(GstWebRTCSessionDescription* desc);
  void check_gathering();
  void finish(Result<std::string> r);

  GstElement* webrtc_;
  PeerOptions options_;
  std::shared_ptr<Shared> shared_;
  std::vector<gulong> handlers_;
  boost::asio::steady_timer timer_;
  SdpDone pending_;  // the offer() or answer() under way: one at a time
  bool local_set_ = false;
};

// Restricts a webrtcbin's ICE agent to these local addresses (libnice gathers on every interface
// otherwise; webrtcbin 1.22 has no option for it). Call before the first set-local-description.
Status restrict_ice_addresses(GstElement* webrtcbin, const std::vector<std::string>& addresses);

// Makes a webrtcbin's connection fail when the far end stops answering: libnice then keeps the
// connection alive with STUN binding requests instead of indications and fails it when they go
// unanswered (webrtcbin 1.22 has no consent freshness), so a browser closed without its DELETE, or a
// unit that lost power, ends as "failed" (within about a minute) instead of holding its place for ever.
Status fail_when_silent(GstElement* webrtcbin);

// webrtcbin's TURN URI for a server given as a browser's RTCIceServer gives it ("turn:host:port" or
// "turns:host:port", optionally "?transport=udp|tcp") with its username and credential, which are
// percent-encoded (the shared-secret scheme's usernames hold ':'; webrtcbin unescapes both halves).
// An Error names what is wrong with `url`.
Result<std::string> turn_uri(std::string_view url, std::string_view username, std::string_view credential);

// The SDP text of a webrtcbin's local description ("" when there is none).
std::string local_description_text(GstElement* webrtcbin);

// The "media" of a pad's caps ("video", "audio"; "" when it has none): what a new webrtcbin pad carries.
std::string pad_media(GstPad* pad);

// For PeerOptions::on_pad_added (webrtcbin's streaming thread): puts `element` (it takes the floating
// ref) into webrtcbin's bin, brings it to the bin's state and links webrtcbin's new src `pad` to its
// "sink" pad. False (logged by the caller) when it cannot be linked.
bool link_beside(GstElement* webrtcbin, GstPad* pad, GstElement* element);
GstElement* new_fakesink();  // sync=false, async=false: what takes media nobody wants

// Outgoing media: links `src` (RTP with pinned caps) to a new sink pad of webrtcbin and sets that pad's
// transceiver's direction and NACK (video only: Chromium rejects an SDP with NACK on audio). Before the
// offer or answer is made. False when it cannot be linked.
bool link_sending(GstElement* webrtcbin, GstPad* src, GstWebRTCRTPTransceiverDirection direction, bool nack);

// Parses SDP text; an Error says what is wrong with it, fit for a 400 reply.
struct SdpMedia {
  std::string kind;       // "video", "audio"
  std::string direction;  // "sendrecv", "sendonly", "recvonly", "inactive"
  std::string mid;
  std::vector<int> payloads;  // in the order offered
  // Payload type -> "H264/90000", "opus/48000/2", ...; and payload type -> fmtp parameters.
  std::vector<std::pair<int, std::string>> rtpmap;
  std::vector<std::pair<int, std::string>> fmtp;
  // The first payload type whose rtpmap encoding is `encoding` (case-insensitive) and whose fmtp
  // contains `fmtp_has` (when given); -1 if none.
  int payload_for(std::string_view encoding, std::string_view fmtp_has = {}) const;
};
Result<std::vector<SdpMedia>> parse_sdp(const std::string& text);

}  // namespace classcam::webrtc
