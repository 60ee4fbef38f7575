#include "tests/support/tempdir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/util/uuid.hpp"

namespace classcam::test {

TempDir::TempDir(const std::string& prefix) {
  path_ = std::filesystem::temp_directory_path() / (prefix + "-" + util::random_hex(6));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  if (std::getenv("CLASSCAM_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path.string());
  f << content;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace classcam::test
