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

#include <cstddef>
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
  // Borrows `store`. At most `max_prefixes` prefixes are remembered; past that the memory is
  // cleared and rebuilt (one seek per prefix).
  explicit KeyWatermarks(storage::Store& store, size_t max_prefixes = 100'000);

  // A statement is about to insert keys under `prefix`, the greatest of which is `max_key`.
  // Raises the prefix's watermark to `max_key` and sets `*before` to the one before (empty:
  // no key stored): a key of the statement greater than it needs no lookup. The first claim of
  // a prefix reads the highest stored key (one seek). Errors: those of the seek (kStorageIo,
  // kShuttingDown).
  Status Claim(std::string_view prefix, std::string_view max_key, std::string* before);

 private:
  storage::Store& store_;
  const size_t max_prefixes_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> highest_;  // prefix -> highest key
};

}  // namespace kalamdb::sql
