#include <gtest/gtest.h>

#include "sql/sql.h"

namespace kalamdb::sql {
namespace {

TEST(EngineTest, SelectOneInAnySpelling) {
  Engine engine;
  for (const char* text : {"SELECT 1", "select 1;", "  SeLeCt\n 1 ;  "}) {
    auto r = engine.Execute({}, text);
    ASSERT_TRUE(r.ok()) << text;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].schema[0].name, "Int64(1)");
    EXPECT_EQ((*r)[0].schema[0].data_type, "BigInt");
    EXPECT_EQ((*r)[0].rows[0][0], "\"1\"");
  }
}

TEST(EngineTest, AnythingElseIsInvalidSql) {
  Engine engine;
  for (const char* text : {"SELECT 2", "SELECT 1 1", "SELECT1", "DROP TABLE x", ""}) {
    auto r = engine.Execute({}, text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidSql);
  }
}

}  // namespace
}  // namespace kalamdb::sql
