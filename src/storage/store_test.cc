#include <gtest/gtest.h>

#include <filesystem>

#include "storage/storage.h"
#include "support/temp_dir.h"

namespace kalamdb::storage {
namespace {

TEST(StoreTest, PutGetDeleteAndScan) {
  test::TempDir dir;
  auto store = Store::Open({.path = dir.path() + "/rocksdb"});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  ASSERT_TRUE(s.Put(Family::kMeta, "user/a", "1").ok());
  ASSERT_TRUE(s.Put(Family::kMeta, "user/b", "2").ok());
  ASSERT_TRUE(s.Put(Family::kMeta, "zzz", "3").ok());
  ASSERT_TRUE(s.Put(Family::kRows, "user/c", "other family").ok());
  auto got = s.Get(Family::kMeta, "user/a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value(), "1");
  EXPECT_FALSE(s.Get(Family::kMeta, "user/c")->has_value());

  std::vector<std::string> seen;
  ASSERT_TRUE(s.ScanPrefix(Family::kMeta, "user/", [&](std::string_view k, std::string_view v) {
                 seen.push_back(std::string(k) + "=" + std::string(v));
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"user/a=1", "user/b=2"}));

  ASSERT_TRUE(s.Delete(Family::kMeta, "user/a").ok());
  EXPECT_FALSE(s.Get(Family::kMeta, "user/a")->has_value());
}

TEST(StoreTest, BatchIsAtomicAndDataSurvivesReopen) {
  test::TempDir dir;
  {
    auto store = Store::Open({.path = dir.path()});
    ASSERT_TRUE(store.ok());
    WriteBatch batch;
    batch.Put(Family::kRows, "k1", "v1");
    batch.Put(Family::kRows, "k2", "v2");
    batch.Delete(Family::kRows, "k1");
    EXPECT_EQ(batch.size(), 3u);
    ASSERT_TRUE((*store)->Write(batch).ok());
    ASSERT_TRUE((*store)->Close().ok());
    EXPECT_EQ((*store)->Get(Family::kRows, "k2").status().code(), ErrorCode::kShuttingDown);
  }
  auto again = Store::Open({.path = dir.path()});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)->Get(Family::kRows, "k1")->has_value());
  EXPECT_EQ((*again)->Get(Family::kRows, "k2")->value(), "v2");
}

TEST(StoreTest, DeleteRangeRemovesOnlyTheRange) {
  test::TempDir dir;
  auto store = Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  for (const char* key : {"a1", "b1", "b2", "c1"})
    ASSERT_TRUE((*store)->Put(Family::kRows, key, "v").ok());
  ASSERT_TRUE((*store)->DeleteRange(Family::kRows, "b", "c").ok());
  EXPECT_TRUE((*store)->Get(Family::kRows, "a1")->has_value());
  EXPECT_FALSE((*store)->Get(Family::kRows, "b1")->has_value());
  EXPECT_FALSE((*store)->Get(Family::kRows, "b2")->has_value());
  EXPECT_TRUE((*store)->Get(Family::kRows, "c1")->has_value());
}

TEST(StoreTest, MultiGetVisitsEveryKeyInOrder) {
  test::TempDir dir;
  auto store = Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put(Family::kRows, "b", "2").ok());
  ASSERT_TRUE((*store)->Put(Family::kRows, "d", std::string(100, 'x')).ok());
  ASSERT_TRUE((*store)->Put(Family::kMeta, "a", "meta").ok());  // other family: not seen
  std::vector<std::string_view> keys = {"a", "b", "c", "d", "b"};
  std::vector<std::string> seen;
  ASSERT_TRUE((*store)
                  ->MultiGet(Family::kRows, keys,
                             [&](size_t i, const std::string_view* value) {
                               seen.push_back(std::to_string(i) + "=" +
                                              (value ? std::string(*value) : "-"));
                             })
                  .ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"0=-", "1=2", "2=-", "3=" + std::string(100, 'x'), "4=2"}));
  // A second, smaller batch reuses the scratch space.
  seen.clear();
  ASSERT_TRUE((*store)
                  ->MultiGet(Family::kRows, std::span<const std::string_view>(keys.data(), 2),
                             [&](size_t i, const std::string_view* value) {
                               seen.push_back(std::to_string(i) + (value ? "+" : "-"));
                             })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"0-", "1+"}));
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_EQ((*store)->MultiGet(Family::kRows, keys, [](size_t, const std::string_view*) {}).code(),
            ErrorCode::kShuttingDown);
}

TEST(StoreTest, SecondOpenOfSameDirectoryFails) {
  test::TempDir dir;
  auto first = Store::Open({.path = dir.path()});
  ASSERT_TRUE(first.ok());
  auto second = Store::Open({.path = dir.path()});
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kStorageIo);
}

}  // namespace
}  // namespace kalamdb::storage
