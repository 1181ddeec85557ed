#include "common/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace kalamdb {
namespace {

struct Node {
  explicit Node(int v) : value(v) {}
  int value;
  Node* next = nullptr;
};

TEST(ArenaTest, AllocationsAreAlignedAndDistinct) {
  Arena arena;
  char* a = static_cast<char*>(arena.Allocate(3, 1));
  auto* b = static_cast<uint64_t*>(arena.Allocate(sizeof(uint64_t), alignof(uint64_t)));
  void* c = arena.Allocate(1);
  EXPECT_NE(a, reinterpret_cast<char*>(b));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % alignof(uint64_t), 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % alignof(std::max_align_t), 0u);
  EXPECT_GE(arena.BytesUsed(), 3u + sizeof(uint64_t) + 1);
  EXPECT_EQ(arena.BlockCount(), 1u);
}

TEST(ArenaTest, ZeroByteAllocationIsNotNull) {
  Arena arena;
  EXPECT_NE(arena.Allocate(0), nullptr);
}

TEST(ArenaTest, NewConstructsObjects) {
  Arena arena;
  Node* first = arena.New<Node>(1);
  Node* second = arena.New<Node>(2);
  first->next = second;
  EXPECT_EQ(first->value, 1);
  EXPECT_EQ(first->next->value, 2);
  EXPECT_EQ(second->next, nullptr);
}

TEST(ArenaTest, CopyStringOutlivesTheSource) {
  Arena arena;
  std::string_view copy;
  {
    std::string source = "hello arena";
    copy = arena.CopyString(source);
    source.assign("overwritten");
  }
  EXPECT_EQ(copy, "hello arena");
  EXPECT_TRUE(arena.CopyString("").empty());
}

TEST(ArenaTest, GrowsWithNewBlocksForLargeAndManyAllocations) {
  Arena arena(256);
  for (int i = 0; i < 100; ++i) arena.Allocate(100);
  EXPECT_GT(arena.BlockCount(), 1u);
  EXPECT_GE(arena.BytesUsed(), 100u * 100);
  // A single allocation larger than any block size so far gets a block of its own.
  char* big = static_cast<char*>(arena.Allocate(3 * Arena::kMaxBlockSize, 1));
  big[0] = 'x';
  big[3 * Arena::kMaxBlockSize - 1] = 'y';
  EXPECT_GE(arena.BytesReserved(), 3 * Arena::kMaxBlockSize);
}

TEST(ArenaTest, ResetKeepsTheFirstBlockSoSteadyStateAllocatesNothing) {
  Arena arena(1024);
  arena.Allocate(100);
  EXPECT_EQ(arena.BlockCount(), 1u);
  size_t reserved = arena.BytesReserved();
  void* first = arena.Allocate(8);
  arena.Reset();
  EXPECT_EQ(arena.BytesUsed(), 0u);
  EXPECT_EQ(arena.BlockCount(), 1u);
  EXPECT_EQ(arena.BytesReserved(), reserved);
  // The same pattern lands in the same memory: no new block.
  arena.Allocate(100);
  EXPECT_EQ(arena.Allocate(8), first);
  EXPECT_EQ(arena.BlockCount(), 1u);
}

TEST(ArenaTest, ResetAfterOverflowEnlargesTheFirstBlock) {
  Arena arena(256);
  auto request = [&] {
    for (int i = 0; i < 50; ++i) arena.Allocate(64);
  };
  request();
  EXPECT_GT(arena.BlockCount(), 1u);
  arena.Reset();
  EXPECT_EQ(arena.BlockCount(), 1u);
  EXPECT_GE(arena.BytesReserved(), 50u * 64);
  // The next identical request fits in the retained block, and so does every later one.
  for (int round = 0; round < 3; ++round) {
    request();
    EXPECT_EQ(arena.BlockCount(), 1u);
    arena.Reset();
  }
}

TEST(ArenaTest, ResetOnAnEmptyArenaIsHarmless) {
  Arena arena;
  arena.Reset();
  EXPECT_EQ(arena.BlockCount(), 0u);
  EXPECT_NE(arena.Allocate(16), nullptr);
  arena.Reset();
  arena.Reset();
  EXPECT_EQ(arena.BlockCount(), 1u);
}

TEST(ArenaTest, TryExtendGrowsOnlyTheLastAllocation) {
  Arena arena;
  void* a = arena.Allocate(16);
  EXPECT_TRUE(arena.TryExtend(a, 16, 32));
  void* b = arena.Allocate(16);
  EXPECT_EQ(static_cast<char*>(b), static_cast<char*>(a) + 32);
  EXPECT_FALSE(arena.TryExtend(a, 32, 64));                    // b follows a
  EXPECT_FALSE(arena.TryExtend(b, 16, Arena::kMaxBlockSize));  // no room in the block
}

TEST(ArenaTest, ArenaVectorGrowsAndKeepsElements) {
  Arena arena(128);
  ArenaVector<int> values(arena);
  for (int i = 0; i < 1000; ++i) values.push_back(i);
  ASSERT_EQ(values.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(values[i], i);
  auto view = values.view();
  EXPECT_EQ(view.size(), 1000u);
  EXPECT_EQ(view.back(), 999);
}

TEST(ArenaTest, ArenaVectorCopiesWhenSomethingWasAllocatedAfterIt) {
  Arena arena;
  ArenaVector<int> values(arena);
  values.reserve(4);
  for (int i = 0; i < 4; ++i) values.push_back(i);
  arena.Allocate(8);
  values.push_back(4);  // cannot extend in place
  ASSERT_EQ(values.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(values[i], i);
}

}  // namespace
}  // namespace kalamdb
