#pragma once
// Real media for tests: short H.264 + AAC MP4 segments cut by splitmuxsink from test sources, as a
// unit would record them, with their manifest entries.
#include <filesystem>
#include <string>
#include <vector>

#include "common/protocol/messages.hpp"

namespace classcam::hub::testkit {

struct MadeSegments {
  std::vector<std::filesystem::path> files;
  std::vector<protocol::SegmentEntry> entries;  // size and SHA-256 filled in
};

struct MediaOptions {
  int width = 320;
  int height = 240;
  int bitrate_kbps = 0;           // 0 = x264's default rate control
  const char* pattern = "smpte";  // videotestsrc pattern ("snow" is noise: large frames, for benchmarks)
  // false: each segment is its own MP4 starting at zero (splitmuxsink). true: as a unit records them,
  // one fragmented-MP4 stream cut between fragments, each file the init segment (ftyp + moov) followed
  // by its moof+mdat pairs, timestamps continuing from file to file.
  bool fragmented = false;
};

// Records `seconds` of video at 25 fps (with audio) into `dir` as ~1 s segments seg-00000.mp4 ... and
// returns them with entries for `session_id`. Runs the pipeline to EOS (waits on the bus, which is
// reliable where gst-launch is not). Throws when GStreamer fails.
MadeSegments make_segments(const std::filesystem::path& dir, const std::string& session_id, int seconds,
                           const MediaOptions& options = {});

// protocol::SessionInfo for a session of `unit_id` that started now.
protocol::SessionInfo session_info(const std::string& unit_id, const std::string& session_id);

}  // namespace classcam::hub::testkit
