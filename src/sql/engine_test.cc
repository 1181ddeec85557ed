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
  EXPECT_EQ(Run(user_, "DROP TABLE x").status().code(), ErrorCode::kInvalidSql);
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

}  // namespace
}  // namespace kalamdb::sql
