#include "hub/store/sqlite_database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

namespace classcam::hub::store {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw StoreError("sqlite: " + what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

}  // namespace

struct SqliteDatabase::Impl : Transaction {
  sqlite3* db = nullptr;
  // Prepared statements by SQL text: the hub runs the same few dozen statements all day.
  std::map<std::string, Stmt, std::less<>> cache;

  ~Impl() override {
    cache.clear();
    sqlite3_close_v2(db);
  }

  sqlite3_stmt* prepare(std::string_view sql) {
    if (auto it = cache.find(sql); it != cache.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
      fail(db, "prepare \"" + std::string(sql) + "\"");
    }
    return cache.emplace(std::string(sql), Stmt(raw)).first->second.get();
  }

  void bind(sqlite3_stmt* s, const std::vector<Value>& params) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(s)) {
      throw StoreError("sqlite: statement \"" + std::string(sqlite3_sql(s)) + "\" takes " +
                       std::to_string(sqlite3_bind_parameter_count(s)) + " parameters, got " +
                       std::to_string(params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(s, n, *v);
      } else if (const auto* d = std::get_if<double>(&params[i])) {
        rc = sqlite3_bind_double(s, n, *d);
      } else if (const auto* t = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text(s, n, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(s, n);
      }
      if (rc != SQLITE_OK) fail(db, "bind");
    }
  }

  std::vector<Row> query(std::string_view sql, const std::vector<Value>& params) override {
    sqlite3_stmt* s = prepare(sql);
    bind(s, params);
    std::vector<Row> rows;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        fail(db, "step \"" + std::string(sql) + "\"");
      }
      const int n = sqlite3_column_count(s);
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(s, c)) {
          case SQLITE_INTEGER: values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(s, c))); break;
          case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(s, c)); break;
          case SQLITE_NULL: values.emplace_back(Null{}); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
            values.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, c))));
          }
        }
      }
      rows.emplace_back(std::move(values));
    }
    sqlite3_reset(s);
    return rows;
  }

  std::int64_t execute(std::string_view sql, const std::vector<Value>& params) override {
    sqlite3_stmt* s = prepare(sql);
    bind(s, params);
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) fail(db, "execute \"" + std::string(sql) + "\"");
    return sqlite3_changes64(db);
  }

  void execute_script(std::string_view sql) override {
    char* err = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      throw StoreError("sqlite: script failed: " + msg);
    }
  }

  void exec_plain(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      throw StoreError(std::string("sqlite: ") + sql + ": " + msg);
    }
  }
};

namespace {
constexpr int kReaders = 4;

void open_connection(sqlite3** db, const std::filesystem::path& file) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), db, flags, nullptr) != SQLITE_OK) {
    const std::string msg = *db != nullptr ? sqlite3_errmsg(*db) : "out of memory";
    throw StoreError("sqlite: cannot open " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(*db, 5000);
  sqlite3_extended_result_codes(*db, 1);
}
}  // namespace

SqliteDatabase::SqliteDatabase(const std::filesystem::path& file) : impl_(std::make_unique<Impl>()) {
  // Created private before SQLite touches it: the -wal and -shm files copy the database's mode.
  if (const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  open_connection(&impl_->db, file);
  const auto mode = impl_->query("PRAGMA journal_mode=WAL", {});
  if (mode.empty() || mode[0].text(0) != "wal") {
    throw StoreError("sqlite: " + file.string() + " could not be switched to WAL mode");
  }
  impl_->exec_plain("PRAGMA foreign_keys=ON");
  impl_->exec_plain("PRAGMA synchronous=FULL");
  if (impl_->query("PRAGMA foreign_keys", {}).at(0).integer(0) != 1) {
    throw StoreError("sqlite: this SQLite build cannot enforce foreign keys");
  }
  for (int i = 0; i < kReaders; ++i) {
    auto r = std::make_unique<Impl>();
    open_connection(&r->db, file);
    r->exec_plain("PRAGMA query_only=1");
    readers_.push_back(std::move(r));
    reader_busy_.push_back(false);
  }
}

SqliteDatabase::~SqliteDatabase() = default;

void SqliteDatabase::transact(const std::function<void(Transaction&)>& fn) {
  const std::lock_guard lock(mutex_);
  // IMMEDIATE takes the write lock up front, so a read-then-write transaction (overlap check, then
  // insert) cannot be overtaken by another process writing to the same file.
  impl_->exec_plain("BEGIN IMMEDIATE");
  try {
    fn(*impl_);
  } catch (...) {
    // A failed statement may already have rolled back; ROLLBACK then errors, which we can ignore.
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  impl_->exec_plain("COMMIT");
}

void SqliteDatabase::read(const std::function<void(Transaction&)>& fn) {
  std::size_t slot = 0;
  {
    std::unique_lock lock(readers_mutex_);
    for (;;) {
      const auto it = std::find(reader_busy_.begin(), reader_busy_.end(), false);
      if (it != reader_busy_.end()) {
        slot = static_cast<std::size_t>(it - reader_busy_.begin());
        *it = true;
        break;
      }
      reader_free_.wait(lock);
    }
  }
  Impl& r = *readers_[slot];
  const auto release = [&] {
    {
      const std::lock_guard lock(readers_mutex_);
      reader_busy_[slot] = false;
    }
    reader_free_.notify_one();
  };
  try {
    // A deferred transaction: one consistent snapshot for every statement in `fn`.
    r.exec_plain("BEGIN");
    fn(r);
    r.exec_plain("COMMIT");
  } catch (...) {
    sqlite3_exec(r.db, "ROLLBACK", nullptr, nullptr, nullptr);
    release();
    throw;
  }
  release();
}

}  // namespace classcam::hub::store
