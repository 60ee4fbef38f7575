#pragma once
// Versioned schema migrations. Each migration runs in its own transaction, in order, and records its
// version in schema_version; a database newer than this build is refused rather than guessed at.
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/database.hpp"

namespace classcam::hub::store {

struct Migration {
  int version = 0;  // 1, 2, 3 ... without gaps
  std::string description;
  std::string sql;  // in the dialect of the backend the list is for
};

// The hub's migrations for a backend ("sqlite").
const std::vector<Migration>& migrations_for(std::string_view backend);

// The version the database is at (0 for a fresh one).
int schema_version(Database& db);

// Applies every migration newer than the database's version. Returns the version reached. Throws
// StoreError when a migration fails (that migration is rolled back; earlier ones stay) or when the
// database is at a version newer than the newest migration given.
int migrate(Database& db, const std::vector<Migration>& migrations);

}  // namespace classcam::hub::store
