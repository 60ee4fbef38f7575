#pragma once
// SegmentWriter cuts the recorder's one continuous fragmented-MP4 stream (ftyp, moov, then moof+mdat
// pairs from mp4mux) into segment files:
//   - every segment file starts with the same init segment (ftyp + moov), then whole fragments, so each
//     is a normal playable MP4 and the hub can join them without re-encoding (the codec parameters are
//     the same in all: one muxer, one encoder for the whole session);
//   - a new segment starts at the first keyframe fragment of the reference track (video, else audio)
//     at least recording.segment_ms after the current segment's start;
//   - only whole boxes are written, each with one write(2) as soon as it is complete, so what a kill -9
//     can take is the fragment being assembled (recorder fragments are 100 ms) and nothing a muxer or
//     stdio buffer held.
// It writes seg-NNNNN.mp4.part files and reports opened/closed segments; closing them durably (fsync,
// hash, rename, manifest) is the Spool's job. Not thread-safe; blocking I/O: the spool's strand only.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"
#include "firmware/spool/fmp4.hpp"

namespace classcam::spool {

struct WriterEvent {
  enum class Kind { opened, closed };
  Kind kind = Kind::opened;
  std::uint32_t index = 0;
  std::int64_t start_ns = 0;  // media time of the segment's first (reference) sample
  std::int64_t end_ns = 0;    // closed: end of its last reference sample
};

class SegmentWriter {
 public:
  SegmentWriter(std::filesystem::path dir, std::uint32_t segment_ms);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Takes the next bytes of the stream; writes every box they complete. An Error when a write fails
  // (disk full): the caller must stop recording.
  Result<std::vector<WriterEvent>> feed(std::string_view bytes);
  // End of the stream: the open segment is complete (a partial box still buffered is dropped).
  std::optional<WriterEvent> finish();
  // fdatasync of the open segment, so a power cut loses at most what came since.
  Status sync();

  std::optional<std::uint32_t> open_index() const { return fd_ >= 0 ? std::optional(index_) : std::nullopt; }
  // Media time of the stream's first fragment, to map media time to pipeline running time.
  std::optional<std::int64_t> first_media_ns() const { return first_media_; }

 private:
  Status write(std::string_view bytes);
  Result<std::vector<WriterEvent>> fragment(const std::string& bytes, const std::vector<Fmp4Fragment>& frags);
  WriterEvent close_current();

  std::filesystem::path dir_;
  std::int64_t segment_ns_;
  Fmp4BoxStream stream_;
  std::string init_;  // ftyp + moov
  Fmp4Tracks tracks_;
  std::optional<std::uint32_t> ref_track_;
  std::string pending_moof_;
  std::vector<Fmp4Fragment> pending_frags_;
  std::optional<std::int64_t> first_media_;

  int fd_ = -1;
  std::uint32_t index_ = 0;     // of the open segment (or the next one)
  std::int64_t seg_start_ = 0;  // media time the open segment starts at
  std::optional<std::int64_t> seg_ref_start_;
  std::int64_t seg_ref_end_ = 0;
};

}  // namespace classcam::spool
