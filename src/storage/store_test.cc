#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

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

// Group commit: writes under DeferSync return before their fsync, WhenSynced() releases every
// waiter after one shared WAL sync, and the data is there.
TEST(StoreTest, DeferSyncLeavesTheFsyncToOneSharedSync) {
  test::TempDir dir;
  auto store = Store::Open({.path = dir.path(), .sync_writes = true});
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  WriteBatch rows;
  rows.Put(Family::kRows, "r", "1");
  {
    DeferSync outside_meta;
    WriteBatch meta;
    meta.Put(Family::kMeta, "m", "1");
    ASSERT_TRUE(s.Write(meta).ok());
    EXPECT_FALSE(outside_meta.pending()) << "catalog writes always sync themselves";
  }
  ASSERT_TRUE(s.Write(rows).ok());  // no scope: a synchronous write, nothing to wait for
  EXPECT_EQ(s.Stats().wal_syncs, 0u);

  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> released{0};
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      DeferSync deferred;
      WriteBatch batch;
      batch.Put(Family::kRows, "k" + std::to_string(t), "v");
      if (!s.Write(batch).ok() || !deferred.pending()) failed.fetch_add(1);
      std::promise<Status> synced;
      s.WhenSynced([&](const Status& st) { synced.set_value(st); });
      if (!synced.get_future().get().ok()) failed.fetch_add(1);
      released.fetch_add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(released.load(), kThreads);
  const StoreStats stats = s.Stats();
  EXPECT_EQ(stats.wal_sync_waiters, static_cast<uint64_t>(kThreads));
  EXPECT_GE(stats.wal_syncs, 1u);
  EXPECT_LE(stats.wal_syncs, static_cast<uint64_t>(kThreads));
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(s.Get(Family::kRows, "k" + std::to_string(t))->value_or(""), "v");

  ASSERT_TRUE(s.Close().ok());
  std::promise<Status> after_close;
  s.WhenSynced([&](const Status& st) { after_close.set_value(st); });
  EXPECT_EQ(after_close.get_future().get().code(), ErrorCode::kShuttingDown);
}

// Without sync_writes (or with group_commit off) a DeferSync changes nothing, and WhenSynced()
// answers at once on the caller's thread.
TEST(StoreTest, DeferSyncIsInertWithoutGroupCommit) {
  for (bool sync : {false, true}) {
    test::TempDir dir;
    auto store = Store::Open({.path = dir.path(), .sync_writes = sync, .group_commit = false});
    ASSERT_TRUE(store.ok());
    DeferSync deferred;
    WriteBatch batch;
    batch.Put(Family::kRows, "k", "v");
    ASSERT_TRUE((*store)->Write(batch).ok());
    EXPECT_FALSE(deferred.pending());
    const std::thread::id caller = std::this_thread::get_id();
    bool inline_ok = false;
    (*store)->WhenSynced(
        [&](const Status& st) { inline_ok = st.ok() && std::this_thread::get_id() == caller; });
    EXPECT_TRUE(inline_ok) << "sync_writes=" << sync;
    EXPECT_EQ((*store)->Stats().wal_syncs, 0u);
  }
}

}  // namespace
}  // namespace kalamdb::storage
