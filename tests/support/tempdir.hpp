#pragma once
#include <filesystem>
#include <string>

namespace classcam::test {

// A fresh directory under $TMPDIR, removed with everything in it when this goes out of scope
// (unless CLASSCAM_KEEP_TEST_DIRS is set, to look at what a failed test left).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "classcam-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` (creating parent directories).
void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

}  // namespace classcam::test
