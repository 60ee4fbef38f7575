#pragma once
// CommandBook: the commands this unit has answered, with their results, kept on disk
// (<state_dir>/commands.jsonl, one CommandResult per line) so a command is run at most once even across
// restarts, and every copy the hub resends gets the same answer. The newest kKeep results are kept;
// the file is rewritten (atomically) when it holds twice that.
//
// Threading: not thread-safe; used on the io_context. record() appends one line with fdatasync
// before the result is published ("persist, then answer"): commands are rare (a few an hour), so the
// short block on the loop is accepted.
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"

namespace classcam::link {

class CommandBook {
 public:
  static constexpr std::size_t kKeep = 500;
  explicit CommandBook(std::filesystem::path file);

  // Reads the file; torn or unreadable lines are skipped (logged).
  void load();
  std::optional<protocol::CommandResult> find(const std::string& command_id) const;
  Status record(const protocol::CommandResult& r);
  std::size_t size() const { return results_.size(); }

 private:
  void remember(const protocol::CommandResult& r);
  Status compact();

  std::filesystem::path file_;
  std::map<std::string, protocol::CommandResult> results_;
  std::deque<std::string> order_;  // oldest first
  std::size_t lines_ = 0;          // lines in the file
};

}  // namespace classcam::link
