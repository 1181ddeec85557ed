#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "storage/storage.h"
#include "support/temp_dir.h"

namespace kalamdb::catalog {
namespace {

TableDef SingleTable(std::string ns, std::string name) {
  TableDef t;
  t.namespace_id = std::move(ns);
  t.name = std::move(name);
  ColumnDef id;
  id.name = "id";
  id.type.type = DataType::kBigInt;
  id.nullable = false;
  id.primary_key = true;
  id.auto_increment = true;
  id.default_value.kind = DefaultValue::Kind::kSnowflakeId;
  ColumnDef value;
  value.name = "value";
  value.type.type = DataType::kText;
  value.nullable = false;
  ColumnDef created;
  created.name = "created_at";
  created.type.type = DataType::kTimestamp;
  created.default_value.kind = DefaultValue::Kind::kNow;
  ColumnDef price;
  price.name = "price";
  price.type = ColumnType{DataType::kDecimal, 10, 2, 0};
  price.default_value = {DefaultValue::Kind::kLiteral, "1.50"};
  t.columns = {id, value, created, price};
  t.primary_key = 0;
  return t;
}

TEST(TableCodecTest, RoundTrip) {
  TableDef t = SingleTable("app", "t");
  t.id = 9;
  t.type = TableType::kStream;
  t.ttl_seconds = 30;
  t.access_level = AccessLevel::kPublic;
  auto back = DecodeTable(EncodeTable(t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, 9u);
  EXPECT_EQ(back->type, TableType::kStream);
  EXPECT_EQ(back->ttl_seconds, 30);
  EXPECT_EQ(back->access_level, AccessLevel::kPublic);
  ASSERT_EQ(back->columns.size(), 4u);
  EXPECT_EQ(back->columns[0].default_value.kind, DefaultValue::Kind::kSnowflakeId);
  EXPECT_TRUE(back->columns[0].auto_increment);
  EXPECT_FALSE(back->columns[1].nullable);
  EXPECT_EQ(back->columns[3].type.type, DataType::kDecimal);
  EXPECT_EQ(back->columns[3].type.precision, 10);
  EXPECT_EQ(back->columns[3].type.scale, 2);
  EXPECT_EQ(back->columns[3].default_value.literal, "1.50");
  EXPECT_EQ(back->ColumnIndex("CREATED_AT"), 2);
  EXPECT_EQ(back->ColumnIndex("nope"), -1);
  EXPECT_FALSE(DecodeTable("{}").ok());
  EXPECT_FALSE(DecodeTable("garbage").ok());
}

TEST(CatalogTest, NamespacesAndTablesPersistAcrossReopen) {
  test::TempDir dir;
  uint32_t first_id = 0;
  {
    auto store = storage::Store::Open({.path = dir.path()});
    ASSERT_TRUE(store.ok());
    Catalog catalog(**store);
    ASSERT_TRUE(catalog.Load().ok());
    EXPECT_NE(catalog.Snapshot()->FindNamespace("default"), nullptr);
    ASSERT_TRUE(catalog.CreateNamespace("app").ok());
    EXPECT_EQ(catalog.CreateNamespace("app").code(), ErrorCode::kAlreadyExists);
    auto created = catalog.CreateTable(SingleTable("app", "single"));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    first_id = (*created)->id;
    EXPECT_GT(first_id, 0u);
    EXPECT_EQ(catalog.CreateTable(SingleTable("app", "single")).status().code(),
              ErrorCode::kAlreadyExists);
    EXPECT_EQ(catalog.CreateTable(SingleTable("missing", "t")).status().code(),
              ErrorCode::kNotFound);
    auto second = catalog.CreateTable(SingleTable("app", "other"));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ((*second)->id, first_id + 1);
  }
  auto store = storage::Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  Catalog catalog(**store);
  ASSERT_TRUE(catalog.Load().ok());
  auto snap = catalog.Snapshot();
  const TableDef* t = snap->FindTable("app", "single");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id, first_id);
  EXPECT_EQ(snap->Tables("app").size(), 2u);
  EXPECT_EQ(snap->Namespaces().size(), 2u);
  // Ids are never reused, even after a drop and a restart.
  ASSERT_TRUE(catalog.DropTable("app", "other").ok());
  auto third = catalog.CreateTable(SingleTable("app", "third"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->id, first_id + 2);
}

TEST(CatalogTest, DropNamespaceReturnsItsTablesAndSnapshotsStayValid) {
  test::TempDir dir;
  auto store = storage::Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  Catalog catalog(**store);
  ASSERT_TRUE(catalog.Load().ok());
  ASSERT_TRUE(catalog.CreateNamespace("a").ok());
  ASSERT_TRUE(catalog.CreateNamespace("b").ok());
  ASSERT_TRUE(catalog.CreateTable(SingleTable("a", "t1")).ok());
  ASSERT_TRUE(catalog.CreateTable(SingleTable("a", "t2")).ok());
  ASSERT_TRUE(catalog.CreateTable(SingleTable("b", "t1")).ok());
  auto before = catalog.Snapshot();
  auto dropped = catalog.DropNamespace("a");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->size(), 2u);
  EXPECT_EQ(catalog.Snapshot()->FindNamespace("a"), nullptr);
  EXPECT_EQ(catalog.Snapshot()->FindTable("a", "t1"), nullptr);
  EXPECT_NE(catalog.Snapshot()->FindTable("b", "t1"), nullptr);
  // An older snapshot is unchanged: readers never see a half-applied DDL.
  EXPECT_NE(before->FindTable("a", "t1"), nullptr);
  EXPECT_EQ(catalog.DropNamespace("a").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(catalog.DropTable("b", "nope").status().code(), ErrorCode::kNotFound);
}

TEST(CatalogTest, ConcurrentCreatesGetDistinctIds) {
  test::TempDir dir;
  auto store = storage::Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  Catalog catalog(**store);
  ASSERT_TRUE(catalog.Load().ok());
  ASSERT_TRUE(catalog.CreateNamespace("c").ok());
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&catalog, i] {
      for (int k = 0; k < 10; ++k) {
        ASSERT_TRUE(
            catalog.CreateTable(SingleTable("c", "t" + std::to_string(i) + "_" + std::to_string(k)))
                .ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto tables = catalog.Snapshot()->Tables("c");
  ASSERT_EQ(tables.size(), 40u);
  std::set<uint32_t> ids;
  for (const auto* t : tables) ids.insert(t->id);
  EXPECT_EQ(ids.size(), 40u);
}

}  // namespace
}  // namespace kalamdb::catalog
