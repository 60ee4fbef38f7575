#include "firmware/spool/durable.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace classcam::spool {

namespace {

Error errno_error(const std::string& what, const std::filesystem::path& path) {
  return Error{what + " " + path.string() + ": " + std::strerror(errno)};
}

// An fd closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

}  // namespace

Status fsync_path(const std::filesystem::path& path) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return errno_error("cannot open", path);
  if (::fsync(fd.get()) != 0) return errno_error("fsync failed for", path);
  return ok_status();
}

Status fdatasync_path(const std::filesystem::path& path) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return errno_error("cannot open", path);
  if (::fdatasync(fd.get()) != 0) return errno_error("fdatasync failed for", path);
  return ok_status();
}

Status durable_rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Error{"cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno)};
  }
  return fsync_path(to.parent_path().empty() ? std::filesystem::path(".") : to.parent_path());
}

Status make_durable_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return ok_status();
  if (!dir.parent_path().empty() && dir.parent_path() != dir) {
    if (auto s = make_durable_dir(dir.parent_path()); !s) return s;
  }
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return errno_error("cannot create directory", dir);
  return fsync_path(dir.parent_path().empty() ? std::filesystem::path(".") : dir.parent_path());
}

Status append_line_durably(const std::filesystem::path& file, std::string_view line) {
  const Fd fd(::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.ok()) return errno_error("cannot open", file);
  std::string out;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("cannot stat", file);
  if (st.st_size > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, st.st_size - 1) != 1) return errno_error("cannot read", file);
    if (last != '\n') out.push_back('\n');
  }
  out.append(line);
  out.push_back('\n');
  if (auto s = write_all(fd.get(), out, file); !s) return s;
  if (::fdatasync(fd.get()) != 0) return errno_error("fdatasync failed for", file);
  return ok_status();
}

Status write_new_file_durably(const std::filesystem::path& file, std::string_view bytes) {
  const Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!fd.ok()) return errno_error("cannot create", file);
  if (auto s = write_all(fd.get(), bytes, file); !s) return s;
  if (::fsync(fd.get()) != 0) return errno_error("fsync failed for", file);
  return ok_status();
}

Status copy_tail_durably(const std::filesystem::path& from, std::uint64_t offset, const std::filesystem::path& to) {
  const Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.ok()) return errno_error("cannot open", from);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return errno_error("cannot stat", from);
  const auto end = static_cast<std::uint64_t>(st.st_size);
  const Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!out.ok()) return errno_error("cannot create", to);
  constexpr std::size_t kBuffer = 1 << 20;
  std::string buf(kBuffer, '\0');
  std::uint64_t at = offset;
  while (at < end) {
    // Skip a hole: SEEK_DATA finds the next byte that is stored (ENXIO: none before the end).
    const off_t data = ::lseek(in.get(), static_cast<off_t>(at), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;
    const off_t hole = data < 0 ? static_cast<off_t>(end) : ::lseek(in.get(), data, SEEK_HOLE);
    std::uint64_t from_at = data < 0 ? at : static_cast<std::uint64_t>(data);
    const std::uint64_t until = hole < 0 ? end : std::min<std::uint64_t>(end, static_cast<std::uint64_t>(hole));
    while (from_at < until) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kBuffer, until - from_at));
      const ssize_t r = ::pread(in.get(), buf.data(), n, static_cast<off_t>(from_at));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return errno_error("cannot read", from);
      if (r == 0) break;
      std::string_view chunk(buf.data(), static_cast<std::size_t>(r));
      std::uint64_t w = from_at - offset;
      while (!chunk.empty()) {
        const ssize_t k = ::pwrite(out.get(), chunk.data(), chunk.size(), static_cast<off_t>(w));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return errno_error("cannot write", to);
        chunk.remove_prefix(static_cast<std::size_t>(k));
        w += static_cast<std::uint64_t>(k);
      }
      from_at += static_cast<std::uint64_t>(r);
    }
    at = std::max(until, from_at);
  }
  if (::ftruncate(out.get(), static_cast<off_t>(end > offset ? end - offset : 0)) != 0) {
    return errno_error("cannot set the size of", to);
  }
  if (::fsync(out.get()) != 0) return errno_error("fsync failed for", to);
  return ok_status();
}

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace classcam::spool
