#pragma once
// The spool: where recorded segments wait on the unit until the hub has them.
//
//   <spool.dir>/.lock                        one classcamd per spool (flock)
//   <spool.dir>/sessions/<session_id>/manifest.jsonl
//                                     /seg-00000.mp4         closed segments
//                                     /seg-00001.mp4.part    the segment being written
//
// Close protocol: a segment is written under seg-NNNNN.mp4.part; closing it fsyncs the file, hashes
// it, renames it to seg-NNNNN.mp4, fsyncs the directory and only then appends its SegmentEntry to the
// manifest (fsync'd). Recovery (at start, or after a stop that timed out) finishes what a crash
// interrupted: a .part file keeps its complete fragments as a playable segment marked `recovered`
// (any torn tail is kept beside it as .torn), a renamed file without its manifest line gets one, and the
// session is marked ended. Nothing is ever deleted except segments the hub has confirmed, and only to
// make room (quota.hpp).
//
// Threading: a Spool is not thread-safe and does blocking I/O (fsync, hashing). The daemon owns it
// through SpoolService, which runs every call on one strand of the worker pool.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"
#include "firmware/spool/manifest.hpp"
#include "firmware/spool/quota.hpp"
#include "firmware/spool/segment_writer.hpp"

namespace classcam::spool {

// A closed segment not yet confirmed by the hub, for the uploader.
struct PendingSegment {
  protocol::SegmentEntry entry;
  std::filesystem::path path;
  std::optional<SetAside> set_aside;  // the uploader set it aside: try again at its retry_at
};

struct Usage {
  std::uint64_t used_bytes = 0;
  std::uint64_t limit_bytes = 0;
  std::uint64_t fs_total_bytes = 0;
  std::uint64_t fs_avail_bytes = 0;
  std::uint32_t backlog_segments = 0;  // closed, not yet uploaded
  std::uint64_t backlog_bytes = 0;
  std::uint32_t set_aside_segments = 0;  // of the backlog, set aside by the uploader
  std::uint64_t evictable_bytes = 0;     // uploaded, still on disk
  std::uint32_t sessions = 0;
};

struct RecoveredSession {
  std::string session_id;
  std::uint32_t segments = 0;                     // closed segments the session now has
  std::int64_t recorded_ns = 0;                   // their total duration
  std::vector<protocol::SegmentEntry> recovered;  // closed by recovery
  std::vector<std::string> notes;                 // what recovery did, for the log
  protocol::SessionInfo ended;                    // as the end record has it
};

// Maps the recorder's media time to wall-clock and pipeline time (for manifest start times).
struct TimeBase {
  std::chrono::system_clock::time_point utc_at_running_zero{};  // unset: now is used
  std::optional<std::int64_t> first_sample_running_ns;          // running time of the stream's first sample
};

struct WriteOutcome {
  std::vector<OpenedSegment> opened;
  std::vector<protocol::SegmentEntry> closed;
};

struct Eviction {
  QuotaDecision decision;
  std::uint32_t evicted_segments = 0;
  std::uint64_t evicted_bytes = 0;
};

class Spool {
 public:
  explicit Spool(config::UnitConfig::Spool config);
  ~Spool();
  Spool(Spool&&) noexcept;
  Spool& operator=(Spool&&) = delete;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Creates the directories, takes the lock and reads every manifest. Does not recover.
  Status open();
  // Recovers every session without an end record (see the top of this file).
  std::vector<RecoveredSession> recover();

  static std::string segment_name(std::uint32_t index);  // "seg-00007.mp4"
  static std::string temp_name(std::uint32_t index);     // "seg-00007.mp4.part"
  // The index in a segment or temporary file name ("seg-00007.mp4[.part]"), if it is one.
  static std::optional<std::uint32_t> index_of(const std::string& file_name);
  // Where a session's files live, under a spool directory (the same path session_dir gives).
  static std::filesystem::path session_dir_in(const std::filesystem::path& spool_dir, const std::string& session_id);
  std::filesystem::path root() const { return config_.dir; }
  std::filesystem::path session_dir(const std::string& session_id) const;

  // ---- recording ----
  // Creates the session's directory and manifest, and a SegmentWriter for its stream.
  Status begin_session(const protocol::SessionInfo& info);
  // The next bytes of the session's fragmented-MP4 stream: segments are opened and closed (durably, with
  // their manifest records) as the stream crosses segment boundaries.
  Result<WriteOutcome> write(const std::string& session_id, std::string_view bytes, const TimeBase& time_base);
  // fdatasync of the session's open segment.
  Status sync_open(const std::string& session_id);
  Status segment_opened(const std::string& session_id, const OpenedSegment& opened);
  Result<protocol::SegmentEntry> close_segment(const std::string& session_id, std::uint32_t index,
                                               std::int64_t start_pts_ns, std::int64_t duration_ns,
                                               util::TimePoint start_utc);
  Status add_bookmark(const protocol::Bookmark& bookmark);
  // Ends a session: closes the segment being written, then whatever other segment files are still open
  // (as recovery does; normally there are none), then writes the end record.
  Result<RecoveredSession> finish_session(const std::string& session_id, const std::string& reason);
  Result<protocol::SessionInfo> end_session(const std::string& session_id, util::TimePoint ended_at,
                                            const std::string& reason);

  // ---- uploader ----
  // Closed segments the hub has not confirmed, oldest session first, in index order.
  std::vector<PendingSegment> pending() const;
  // Persists the hub's confirmation; idempotent.
  Status mark_uploaded(const std::string& session_id, std::uint32_t index);
  // Persists that the uploader set a segment aside (`reason`), to be tried again at `retry_at`; counts
  // the attempts. The queue goes on without it, across restarts too.
  Result<SetAside> set_aside(const std::string& session_id, std::uint32_t index, const std::string& reason,
                             util::TimePoint retry_at);

  // ---- quota ----
  Usage usage() const;
  // Evicts uploaded segments, oldest first, until `reserve_bytes` fit under the quota. An Error (saying
  // how full the spool is and why) when they cannot: the caller must not record then.
  Result<Eviction> make_room(std::uint64_t reserve_bytes);

  // ---- reading ----
  const Manifest* manifest(const std::string& session_id) const;
  std::vector<std::string> sessions_oldest_first() const;

 private:
  struct Session {
    std::filesystem::path dir;
    Manifest manifest;
    std::unique_ptr<SegmentWriter> writer;  // while recording
    TimeBase time_base;
  };
  std::int64_t running_ns(const Session& s, std::int64_t media_ns) const;
  util::TimePoint utc_of(const Session& s, std::int64_t running_ns) const;
  Session* find(const std::string& session_id);
  Status append(Session& s, const std::string& record);
  Result<protocol::SegmentEntry> close_file(Session& s, std::uint32_t index, const std::filesystem::path& from,
                                            std::int64_t start_pts_ns, std::int64_t duration_ns,
                                            util::TimePoint start_utc, bool recovered);
  RecoveredSession recover_files(const std::string& id, Session& s);
  void recover_file(Session& s, std::uint32_t index, const std::filesystem::path& path, bool part,
                    RecoveredSession& out, const std::function<void(const std::string&)>& note);
  std::uint64_t open_part_bytes() const;

  config::UnitConfig::Spool config_;
  std::filesystem::path sessions_dir_;
  std::map<std::string, Session> sessions_;
  std::uint64_t tracked_bytes_ = 0;  // every file under the spool except open .part files
  int lock_fd_ = -1;
};

}  // namespace classcam::spool
