#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "sql/key_watermarks.h"
#include "sql/sql.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/storage.h"
#include "support/temp_dir.h"

namespace kalamdb::sql {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open({.path = dir_.path()});
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    catalog_ = std::make_unique<catalog::Catalog>(*store_);
    ASSERT_TRUE(catalog_->Load().ok());
    engine_ = std::make_unique<Engine>(*catalog_, *store_);
    admin_.user_id = "admin";
    admin_.role = catalog::Role::kDba;
    user_.user_id = "alice";
    user_.role = catalog::Role::kUser;
  }

  Result<std::vector<QueryResult>> Run(const Session& session, std::string_view sql,
                                       size_t params = 0) {
    std::vector<Param> bound(params);
    return engine_->Execute(session, sql, bound);
  }
  Result<std::vector<QueryResult>> RunWith(const Session& session, std::string_view sql,
                                           const std::vector<Param>& params) {
    return engine_->Execute(session, sql, params);
  }

  // Every stored row of ns.name, decoded, in key order.
  std::vector<storage::RowView> Rows(std::string_view ns, std::string_view name) {
    const catalog::TableDef* table = catalog_->Snapshot()->FindTable(ns, name);
    EXPECT_NE(table, nullptr);
    std::vector<ColumnType> types;
    for (const auto& c : table->columns) types.push_back(c.type);
    std::vector<storage::RowView> rows;
    raw_.clear();
    EXPECT_TRUE(store_
                    ->ScanPrefix(storage::Family::kRows, storage::TablePrefix(table->id),
                                 [&](std::string_view, std::string_view value) {
                                   raw_.emplace_back(value);
                                   return true;
                                 })
                    .ok());
    for (const std::string& bytes : raw_) {
      storage::RowView row;
      EXPECT_TRUE(storage::DecodeRow(bytes, types, &row).ok());
      rows.push_back(std::move(row));
    }
    return rows;
  }
  std::deque<std::string> raw_;
  test::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Engine> engine_;
  Session admin_, user_;
};

TEST_F(EngineTest, SelectConstantsAreNamedLikeKalamDb) {
  auto r = Run(user_, "SELECT 1, -2, 'x' AS label, TRUE, NULL, 2.5");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const QueryResult& q = (*r)[0];
  ASSERT_EQ(q.schema.size(), 6u);
  EXPECT_EQ(q.schema[0].name, "Int64(1)");
  EXPECT_EQ(q.schema[0].data_type, "BigInt");
  EXPECT_EQ(q.schema[1].name, "Int64(-2)");
  EXPECT_EQ(q.schema[2].name, "label");
  EXPECT_EQ(q.schema[3].name, "Boolean(true)");
  EXPECT_EQ(q.schema[5].data_type, "Double");
  EXPECT_EQ(q.rows[0],
            (std::vector<std::string>{"\"1\"", "\"-2\"", "\"x\"", "true", "null", "2.5"}));
  for (const char* text : {"select 1;", "  SeLeCt\n 1 ;  "})
    EXPECT_TRUE(Run(user_, text).ok()) << text;
  auto computed = Run(user_, "SELECT 1 + 2 AS three, lower('ABC'), length('h\xc3\xa9llo')");
  ASSERT_TRUE(computed.ok()) << computed.status().ToString();
  EXPECT_EQ((*computed)[0].schema[0].name, "three");
  EXPECT_EQ((*computed)[0].schema[1].name, "lower('ABC')");
  EXPECT_EQ((*computed)[0].rows[0], (std::vector<std::string>{"\"3\"", "\"abc\"", "5"}));
  EXPECT_EQ(Run(user_, "SELECT nope").status().code(), ErrorCode::kInvalidOperation);
}

TEST_F(EngineTest, RequestLevelErrors) {
  EXPECT_EQ(Run(user_, "").status().code(), ErrorCode::kEmptySql);
  EXPECT_EQ(Run(user_, " ; -- nothing").status().code(), ErrorCode::kEmptySql);
  EXPECT_EQ(Run(user_, "SELECT 1; SELECT 2", 1).status().code(), ErrorCode::kParamsWithBatch);
  EXPECT_TRUE(Run(user_, "SELECT 1", 3).ok());
  EXPECT_EQ(Run(user_, "SELEC 1").status().code(), ErrorCode::kInvalidSql);
  EXPECT_EQ(Run(user_, "INSERT INTO x SELECT 1").status().code(), ErrorCode::kInvalidSql);
  EXPECT_EQ(Run(user_, "SELECT 'unterminated").status().code(), ErrorCode::kInvalidSql);
}

TEST_F(EngineTest, NamespaceLifecycle) {
  auto created = Run(admin_, "CREATE NAMESPACE App");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)[0].message, "Namespace 'app' created successfully");
  EXPECT_FALSE((*created)[0].has_rows);

  auto again = Run(admin_, "CREATE NAMESPACE app");
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(),
            "Statement 1 failed: Already exists: Namespace 'app' already exists");
  auto tolerant = Run(admin_, "CREATE NAMESPACE IF NOT EXISTS app");
  ASSERT_TRUE(tolerant.ok());
  EXPECT_EQ((*tolerant)[0].message, "Namespace 'app' already exists");

  auto shown = Run(user_, "SHOW NAMESPACES");
  ASSERT_TRUE(shown.ok());
  ASSERT_EQ((*shown)[0].row_count, 2);  // app and default
  EXPECT_EQ((*shown)[0].rows[0][0], "\"app\"");
  EXPECT_EQ((*shown)[0].schema[4].name, "table_count");

  auto dropped = Run(admin_, "DROP NAMESPACE app CASCADE");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ((*dropped)[0].message, "Namespace 'app' dropped successfully");
  auto missing = Run(admin_, "DROP NAMESPACE app");
  EXPECT_EQ(missing.status().message(), "Statement 1 failed: Not found: Namespace 'app' not found");
  auto tolerant_drop = Run(admin_, "DROP NAMESPACE IF EXISTS app");
  ASSERT_TRUE(tolerant_drop.ok());
  EXPECT_EQ((*tolerant_drop)[0].message, "Namespace 'app' does not exist");
}

TEST_F(EngineTest, NamespaceRules) {
  EXPECT_EQ(Run(user_, "CREATE NAMESPACE mine").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(admin_, "CREATE NAMESPACE system").status().code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(Run(admin_, "DROP NAMESPACE default").status().code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(Run(admin_, "CREATE NAMESPACE \"_hidden\"").status().code(),
            ErrorCode::kInvalidOperation);
  EXPECT_EQ(Run(admin_, "CREATE NAMESPACE \"a-b\"").status().code(), ErrorCode::kInvalidOperation);
}

TEST_F(EngineTest, StatementsRunInOrderAndStopAtTheFirstFailure) {
  auto r =
      Run(admin_, "CREATE NAMESPACE a; CREATE NAMESPACE b; CREATE NAMESPACE a; CREATE NAMESPACE c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Statement 3 failed: Already exists: Namespace 'a' already exists");
  // Earlier statements stay applied, later ones never ran.
  auto snapshot = catalog_->Snapshot();
  EXPECT_NE(snapshot->FindNamespace("b"), nullptr);
  EXPECT_EQ(snapshot->FindNamespace("c"), nullptr);
  auto ok = Run(admin_, "CREATE NAMESPACE c; SHOW NAMESPACES");
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].row_count, 4);
}

TEST_F(EngineTest, CreateTableOfTheBenchmarkWorkload) {
  ASSERT_TRUE(Run(admin_, "CREATE NAMESPACE bench").ok());
  auto r = Run(
      admin_,
      "CREATE TABLE bench.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, "
      "created_at TIMESTAMP DEFAULT NOW());"
      "CREATE TABLE bench.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT);"
      "CREATE TABLE bench.batch (id BIGINT, value TEXT NOT NULL, batch_id INT, PRIMARY KEY (id))");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].message, "shared table bench.single created successfully");
  auto snapshot = catalog_->Snapshot();
  const catalog::TableDef* single = snapshot->FindTable("bench", "single");
  ASSERT_NE(single, nullptr);
  EXPECT_EQ(single->type, catalog::TableType::kShared);
  EXPECT_EQ(single->primary_key, 0);
  EXPECT_FALSE(single->columns[0].nullable);
  EXPECT_EQ(single->columns[2].default_value.kind, catalog::DefaultValue::Kind::kNow);
  const catalog::TableDef* parallel = snapshot->FindTable("bench", "parallel");
  ASSERT_NE(parallel, nullptr);
  EXPECT_TRUE(parallel->columns[0].auto_increment);
  EXPECT_EQ(parallel->columns[0].default_value.kind, catalog::DefaultValue::Kind::kSnowflakeId);
  EXPECT_EQ(snapshot->FindTable("bench", "batch")->primary_key, 0);

  auto described = Run(admin_, "DESCRIBE TABLE bench.single");
  ASSERT_TRUE(described.ok());
  ASSERT_EQ((*described)[0].row_count, 5);  // three columns, _seq, _deleted
  EXPECT_EQ((*described)[0].rows[2][6], "\"NOW()\"");
  EXPECT_EQ((*described)[0].rows[3][0], "\"_seq\"");

  auto tables = Run(admin_, "SHOW TABLES IN bench");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ((*tables)[0].row_count, 3);

  EXPECT_EQ(Run(admin_, "CREATE TABLE bench.single (id BIGINT PRIMARY KEY)").status().message(),
            "Statement 1 failed: Already exists: Table bench.single already exists");
  EXPECT_TRUE(Run(admin_, "CREATE TABLE IF NOT EXISTS bench.single (id BIGINT PRIMARY KEY)").ok());
  auto dropped = Run(admin_, "DROP TABLE IF EXISTS bench.batch; DROP TABLE IF EXISTS bench.batch");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ((*dropped)[1].message, "Table bench.batch does not exist (skipped)");
  EXPECT_EQ(Run(admin_, "DROP TABLE bench.batch").status().message(),
            "Statement 1 failed: Not found: Table 'batch' not found in namespace 'bench'");
  // Dropping the namespace drops its tables.
  ASSERT_TRUE(Run(admin_, "DROP NAMESPACE bench").ok());
  EXPECT_TRUE(catalog_->Snapshot()->Tables("bench").empty());
}

TEST_F(EngineTest, CreateTableRules) {
  ASSERT_TRUE(Run(admin_, "CREATE NAMESPACE app").ok());
  auto error = [&](const Session& who, std::string_view sql) {
    auto r = Run(who, sql);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_EQ(error(admin_, "CREATE TABLE app.t (v TEXT)"),
            "Statement 1 failed: Invalid operation: Shared tables require a PRIMARY KEY column");
  EXPECT_EQ(error(admin_, "CREATE TABLE app.t (a INT PRIMARY KEY, b INT PRIMARY KEY)"),
            "Statement 1 failed: Invalid operation: Composite primary keys are not supported");
  EXPECT_EQ(error(admin_, "CREATE TABLE app.t (a INT PRIMARY KEY, A TEXT)"),
            "Statement 1 failed: Invalid operation: Duplicate column 'a'");
  EXPECT_EQ(error(admin_, "CREATE TABLE app.t (a GEOMETRY PRIMARY KEY)"),
            "Statement 1 failed: Invalid operation: Unsupported data type 'GEOMETRY'");
  EXPECT_EQ(error(admin_, "CREATE TABLE nope.t (a INT PRIMARY KEY)"),
            "Statement 1 failed: Invalid operation: Namespace 'nope' does not exist. Create it "
            "first with CREATE NAMESPACE nope");
  EXPECT_EQ(error(admin_, "CREATE TABLE app.t (a INT PRIMARY KEY) WITH (COLOR = 'red')"),
            "Statement 1 failed: Invalid operation: Unknown table option 'COLOR'");
  EXPECT_EQ(error(admin_, "CREATE STREAM TABLE app.s (a INT)"),
            "Statement 1 failed: Invalid operation: STREAM tables require TTL_SECONDS");
  EXPECT_EQ(error(admin_, "CREATE STREAM TABLE app.s (a INT) WITH (TTL_SECONDS = 10)"), "ok");
  EXPECT_EQ(error(admin_, "CREATE USER TABLE app.u (id BIGINT PRIMARY KEY) WITH (TYPE = 'SHARED')"),
            "Statement 1 failed: Invalid operation: TYPE option 'SHARED' does not match the CREATE "
            "USER TABLE statement");
  EXPECT_EQ(error(admin_,
                  "CREATE TABLE app.d (id INT PRIMARY KEY, p DECIMAL(10,2) DEFAULT -1.5, "
                  "s VARCHAR(20) DEFAULT 'x', n BIGSERIAL)"),
            "ok");
  const catalog::TableDef* d = catalog_->Snapshot()->FindTable("app", "d");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->columns[1].type.scale, 2);
  EXPECT_EQ(d->columns[1].default_value.literal, "-1.5");
  EXPECT_EQ(d->columns[2].type.max_length, 20u);
  EXPECT_TRUE(d->columns[3].auto_increment);
  // A plain user cannot create SHARED tables, but may create USER tables, and a SHARED table in
  // its own namespace becomes a USER table.
  EXPECT_EQ(Run(user_, "CREATE TABLE app.x (id INT PRIMARY KEY)").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(error(user_, "CREATE USER TABLE app.mine (id INT PRIMARY KEY)"), "ok");
  ASSERT_TRUE(Run(admin_, "CREATE NAMESPACE alice").ok());
  EXPECT_EQ(error(user_, "CREATE TABLE alice.notes (id INT PRIMARY KEY)"), "ok");
  EXPECT_EQ(catalog_->Snapshot()->FindTable("alice", "notes")->type, catalog::TableType::kUser);
  EXPECT_EQ(Run(user_, "DROP TABLE app.mine").status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(EngineTest, InsertTheBenchmarkWorkload) {
  ASSERT_TRUE(
      Run(admin_,
          "CREATE NAMESPACE b; CREATE TABLE b.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, "
          "created_at TIMESTAMP DEFAULT NOW()); CREATE TABLE b.parallel (id BIGINT PRIMARY KEY "
          "AUTO_INCREMENT, worker INT, value TEXT)")
          .ok());
  auto one = Run(admin_, "INSERT INTO b.single (id, value) VALUES (1, 'v1')");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ((*one)[0].Message(), "Inserted 1 row(s)");
  EXPECT_EQ((*one)[0].row_count, 1);
  std::string hundred = "INSERT INTO b.single (id, value) VALUES ";
  for (int i = 2; i <= 101; ++i)
    hundred += (i > 2 ? ", (" : "(") + std::to_string(i) + ", 'v" + std::to_string(i) + "')";
  auto many = Run(admin_, hundred);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ((*many)[0].row_count, 100);
  auto rows = Rows("b", "single");
  ASSERT_EQ(rows.size(), 101u);
  EXPECT_EQ(rows[0].values[0].as_int(), 1);
  EXPECT_EQ(rows[0].values[1].as_bytes(), "v1");
  EXPECT_GT(rows[0].values[2].as_int(), 1700000000000000);  // NOW() in microseconds
  EXPECT_LT(rows[0].seq, rows[100].seq);                    // _seq grows

  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(Run(admin_, "INSERT INTO b.parallel (worker, value) VALUES (1, 'x')").ok());
  std::set<int64_t> ids;
  for (const auto& row : Rows("b", "parallel")) ids.insert(row.values[0].as_int());
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(EngineTest, InsertErrors) {
  ASSERT_TRUE(Run(admin_,
                  "CREATE NAMESPACE e; CREATE TABLE e.t (id BIGINT PRIMARY KEY, value TEXT NOT "
                  "NULL, n INT)")
                  .ok());
  auto error = [&](std::string_view sql) {
    auto r = Run(admin_, sql);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_EQ(error("INSERT INTO e.t (id, value) VALUES (5, 'a')"), "ok");
  EXPECT_EQ(error("INSERT INTO e.t (id, value) VALUES (5, 'b')"),
            "Statement 1 failed: Already exists: Primary key violation: value '5' already exists "
            "in column 'id'");
  EXPECT_EQ(error("INSERT INTO e.t (id, value) VALUES (6, 'a'), (6, 'b')"),
            "Statement 1 failed: Already exists: Primary key violation: value '6' appears multiple "
            "times in column 'id'");
  // Out of order: the key whose second occurrence comes first is named (3, in row 4).
  EXPECT_EQ(error("INSERT INTO e.t (id, value) VALUES (9, 'a'), (3, 'b'), (7, 'c'), (3, 'd'), "
                  "(9, 'e')"),
            "Statement 1 failed: Already exists: Primary key violation: value '3' appears multiple "
            "times in column 'id'");
  EXPECT_EQ(
      error("INSERT INTO e.t (id) VALUES (7)"),
      "Statement 1 failed: NOT NULL constraint violation: column 'value' cannot be NULL (row 1)");
  EXPECT_EQ(error("INSERT INTO e.t (id, value, n) VALUES (8, 'a', 99999999999)"),
            "Statement 1 failed: Unable to cast value 99999999999 for column 'n' (row 1): cannot "
            "cast 99999999999 to Int (out of range)");
  EXPECT_EQ(error("INSERT INTO e.t (id, nope) VALUES (9, 'a')"),
            "Statement 1 failed: Invalid operation: No field named 'nope' in table e.t");
  EXPECT_EQ(error("INSERT INTO e.t (id, _seq) VALUES (9, 1)"),
            "Statement 1 failed: Invalid operation: Cannot insert into system column '_seq'");
  EXPECT_EQ(error("INSERT INTO e.missing (id) VALUES (1)"),
            "Statement 1 failed: Not found: Table 'e.missing' not found");
  // A failed statement writes nothing, not even its valid rows.
  EXPECT_NE(error("INSERT INTO e.t (id, value) VALUES (10, 'ok'), (11, NULL)"), "ok");
  EXPECT_EQ(Rows("e", "t").size(), 1u);
  // Plain users may not write SHARED tables.
  EXPECT_EQ(Run(user_, "INSERT INTO e.t (id, value) VALUES (12, 'x')").status().code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(EngineTest, InsertWithParametersAndBatchedResults) {
  ASSERT_TRUE(Run(admin_,
                  "CREATE NAMESPACE p; CREATE TABLE p.t (id BIGINT PRIMARY KEY, v TEXT, f DOUBLE, "
                  "ok BOOLEAN)")
                  .ok());
  std::vector<Param> params(4);
  params[0] = {Param::Kind::kInteger, "7", false};
  params[1] = {Param::Kind::kString, "seven", false};
  params[2] = {Param::Kind::kFloat, "7.5", false};
  params[3] = {Param::Kind::kBoolean, "", true};
  auto r = RunWith(admin_, "INSERT INTO p.t (id, v, f, ok) VALUES ($1, $2, $3, $4)", params);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = Rows("p", "t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].values[1].as_bytes(), "seven");
  EXPECT_DOUBLE_EQ(rows[0].values[2].as_double(), 7.5);
  EXPECT_TRUE(rows[0].values[3].as_bool());
  EXPECT_EQ(RunWith(admin_, "INSERT INTO p.t (id) VALUES ($2)", {params[0]}).status().code(),
            ErrorCode::kInvalidOperation);

  auto batch =
      Run(admin_,
          "INSERT INTO p.t (id) VALUES (1); SHOW NAMESPACES; INSERT INTO p.t (id) VALUES (2), (3)");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);  // SHOW NAMESPACES, then one summed INSERT entry
  EXPECT_TRUE((*batch)[0].has_rows);
  EXPECT_EQ((*batch)[1].Message(), "Inserted 3 row(s)");
  EXPECT_EQ((*batch)[1].row_count, 3);
}

TEST_F(EngineTest, UserTablesKeepEachOwnersKeysApart) {
  ASSERT_TRUE(Run(admin_,
                  "CREATE NAMESPACE u; CREATE USER TABLE u.notes (id BIGINT PRIMARY KEY, body "
                  "TEXT, who TEXT DEFAULT CURRENT_USER())")
                  .ok());
  Session bob{"bob", catalog::Role::kUser, "default"};
  ASSERT_TRUE(Run(user_, "INSERT INTO u.notes (id, body) VALUES (1, 'alice note')").ok());
  // The same primary key is free for another owner.
  ASSERT_TRUE(Run(bob, "INSERT INTO u.notes (id, body) VALUES (1, 'bob note')").ok());
  EXPECT_EQ(Run(bob, "INSERT INTO u.notes (id, body) VALUES (1, 'again')").status().code(),
            ErrorCode::kAlreadyExists);
  auto rows = Rows("u", "notes");
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::string> owners;
  for (const auto& row : rows) owners.insert(std::string(row.values[2].as_bytes()));
  EXPECT_EQ(owners, (std::set<std::string>{"alice", "bob"}));
}

// The primary-key check skips keys above a table's highest stored key (KeyWatermarks) and looks
// up the rest: duplicates are caught at, below and between the watermark, for several owners,
// after a failed statement, after deletes, and by a fresh engine over the same store.
TEST_F(EngineTest, PrimaryKeyCheckAroundTheKeyWatermark) {
  ASSERT_TRUE(Run(admin_,
                  "CREATE NAMESPACE w; CREATE TABLE w.t (id BIGINT PRIMARY KEY, v TEXT); "
                  "CREATE USER TABLE w.u (id BIGINT PRIMARY KEY, v TEXT)")
                  .ok());
  auto code = [&](const Session& session, std::string_view sql) {
    auto r = Run(session, sql);
    return r.ok() ? ErrorCode::kOk : r.status().code();
  };
  const ErrorCode taken = ErrorCode::kAlreadyExists;
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (10), (20)"), ErrorCode::kOk);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (20)"), taken);  // at the watermark
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (10)"), taken);  // below it
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (15)"), ErrorCode::kOk);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (30), (15)"), taken);  // mixed
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (-5)"), ErrorCode::kOk);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (-5)"), taken);
  // The failed statement raised the watermark to 30 without writing 30: still insertable.
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (30)"), ErrorCode::kOk);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (30)"), taken);
  // A deleted top key may be inserted again (the soft-deleted row is replaced).
  ASSERT_TRUE(Run(admin_, "DELETE FROM w.t WHERE id = 30").ok());
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (30)"), ErrorCode::kOk);

  // Each owner of a USER table has a watermark of its own.
  Session bob{"bob", catalog::Role::kUser, "default"};
  EXPECT_EQ(code(user_, "INSERT INTO w.u (id) VALUES (100)"), ErrorCode::kOk);
  EXPECT_EQ(code(bob, "INSERT INTO w.u (id) VALUES (50)"), ErrorCode::kOk);
  EXPECT_EQ(code(bob, "INSERT INTO w.u (id) VALUES (100)"), ErrorCode::kOk);
  EXPECT_EQ(code(bob, "INSERT INTO w.u (id) VALUES (50)"), taken);
  EXPECT_EQ(code(user_, "INSERT INTO w.u (id) VALUES (100)"), taken);

  // A new engine starts from the stored keys: the highest one is found again.
  engine_ = std::make_unique<Engine>(*catalog_, *store_);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (30)"), taken);
  EXPECT_EQ(code(user_, "INSERT INTO w.u (id) VALUES (100)"), taken);
  EXPECT_EQ(code(admin_, "INSERT INTO w.t (id) VALUES (31)"), ErrorCode::kOk);
  EXPECT_EQ(Rows("w", "t").size(), 6u);  // -5, 10, 15, 20, 30, 31
}

// Several sessions inserting the same new keys at once: exactly one INSERT of each key
// succeeds, the others get a primary-key violation, and no acknowledged row is overwritten.
TEST_F(EngineTest, ConcurrentInsertsOfOneKeyAcknowledgeExactlyOne) {
  ASSERT_TRUE(
      Run(admin_, "CREATE NAMESPACE c; CREATE TABLE c.t (id BIGINT PRIMARY KEY, v TEXT)").ok());
  constexpr int kThreads = 4;
  constexpr int kKeys = 300;
  std::vector<std::vector<int>> won(kThreads);
  std::vector<int> unexpected(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int id = 1; id <= kKeys; ++id) {
        auto r = Run(admin_, "INSERT INTO c.t (id, v) VALUES (" + std::to_string(id) + ", 'w" +
                                 std::to_string(t) + "')");
        if (r.ok()) {
          won[static_cast<size_t>(t)].push_back(id);
        } else if (r.status().code() != ErrorCode::kAlreadyExists) {
          ++unexpected[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<int> winners(kKeys + 1, -1);
  int acknowledged = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(unexpected[static_cast<size_t>(t)], 0);
    for (int id : won[static_cast<size_t>(t)]) {
      EXPECT_EQ(winners[static_cast<size_t>(id)], -1) << "key " << id << " acknowledged twice";
      winners[static_cast<size_t>(id)] = t;
      ++acknowledged;
    }
  }
  EXPECT_EQ(acknowledged, kKeys);
  // Each stored row is its winner's.
  auto rows = Rows("c", "t");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kKeys));
  for (const auto& row : rows) {
    const int64_t id = row.values[0].as_int();
    EXPECT_EQ(row.values[1].as_bytes(), "w" + std::to_string(winners[static_cast<size_t>(id)]))
        << "key " << id;
  }
}

// Past max_prefixes a new prefix is not tracked: every key of its statements is looked up
// (the watermark returned is the statement's own highest key). Tracked prefixes keep working.
TEST_F(EngineTest, KeyWatermarksBeyondTheirCapacityLookEverythingUp) {
  KeyWatermarks marks(*store_, 1);
  std::string before;
  ASSERT_TRUE(marks.Claim("A", "A5", &before).ok());
  EXPECT_EQ(before, "");  // nothing stored under A
  ASSERT_TRUE(marks.Claim("A", "A7", &before).ok());
  EXPECT_EQ(before, "A5");
  ASSERT_TRUE(marks.Claim("B", "B3", &before).ok());
  EXPECT_EQ(before, "B3") << "untracked: keys up to B3 must all be looked up";
  ASSERT_TRUE(marks.Claim("B", "B9", &before).ok());
  EXPECT_EQ(before, "B9");
  ASSERT_TRUE(marks.Claim("A", "A6", &before).ok());
  EXPECT_EQ(before, "A7");
}

TEST_F(EngineTest, SelectFromTables) {
  ASSERT_TRUE(Run(admin_,
                  "CREATE NAMESPACE s; CREATE TABLE s.t (id BIGINT PRIMARY KEY, value TEXT NOT "
                  "NULL, n INT, "
                  "price DECIMAL(10,2)); INSERT INTO s.t (id, value, n, price) VALUES "
                  "(3, 'Charlie', 30, 1.5), (1, 'alpha', 10, 2.25), (2, 'Bravo', 20, NULL), (4, "
                  "'delta', NULL, 10)")
                  .ok());
  auto q = [&](std::string_view sql) {
    auto r = Run(admin_, sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? (*r)[0] : QueryResult{};
  };
  auto all = q("SELECT * FROM s.t");
  ASSERT_EQ(all.row_count, 4);
  EXPECT_EQ(all.schema.size(), 6u);  // 4 columns, _seq, _deleted
  EXPECT_EQ(all.schema[0].flags, (std::vector<std::string>{"pk", "nn", "uq"}));
  EXPECT_EQ(all.schema[1].flags, (std::vector<std::string>{"nn"}));
  EXPECT_EQ(all.schema[4].name, "_seq");
  EXPECT_EQ(all.rows[0][0], "\"1\"");  // primary-key order, BIGINT as a string
  EXPECT_EQ(all.rows[0][3], "\"2.25\"");
  EXPECT_EQ(all.rows[1][3], "null");
  EXPECT_EQ(all.rows[0][5], "false");

  auto filtered = q(
      "SELECT id, upper(value) AS v FROM s.t WHERE n >= 20 AND value LIKE '%r%' ORDER BY id DESC");
  ASSERT_EQ(filtered.row_count, 2);
  EXPECT_EQ(filtered.schema[1].name, "v");
  EXPECT_EQ(filtered.rows[0], (std::vector<std::string>{"\"3\"", "\"CHARLIE\""}));
  EXPECT_EQ(filtered.rows[1], (std::vector<std::string>{"\"2\"", "\"BRAVO\""}));

  auto count = q("SELECT COUNT(*) FROM s.t");
  EXPECT_EQ(count.schema[0].name, "count(*)");
  EXPECT_EQ(count.schema[0].data_type, "BigInt");
  EXPECT_EQ(count.rows[0][0], "\"4\"");
  auto aggregates = q("SELECT COUNT(n), SUM(n), MIN(value), MAX(id), AVG(n) FROM s.t");
  EXPECT_EQ(aggregates.rows[0],
            (std::vector<std::string>{"\"3\"", "\"60\"", "\"Bravo\"", "\"4\"", "20"}));

  ASSERT_TRUE(
      Run(admin_, "INSERT INTO s.t (id, value, n) VALUES (5, 'alpha', 1), (6, 'alpha', 2)").ok());
  auto groups =
      q("SELECT value, COUNT(*) AS c FROM s.t GROUP BY value HAVING COUNT(*) > 1 ORDER BY c DESC");
  ASSERT_EQ(groups.row_count, 1);
  EXPECT_EQ(groups.rows[0], (std::vector<std::string>{"\"alpha\"", "\"3\""}));

  auto paged = q("SELECT id FROM s.t ORDER BY id LIMIT 2 OFFSET 1");
  EXPECT_EQ(paged.rows, (std::vector<std::vector<std::string>>{{"\"2\""}, {"\"3\""}}));
  auto streamed = q("SELECT id FROM s.t LIMIT 2 OFFSET 4");
  EXPECT_EQ(streamed.rows, (std::vector<std::vector<std::string>>{{"\"5\""}, {"\"6\""}}));
  auto point = q("SELECT value FROM s.t WHERE id = 4");
  EXPECT_EQ(point.rows, (std::vector<std::vector<std::string>>{{"\"delta\""}}));
  EXPECT_EQ(q("SELECT value FROM s.t WHERE id = 99").row_count, 0);
  EXPECT_EQ(q("SELECT id FROM s.t WHERE n IS NULL").rows[0][0], "\"4\"");
  EXPECT_EQ(q("SELECT id FROM s.t WHERE id IN (1, 3) AND n BETWEEN 5 AND 15").row_count, 1);
  EXPECT_EQ(q("SELECT id FROM s.t WHERE value ILIKE 'ALPHA'").row_count, 3);

  EXPECT_EQ(Run(admin_, "SELECT nope FROM s.t").status().message(),
            "Statement 1 failed: Invalid operation: No field named 'nope' in table s.t");
  EXPECT_EQ(Run(admin_, "SELECT id FROM s.t WHERE id / 0 = 1").status().message(),
            "Statement 1 failed: Invalid operation: Divide by zero error");
}

TEST_F(EngineTest, SelectLimitsAndUserIsolation) {
  ASSERT_TRUE(Run(admin_, "CREATE NAMESPACE l; CREATE TABLE l.t (id BIGINT PRIMARY KEY)").ok());
  std::string insert = "INSERT INTO l.t (id) VALUES (0)";
  for (int i = 1; i < 1200; ++i) insert += ", (" + std::to_string(i) + ")";
  ASSERT_TRUE(Run(admin_, insert).ok());
  EXPECT_EQ((*Run(admin_, "SELECT id FROM l.t"))[0].row_count, 50);               // default limit
  EXPECT_EQ((*Run(admin_, "SELECT id FROM l.t LIMIT 5000"))[0].row_count, 1000);  // max limit
  EXPECT_EQ((*Run(admin_, "SELECT COUNT(*) FROM l.t"))[0].rows[0][0], "\"1200\"");

  ASSERT_TRUE(Run(admin_, "CREATE USER TABLE l.notes (id BIGINT PRIMARY KEY, body TEXT)").ok());
  Session bob{"bob", catalog::Role::kUser, "default"};
  ASSERT_TRUE(Run(user_, "INSERT INTO l.notes (id, body) VALUES (1, 'a1'), (2, 'a2')").ok());
  ASSERT_TRUE(Run(bob, "INSERT INTO l.notes (id, body) VALUES (1, 'b1')").ok());
  // Every caller, the DBA included, sees only its own rows.
  EXPECT_EQ((*Run(user_, "SELECT * FROM l.notes"))[0].row_count, 2);
  EXPECT_EQ((*Run(bob, "SELECT body FROM l.notes WHERE id = 1"))[0].rows[0][0], "\"b1\"");
  EXPECT_EQ((*Run(bob, "SELECT body FROM l.notes WHERE id = 2"))[0].row_count, 0);
  EXPECT_EQ((*Run(admin_, "SELECT COUNT(*) FROM l.notes"))[0].rows[0][0], "\"0\"");
  // Plain users cannot read a PRIVATE shared table.
  EXPECT_EQ(Run(user_, "SELECT * FROM l.t").status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(EngineTest, UpdateAndSoftDelete) {
  ASSERT_TRUE(
      Run(admin_,
          "CREATE NAMESPACE d; CREATE TABLE d.t (id BIGINT PRIMARY KEY, v TEXT NOT NULL, n INT); "
          "INSERT INTO d.t (id, v, n) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
          .ok());
  auto q = [&](std::string_view sql) {
    auto r = Run(admin_, sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? (*r)[0] : QueryResult{};
  };
  std::string seq_before = q("SELECT _seq FROM d.t WHERE id = 2").rows[0][0];
  auto updated = q("UPDATE d.t SET v = upper(v), n = n * 10 WHERE n >= 2");
  EXPECT_EQ(updated.Message(), "Updated 2 row(s)");
  EXPECT_EQ(updated.row_count, 2);
  auto rows = q("SELECT id, v, n FROM d.t");
  EXPECT_EQ(rows.rows,
            (std::vector<std::vector<std::string>>{
                {"\"1\"", "\"a\"", "1"}, {"\"2\"", "\"B\"", "20"}, {"\"3\"", "\"C\"", "30"}}));
  EXPECT_NE(q("SELECT _seq FROM d.t WHERE id = 2").rows[0][0], seq_before);  // _seq bumped
  EXPECT_EQ(q("UPDATE d.t SET n = 5 WHERE id = 42").row_count, 0);

  auto deleted = q("DELETE FROM d.t WHERE id = 2");
  EXPECT_EQ(deleted.Message(), "Deleted 1 row(s)");
  EXPECT_EQ(q("SELECT COUNT(*) FROM d.t").rows[0][0], "\"2\"");
  // Soft delete: visible when the query asks about _deleted.
  auto tombstones = q("SELECT id FROM d.t WHERE _deleted = true");
  EXPECT_EQ(tombstones.rows, (std::vector<std::vector<std::string>>{{"\"2\""}}));
  EXPECT_EQ(q("DELETE FROM d.t WHERE id = 2").row_count, 0);  // already deleted
  // The key is free again for a new row.
  EXPECT_TRUE(Run(admin_, "INSERT INTO d.t (id, v) VALUES (2, 'again')").ok());
  EXPECT_EQ(q("SELECT v FROM d.t WHERE id = 2").rows[0][0], "\"again\"");

  EXPECT_EQ(Run(admin_, "UPDATE d.t SET v = NULL WHERE id = 1").status().message(),
            "Statement 1 failed: NOT NULL constraint violation: column 'v' cannot be NULL");
  EXPECT_EQ(Run(admin_, "UPDATE d.t SET id = 9").status().code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(q("DELETE FROM d.t").row_count, 3);
  EXPECT_EQ(q("SELECT COUNT(*) FROM d.t").rows[0][0], "\"0\"");

  auto batch = Run(admin_,
                   "INSERT INTO d.t (id, v) VALUES (7, 'x'); UPDATE d.t SET v = 'y' WHERE id = 7; "
                   "DELETE FROM d.t WHERE id = 7");
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[0].Message(), "Inserted 1 row(s)");
  EXPECT_EQ((*batch)[1].Message(), "Updated 1 row(s)");
  EXPECT_EQ((*batch)[2].Message(), "Deleted 1 row(s)");
}

TEST_F(EngineTest, ExecuteAsUser) {
  ASSERT_TRUE(
      Run(admin_,
          "CREATE NAMESPACE x; CREATE USER TABLE x.inbox (id BIGINT PRIMARY KEY, body TEXT); "
          "CREATE TABLE x.shared (id BIGINT PRIMARY KEY)")
          .ok());
  auto r = Run(admin_,
               "EXECUTE AS USER 'alice' (INSERT INTO x.inbox (id, body) VALUES (1, 'for alice'))");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].as_user, "alice");
  EXPECT_EQ((*Run(admin_, "SELECT COUNT(*) FROM x.inbox"))[0].rows[0][0],
            "\"0\"");  // not the dba's row
  auto mine = Run(user_, "SELECT body FROM x.inbox");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)[0].rows[0][0], "\"for alice\"");
  auto as_self = Run(user_, "EXECUTE AS USER alice (SELECT COUNT(*) FROM x.inbox)");
  ASSERT_TRUE(as_self.ok());
  EXPECT_EQ((*as_self)[0].rows[0][0], "\"1\"");
  EXPECT_EQ(Run(user_, "EXECUTE AS USER 'bob' (SELECT * FROM x.inbox)").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(admin_, "EXECUTE AS USER 'alice' (SELECT * FROM x.shared)").status().message(),
            "Statement 1 failed: Invalid operation: EXECUTE AS USER is not allowed on SHARED "
            "tables (table "
            "'x.shared'). AS USER impersonation is only supported for USER and STREAM tables.");
  EXPECT_EQ(Run(admin_, "EXECUTE AS USER 'alice' (SELECT 1; SELECT 2)").status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(EngineTest, StreamRowsExpireAfterTheirTtl) {
  ASSERT_TRUE(
      Run(admin_,
          "CREATE NAMESPACE st; CREATE STREAM TABLE st.events (kind TEXT) WITH (TTL_SECONDS = 1)")
          .ok());
  ASSERT_TRUE(Run(user_, "INSERT INTO st.events (kind) VALUES ('a'), ('b')").ok());
  EXPECT_EQ((*Run(user_, "SELECT COUNT(*) FROM st.events"))[0].rows[0][0], "\"2\"");
  auto none = SweepExpiredStreamRows(*catalog_, *store_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // TTL is whole seconds
  EXPECT_EQ((*Run(user_, "SELECT COUNT(*) FROM st.events"))[0].rows[0][0], "\"0\"");
  // The sweep removes the expired rows for good.
  auto removed = SweepExpiredStreamRows(*catalog_, *store_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(Rows("st", "events").size(), 0u);
}

}  // namespace
}  // namespace kalamdb::sql

namespace kalamdb::sql {
namespace {

TEST_F(EngineTest, TableNamesAreFoldedAndCheckedWhereverTheyAreResolved) {
  ASSERT_TRUE(Run(admin_, "CREATE NAMESPACE app").ok());
  ASSERT_TRUE(Run(admin_, "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, v TEXT)").ok());
  // Unquoted names fold to lower case, in the namespace and the table alike.
  auto inserted = Run(admin_, "INSERT INTO APP.Items (id, v) VALUES (1, 'a')");
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  auto selected = Run(admin_, "SELECT v FROM app.ITEMS WHERE id = 1");
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  ASSERT_EQ((*selected)[0].rows.size(), 1u);
  EXPECT_EQ((*selected)[0].rows[0][0], "\"a\"");
  // Names that cannot exist are refused with the rule they break, not "not found".
  auto starts = Run(admin_, "INSERT INTO app._items (id, v) VALUES (2, 'b')");
  ASSERT_FALSE(starts.ok());
  EXPECT_EQ(starts.status().code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(starts.status().message().find("must not start with '_' or a digit"), std::string::npos)
      << starts.status().ToString();
  const std::string long_name(65, 't');
  auto too_long = Run(admin_, "INSERT INTO app." + long_name + " (id) VALUES (3)");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("at most 64 characters"), std::string::npos);
  auto quoted = Run(admin_, "INSERT INTO app.\"it-ems\" (id) VALUES (4)");
  ASSERT_FALSE(quoted.ok());
  EXPECT_NE(quoted.status().message().find("only letters, digits and '_'"), std::string::npos)
      << quoted.status().ToString();
  auto missing = Run(admin_, "INSERT INTO app.other (id) VALUES (5)");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("app.other"), std::string::npos);
  const std::string max_name(64, 'm');  // exactly 64: allowed (and then not found)
  auto max_ok = Run(admin_, "INSERT INTO app." + max_name + " (id) VALUES (6)");
  ASSERT_FALSE(max_ok.ok());
  EXPECT_EQ(max_ok.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kalamdb::sql
