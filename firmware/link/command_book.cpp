#include "firmware/link/command_book.hpp"

#include <fstream>

#include "common/log/log.hpp"
#include "firmware/spool/durable.hpp"

namespace classcam::link {

namespace {
log::Logger logger() { return log::get("link"); }
}  // namespace

CommandBook::CommandBook(std::filesystem::path file) : file_(std::move(file)) {}

void CommandBook::load() {
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    ++lines_;
    if (line.empty()) continue;
    auto r = protocol::decode<protocol::CommandResult>(line);
    if (!r) {
      logger()->warn("{}: line {} skipped: {}", file_.string(), lines_, r.error().message);
      continue;
    }
    remember(*r);
  }
}

std::optional<protocol::CommandResult> CommandBook::find(const std::string& command_id) const {
  const auto it = results_.find(command_id);
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

void CommandBook::remember(const protocol::CommandResult& r) {
  if (results_.insert_or_assign(r.command_id, r).second) order_.push_back(r.command_id);
  while (order_.size() > kKeep) {
    results_.erase(order_.front());
    order_.pop_front();
  }
}

Status CommandBook::record(const protocol::CommandResult& r) {
  remember(r);
  if (auto st = spool::make_durable_dir(file_.parent_path()); !st) return st;
  if (auto st = spool::append_line_durably(file_, protocol::encode(r)); !st) return st;
  ++lines_;
  if (lines_ >= 2 * kKeep) return compact();
  return ok_status();
}

Status CommandBook::compact() {
  std::string text;
  for (const auto& id : order_) text += protocol::encode(results_.at(id)) + "\n";
  const auto tmp = file_.parent_path() / (file_.filename().string() + ".tmp");
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  if (auto st = spool::write_new_file_durably(tmp, text); !st) return st;
  if (auto st = spool::durable_rename(tmp, file_); !st) return st;
  lines_ = order_.size();
  return ok_status();
}

}  // namespace classcam::link
