#pragma once
// Small POSIX helpers for writing files that survive a crash or a power cut: fsync of files and
// directories, a rename that is durable once it returns, and append of one line with fdatasync.
// Every function is blocking: call them from the spool's worker strand, never from the event loop.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/util/result.hpp"

namespace classcam::spool {

// fsync(2) of a file or directory by path.
Status fsync_path(const std::filesystem::path& path);
// fdatasync(2) of a file by path: flushes what a writer in another thread or process has written so far.
Status fdatasync_path(const std::filesystem::path& path);
// rename(2) then fsync of the destination's directory, so the new name survives a power cut.
Status durable_rename(const std::filesystem::path& from, const std::filesystem::path& to);
// Creates `dir` (and parents) with mode 0750 and fsyncs its parent so the entry is durable.
Status make_durable_dir(const std::filesystem::path& dir);
// Appends `line` + '\n' in one write(2) and fdatasyncs. If the file does not end with '\n' (a line torn
// by a crash), a '\n' is written first, so the torn line stays a line of its own and readers skip it.
Status append_line_durably(const std::filesystem::path& file, std::string_view line);
// Writes `bytes` to a new file (mode 0640) and fsyncs it; fails if the file exists.
Status write_new_file_durably(const std::filesystem::path& file, std::string_view bytes);
// Copies the bytes of `from` past `offset` to a new file `to` (mode 0640) through a small buffer, and
// fsyncs it; fails if `to` exists. Holes in `from` stay holes (a sparse file is not inflated).
Status copy_tail_durably(const std::filesystem::path& from, std::uint64_t offset, const std::filesystem::path& to);
// Size of a file, or 0 if it does not exist.
std::uint64_t file_size_or_zero(const std::filesystem::path& path);

}  // namespace classcam::spool
