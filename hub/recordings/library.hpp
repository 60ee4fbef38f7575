#pragma once
// The hub's recordings on disk and in the store: sessions announced by units, segments accepted from
// uploads, the join into one MP4 once every segment is in, joined-so-far previews while a lesson is
// still arriving, deletion and retention.
//
// Disk layout under the media directory:
//   recordings/<recording id>/segments/seg-00007.mp4   accepted segments, named by index
//   recordings/<recording id>/recording.mp4            the joined recording (moov first)
//   recordings/<recording id>/preview-<n>.mp4          the first n segments joined, while incomplete
//
// A join that fails in a way that may pass (the disk full, a write error, a timeout) is tried again
// by itself after a delay that doubles (JoinRetry), a bounded number of times; the next upload or
// announcement of the recording, and a restart, start a new series. What the recording's owner sees
// (`failure`) says what went wrong and what happens next, never a path on the server: the path and
// the rest go to the log.
//
// Threading: announce/accept/remove may be called from any thread (a mutex orders accepts and
// previews). Joins and previews run on the join executor (one worker thread), never the io_context;
// retries are started by the `later` executor (a timer), which only queues the join.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/log/log.hpp"
#include "common/protocol/messages.hpp"
#include "hub/access/principal.hpp"
#include "hub/audit/auditor.hpp"
#include "hub/recordings/joiner.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::recordings {

// Runs a job somewhere else (a worker pool); the job must not throw.
using Executor = std::function<void(std::function<void()>)>;
// Runs a job after a delay (a timer); the job must not throw. Jobs still waiting at shutdown may be dropped.
using Later = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

struct JoinRetry {
  int attempts = 6;  // joins in one series, the first included
  std::chrono::milliseconds first_delay = std::chrono::minutes(1);
  std::chrono::milliseconds max_delay = std::chrono::minutes(30);
};

struct MediaLayout {
  std::filesystem::path root;
  std::filesystem::path uploads() const { return root / "uploads"; }
  std::filesystem::path recording_dir(const std::string& id) const { return root / "recordings" / id; }
  std::string segment_relative(const std::string& id, std::uint32_t index) const;
  std::filesystem::path joined(const std::string& id) const { return recording_dir(id) / "recording.mp4"; }
  std::filesystem::path preview(const std::string& id, std::uint32_t n) const;
};

class Library {
 public:
  // Without `later` a failed join waits for the next upload, announcement or restart.
  Library(store::Store& store, audit::Auditor& auditor, MediaLayout layout, Executor join_worker, Later later = {},
          JoinRetry retry = {});

  const MediaLayout& layout() const { return layout_; }

  // A unit announces a session, at its start and again at its end (with ended_at and segment_count).
  // Creates the recording, or updates it; starts the join when that makes it complete.
  store::Outcome<store::Recording> announce(const access::Principal& unit, const protocol::SessionInfo& info);

  // Takes an uploaded file whose bytes matched `entry` into the recording (the file is moved). The
  // same segment again is accepted idempotently (the extra file is removed); a different file for an
  // index already stored is a conflict and the file is left where it is.
  store::Outcome<store::Segment> accept_segment(const store::Recording& rec, const protocol::SegmentEntry& entry,
                                                const std::filesystem::path& file);

  // Joins a complete recording on the join worker (no-op when it is not complete or already joining).
  void schedule_join(const std::string& recording_id);
  // Joins a recording whose join failed again now, starting a new series of retries.
  void retry_join(const std::string& recording_id);
  // At start-up: re-queues joins a restart interrupted (or that failed), removes orphaned directories.
  void resume();
  // At shutdown: a join under way stops promptly; its recording goes back to `complete` and is
  // joined again at the next start.
  void stop() { stopping_ = true; }

  // How many segments from index 0 are in without a gap (what a preview can show).
  std::uint32_t contiguous_segments(const std::string& recording_id);
  // A joined file of the first `n` segments, built on the join worker if needed. `done` runs on the
  // join worker (or at once when the file exists) with the path or what went wrong.
  void preview(const std::string& recording_id, std::uint32_t n,
               std::function<void(Result<std::filesystem::path>)> done);

  // Deletes the recording's row and files and writes the audit entry (`actor`, or the system when
  // absent). Returns false when it was already gone.
  bool remove(const store::Recording& rec, const std::optional<access::Principal>& actor, const std::string& why);

  // Deletes every recording started more than `days` days before `now` (0 = keep forever), each one
  // audited. Returns how many it deleted.
  std::size_t apply_retention(util::TimePoint now, std::uint32_t days);

 private:
  void run_join(const std::string& recording_id);
  // After a failed join: schedules the next try if there is one; returns what the owner is told.
  std::string after_failure(const std::string& recording_id, JoinProblem problem);
  void finish_preview(const std::string& recording_id, std::uint32_t n);
  std::string default_title(const std::optional<store::Room>& room, const protocol::SessionInfo& info) const;

  store::Store& store_;
  audit::Auditor& auditor_;
  MediaLayout layout_;
  Executor join_worker_;
  Later later_;
  JoinRetry retry_;
  std::atomic<bool> stopping_{false};
  log::Logger log_ = log::get("recordings");

  std::mutex mutex_;  // guards the members below; never held while calling the store
  std::set<std::string> joining_;
  struct Retries {
    int failures = 0;      // in the current series
    bool pending = false;  // a retry is waiting on `later_`
  };
  std::map<std::string, Retries> retries_;
  std::map<std::pair<std::string, std::uint32_t>, std::vector<std::function<void(Result<std::filesystem::path>)>>>
      preview_waiters_;
  // Orders accept_segment calls (check, move, insert). Lock order: accept_mutex_, then the store's own.
  std::mutex accept_mutex_;
};

}  // namespace classcam::hub::recordings
