#pragma once
// Uploader: sends every closed segment to the hub, in order, as soon as it closes (docs/protocol.md
// "Segment uploads", docs/unit-link.md):
//   - PUT /api/v1/unit/sessions/{id} when a session is first seen, and again with segment_count once it
//     has ended and all its segments are in;
//   - one tus upload per segment: creation-with-upload for a segment that fits one chunk, else POST then
//     PATCH chunks of upload.chunk_bytes with Upload-Checksum; the upload's Location is kept on disk
//     (<state_dir>/uploads/<session>/<index>.location) so that after a cut or a restart of either side a
//     HEAD gives the hub's offset and the upload goes on from there;
//   - the spool marks a segment uploaded (and may then evict it) only once the hub confirmed it: the
//     204 that completes the upload (the hub checked size and SHA-256), or, when that answer was lost to
//     a cut, a HEAD showing the upload complete (a refused upload is 410 there, never complete);
//   - one bad segment never holds up the queue: a segment whose file is missing or unreadable, or that
//     the hub refuses for itself (a 4xx other than 401/403/408/409/423/429/460, or 422 -- its bytes do
//     not match the entry -- a few times over), is set aside: the spool's manifest records why, the
//     attempts and when to try it again (set_aside_retry_min doubling up to set_aside_retry_max, so it
//     holds across a restart), its file is kept, and the later segments go on. A session whose
//     announcement the hub refuses that way is passed over likewise (in memory);
//   - failures of the link or the hub as a whole (network, TLS, 5xx, 401/403, 408, 409, 423, 429, 460)
//     back off exponentially with jitter (upload.retry_min_s .. retry_max_s) for the whole queue; an
//     optional bandwidth cap (upload.bandwidth_kbps) and upload window (upload.window, local time).
//
// Threading: one worker thread does all the network I/O (blocking HttpsClient). It reads and updates
// the spool only through SpoolService (the spool's strand), waiting for the answer; status() is read
// under a mutex from the io_context. wake() may be called from any thread.
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/config/unit_config.hpp"
#include "common/protocol/json_reader.hpp"
#include "firmware/net/https_client.hpp"
#include "firmware/spool/service.hpp"
#include "firmware/uploader/window.hpp"

namespace classcam::uploader {

struct Settings {
  net::Url hub;
  std::filesystem::path ca_file;
  std::string token;
  std::string unit_id;  // sessions recorded before enrolment ("unenrolled") are announced under it
  std::filesystem::path state_dir;
  config::UnitConfig::Upload upload;
  std::uint32_t max_mismatch_retries = 3;  // 422s before a segment is set aside
  // A set-aside segment (or refused session) is tried again after this, doubling each time up to the max.
  std::chrono::seconds set_aside_retry_min{std::chrono::minutes(5)};
  std::chrono::seconds set_aside_retry_max{std::chrono::hours(6)};
};

struct UploadStatus {
  std::string state = "starting";  // idle | uploading | waiting for the upload window | retrying | stopped
  std::uint32_t backlog_segments = 0;
  std::uint64_t backlog_bytes = 0;
  std::uint64_t uploaded_segments = 0;  // confirmed by the hub since start
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t sent_bytes = 0;    // request-body bytes put on the wire since start
  std::uint64_t resent_bytes = 0;  // of which bytes that had been sent before (after cuts)
  std::uint64_t rate_bps = 0;      // bits per second over the last few seconds
  std::uint32_t set_aside = 0;     // segments set aside now (files kept, tried again later)
  std::uint32_t failures = 0;      // attempts that failed since start
  std::string last_error;
  std::string set_aside_error;  // why the latest segment was set aside, while any is
};

class Uploader {
 public:
  Uploader(spool::SpoolService& spool, Settings settings);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  void start();
  void stop();
  // Something changed in the spool (a segment closed, a session ended): look now.
  void wake();
  UploadStatus status() const;
  protocol::Json status_json() const;

 private:
  struct SessionWork {
    std::string id;
    protocol::SessionInfo info;
    std::optional<protocol::SessionInfo> end;
    std::vector<spool::PendingSegment> pending;
  };
  enum class Outcome { confirmed, set_aside };
  // How one segment went: confirmed, or set aside for `reason` (the segment's own problem).
  struct Attempt {
    Outcome outcome = Outcome::confirmed;
    std::string reason;
  };

  void run();
  std::optional<std::vector<SessionWork>> snapshot();
  bool mark_uploaded(const std::string& session_id, std::uint32_t index);
  void set_aside(const spool::PendingSegment& seg, const std::string& reason);
  std::chrono::seconds retry_delay(std::uint32_t attempts) const;
  Result<Attempt> upload(const spool::PendingSegment& seg);
  // An Error for a failure of the link or the hub as a whole; `refused` is set (and ok returned) when
  // the hub refused this session itself.
  classcam::Status announce(const protocol::SessionInfo& session, std::optional<std::string>& refused);
  // Passes over a session the hub refused, until a backoff passes.
  bool session_passed_over(const std::string& id) const;
  void pass_over_session(const std::string& id, const std::string& reason);
  void sleep_for(std::chrono::milliseconds d);
  void set_state(const std::string& s);
  void fail(const std::string& error);
  void note_sent(std::uint64_t bytes, std::uint64_t resent);
  void account(const std::string& key, std::uint64_t offset, std::uint64_t length, std::uint64_t wire);
  std::filesystem::path location_file(const std::string& session_id, std::uint32_t index) const;
  std::filesystem::path end_marker(const std::string& session_id) const;

  spool::SpoolService& spool_;
  const Settings settings_;
  Window window_;
  std::unique_ptr<net::HttpsClient> client_;
  std::thread thread_;
  std::set<std::string> announced_;  // worker only: sessions whose start was announced
  struct PassedOver {
    std::chrono::system_clock::time_point until;
    std::uint32_t attempts = 0;
  };
  std::map<std::string, PassedOver> passed_over_;    // worker only: sessions the hub refused
  std::map<std::string, std::uint64_t> high_water_;  // worker only: bytes of a segment ever sent

  mutable std::mutex mutex_;
  std::condition_variable wake_cv_;
  bool stopping_ = false;
  bool woken_ = false;
  UploadStatus status_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> rate_window_;
};

}  // namespace classcam::uploader
