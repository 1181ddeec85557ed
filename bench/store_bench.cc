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
#include <string>

#include "storage/key_codec.h"
#include "storage/storage.h"

namespace {

using kalamdb::storage::Family;
using kalamdb::storage::Store;
using kalamdb::storage::WriteBatch;

void WriteBatches(benchmark::State& state) {
  const int64_t rows = state.range(0);
  char dir_template[] = "/tmp/store_bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  {
    auto store = Store::Open({.path = dir});
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
        kalamdb::storage::AppendTableId(&key, 7);
        if (!kalamdb::storage::AppendKeyValue(&key, kalamdb::Value::Int(kalamdb::DataType::kBigInt,
                                                                          ++id))
                 .ok()) {
          state.SkipWithError("key");
          return;
        }
        batch.Put(Family::kRows, key, value);
      }
      if (!(*store)->Write(batch).ok()) {
        state.SkipWithError("write failed");
        return;
      }
    }
    state.SetItemsProcessed(state.iterations() * rows);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(WriteBatches)->Arg(1)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
