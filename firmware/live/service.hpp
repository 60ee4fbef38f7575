#pragma once
// Service: live on the unit, whoever asks for it (classcamctl live start|stop, the hub's stream_start /
// stream_stop, docs/live.md). One live stream at a time. It rides on the running recording's pipeline
// when there is one, and otherwise runs a live-only pipeline of its own (capture::plan_live: a coach
// checking the framing). When a recording starts or ends while live runs, live moves to the other
// pipeline and offers again with the same live_id (the hub replaces an ingest whose live_id matches).
// Live stops after its max_s, on stop, or when the hub refuses or the connection fails.
//
// What the unit tells the room and the hub: streaming(), info() (live_id, viewers and talking, from the
// hub's retained LiveStatus; talkback_muted), for UnitState, Telemetry and the LED. Talkback
// (playout.hpp) plays on config live.talkback; it is muted from the unit (set_talkback_muted: the
// button's double press, classcamctl live mute) or the hub (LiveStatus.talkback_muted), the later wins.
//
// Threading: everything here runs on the io_context thread; the Sender and Recorder it owns post their
// events here.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"
#include "firmware/capture/plan.hpp"
#include "firmware/capture/recorder.hpp"
#include "firmware/live/sender.hpp"

namespace classcam::live {

// Where the ingest is: the enrolled hub.
struct HubAccess {
  net::Url hub;
  std::filesystem::path ca_file;
  std::string token;
};

struct StartRequest {
  std::optional<std::string> live_id;  // from stream_start; absent: the hub makes one
  std::uint32_t max_s = 3600;
  std::string reason;
};

class Service {
 public:
  struct Deps {
    boost::asio::io_context& io;
    const config::UnitConfig& config;
    Result<capture::Selection> selection;
    // The running recording's pipeline, or null when none runs (Controller::recording_pipeline()).
    std::function<GstElement*()> recording_pipeline;
    // Local addresses ICE may use (empty: every interface).
    std::vector<std::string> ice_addresses;
  };
  explicit Service(Deps deps);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Not enrolled: nullopt, and start() fails saying so.
  void set_hub(std::optional<HubAccess> hub) { hub_ = std::move(hub); }

  // Done with the ingest's live_id once the hub answered 201, or with why live could not start. A
  // start while live runs with the same (or no) live_id answers with the running one.
  void start(const StartRequest& request, std::function<void(Result<std::string>)> done);
  // Stops live (only the one named, when a live_id is given); done once the branch is gone.
  void stop(const std::optional<std::string>& live_id, std::function<void(Status)> done);
  // The hub's retained LiveStatus for this unit. A change of its talkback_muted mutes or unmutes
  // talkback here too (the teacher's page); an unchanged value never undoes the unit's own mute.
  void on_live_status(const protocol::LiveStatus& status);
  // The teacher muted or unmuted talkback on the unit (button gesture, classcamctl): the playout
  // drops incoming audio at once and the hub is told. An Error when live does not run.
  Status set_talkback_muted(bool muted);
  bool talkback_muted() const { return muted_; }
  // The recording started or ended: live moves to the pipeline that now carries the camera.
  void recording_changed();

  bool streaming() const { return running_; }
  std::optional<protocol::LiveInfo> info() const;
  void on_change(std::function<void()> observer) { observers_.push_back(std::move(observer)); }

 private:
  GstElement* host_pipeline();
  Status launch();
  Status start_sender(GstElement* pipeline);
  void teardown(std::function<void()> done);
  void fail(const std::string& why);
  void notify();
  void answer_pending(Result<std::string> r);

  Deps deps_;
  std::optional<HubAccess> hub_;
  bool running_ = false;
  std::string live_id_;
  std::uint32_t viewers_ = 0;
  bool talker_ = false;                              // the hub's LiveStatus names a talker
  bool muted_ = false;                               // talkback muted, whoever did it (last one wins)
  bool hub_muted_seen_ = false;                      // the last LiveStatus.talkback_muted (its changes are what count)
  std::unique_ptr<capture::Recorder> own_pipeline_;  // live-only
  std::unique_ptr<Sender> sender_;
  GstElement* host_ = nullptr;  // the pipeline the sender rides on
  boost::asio::steady_timer limit_timer_;
  std::vector<std::function<void(Result<std::string>)>> pending_;
  std::vector<std::function<void()>> observers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace classcam::live
