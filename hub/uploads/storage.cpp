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

WriteOutcome write_chunk(const fs::path& file, std::uint64_t offset, std::string_view data) {
  WriteOutcome out;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    out.message = "cannot open " + file.string() + ": " + std::strerror(errno);
    return out;
  }
  int err = 0;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (err != 0) {
    // Back to where the request found it; a failed truncate is reported but changes nothing stored.
    if (::ftruncate(fd, static_cast<off_t>(offset)) == 0) ::fsync(fd);
    out.no_space = err == ENOSPC || err == EDQUOT || err == EFBIG;
    out.message = std::string("writing the chunk failed: ") + std::strerror(err);
  } else {
    out.ok = true;
  }
  ::close(fd);
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
