#include "hub/uploads/storage.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/util/hash.hpp"
#include "common/util/utf8.hpp"

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

Metadata parse_metadata(std::string_view header) {
  Metadata m;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view pair = header.substr(0, comma);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (!pair.empty()) {
      const auto space = pair.find(' ');
      const std::string key(pair.substr(0, space));
      std::string value;
      if (space != std::string_view::npos) {
        const auto decoded = util::base64_decode(pair.substr(space + 1));
        if (!decoded) {
          m.error = "the value of \"" + key + "\" is not base64";
          return m;
        }
        value = *decoded;
      }
      // Base64 hides the bytes from the header check; the values are echoed in errors and stored.
      if (!util::is_valid_utf8(key) || !util::is_valid_utf8(value)) {
        m.error =
            util::is_valid_utf8(key) ? "the value of \"" + key + "\" is not valid UTF-8" : "a key is not valid UTF-8";
        return m;
      }
      if (m.values.count(key) != 0) {
        m.error = "\"" + key + "\" appears twice";
        return m;
      }
      m.values[key] = value;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return m;
}

}  // namespace classcam::hub::uploads
