#include "firmware/enroll/enrollment.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "firmware/spool/durable.hpp"

namespace classcam::enroll {

namespace {

Status write_atomically(const std::filesystem::path& file, const std::string& bytes, mode_t mode) {
  const auto tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  if (auto st = spool::write_new_file_durably(tmp, bytes); !st) return st;
  if (::chmod(tmp.c_str(), mode) != 0) return Error{"cannot set the mode of " + tmp.string()};
  return spool::durable_rename(tmp, file);
}

}  // namespace

std::filesystem::path enrollment_file(const std::filesystem::path& state_dir) { return state_dir / "enrollment.json"; }
std::filesystem::path ca_file(const std::filesystem::path& state_dir) { return state_dir / "hub-ca.pem"; }

Result<std::optional<protocol::EnrollResponse>> load_enrollment(const std::filesystem::path& state_dir) {
  const auto file = enrollment_file(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<protocol::EnrollResponse>{};
  std::ifstream in(file);
  if (!in) return Error{"cannot read " + file.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  auto e = protocol::decode<protocol::EnrollResponse>(ss.str());
  if (!e) return Error{file.string() + ": " + e.error().message};
  if (!std::filesystem::exists(ca_file(state_dir), ec)) return Error{ca_file(state_dir).string() + " is missing"};
  return std::optional<protocol::EnrollResponse>(std::move(*e));
}

Status save_enrollment(const std::filesystem::path& state_dir, const protocol::EnrollResponse& e) {
  if (auto st = spool::make_durable_dir(state_dir); !st) return st;
  if (auto st = write_atomically(ca_file(state_dir), e.ca_pem, 0644); !st) return st;
  if (auto st = write_atomically(state_dir / "unit_id", e.unit_id + "\n", 0644); !st) return st;
  return write_atomically(enrollment_file(state_dir), protocol::encode(e), 0600);
}

}  // namespace classcam::enroll
