#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "sql/sql.h"
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
    return engine_->Execute(session, sql, params);
  }

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
}

TEST_F(EngineTest, RequestLevelErrors) {
  EXPECT_EQ(Run(user_, "").status().code(), ErrorCode::kEmptySql);
  EXPECT_EQ(Run(user_, " ; -- nothing").status().code(), ErrorCode::kEmptySql);
  EXPECT_EQ(Run(user_, "SELECT 1; SELECT 2", 1).status().code(), ErrorCode::kParamsWithBatch);
  EXPECT_TRUE(Run(user_, "SELECT 1", 3).ok());
  EXPECT_EQ(Run(user_, "SELEC 1").status().code(), ErrorCode::kInvalidSql);
  EXPECT_EQ(Run(user_, "UPDATE x SET a = 1").status().code(), ErrorCode::kInvalidSql);
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

}  // namespace
}  // namespace kalamdb::sql
