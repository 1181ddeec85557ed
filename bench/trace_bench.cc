// Cost of a span on the request thread, with tracing on and off.
#include <benchmark/benchmark.h>

#include "trace/trace.h"

namespace {

using kalamdb::trace::ScopedTrace;
using kalamdb::trace::Span;
using kalamdb::trace::Trace;

// Open + close one span with two attributes; the trace is reset every 1024 spans (amortised).
void BM_SpanEnabledTwoAttributes(benchmark::State& state) {
  Trace::Options o;
  o.span_capacity = 1024;
  o.arena_capacity = 16 * 1024;
  Trace trace(o);
  trace.Begin();
  ScopedTrace scope(trace);
  for (auto _ : state) {
    {
      Span s("sql.parse");
      s.SetAttribute("rows", 3);
      s.SetAttribute("cache.hit", true);
    }
    if (trace.spans().size() == 1024) [[unlikely]]
      trace.Begin(trace.trace_id(), {}, true);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanEnabledTwoAttributes);

// No trace installed: the span and its attribute calls are a branch each.
void BM_SpanDisabled(benchmark::State& state) {
  for (auto _ : state) {
    Span s("sql.parse");
    s.SetAttribute("rows", 3);
    s.SetAttribute("cache.hit", true);
    benchmark::DoNotOptimize(&s);
  }
}
BENCHMARK(BM_SpanDisabled);

void BM_WallNanos(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(kalamdb::trace::WallNanos());
}
BENCHMARK(BM_WallNanos);

// The span clock: the tick counter (TSC on x86-64).
void BM_ReadTicks(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(kalamdb::trace::ReadTicks());
}
BENCHMARK(BM_ReadTicks);

}  // namespace

BENCHMARK_MAIN();
