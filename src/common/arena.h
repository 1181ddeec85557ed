// arena.h: a bump allocator for per-request objects (tokens, AST nodes, unescaped strings) that
// are all freed at once.
//
// Memory comes from a chain of blocks. The first block is 4 KiB by default; each further block
// is twice the previous one (capped at kMaxBlockSize) or large enough for the request that
// needed it. Reset() frees every block but the first and rewinds it. When the request before
// the Reset() needed more than the first block, the first block is replaced by one big enough
// for all of it (up to kMaxRetainedSize), so a steady stream of same-sized requests allocates
// from the heap only on the first one.
//
// Objects are never destroyed one by one: New<T>() accepts only trivially destructible types,
// which holds for nodes made of scalars, string_views, spans and pointers to other arena
// objects.
//
// Thread-safety: none. An Arena belongs to one thread (one connection's request) at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

namespace kalamdb {

class Arena {
 public:
  static constexpr size_t kDefaultBlockSize = 4096;
  // Growth stops doubling at this size; bigger requests still get a block of their own size.
  static constexpr size_t kMaxBlockSize = size_t{1} << 20;
  // Reset() never keeps a first block larger than this.
  static constexpr size_t kMaxRetainedSize = size_t{1} << 20;

  explicit Arena(size_t first_block_size = kDefaultBlockSize)
      : first_block_size_(std::max<size_t>(first_block_size, 64)) {}
  ~Arena() { FreeBlocksAfter(nullptr); }

  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` of uninitialised memory aligned to `alignment`, valid until Reset() or the
  // Arena's destruction. REQUIRES: alignment is a power of two <= alignof(std::max_align_t).
  // Never fails: running out of memory aborts the process, as operator new would terminate.
  void* Allocate(size_t bytes, size_t alignment = alignof(std::max_align_t)) {
    uintptr_t aligned = (ptr_ + alignment - 1) & ~(uintptr_t{alignment} - 1);
    if (aligned <= end_ && bytes <= end_ - aligned) {
      ptr_ = aligned + bytes;
      return reinterpret_cast<void*>(aligned);
    }
    return AllocateSlow(bytes, alignment);
  }

  // Constructs a T in the arena. T is never destroyed, so it must be trivially destructible
  // (anything it points to must itself live in the arena or outlive it).
  template <typename T, typename... Args>
  T* New(Args&&... args) {
    static_assert(std::is_trivially_destructible_v<T>, "arena objects are never destroyed");
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned type");
    return new (Allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

  // Uninitialised storage for `count` objects of a trivial type.
  template <typename T>
  T* AllocateArray(size_t count) {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned type");
    return static_cast<T*>(Allocate(sizeof(T) * count, alignof(T)));
  }

  // Copies `text` into the arena; the copy lives until Reset() or destruction.
  std::string_view CopyString(std::string_view text) {
    if (text.empty()) return {};
    char* copy = static_cast<char*>(Allocate(text.size(), 1));
    std::memcpy(copy, text.data(), text.size());
    return {copy, text.size()};
  }

  // Grows the most recent allocation in place when it ends at the current bump position and
  // the block has room. Returns false (and changes nothing) otherwise. `old_bytes` must be the
  // size the allocation at `p` was made (or last extended) with.
  bool TryExtend(void* p, size_t old_bytes, size_t new_bytes) {
    uintptr_t start = reinterpret_cast<uintptr_t>(p);
    if (start + old_bytes != ptr_ || new_bytes < old_bytes || start + new_bytes > end_) {
      return false;
    }
    ptr_ = start + new_bytes;
    return true;
  }

  // Frees everything allocated so far. Every pointer and string_view into the arena dangles
  // afterwards. Keeps (and, after an overflowing request, enlarges) the first block.
  void Reset() {
    size_t used = BytesUsed();
    bool overflowed = head_ != first_;
    FreeBlocksAfter(first_);
    if (overflowed) {
      // The last request overflowed the first block: make one block that holds it all.
      size_t wanted = std::min(RoundUp(used + used / 4), kMaxRetainedSize);
      if (wanted > first_->size) {
        std::free(first_);
        first_block_size_ = wanted;
        first_ = NewBlock(wanted, nullptr);
      }
    }
    head_ = first_;
    retired_used_ = 0;
    next_block_size_ = std::min(first_block_size_ * 2, kMaxBlockSize);
    if (first_ != nullptr) {
      ptr_ = first_->data();
      end_ = ptr_ + first_->size;
    } else {
      ptr_ = kEmptyPtr;
      end_ = 0;
    }
  }

  // Bytes handed out (including alignment padding) since construction or the last Reset().
  size_t BytesUsed() const { return retired_used_ + (head_ == nullptr ? 0 : ptr_ - head_->data()); }
  // Bytes of all blocks held right now.
  size_t BytesReserved() const {
    size_t total = 0;
    for (Block* block = head_; block != nullptr; block = block->next) total += block->size;
    return total;
  }
  // Number of blocks held right now (0 before the first allocation).
  size_t BlockCount() const {
    size_t count = 0;
    for (Block* block = head_; block != nullptr; block = block->next) ++count;
    return count;
  }

 private:
  struct alignas(std::max_align_t) Block {
    Block* next;  // the block allocated before this one
    size_t size;  // usable bytes after the header
    uintptr_t data() { return reinterpret_cast<uintptr_t>(this + 1); }
  };

  static size_t RoundUp(size_t n) { return (n + 4095) & ~size_t{4095}; }

  static Block* NewBlock(size_t size, Block* next) {
    Block* block = static_cast<Block*>(std::malloc(sizeof(Block) + size));
    if (block == nullptr) std::abort();
    block->next = next;
    block->size = size;
    return block;
  }

  void* AllocateSlow(size_t bytes, size_t alignment) {
    size_t size = head_ == nullptr ? first_block_size_ : next_block_size_;
    size = std::max(size, bytes + alignment);
    Block* block = NewBlock(size, head_);
    if (head_ == nullptr) {
      first_ = block;
      next_block_size_ = std::min(first_block_size_ * 2, kMaxBlockSize);
    } else {
      retired_used_ += ptr_ - head_->data();
      next_block_size_ = std::min(next_block_size_ * 2, kMaxBlockSize);
    }
    head_ = block;
    ptr_ = block->data();
    end_ = ptr_ + size;
    return Allocate(bytes, alignment);
  }

  // Frees the blocks allocated after `keep` (all blocks when `keep` is null).
  void FreeBlocksAfter(Block* keep) {
    Block* block = head_;
    while (block != nullptr && block != keep) {
      Block* next = block->next;
      std::free(block);
      block = next;
    }
    head_ = keep;
    if (keep == nullptr) first_ = nullptr;
  }

  size_t first_block_size_;
  size_t next_block_size_ = 0;
  Block* head_ = nullptr;   // the block being bumped
  Block* first_ = nullptr;  // the oldest block, kept by Reset()
  // With no block, ptr_ > end_ so that every Allocate() (even of 0 bytes) takes the slow path.
  static constexpr uintptr_t kEmptyPtr = 1;
  uintptr_t ptr_ = kEmptyPtr;  // next free byte in head_
  uintptr_t end_ = 0;          // one past head_'s last byte
  size_t retired_used_ = 0;
};

// A growable array in an Arena, for building lists (tokens, expressions) whose length is not
// known up front. Growth reuses the tail of the arena in place when nothing was allocated
// after the array; otherwise it copies, leaving the old storage as garbage until Reset().
// T must be trivially copyable. The storage lives as long as the arena's allocations do.
template <typename T>
class ArenaVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  explicit ArenaVector(Arena& arena) : arena_(&arena) {}

  void reserve(size_t capacity) {
    if (capacity > capacity_) Grow(capacity);
  }
  void push_back(const T& value) {
    if (size_ == capacity_) Grow(capacity_ == 0 ? 4 : capacity_ * 2);
    data_[size_++] = value;
  }
  // Appends a value-initialised element and returns it, to be filled in place.
  T& emplace_back() {
    if (size_ == capacity_) Grow(capacity_ == 0 ? 4 : capacity_ * 2);
    T* slot = data_ + size_++;
    return *new (slot) T();
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  // The elements so far. Valid until the next push_back()/reserve() or the arena's Reset().
  std::span<T> view() const { return {data_, size_}; }

 private:
  void Grow(size_t capacity) {
    if (data_ != nullptr && arena_->TryExtend(data_, capacity_ * sizeof(T), capacity * sizeof(T))) {
      capacity_ = capacity;
      return;
    }
    T* grown = arena_->AllocateArray<T>(capacity);
    if (size_ > 0) std::memcpy(static_cast<void*>(grown), data_, size_ * sizeof(T));
    data_ = grown;
    capacity_ = capacity;
  }

  Arena* arena_;
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace kalamdb
