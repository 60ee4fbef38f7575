#pragma once
// Joins a session's MP4 segments into one seekable MP4 with the moov box first, without re-encoding:
// splitmuxsrc (which lays the parts end to end on one timeline) -> queue -> mp4mux faststart=true.
//
// Threading: blocking; runs a GStreamer pipeline to EOS. Call it from the join worker, never from the
// io_context. GStreamer's own threads only link pads; all results come back through the bus.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::hub::recordings {

// Initialises GStreamer once per process (safe to call repeatedly).
void ensure_gstreamer();

// Writes `output` (through a temporary file in the same directory, fsync'd and renamed), so a reader
// never sees a half-written file and a crash leaves only a temporary file behind.
// When `cancel` becomes true the join stops within a fraction of a second and fails ("cancelled"),
// leaving no output.
Status join_segments(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& output,
                     std::chrono::seconds timeout = std::chrono::minutes(30),
                     const std::atomic<bool>* cancel = nullptr);

}  // namespace classcam::hub::recordings
