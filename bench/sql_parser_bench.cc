// Micro-benchmarks of the SQL front end: lexing and parsing INSERT statements of the shape the
// insert-throughput workload sends, and computing a statement's shape (the statement-cache
// key). Each iteration uses one arena and resets it, as a request does.
#include <benchmark/benchmark.h>

#include <string>

#include "common/arena.h"
#include "sql/lexer.h"
#include "sql/parser.h"
#include "sql/shape.h"

namespace kalamdb::sql {
namespace {

constexpr std::string_view kSingleRowInsert =
    "INSERT INTO bench_ns.single (id, value, created_at) VALUES (12345, 'value-12345', "
    "1717171717000000)";

std::string MultiRowInsert(int rows) {
  std::string sql = "INSERT INTO bench_ns.parallel (id, worker, value) VALUES ";
  for (int i = 0; i < rows; ++i) {
    if (i > 0) sql += ", ";
    sql += "(" + std::to_string(1000000 + i) + ", " + std::to_string(i % 8) + ", 'worker-" +
           std::to_string(i % 8) + "-row-" + std::to_string(i) + "')";
  }
  return sql;
}

void ParseLoop(benchmark::State& state, std::string_view sql) {
  Arena arena;
  for (auto _ : state) {
    Result<Statement*> statement = Parse(sql, arena);
    if (!statement.ok()) {
      state.SkipWithError(std::string(statement.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(*statement);
    arena.Reset();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
}

void BM_ParseSingleRowInsert(benchmark::State& state) { ParseLoop(state, kSingleRowInsert); }
BENCHMARK(BM_ParseSingleRowInsert);

void BM_ParseHundredRowInsert(benchmark::State& state) {
  std::string sql = MultiRowInsert(100);
  ParseLoop(state, sql);
  state.SetItemsProcessed(state.iterations() * 100);  // rows
}
BENCHMARK(BM_ParseHundredRowInsert);

void BM_TokenizeSingleRowInsert(benchmark::State& state) {
  Arena arena;
  for (auto _ : state) {
    auto tokens = Tokenize(kSingleRowInsert, arena);
    benchmark::DoNotOptimize(tokens->data());
    arena.Reset();
  }
}
BENCHMARK(BM_TokenizeSingleRowInsert);

void BM_ShapeOfSingleRowInsert(benchmark::State& state) {
  Arena arena;
  Shape shape;
  for (auto _ : state) {
    auto tokens = Tokenize(kSingleRowInsert, arena);
    ShapeOf(*tokens, &shape);
    benchmark::DoNotOptimize(shape.text.data());
    arena.Reset();
  }
}
BENCHMARK(BM_ShapeOfSingleRowInsert);

}  // namespace
}  // namespace kalamdb::sql

BENCHMARK_MAIN();
