#include "common/thread_name.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace kalamdb {
namespace {

TEST(ThreadNameTest, NamesTheCallingThreadOnlyAndCutsAtFifteenBytes) {
  std::string inside;
  std::string cut;
  const std::string outside_before = CurrentThreadName();
  std::thread t([&] {
    SetCurrentThreadName("kalam-test");
    inside = CurrentThreadName();
    SetCurrentThreadName("kalam-a-very-long-thread-name");
    cut = CurrentThreadName();
  });
  t.join();
  EXPECT_EQ(inside, "kalam-test");
  EXPECT_EQ(cut, "kalam-a-very-lo");  // 15 bytes
  EXPECT_EQ(CurrentThreadName(), outside_before);
}

}  // namespace
}  // namespace kalamdb
