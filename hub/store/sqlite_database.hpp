#pragma once
// SQLite backend of the store: one connection in WAL mode with foreign keys on and a busy timeout,
// synchronous=FULL (upload offsets and accepted segments must survive a power cut once acknowledged).
//
// Threading: one mutex guards the connection; transact() holds it for the whole transaction, so
// transactions from the io_context threads and the worker pool run one at a time.
#include <filesystem>
#include <memory>
#include <mutex>

#include "hub/store/database.hpp"

namespace classcam::hub::store {

class SqliteDatabase final : public Database {
 public:
  // Opens (creating if needed) the database file. Throws StoreError when it cannot.
  explicit SqliteDatabase(const std::filesystem::path& file);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  void transact(const std::function<void(Transaction&)>& fn) override;
  std::string_view backend() const override { return "sqlite"; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
};

}  // namespace classcam::hub::store
