#pragma once
// File operations of the tus server: chunks written at an offset and fsync'd, or not at all.
#include <cstdint>
#include <filesystem>
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

// Writes `data` at `offset` of `file` and fsyncs it. On any failure the file is truncated back to
// `offset`, so the upload is exactly as it was before the request (nothing half-written survives).
WriteOutcome write_chunk(const std::filesystem::path& file, std::uint64_t offset, std::string_view data);

// Creates an empty file (exclusive, 0640) and makes its directory entry durable.
Status create_empty(const std::filesystem::path& file);

// Makes `file` exactly `size` bytes long when it is longer (a crash between writing a chunk and
// recording its offset leaves extra bytes).
Status truncate_to(const std::filesystem::path& file, std::uint64_t size);

}  // namespace classcam::hub::uploads
