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
  // With sync_writes: writes inside a DeferSync scope leave their fsync to WhenSynced()'s
  // shared WAL sync (group commit). false: DeferSync changes nothing. Default: true.
  bool group_commit = true;
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
  uint64_t wal_syncs = 0;         // group-commit WAL syncs (sync_writes with DeferSync)
  uint64_t wal_sync_waiters = 0;  // WhenSynced() callers they released
};

// Group commit for Options::sync_writes. While a DeferSync lives on a thread, that thread's
// writes to the rows family return as soon as RocksDB has their WAL record in the operating
// system, without waiting for the fsync, and the scope records that it wrote
// (`pending()`). The caller then hands its acknowledgement to Store::WhenSynced(), which runs
// one WAL sync for every caller waiting at the time: N concurrent statements cost about one
// fsync instead of N. The caller must not report such a write as done before WhenSynced()
// says so. A deferred write is visible to readers on other connections before it is durable
// (it may be lost in a crash before its acknowledgement; never after). Writes touching kMeta
// stay synchronous. Without sync_writes (or with group_commit off) the scope changes
// nothing. Scopes nest (the innermost records the writes).
class DeferSync {
 public:
  DeferSync();
  ~DeferSync();
  DeferSync(const DeferSync&) = delete;
  DeferSync& operator=(const DeferSync&) = delete;
  // Whether this thread wrote under the scope and must wait for WhenSynced().
  bool pending() const { return pending_; }

 private:
  friend class Store;
  bool pending_ = false;
  DeferSync* previous_;
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
  // Calls `done` once every write that returned before this call is on disk: at once (inline)
  // when Options::sync_writes or group_commit is off (writes then sync themselves), else on the
  // store's sync thread after the WAL sync that covers it, shared with every caller waiting at the
  // time. `done` must be quick (hand off, do not block). Errors given to `done`: kStorageIo (the
  // sync failed: the writes may not be durable), kShuttingDown (called after Close() with
  // group commit on; with it off, `done` gets OK: there is nothing left to sync).
  void WhenSynced(std::function<void(const Status&)> done);
  // Counters and RocksDB properties; cheap enough for a metrics scrape.
  StoreStats Stats() const;
  // The greatest key of `family` that starts with `prefix` (non-empty), or nullopt when none
  // does. One seek. Errors: kStorageIo, kShuttingDown.
  Result<std::optional<std::string>> LastKeyWithPrefix(Family family,
                                                       std::string_view prefix) const;
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
