#pragma once
// File operations of the tus server: chunks written at an offset and fsync'd, or not at all.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace classcam::hub::uploads {

// Bytes free for unprivileged writers on the filesystem holding `path`.
Result<std::uint64_t> free_bytes(const std::filesystem::path& path);

struct WriteOutcome {
  bool ok = false;
  bool no_space = false;  // ENOSPC, EDQUOT or EFBIG: answer 507
  std::string message;
};

// One chunk written piece by piece from `offset` of an upload's file, as a tus PATCH body arrives.
// Nothing before `offset` is touched, and nothing is promised until sync(): a chunk that is not kept
// (discard(), or destruction before keep()) is cut back off, so the upload is exactly as the request
// found it. Threading: one thread at a time.
class ChunkWriter {
 public:
  // Opens the file for writing at `offset`, cutting off any bytes past it first (a crash between an
  // earlier chunk's fsync and its offset being stored leaves some).
  static Result<std::unique_ptr<ChunkWriter>> open(const std::filesystem::path& file, std::uint64_t offset);
  ~ChunkWriter();
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // pwrite; no fsync. After a failure the writer takes no more and the chunk is discarded.
  WriteOutcome append(std::string_view data);
  WriteOutcome sync();  // fsync: the bytes written so far survive a power cut
  void keep();          // the chunk's offset is stored: close without cutting it off
  void discard() noexcept;
  std::uint64_t written() const { return written_; }

 private:
  ChunkWriter(std::filesystem::path file, int fd, std::uint64_t offset)
      : file_(std::move(file)), fd_(fd), offset_(offset) {}
  WriteOutcome fail(int err, const char* what);

  std::filesystem::path file_;
  int fd_;
  std::uint64_t offset_;
  std::uint64_t written_ = 0;
  bool failed_ = false;
};

// Writes `data` at `offset` of `file` and fsyncs it. On any failure the file is truncated back to
// `offset`, so the upload is exactly as it was before the request (nothing half-written survives).
WriteOutcome write_chunk(const std::filesystem::path& file, std::uint64_t offset, std::string_view data);

// Creates an empty file (exclusive, 0640) and makes its directory entry durable.
Status create_empty(const std::filesystem::path& file);

// Makes `file` exactly `size` bytes long when it is longer (a crash between writing a chunk and
// recording its offset leaves extra bytes).
Status truncate_to(const std::filesystem::path& file, std::uint64_t size);

}  // namespace classcam::hub::uploads
