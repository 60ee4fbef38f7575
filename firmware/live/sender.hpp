#pragma once
// Sender: the unit's one live stream to the hub (docs/live.md, "Unit -> hub"). A live Branch
// (branch.hpp) on the capture pipeline feeds a webrtcbin; the Sender makes a non-trickle offer (sent
// once ICE gathering is complete, so it carries every candidate), POSTs it to the hub's
// /api/v1/unit/live with the unit's Bearer token, applies the answer, and DELETEs the ingest on stop.
//
// Offer: m=video sendonly H.264 (the recording's own stream, packetization-mode=1, NACK/RTX; PLI and
// FIR come back as upstream force-key-unit events, which the Branch turns into rate-limited requests to
// the capture's keyframe grid, docs/live.md "Keyframes"), m=audio Opus
// sendrecv when the pipeline has audio (the receive direction is talkback, played by playout.hpp),
// recvonly without; with live.talkback = "off" nothing is received: sendonly, or no m=audio at all
// without a microphone. One BUNDLE group. The offer is made once both RTP pads carry caps, so it declares the stream's
// real profile-level-id, sprop-parameter-sets and the pinned SSRCs.
//
// Threading: every public method and every Events callback runs on the io_context thread. webrtcbin is
// driven through common/webrtc's Peer (its signals and promises post to the io_context; its pad-added
// for the incoming audio links on webrtcbin's thread, GStreamer objects only). HTTP requests run on the
// Sender's own worker thread (net::HttpsClient blocks) and post their results through a liveness token.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gst/gst.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/util/result.hpp"
#include "common/webrtc/peer.hpp"
#include "firmware/live/branch.hpp"
#include "firmware/live/playout.hpp"
#include "firmware/net/https_client.hpp"

namespace classcam::live {

struct SenderOptions {
  net::Url hub;
  std::filesystem::path ca_file;  // the pinned hub CA
  std::string token;              // the unit's Bearer token
  std::string live_id;            // from the stream_start command; empty: the hub makes one
  // Local addresses ICE gathers on (empty: every interface, libnice's default).
  std::vector<std::string> ice_addresses;
  std::string stun_server;  // "stun://host:port", empty: none (the hub is reached through its host candidates)
  BranchOptions branch;
  std::chrono::milliseconds setup_timeout{15000};  // caps, ICE gathering and the POST together
  // Talkback (playout.hpp): config live.talkback, and whether it starts muted.
  std::string talkback = "off";
  bool talkback_muted = false;
};

class Sender {
 public:
  struct Events {
    // The hub answered 201 and its answer is applied: `live_id` is the ingest's id (the hub's when
    // the unit had none).
    std::function<void(const std::string& live_id)> connected;
    // Live cannot start or broke off (the POST refused, ICE or DTLS failed); the branch is being
    // stopped. Never called after stop().
    std::function<void(const std::string& why)> failed;
  };

  Sender(boost::asio::io_context& io, GstElement* pipeline, SenderOptions options, Events events);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Builds and starts the branch with its webrtcbin and begins the offer. An Error when the branch
  // cannot start; later failures come through Events::failed.
  Status start();
  // DELETEs the ingest (when the hub had answered) and stops the branch; `done` runs on the
  // io_context once the branch is gone.
  void stop(std::function<void()> done = {});
  // Drops (or plays again) the incoming talkback at once; with `tell_hub`, POSTs it to the ingest's
  // .../mute as well (best effort: a failure is logged, the unit stays muted).
  void set_talkback_muted(bool muted, bool tell_hub);

  enum class Phase { idle, offering, posting, connected, failed, stopping, stopped };
  Phase phase() const { return phase_; }
  const std::string& live_id() const { return live_id_; }
  const std::string& location() const { return location_; }
  GstElement* webrtcbin() const { return peer_ ? peer_->element() : nullptr; }
  const Branch* branch() const { return branch_.get(); }
  bool talkback_muted() const { return playout_ && playout_->muted(); }

 private:
  void wait_for_caps(int tries_left);
  void post_offer();
  void on_answer(Result<net::Response> r);
  void fail(const std::string& why);

  boost::asio::io_context& io_;
  SenderOptions options_;
  Events events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<Branch> branch_;
  std::shared_ptr<Playout> playout_;  // shared with webrtcbin's pad-added
  std::unique_ptr<webrtc::Peer> peer_;
  boost::asio::steady_timer timer_;
  boost::asio::thread_pool worker_{1};
  Phase phase_ = Phase::idle;
  std::string live_id_;
  std::string location_;
  std::string offer_sdp_;
};

}  // namespace classcam::live
