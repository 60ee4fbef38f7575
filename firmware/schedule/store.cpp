#include "firmware/schedule/store.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "firmware/spool/durable.hpp"

namespace classcam::schedule {

Result<std::optional<protocol::Schedule>> ScheduleStore::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return std::optional<protocol::Schedule>{};
  std::ifstream in(file_, std::ios::binary);
  if (!in) return Error{"cannot read " + file_.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = protocol::decode<protocol::Schedule>(ss.str());
  if (!s) return Error{file_.string() + ": " + s.error().message};
  return std::optional<protocol::Schedule>(std::move(*s));
}

Status ScheduleStore::save(const protocol::Schedule& s) const {
  if (auto st = spool::make_durable_dir(file_.parent_path()); !st) return st;
  const auto tmp = file_.parent_path() / fmt::format(".{}.{}.tmp", file_.filename().string(), ::getpid());
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  if (auto st = spool::write_new_file_durably(tmp, protocol::encode(s)); !st) return st;
  if (auto st = spool::durable_rename(tmp, file_); !st) {
    std::filesystem::remove(tmp, ec);
    return st;
  }
  return ok_status();
}

Status accepts(const std::optional<protocol::Schedule>& current, const protocol::Schedule& offered,
               const std::string& unit_id) {
  if (offered.unit_id != unit_id) {
    return Error{fmt::format("schedule for unit \"{}\" ignored: this unit is \"{}\"", offered.unit_id, unit_id)};
  }
  if (current && offered.revision <= current->revision) {
    return Error{fmt::format("schedule revision {} ignored: revision {} is already in force", offered.revision,
                             current->revision)};
  }
  return ok_status();
}

}  // namespace classcam::schedule
