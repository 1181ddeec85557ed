#include "common/snowflake.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace kalamdb {
namespace {

TEST(SnowflakeTest, UniqueAndIncreasingAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NextSnowflakeId());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> all;
  for (const auto& list : ids) {
    for (size_t i = 1; i < list.size(); ++i) ASSERT_LT(list[i - 1], list[i]);
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(SnowflakeTest, EncodesTheCurrentTime) {
  using namespace std::chrono;
  int64_t now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  int64_t id = NextSnowflakeId();
  EXPECT_GT(id, 0);
  EXPECT_NEAR(static_cast<double>(SnowflakeMillis(id)), static_cast<double>(now_ms), 1000.0);
}

}  // namespace
}  // namespace kalamdb
