#pragma once
// Live observation, hub side (docs/live.md): a unit's one WebRTC stream comes in (the ingest, WHIP-style
// POST /api/v1/unit/live) and goes out to every allowed viewer (WHEP-style POST
// /api/v1/live/<unit_id>/whep) without re-encoding: the ingest is depayloaded once into an appsink, and
// each viewer has its own pipeline, appsrc -> payloader (the viewer's payload type, a pinned SSRC) ->
// webrtcbin, so one slow viewer never stalls the unit or the others. A viewer's PLI/FIR becomes a
// keyframe request to the unit, at most one per second. The hub tells the unit stream_start when an
// allowed viewer arrives and consent holds, stream_stop a grace period after the last viewer left or
// when a limit passes, and publishes the retained LiveStatus.
//
// Talkback: an invited coach's view may carry their microphone (audio sendrecv); the ingest answers the
// unit's audio m-line sendrecv with an appsrc -> rtpopuspay of its own. Only the current talker's
// depayloaded Opus is pushed into it (the talk floor: one talker, renewed or dropped after talk_floor,
// released on leaving, refused while muted by the teacher or the unit); nobody talking, nothing is sent.
//
// Threading: all state lives on one strand of the hub's io_context; route handlers post onto it and
// reply from it; webrtc::Peer callbacks arrive on it. Two things run on GStreamer streaming threads and
// touch nothing but the Fanout (its own mutex) and GStreamer objects: the ingest's appsink callbacks,
// which push each buffer into every viewer's appsrc (posting every frame to the strand would add
// latency and load for nothing), and the viewers' upstream-event probes, which turn a force-key-unit
// into a rate-limited request on the ingest's appsink. The talking viewers' audio appsinks run there too
// and only push into the ingest's talkback appsrc, under the Fanout's mutex, when the Fanout names them
// as the talker (the strand changes who that is).
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/protocol/messages.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/http/router.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::live {

struct LiveOptions {
  std::vector<std::string> ice_addresses;  // empty: every interface
  std::chrono::seconds max_live{3600};
  std::chrono::seconds preview{120};
  std::chrono::seconds grace{10};
  std::chrono::seconds ingest_wait{15};
  std::chrono::milliseconds keyframe_interval{1000};
  // A talk floor not renewed (POST .../talk {"talking": true} again) for this long is dropped.
  std::chrono::seconds talk_floor{60};
  // TURN for the page (GET /api/v1/live/ice): "host:port" and coturn's static-auth-secret.
  std::string turn_server;
  std::string turn_secret;
  std::chrono::seconds turn_credential{3600};
};

struct LiveHooks {
  // Sends a command to the unit over MQTT; false when it cannot be sent (no broker).
  std::function<bool(const std::string& unit_id, const protocol::Command&)> send_command;
  std::function<void(const protocol::LiveStatus&)> publish_status;
};

class Live {
 public:
  Live(boost::asio::io_context& io, store::Store& store, audit::Auditor& auditor, LiveOptions options, LiveHooks hooks);
  ~Live();
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;

  void add_routes(http::Router& router);
  // Ends every view and ingest (the hub is stopping). Blocks until done; call from outside the strand
  // while the io_context still runs.
  void stop();

  // For tests: how many viewers watch `unit_id` (0 without an ingest); thread-safe (waits on the strand).
  std::size_t viewers(const std::string& unit_id);
  bool ingest_running(const std::string& unit_id);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace classcam::hub::live
