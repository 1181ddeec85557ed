// key_watermarks.h (internal to src/sql): the highest row key of each table (and owner), so
// that an INSERT's primary-key check can skip the lookups it knows will find nothing.
//
// Row keys sort by primary key inside their table · owner prefix (storage/key_codec.h), and
// INSERT is the only statement that creates row keys (UPDATE cannot change a primary key;
// DELETE and DROP only remove keys). So a key above the highest key ever stored under its
// prefix cannot be taken: with ascending ids, the usual case, the check costs no read at all.
// (PostgreSQL's B-tree does the same for inserts at its rightmost leaf.) Keys at or below the
// watermark are looked up as before. A watermark only ever rises: one left high by a failed
// statement or by deleted rows just means more lookups, never a missed duplicate.
//
// Thread-safety: Claim() may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace kalamdb::storage {
class Store;
}

namespace kalamdb::sql {

class KeyWatermarks {
 public:
  // Borrows `store`. At most `max_prefixes` prefixes are remembered (each: its prefix and its
  // highest key); INSERTs into further prefixes look up every key, as without watermarks.
  explicit KeyWatermarks(storage::Store& store, size_t max_prefixes = 10'000);

  // A statement is about to insert keys under `prefix`, the greatest of which is `max_key`.
  // Raises the prefix's watermark to `max_key` and sets `*before` to the one before (empty:
  // no key stored): a key of the statement greater than it needs no lookup. The first claim of
  // a prefix reads the highest stored key (one seek). Errors: those of the seek (kStorageIo,
  // kShuttingDown).
  Status Claim(std::string_view prefix, std::string_view max_key, std::string* before);

  // Held by an INSERT from its primary-key check until its write has returned: two statements
  // inserting the same new key under one prefix would otherwise both pass the check (each
  // before the other's write) and the second would overwrite the first's acknowledged row.
  // Striped (64 mutexes by prefix hash): INSERTs into other tables or other owners' rows
  // rarely wait on each other.
  [[nodiscard]] std::unique_lock<std::mutex> LockPrefix(std::string_view prefix);

 private:
  std::array<std::mutex, 64> prefix_locks_;
  storage::Store& store_;
  const size_t max_prefixes_;
  std::mutex mu_;
  // Looked up by string_view without building a std::string key (transparent hash).
  struct PrefixHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::string, PrefixHash, std::equal_to<>>
      highest_;  // prefix -> highest key
};

}  // namespace kalamdb::sql
