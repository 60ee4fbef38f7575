#pragma once
// ScheduleStore: the unit's copy of its schedule on disk (<state_dir>/schedule.json), so observations
// are recorded with the hub and the broker down, and after a reboot. A schedule replaces the stored
// one only when its revision is higher (the hub's revisions only grow; a stale retained copy or a
// replay is ignored). Writes are atomic (temporary file, fsync, rename, fsync of the directory): a
// power cut leaves the old schedule or the new one, never half of either.
//
// Threading: blocking (fsync). The runner calls save() on a worker strand and load() at start-up.
#include <filesystem>
#include <optional>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"

namespace classcam::schedule {

class ScheduleStore {
 public:
  explicit ScheduleStore(std::filesystem::path file) : file_(std::move(file)) {}
  const std::filesystem::path& file() const { return file_; }

  // nullopt when there is no file yet; an Error when it exists but cannot be read or decoded.
  Result<std::optional<protocol::Schedule>> load() const;
  Status save(const protocol::Schedule& s) const;

 private:
  std::filesystem::path file_;
};

// Whether `offered` should replace `current` for unit `unit_id`: same unit, higher revision. The Error
// says why not (for the log).
Status accepts(const std::optional<protocol::Schedule>& current, const protocol::Schedule& offered,
               const std::string& unit_id);

}  // namespace classcam::schedule
