#pragma once
// Reads the structure of a fragmented MP4 segment (ftyp, moov, then moof+mdat pairs), as the recorder
// writes them, without decoding any media. Crash recovery uses it to find where the last complete
// fragment ends in a segment cut short by a kill or a power cut, and how much media that prefix holds.
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/util/result.hpp"

namespace classcam::spool {

struct Fmp4Scan {
  std::uint64_t file_size = 0;
  // Bytes from the start up to the end of the last complete moof+mdat pair (0 without moov).
  std::uint64_t complete_size = 0;
  std::uint32_t complete_fragments = 0;
  bool has_moov = false;
  bool has_video = false;
  // Media in the complete prefix, on the reference track (video when there is one, else the first
  // track): decode time of the first sample and end of the last, in nanoseconds.
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t duration_ns() const { return end_ns - start_ns; }
  // Playable: a header and at least one complete fragment.
  bool playable() const { return has_moov && complete_fragments > 0; }
  bool torn() const { return complete_size < file_size; }
};

// Scans `path`. An Error only for I/O failures or a file that is not an MP4 at all; a torn tail is
// normal and reported through complete_size.
Result<Fmp4Scan> scan_fmp4(const std::filesystem::path& path);

}  // namespace classcam::spool
