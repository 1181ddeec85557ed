// storage.h: all that other subsystems see of src/storage/: one RocksDB instance.
//
// Column families by access pattern, not one per table (docs/storage.md):
//   meta  - catalog records and users (small, read at startup, written by DDL/auth)
//   rows  - table rows (the SQL issue fills this)
// RocksDB stays inside store.cc; this header includes none of it.
//
// Thread-safety: every Store method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalamdb::storage {

struct Options {
  // Directory of the RocksDB instance (created if missing), e.g. "./data/rocksdb".
  std::string path;
  // fsync the WAL before a write returns. Default: false.
  bool sync_writes = false;
  // Block cache bytes. Default: 64 MiB.
  int64_t block_cache_size = 64ll << 20;
  // Flush and compaction threads. Default: 2.
  int max_background_jobs = 2;
  // -1 = unlimited. Default: -1.
  int max_open_files = -1;
};

enum class Family { kMeta = 0, kRows = 1 };

// One atomic group of puts and deletes. Keys and values are copied into one buffer, so a
// batch reused after Clear() allocates nothing once it has grown to its working size.
class WriteBatch {
 public:
  void Put(Family family, std::string_view key, std::string_view value);
  void Delete(Family family, std::string_view key);
  void Clear() {
    ops_.clear();
    data_.clear();
  }
  size_t size() const { return ops_.size(); }

 private:
  friend class Store;
  struct Op {
    Family family;
    bool is_delete;
    uint32_t key_size;
    uint32_t value_size;
    size_t offset;  // key, then value, in data_
  };
  std::string_view KeyOf(const Op& op) const { return {data_.data() + op.offset, op.key_size}; }
  std::string_view ValueOf(const Op& op) const {
    return {data_.data() + op.offset + op.key_size, op.value_size};
  }
  std::vector<Op> ops_;
  std::string data_;
};

// Write counters since Open() and a few RocksDB health figures (for /metrics).
struct StoreStats {
  uint64_t writes = 0;              // Write() calls
  uint64_t write_ops = 0;           // puts and deletes in them
  uint64_t write_bytes = 0;         // WriteBatch data bytes
  uint64_t delayed_write_rate = 0;  // bytes/s while RocksDB slows writes down; 0 otherwise
  bool write_stopped = false;
  uint64_t stall_stops = 0;      // write stops in the rows family since open
  uint64_t stall_slowdowns = 0;  // write slowdowns in the rows family since open
  uint64_t memtable_bytes = 0;
  uint64_t estimated_rows = 0;  // estimated keys in the rows family
  uint64_t running_flushes = 0;
  uint64_t running_compactions = 0;
};

class Store {
 public:
  // Opens (creating if needed) the instance at options.path.
  // Errors: kStorageIo (cannot create, locked by another process), kCorruption.
  static Result<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();  // Close() if not yet closed
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The value stored at `key`, or nullopt. Errors: kStorageIo, kShuttingDown after Close().
  Result<std::optional<std::string>> Get(Family family, std::string_view key) const;
  // Looks up every key of `keys` in one batched RocksDB MultiGet and calls
  // `visit(index, value)` for each, in order: `value` is null when the key is absent and is
  // valid only during the call. Errors: kStorageIo (the first failing key's), kShuttingDown.
  Status MultiGet(Family family, std::span<const std::string_view> keys,
                  const std::function<void(size_t, const std::string_view*)>& visit) const;
  // Writes one key. Writes to kMeta are always synced (catalog and users must survive a
  // machine crash); writes to other families honour Options::sync_writes. Write() syncs when
  // any op of the batch touches kMeta.
  Status Put(Family family, std::string_view key, std::string_view value);
  Status Delete(Family family, std::string_view key);
  // Deletes every key in [begin, end) of `family` (one range tombstone; O(1) whatever the
  // range holds). Honours Options::sync_writes like Put.
  Status DeleteRange(Family family, std::string_view begin, std::string_view end);
  // Applies every op of `batch` atomically, or none. Traced as span `rocksdb.batch`
  // (op_count, bytes, sync).
  Status Write(const WriteBatch& batch);
  // Counters and RocksDB properties; cheap enough for a metrics scrape.
  StoreStats Stats() const;
  // Calls `visit(key, value)` for each key starting with `prefix`, in key order, until it
  // returns false. The views are valid only during the call.
  Status ScanPrefix(Family family, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& visit) const;
  // Flushes memtables and the WAL and closes the instance; later calls fail with
  // kShuttingDown. Idempotent.
  Status Close();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalamdb::storage
