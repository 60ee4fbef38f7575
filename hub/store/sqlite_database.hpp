#pragma once
// SQLite backend of the store: one connection in WAL mode with foreign keys on and a busy timeout,
// synchronous=FULL (upload offsets and accepted segments must survive a power cut once acknowledged).
//
// Threading: one writer connection, guarded by a mutex that transact() holds for the whole
// transaction, so writes run one at a time; and a few reader connections (query_only), each used by
// one read() at a time, which WAL lets run while a write commits. Lock order: a reader's slot, then
// nothing; the writer's mutex, then nothing.
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

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
  void read(const std::function<void(Transaction&)>& fn) override;
  std::string_view backend() const override { return "sqlite"; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Impl>> readers_;
  std::vector<bool> reader_busy_;
  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
};

}  // namespace classcam::hub::store
