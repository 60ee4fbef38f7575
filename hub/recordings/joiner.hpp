#pragma once
// Joins a session's MP4 segments into one seekable MP4 with the moov box first, without re-encoding:
// splitmuxsrc (which lays the parts end to end on one timeline) -> queue -> mp4mux faststart=true.
//
// Threading: blocking; runs a GStreamer pipeline to EOS. Call it from the join worker, never from the
// io_context. GStreamer's own threads only link pads; all results come back through the bus.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::hub::recordings {

// Initialises GStreamer once per process (safe to call repeatedly).
void ensure_gstreamer();

// What kind of failure a join met: the Status's message is for the hub's log (it names files on the
// server); describe() is what a recording's owner may be told.
enum class JoinProblem : std::uint8_t {
  none,
  no_space,         // the disk (or quota) ran out while writing
  write_failed,     // another error writing, syncing or moving the output
  missing_segment,  // a segment file is gone or cannot be read
  bad_media,        // the segments are not media the join can read
  timed_out,
  cancelled,
  internal,  // GStreamer elements missing and the like
};
// Words for people: names no path.
std::string_view describe(JoinProblem p);
// Whether the same join may well work later without anyone changing the segments.
bool worth_retrying(JoinProblem p);

// Writes `output` (through a temporary file in the same directory, fsync'd and renamed), so a reader
// never sees a half-written file and a crash leaves only a temporary file behind.
// When `cancel` becomes true the join stops within a fraction of a second and fails ("cancelled"),
// leaving no output. On failure `problem` (when given) says what kind it was.
Status join_segments(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& output,
                     std::chrono::seconds timeout = std::chrono::minutes(30), const std::atomic<bool>* cancel = nullptr,
                     JoinProblem* problem = nullptr);

}  // namespace classcam::hub::recordings
