#include "common/metrics/textfile.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace classcam::metrics {

Status write_textfile(const std::filesystem::path& path, const std::string& text) {
  // The collector reads only *.prom, so a leftover temporary file is never scraped.
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Error{"metrics: cannot write " + tmp.string() + ": " + std::strerror(errno)};
    }
    out << text;
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return Error{"metrics: cannot write " + tmp.string()};
    }
  }
  // node_exporter runs as another user, and classcamd's umask (027) would hide the file from it; it
  // holds counts only.
  std::error_code perm_ec;
  std::filesystem::permissions(tmp,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                   std::filesystem::perms::group_read | std::filesystem::perms::others_read,
                               perm_ec);
  if (perm_ec) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return Error{"metrics: cannot make " + tmp.string() + " readable: " + perm_ec.message()};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return Error{"metrics: cannot rename " + tmp.string() + " to " + path.string() + ": " + why};
  }
  return ok_status();
}

}  // namespace classcam::metrics
