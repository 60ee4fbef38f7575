#include "hub/uploads/storage.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace classcam::hub::uploads {

namespace fs = std::filesystem;

Result<std::uint64_t> free_bytes(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return Error{"statvfs " + path.string() + ": " + std::strerror(errno)};
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

Result<std::unique_ptr<ChunkWriter>> ChunkWriter::open(const fs::path& file, std::uint64_t offset) {
  if (auto t = truncate_to(file, offset); !t) return Error{t.error().message};
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + file.string() + ": " + std::strerror(errno)};
  return std::unique_ptr<ChunkWriter>(new ChunkWriter(file, fd, offset));
}

ChunkWriter::~ChunkWriter() { discard(); }

WriteOutcome ChunkWriter::fail(int err, const char* what) {
  failed_ = true;
  WriteOutcome out;
  out.no_space = err == ENOSPC || err == EDQUOT || err == EFBIG;
  out.message = std::string(what) + " " + file_.string() + " failed: " + std::strerror(err);
  discard();
  return out;
}

WriteOutcome ChunkWriter::append(std::string_view data) {
  if (fd_ < 0 || failed_) return WriteOutcome{false, false, "the chunk was already given up"};
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset_ + written_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "writing to");
    }
    written_ += static_cast<std::uint64_t>(n);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return WriteOutcome{true, false, ""};
}

WriteOutcome ChunkWriter::sync() {
  if (fd_ < 0 || failed_) return WriteOutcome{false, false, "the chunk was already given up"};
  if (::fsync(fd_) != 0) return fail(errno, "fsync of");
  return WriteOutcome{true, false, ""};
}

void ChunkWriter::keep() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

void ChunkWriter::discard() noexcept {
  if (fd_ < 0) return;
  // Back to where the request found it. No fsync (this may run on an I/O thread): the stored offset is
  // the truth, and bytes past it that a power cut brings back are cut off before the next write.
  (void)::ftruncate(fd_, static_cast<off_t>(offset_));
  ::close(fd_);
  fd_ = -1;
}

WriteOutcome write_chunk(const fs::path& file, std::uint64_t offset, std::string_view data) {
  auto w = ChunkWriter::open(file, offset);
  if (!w) return WriteOutcome{false, false, w.error().message};
  auto out = (*w)->append(data);
  if (out.ok) out = (*w)->sync();
  if (out.ok) (*w)->keep();
  return out;
}

Status create_empty(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return Error{"cannot create " + file.string() + ": " + std::strerror(errno)};
  ::fsync(fd);
  ::close(fd);
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

Status truncate_to(const fs::path& file, std::uint64_t size) {
  std::error_code ec;
  const auto have = fs::file_size(file, ec);
  if (ec) return Error{"cannot stat " + file.string() + ": " + ec.message()};
  if (have <= size) return ok_status();
  if (::truncate(file.c_str(), static_cast<off_t>(size)) != 0) {
    return Error{"cannot truncate " + file.string() + ": " + std::strerror(errno)};
  }
  return ok_status();
}

}  // namespace classcam::hub::uploads
