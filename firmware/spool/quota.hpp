#pragma once
// Spool quota arithmetic, kept pure so it can be tested exhaustively. The spool may hold at most the
// smallest of: spool.max_bytes (when set), spool.max_percent of its filesystem, and what it holds now
// plus what the filesystem still has free. Before and during a recording it keeps `reserve` bytes of
// room for the segments being written; only segments the hub has confirmed (uploaded) may be evicted to
// make that room. When even evicting all of them is not enough the spool is full: recording stops.
#include <cstdint>
#include <string>

namespace classcam::spool {

struct QuotaInput {
  std::uint64_t used_bytes = 0;       // everything under the spool directory
  std::uint64_t fs_total_bytes = 0;   // the filesystem holding it
  std::uint64_t fs_avail_bytes = 0;   // free for us (statvfs f_bavail)
  std::uint64_t max_bytes = 0;        // 0 = no byte bound
  double max_percent = 80.0;          // of fs_total_bytes
  std::uint64_t evictable_bytes = 0;  // uploaded segments still on disk
  std::uint64_t reserve_bytes = 0;    // room wanted for what is about to be written
};

struct QuotaDecision {
  std::uint64_t limit_bytes = 0;    // the bound in force
  std::uint64_t to_free_bytes = 0;  // evict this much (uploaded segments, oldest first)
  bool full = false;                // evicting every uploaded segment would not be enough
};

QuotaDecision evaluate_quota(const QuotaInput& in);

// Room to keep free while recording: two segments at the configured bit rates plus a quarter for
// container overhead and rate-control overshoot.
std::uint64_t reserve_for_recording(std::uint32_t video_kbps, std::uint32_t audio_kbps, std::uint32_t segment_ms);

// "1.2 GB", "512 kB": sizes for people (decimal units, like df -H).
std::string human_bytes(std::uint64_t bytes);

}  // namespace classcam::spool
