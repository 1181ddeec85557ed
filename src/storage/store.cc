#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/thread_name.h"
#include "storage/key_codec.h"
#include "storage/storage.h"
#include "trace/trace.h"

namespace kalamdb::storage {
namespace {

constexpr const char* kFamilyNames[] = {"meta", "rows"};

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  ErrorCode code = s.IsCorruption() ? ErrorCode::kCorruption : ErrorCode::kStorageIo;
  return Status(code, std::string(what) + ": " + s.ToString());
}

rocksdb::Slice ToSlice(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

// The DeferSync scope of this thread, if any.
thread_local DeferSync* current_defer = nullptr;

}  // namespace

DeferSync::DeferSync() : previous_(current_defer) { current_defer = this; }
DeferSync::~DeferSync() { current_defer = previous_; }

void WriteBatch::Put(Family family, std::string_view key, std::string_view value) {
  ops_.push_back(Op{family, false, static_cast<uint32_t>(key.size()),
                    static_cast<uint32_t>(value.size()), data_.size()});
  data_.append(key);
  data_.append(value);
}

void WriteBatch::Delete(Family family, std::string_view key) {
  ops_.push_back(Op{family, true, static_cast<uint32_t>(key.size()), 0, data_.size()});
  data_.append(key);
}

struct Store::Impl {
  // Guards against use after Close(): readers and writers take it shared, Close exclusive.
  mutable std::shared_mutex mu;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::WriteOptions write_options;
  // Catalog and user changes are rare and must survive a machine crash: always synced.
  rocksdb::WriteOptions meta_write_options;
  // write_options without the sync, for writes whose fsync a DeferSync scope defers.
  rocksdb::WriteOptions deferred_write_options;
  bool group_commit = false;  // sync_writes and Options::group_commit
  // The options of a write touching kMeta or not; marks the thread's DeferSync scope pending
  // when the write's fsync is left to the sync thread.
  const rocksdb::WriteOptions& For(bool touches_meta) const {
    if (touches_meta) return meta_write_options;
    if (group_commit && current_defer != nullptr) {
      current_defer->pending_ = true;
      return deferred_write_options;
    }
    return write_options;
  }
  const rocksdb::WriteOptions& For(Family family) const { return For(family == Family::kMeta); }

  // Group commit (WhenSynced): callers waiting for the next WAL sync, and the thread that runs
  // it. The thread takes every waiter at once, syncs, then releases them all.
  std::mutex sync_mu;
  std::condition_variable sync_cv;
  std::vector<std::function<void(const Status&)>> sync_waiters;
  bool sync_stop = false;
  std::atomic<size_t> waiting{0};  // sync_waiters.size(), readable without sync_mu
  std::thread sync_thread;
  std::atomic<uint64_t> wal_syncs{0};
  std::atomic<uint64_t> wal_sync_waiters{0};

  void SyncLoop() {
    std::vector<std::function<void(const Status&)>> batch;
    std::unique_lock lock(sync_mu);
    for (;;) {
      if (sync_waiters.empty() && !sync_stop) {
        // Right after a sync the next waiter is usually on its way: poll for it a while
        // before sleeping, which spares it the thread wake-up (tens of µs here).
        lock.unlock();
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        while (waiting.load(std::memory_order_relaxed) == 0 &&
               std::chrono::steady_clock::now() < until) {
        }
        lock.lock();
      }
      sync_cv.wait(lock, [this] { return !sync_waiters.empty() || sync_stop; });
      if (sync_waiters.empty()) return;  // stopping, and nobody waits
      batch.swap(sync_waiters);
      waiting.store(0, std::memory_order_relaxed);
      lock.unlock();
      Status st;
      {
        std::shared_lock db_lock(mu);
        st = db ? FromRocks(db->SyncWAL(), "sync wal")
                : Status(ErrorCode::kShuttingDown, "storage is closed");
      }
      wal_syncs.fetch_add(1, std::memory_order_relaxed);
      wal_sync_waiters.fetch_add(batch.size(), std::memory_order_relaxed);
      for (auto& done : batch) done(st);
      batch.clear();
      lock.lock();
    }
  }
  // Releases every waiter (after one last sync) and joins the sync thread.
  void StopSyncThread() {
    if (!sync_thread.joinable()) return;
    {
      std::lock_guard lock(sync_mu);
      sync_stop = true;
    }
    sync_cv.notify_one();
    sync_thread.join();
  }
  rocksdb::ReadOptions read_options;
  // Counters for Stats(); relaxed: they are figures, not synchronisation.
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> write_ops{0};
  std::atomic<uint64_t> write_bytes{0};
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  Status st = Close();
  st.IgnoreError();  // nothing useful to do with a close error in a destructor
}

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status(ErrorCode::kStorageIo,
                  "cannot create data directory '" + options.path + "': " + ec.message());
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.max_background_jobs;
  db_options.max_open_files = options.max_open_files;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_size));
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  table.whole_key_filtering = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // No bloom filter over the memtable (RocksDB's default). Round 1 added one for INSERT's
  // primary-key lookups, but since KeyWatermarks an INSERT of ascending keys looks nothing up,
  // and maintaining the filter cost every write 15-20% (bench/store_bench: a 100-row batch
  // 140 -> 119 µs, one row 5.2 -> 4.1 µs without it). Table files keep their bloom filters.

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const char* name : kFamilyNames) descriptors.emplace_back(name, cf_options);

  auto impl = std::make_unique<Impl>();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "cannot open RocksDB at '" + options.path + "'");
  impl->db.reset(raw);
  impl->families = std::move(handles);
  impl->write_options.sync = options.sync_writes;
  impl->meta_write_options.sync = true;
  impl->group_commit = options.sync_writes && options.group_commit;
  if (impl->group_commit) {
    Impl* raw_impl = impl.get();
    impl->sync_thread = std::thread([raw_impl] {
      SetCurrentThreadName("kalam-wal-sync");
      raw_impl->SyncLoop();
    });
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<std::optional<std::string>> Store::Get(Family family, std::string_view key) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  std::string value;
  rocksdb::Status s = impl_->db->Get(
      impl_->read_options, impl_->families[static_cast<size_t>(family) + 1], ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

Status Store::MultiGet(Family family, std::span<const std::string_view> keys,
                       const std::function<void(size_t, const std::string_view*)>& visit) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  // Per-thread scratch, grown to the largest batch seen: no allocation in steady state.
  thread_local std::vector<rocksdb::Slice> slices;
  thread_local std::vector<rocksdb::PinnableSlice> values;
  thread_local std::vector<rocksdb::Status> statuses;
  const size_t n = keys.size();
  slices.resize(n);
  if (values.size() < n) values.resize(n);
  statuses.resize(n);
  for (size_t i = 0; i < n; ++i) slices[i] = ToSlice(keys[i]);
  impl_->db->MultiGet(impl_->read_options, impl_->families[static_cast<size_t>(family) + 1], n,
                      slices.data(), values.data(), statuses.data());
  Status failure;
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) {
      const std::string_view value(values[i].data(), values[i].size());
      visit(i, &value);
    } else if (statuses[i].IsNotFound()) {
      visit(i, nullptr);
    } else if (failure.ok()) {
      failure = FromRocks(statuses[i], "multiget");
    }
    values[i].Reset();
  }
  return failure;
}

Status Store::Put(Family family, std::string_view key, std::string_view value) {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  return FromRocks(
      impl_->db->Put(impl_->For(family), impl_->families[static_cast<size_t>(family) + 1],
                     ToSlice(key), ToSlice(value)),
      "put");
}

Status Store::Delete(Family family, std::string_view key) {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  return FromRocks(
      impl_->db->Delete(impl_->For(family), impl_->families[static_cast<size_t>(family) + 1],
                        ToSlice(key)),
      "delete");
}

Status Store::DeleteRange(Family family, std::string_view begin, std::string_view end) {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  return FromRocks(
      impl_->db->DeleteRange(impl_->For(family), impl_->families[static_cast<size_t>(family) + 1],
                             ToSlice(begin), ToSlice(end)),
      "delete range");
}

Status Store::Write(const WriteBatch& batch) {
  trace::Span span("rocksdb.batch");  // covers the close guard too: it is part of the write
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  // One RocksDB batch per thread, cleared and reused: its buffer stays allocated.
  thread_local rocksdb::WriteBatch wb;
  wb.Clear();
  bool touches_meta = false;
  for (const auto& op : batch.ops_) {
    touches_meta |= op.family == Family::kMeta;
    auto* cf = impl_->families[static_cast<size_t>(op.family) + 1];
    rocksdb::Status s = op.is_delete
                            ? wb.Delete(cf, ToSlice(batch.KeyOf(op)))
                            : wb.Put(cf, ToSlice(batch.KeyOf(op)), ToSlice(batch.ValueOf(op)));
    if (!s.ok()) return FromRocks(s, "batch");
  }
  const auto& write_options = impl_->For(touches_meta);
  const size_t bytes = wb.GetDataSize();
  Status st = FromRocks(impl_->db->Write(write_options, &wb), "write");
  // Everything below stays inside the span (a leaf): time after it would count as the caller
  // span's unaccounted self time.
  span.SetAttribute("op_count", batch.ops_.size());
  span.SetAttribute("bytes", bytes);
  span.SetAttribute("sync", write_options.sync);
  if (&write_options == &impl_->deferred_write_options) span.SetAttribute("sync.deferred", true);
  span.SetStatus(st);
  if (bytes > (1u << 20)) wb = rocksdb::WriteBatch();  // do not keep a huge buffer around
  impl_->writes.fetch_add(1, std::memory_order_relaxed);
  impl_->write_ops.fetch_add(batch.ops_.size(), std::memory_order_relaxed);
  impl_->write_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return st;
}

void Store::WhenSynced(std::function<void(const Status&)> done) {
  if (!impl_->group_commit) {
    done(Status::OK());
    return;
  }
  std::unique_lock lock(impl_->sync_mu);
  if (impl_->sync_stop) {
    lock.unlock();
    done(Status(ErrorCode::kShuttingDown, "storage is closed"));
    return;
  }
  // The sync thread sleeps only while nobody waits: the first waiter wakes it.
  const bool wake = impl_->sync_waiters.empty();
  impl_->sync_waiters.push_back(std::move(done));
  impl_->waiting.store(impl_->sync_waiters.size(), std::memory_order_relaxed);
  lock.unlock();
  if (wake) impl_->sync_cv.notify_one();
}

StoreStats Store::Stats() const {
  StoreStats stats;
  stats.wal_syncs = impl_->wal_syncs.load(std::memory_order_relaxed);
  stats.wal_sync_waiters = impl_->wal_sync_waiters.load(std::memory_order_relaxed);
  stats.writes = impl_->writes.load(std::memory_order_relaxed);
  stats.write_ops = impl_->write_ops.load(std::memory_order_relaxed);
  stats.write_bytes = impl_->write_bytes.load(std::memory_order_relaxed);
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return stats;
  auto* rows = impl_->families[static_cast<size_t>(Family::kRows) + 1];
  uint64_t value = 0;
  if (impl_->db->GetIntProperty("rocksdb.actual-delayed-write-rate", &value))
    stats.delayed_write_rate = value;
  if (impl_->db->GetIntProperty("rocksdb.is-write-stopped", &value))
    stats.write_stopped = value != 0;
  if (impl_->db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &value))
    stats.memtable_bytes = value;
  if (impl_->db->GetIntProperty(rows, "rocksdb.estimate-num-keys", &value))
    stats.estimated_rows = value;
  if (impl_->db->GetAggregatedIntProperty("rocksdb.num-running-compactions", &value))
    stats.running_compactions = value;
  if (impl_->db->GetAggregatedIntProperty("rocksdb.num-running-flushes", &value))
    stats.running_flushes = value;
  std::map<std::string, std::string> cf_stats;
  if (impl_->db->GetMapProperty(rows, "rocksdb.cfstats", &cf_stats)) {
    auto number = [&](const char* key) -> uint64_t {
      auto it = cf_stats.find(key);
      return it == cf_stats.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
    };
    stats.stall_stops = number("io_stalls.total_stop");
    stats.stall_slowdowns = number("io_stalls.total_slowdown");
  }
  return stats;
}

Status Store::ScanPrefix(
    Family family, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(
      impl_->read_options, impl_->families[static_cast<size_t>(family) + 1]));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    std::string_view key(k.data(), k.size());
    if (key.substr(0, prefix.size()) != prefix) break;
    rocksdb::Slice v = it->value();
    if (!visit(key, std::string_view(v.data(), v.size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

Result<std::optional<std::string>> Store::LastKeyWithPrefix(Family family,
                                                            std::string_view prefix) const {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return Status(ErrorCode::kShuttingDown, "storage is closed");
  const std::string bound = PrefixSuccessor(prefix);
  rocksdb::ReadOptions options = impl_->read_options;
  rocksdb::Slice upper;
  if (!bound.empty()) {
    upper = ToSlice(bound);
    options.iterate_upper_bound = &upper;
  }
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(options, impl_->families[static_cast<size_t>(family) + 1]));
  it->SeekToLast();
  if (!it->Valid()) {
    KALAMDB_RETURN_IF_ERROR(FromRocks(it->status(), "seek"));
    return std::optional<std::string>();
  }
  std::string_view key(it->key().data(), it->key().size());
  if (key.substr(0, prefix.size()) != prefix) return std::optional<std::string>();
  return std::optional<std::string>(std::string(key));
}

Status Store::Close() {
  impl_->StopSyncThread();  // takes `mu` shared for its last sync: before the exclusive lock
  std::unique_lock lock(impl_->mu);
  if (!impl_->db) return Status::OK();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  Status result = FromRocks(impl_->db->Flush(flush, impl_->families), "flush");
  Status wal = FromRocks(impl_->db->SyncWAL(), "sync wal");
  if (result.ok()) result = wal;
  for (auto* handle : impl_->families) {
    Status st = FromRocks(impl_->db->DestroyColumnFamilyHandle(handle), "close family");
    if (result.ok()) result = st;
  }
  impl_->families.clear();
  Status close = FromRocks(impl_->db->Close(), "close");
  if (result.ok()) result = close;
  impl_->db.reset();
  return result;
}

}  // namespace kalamdb::storage
