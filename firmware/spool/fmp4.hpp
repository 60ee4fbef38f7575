#pragma once
// Reads the structure of a fragmented MP4 segment (ftyp, moov, then moof+mdat pairs), as the recorder
// writes them, without decoding any media. Crash recovery uses it to find where the last complete
// fragment ends in a segment cut short by a kill or a power cut, and how much media that prefix holds.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::spool {

// Every size and count read from the file is checked against what contains it (a box against its
// parent and the file, a trun's samples against the trun and the mdat, decode times against the
// track's previous fragment and the longest segment there can be). The complete part ends before the
// first box that does not check out; `problem` says what it was. Memory is bounded whatever the file's
// size: headers (moov, moof) are read box by box up to kMaxHeaderBoxBytes, media (mdat) is skipped.
inline constexpr std::size_t kMaxHeaderBoxBytes = 4 << 20;
// No segment is this long (the protocol refuses a longer one), so no fragment is either.
inline constexpr std::int64_t kMaxSegmentNs = 3'600'000'000'000;

struct Fmp4Scan {
  std::uint64_t file_size = 0;
  // Bytes from the start up to the end of the last complete moof+mdat pair (0 without moov).
  std::uint64_t complete_size = 0;
  std::uint32_t complete_fragments = 0;
  bool has_moov = false;
  bool has_video = false;
  // Why the complete part ends before the file does, when that is not simply a torn last box.
  std::string problem;
  // Media in the complete prefix, on the reference track (video when there is one, else the first
  // track): decode time of the first sample and end of the last, in nanoseconds.
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t duration_ns() const { return end_ns - start_ns; }
  // Playable: a header and at least one complete fragment.
  bool playable() const { return has_moov && complete_fragments > 0; }
  bool torn() const { return complete_size < file_size; }
};

// Scans `path`. An Error only for I/O failures (naming the file) or a file that is not an MP4 at all;
// a torn or corrupt tail is normal and reported through complete_size and problem. Never throws.
Result<Fmp4Scan> scan_fmp4(const std::filesystem::path& path);

// ---- pieces, for the segment writer (segment_writer.hpp) ----

struct Fmp4Track {
  std::uint32_t timescale = 0;
  bool video = false;
  std::uint32_t default_duration = 0;  // from trex
  std::uint32_t default_size = 0;      // from trex
};
using Fmp4Tracks = std::map<std::uint32_t, Fmp4Track>;

// One track's run of samples in a moof.
struct Fmp4Fragment {
  std::uint32_t track_id = 0;
  bool video = false;
  bool starts_with_sync = false;  // its first sample is a keyframe
  std::int64_t start_ns = 0;      // decode time of its first sample
  std::int64_t end_ns = 0;        // and of the end of its last
  std::uint64_t data_bytes = 0;   // its samples' bytes, which the mdat after the moof must hold
};

// The track fragments of a moof, or what is wrong with it.
struct Fmp4Moof {
  std::vector<Fmp4Fragment> fragments;
  std::string problem;  // empty when every count and size in it checks out
};

// The tracks a moov box (whole box, header included) declares.
Fmp4Tracks parse_moov(std::string_view moov);
// The track fragments of a moof box (whole box); tracks not in `tracks` are skipped.
Fmp4Moof read_moof(std::string_view moof, const Fmp4Tracks& tracks);
// read_moof's fragments; none when the moof is corrupt.
std::vector<Fmp4Fragment> parse_moof(std::string_view moof, const Fmp4Tracks& tracks);

// Splits a byte stream into whole top-level boxes, however the bytes arrive.
class Fmp4BoxStream {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete box (type, whole box bytes), if one is complete.
  std::optional<std::pair<std::string, std::string>> next();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace classcam::spool
