// store_bench.cc: what one Store::Write of an INSERT's batch costs, outside the server: 100 rows
// (or 1) with ascending keys in the rows family, with the server's RocksDB options, WAL on, no
// sync. The figure to hold against the `rocksdb.batch` span of a 100-row INSERT trace: the
// difference is what the request's surroundings (cache, the client on the other core) add.
//
// Run: ./build/release/bench/store_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <string>

#include "storage/key_codec.h"
#include "storage/storage.h"

namespace {

using kalamdb::storage::Family;
using kalamdb::storage::Store;
using kalamdb::storage::WriteBatch;

// range(0) rows per batch; range(1): 0 no sync, 1 sync_writes (each write fsyncs), 2 the
// group-commit path on one thread (DeferSync, then WhenSynced's shared SyncWAL).
void WriteBatches(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const int64_t sync = state.range(1);
  char dir_template[] = "/tmp/store_bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  {
    auto store = Store::Open({.path = dir, .sync_writes = sync != 0});
    if (!store.ok()) {
      state.SkipWithError("cannot open the store");
      return;
    }
    const std::string value(58, 'v');  // the benchmark row's encoded size, about
    WriteBatch batch;
    std::string key;
    int64_t id = 0;
    for (auto _ : state) {
      batch.Clear();
      for (int64_t r = 0; r < rows; ++r) {
        key.clear();
        if (!kalamdb::storage::AppendRowKey(&key, 7, {},
                                            kalamdb::Value::Int(kalamdb::DataType::kBigInt, ++id))
                 .ok()) {
          state.SkipWithError("key");
          return;
        }
        batch.Put(Family::kRows, key, value);
      }
      std::optional<kalamdb::storage::DeferSync> deferred;
      if (sync == 2) deferred.emplace();
      if (!(*store)->Write(batch).ok()) {
        state.SkipWithError("write failed");
        return;
      }
      if (sync == 2) {
        std::promise<void> synced;
        (*store)->WhenSynced([&](const kalamdb::Status&) { synced.set_value(); });
        synced.get_future().wait();
      }
    }
    state.SetItemsProcessed(state.iterations() * rows);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(WriteBatches)->Args({1, 0})->Args({100, 0})->Args({1, 1})->Args({1, 2});

}  // namespace

BENCHMARK_MAIN();
