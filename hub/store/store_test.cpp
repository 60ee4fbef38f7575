#include "hub/store/store.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "hub/store/migrations.hpp"
#include "hub/store/sqlite_database.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub::store;
using namespace std::chrono_literals;

namespace {

util::TimePoint at(const char* rfc) { return *util::parse_rfc3339(rfc); }

template <typename T>
T must(Outcome<T> o) {
  if (const auto* r = refusal(o)) throw std::runtime_error("refused: " + r->message);
  return std::get<T>(std::move(o));
}

class StoreTest : public ::testing::Test {
 protected:
  test::TempDir dir{"store-test"};
  std::unique_ptr<Store> store = Store::open_sqlite(dir / "hub.db");

  User add_user(const std::string& login, Role role) { return must(store->create_user(login, login, role, "hash")); }
  Observation obs(const std::string& room, const std::string& teacher, const char* start, const char* end) {
    Observation o;
    o.room_id = room;
    o.teacher_id = teacher;
    o.title = "Lesson";
    o.start = at(start);
    o.end = at(end);
    return o;
  }
};

}  // namespace

TEST(Migrations, FreshDatabaseReachesTheNewestVersionAndReopeningAppliesNothing) {
  test::TempDir dir;
  const int newest = migrations_for("sqlite").back().version;
  {
    SqliteDatabase db(dir / "a.db");
    EXPECT_EQ(schema_version(db), 0);
    EXPECT_EQ(migrate(db, migrations_for("sqlite")), newest);
  }
  SqliteDatabase db(dir / "a.db");
  EXPECT_EQ(migrate(db, migrations_for("sqlite")), newest);
  std::int64_t rows = 0;
  db.transact([&](Transaction& tx) { rows = tx.query_integer("SELECT COUNT(*) FROM schema_version"); });
  EXPECT_EQ(rows, newest);
}

TEST(Migrations, EachRunsInOrderAndAFailingOneIsRolledBack) {
  test::TempDir dir;
  SqliteDatabase db(dir / "b.db");
  const std::vector<Migration> list = {
      {1, "one", "CREATE TABLE a (x INTEGER);"},
      {2, "two", "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"},
  };
  try {
    migrate(db, list);
    FAIL() << "migration 2 should fail";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("migration 2 (two) failed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(schema_version(db), 1);
  bool b_exists = true;
  db.transact([&](Transaction& tx) {
    b_exists = tx.query_one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'b'").has_value();
  });
  EXPECT_FALSE(b_exists) << "the failed migration's CREATE TABLE must be rolled back";
}

TEST(Migrations, RefusesADatabaseFromANewerBuildAndGaps) {
  test::TempDir dir;
  SqliteDatabase db(dir / "c.db");
  migrate(db, {{1, "one", "CREATE TABLE a (x INTEGER);"}, {2, "two", "CREATE TABLE b (x INTEGER);"}});
  EXPECT_THROW(migrate(db, {{1, "one", "CREATE TABLE a (x INTEGER);"}}), StoreError);
  SqliteDatabase db2(dir / "d.db");
  EXPECT_THROW(migrate(db2, {{1, "one", "SELECT 1;"}, {3, "three", "SELECT 1;"}}), StoreError);
}

TEST(SqliteDatabase, UsesWalAndEnforcesForeignKeys) {
  test::TempDir dir;
  auto store = Store::open_sqlite(dir / "e.db");
  std::string mode;
  store->database().transact([&](Transaction& tx) { mode = tx.query_one("PRAGMA journal_mode")->text(0); });
  EXPECT_EQ(mode, "wal");
  EXPECT_THROW(store->database().transact([&](Transaction& tx) {
    tx.execute("INSERT INTO units (id, name, room_id, revoked, created_at) VALUES ('u', 'u', 'no-such-room', 0, 0)");
  }),
               StoreError);
}

TEST_F(StoreTest, UsersHaveUniqueLoginsAndDisablingEndsSessions) {
  const auto t = add_user("khan", Role::teacher);
  const auto dup = store->create_user("khan", "Other", Role::coach, "h");
  ASSERT_NE(refusal(dup), nullptr);
  EXPECT_EQ(refusal(dup)->kind, Refusal::conflict);
  EXPECT_EQ(refusal(dup)->field, "login");

  const auto now = util::now_utc();
  store->create_login_session("sess-hash", t.id, now + 1h, "127.0.0.1");
  ASSERT_TRUE(store->user_for_session("sess-hash", now));
  EXPECT_FALSE(store->user_for_session("sess-hash", now + 2h)) << "expired";
  must(store->update_user(t.id, {.disabled = true}));
  EXPECT_FALSE(store->user_for_session("sess-hash", now));
}

TEST_F(StoreTest, ApiTokensResolveToTheirUserAndRecordUse) {
  const auto t = add_user("khan", Role::teacher);
  const auto tok = store->create_api_token(t.id, "script", "tok-hash");
  const auto u = store->user_for_api_token("tok-hash", util::now_utc());
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, t.id);
  ASSERT_EQ(store->api_tokens(t.id).size(), 1u);
  EXPECT_TRUE(store->api_tokens(t.id)[0].last_used_at.has_value());
  EXPECT_FALSE(store->delete_api_token("someone-else", tok.id));
  EXPECT_TRUE(store->delete_api_token(t.id, tok.id));
  EXPECT_FALSE(store->user_for_api_token("tok-hash", util::now_utc()));
}

TEST_F(StoreTest, OverlappingObservationsInOneRoomAreRefusedBackToBackIsFine) {
  const auto t = add_user("khan", Role::teacher);
  const auto room = must(store->create_room("Room 12", std::nullopt));
  const auto other = must(store->create_room("Room 13", std::nullopt));
  const auto first =
      must(store->create_observation(obs(room.id, t.id, "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z")));
  const auto rev = store->schedule_revision();

  const auto clash = store->create_observation(obs(room.id, t.id, "2026-11-23T09:30:00Z", "2026-11-23T10:30:00Z"));
  ASSERT_NE(refusal(clash), nullptr);
  EXPECT_EQ(refusal(clash)->kind, Refusal::conflict);
  EXPECT_NE(refusal(clash)->message.find(first.id), std::string::npos) << refusal(clash)->message;
  EXPECT_EQ(store->schedule_revision(), rev) << "a refused change does not bump the revision";

  must(store->create_observation(obs(room.id, t.id, "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z")));
  must(store->create_observation(obs(other.id, t.id, "2026-11-23T09:30:00Z", "2026-11-23T10:30:00Z")));
  EXPECT_GT(store->schedule_revision(), rev);

  // Cancelling frees the slot; moving onto a taken slot is refused.
  must(store->cancel_observation(first.id));
  const auto moved =
      must(store->create_observation(obs(room.id, t.id, "2026-11-23T09:15:00Z", "2026-11-23T09:45:00Z")));
  const auto bad_move =
      store->update_observation(moved.id, {.start = at("2026-11-23T09:15:00Z"), .end = at("2026-11-23T10:15:00Z")});
  ASSERT_NE(refusal(bad_move), nullptr);
  EXPECT_EQ(refusal(bad_move)->kind, Refusal::conflict);
}

TEST_F(StoreTest, ObservationsCheckTheirReferences) {
  const auto t = add_user("khan", Role::teacher);
  const auto admin = add_user("root", Role::admin);
  const auto room = must(store->create_room("Room 12", std::nullopt));
  auto o = obs(room.id, admin.id, "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z");
  EXPECT_EQ(refusal(store->create_observation(o))->field, "teacher_id");
  o.teacher_id = t.id;
  o.coach_ids = {"nobody"};
  EXPECT_EQ(refusal(store->create_observation(o))->field, "coach_ids[0]");
  o.coach_ids = {};
  o.end = o.start + 13h;
  EXPECT_EQ(refusal(store->create_observation(o))->field, "end");
}

TEST_F(StoreTest, ObservationFilterShowsTeachersAndInvitedCoachesTheirOwn) {
  const auto t1 = add_user("t1", Role::teacher);
  const auto t2 = add_user("t2", Role::teacher);
  const auto c = add_user("c", Role::coach);
  const auto room = must(store->create_room("R", std::nullopt));
  auto a = obs(room.id, t1.id, "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z");
  a.coach_ids = {c.id};
  must(store->create_observation(a));
  must(store->create_observation(obs(room.id, t2.id, "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z")));
  EXPECT_EQ(store->observations({.involving_user = t1.id}).size(), 1u);
  EXPECT_EQ(store->observations({.involving_user = c.id}).size(), 1u);
  EXPECT_EQ(store->observations({.involving_user = c.id})[0].coach_ids, std::vector<std::string>{c.id});
  EXPECT_EQ(store->observations({}).size(), 2u);
}

TEST_F(StoreTest, SegmentsAreIdempotentAndCompletionNeedsEveryIndex) {
  const auto room = must(store->create_room("R", std::nullopt));
  must(store->create_unit("unit-1", "Unit", room.id, "unit-hash"));
  Recording r;
  r.unit_id = "unit-1";
  r.session_id = "s1";
  r.room_id = room.id;
  r.title = "t";
  r.trigger = "button";
  r.started_at = util::now_utc();
  r.session_json = "{}";
  r.expected_segments = 2;
  const auto rec = must(store->create_recording(r));
  EXPECT_EQ(refusal(store->create_recording(r))->kind, Refusal::conflict);

  Segment s{rec.id, 0, "recordings/x/seg-00000.mp4", 10, std::string(64, 'a'), util::now_utc(), 1, false, {}};
  must(store->add_segment(s));
  must(store->add_segment(s));  // the same again: fine
  auto other = s;
  other.sha256 = std::string(64, 'b');
  EXPECT_EQ(refusal(store->add_segment(other))->kind, Refusal::conflict);
  EXPECT_EQ(store->mark_complete_if_all_in(rec.id), RecordingState::recording);
  s.index = 1;
  must(store->add_segment(s));
  EXPECT_EQ(store->mark_complete_if_all_in(rec.id), RecordingState::complete);
  EXPECT_EQ(store->recording(rec.id)->segments_received, 2u);

  EXPECT_TRUE(store->delete_recording(rec.id));
  EXPECT_TRUE(store->segments(rec.id).empty()) << "segments go with their recording";
}

TEST_F(StoreTest, RecordingsAreVisibleToOwnersAndShareesOnly) {
  const auto t = add_user("t", Role::teacher);
  const auto c = add_user("c", Role::coach);
  const auto other = add_user("o", Role::coach);
  must(store->create_unit("unit-1", "Unit", std::nullopt, "h"));
  Recording r;
  r.unit_id = "unit-1";
  r.session_id = "s1";
  r.owner_id = t.id;
  r.title = "t";
  r.trigger = "button";
  r.started_at = util::now_utc();
  r.session_json = "{}";
  const auto rec = must(store->create_recording(r));
  EXPECT_EQ(store->recordings({.visible_to = t.id}).size(), 1u);
  EXPECT_EQ(store->recordings({.visible_to = c.id}).size(), 0u);
  EXPECT_TRUE(store->add_share(rec.id, c.id, t.id));
  EXPECT_FALSE(store->add_share(rec.id, c.id, t.id));
  EXPECT_EQ(store->recordings({.visible_to = c.id}).size(), 1u);
  EXPECT_EQ(store->recordings({.visible_to = other.id}).size(), 0u);
  EXPECT_TRUE(store->is_shared_with(rec.id, c.id));
}

TEST_F(StoreTest, SettingsKeepTheirFirstValueAndAuditIsNewestFirst) {
  EXPECT_EQ(store->setting_or_init("retention_days", "365"), "365");
  store->set_setting("retention_days", "30");
  EXPECT_EQ(store->setting_or_init("retention_days", "365"), "30");
  store->audit({0, {}, "system", std::nullopt, "retention", "recording.delete", "recording", "r1", "", "old"});
  store->audit({0, {}, "user", "u1", "Ms Khan", "recording.view", "recording", "r2", "127.0.0.1", ""});
  const auto entries = store->audit_entries({});
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "recording.view");
  EXPECT_EQ(store->audit_entries({.target_id = "r1"}).size(), 1u);
}

TEST_F(StoreTest, RoomsWithUnitsCannotBeDeleted) {
  const auto room = must(store->create_room("R", std::nullopt));
  must(store->create_unit("unit-1", "Unit", room.id, "h"));
  EXPECT_EQ(refusal(store->delete_room(room.id))->kind, Refusal::conflict);
  const auto empty = must(store->create_room("Empty", std::nullopt));
  EXPECT_EQ(refusal(store->delete_room(empty.id)), nullptr);
  EXPECT_FALSE(store->room(empty.id));
}

TEST_F(StoreTest, NoUnitMayTakeTheHubsBrokerLogin) {
  const auto r = store->create_unit("classcam-hub", "Impostor", std::nullopt, "h");
  ASSERT_NE(refusal(r), nullptr);
  EXPECT_EQ(refusal(r)->field, "id");
  EXPECT_FALSE(store->unit("classcam-hub"));
}

// A read must not wait for a write transaction in progress (the io threads' lookups would stall behind
// an upload's fsync); it sees the last committed state. Were reads serialised behind the writer, this
// test would deadlock and time out.
TEST(SqliteDatabase, ReadsProceedWhileAWriteIsInProgress) {
  test::TempDir dir;
  auto store = Store::open_sqlite(dir / "f.db");
  store->set_setting("colour", "blue");
  std::promise<void> writing;
  std::promise<void> finish;
  std::thread writer([&] {
    store->database().transact([&](Transaction& tx) {
      tx.execute("UPDATE settings SET value = 'green' WHERE key = 'colour'");
      writing.set_value();
      finish.get_future().wait();
    });
  });
  writing.get_future().wait();
  EXPECT_EQ(store->setting("colour"), "blue") << "the committed state, while the write is open";
  finish.set_value();
  writer.join();
  EXPECT_EQ(store->setting("colour"), "green");
}
