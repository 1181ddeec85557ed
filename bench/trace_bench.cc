// Cost of a span on the request thread, with tracing on and off.
#include <benchmark/benchmark.h>

#include <span>
#include <string>
#include <vector>

#include "trace/otlp.h"
#include "trace/trace.h"
#include "trace/tracer.h"

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

// Records the spans and attributes of one single-row INSERT request (the real tree, 14 spans,
// 29 attributes) on the calling thread's installed trace.
void RecordInsertRequest() {
  {
    Span root("POST /v1/api/sql", kalamdb::trace::SpanKind::kServer);
    root.SetAttribute("http.method", "POST");
    root.SetAttribute("http.route", "/v1/api/sql");
    root.SetAttribute("http.status_code", 200);
    root.SetAttribute("http.request_content_length", 55);
    root.SetAttribute("net.peer.ip", "127.0.0.1");
    {
      Span auth("auth.check");
      auth.SetAttribute("auth.method", "basic");
      auth.SetAttribute("user_id", "root");
      auth.SetAttribute("role", "system");
      Span basic("auth.basic");
      basic.SetAttribute("cache.hit", true);
    }
    {
      Span execute("sql.execute");
      execute.SetAttribute("statement_count", 1);
      execute.SetAttribute("user_id", "root");
      execute.SetAttribute("namespace", "default");
      execute.SetAttribute("rows", 1);
      { Span split("sql.split"); }
      Span statement("sql.statement");
      statement.SetAttribute("kind", "insert");
      statement.SetAttribute("table", "app.t");
      statement.SetAttribute("rows", 1);
      {
        Span parse("sql.parse");
        parse.SetAttribute("cache.hit", false);
        parse.SetAttribute("sql.length", 44);
      }
      { Span plan("sql.plan"); }
      {
        Span coerce("coerce_rows");
        coerce.SetAttribute("rows", 1);
        coerce.SetAttribute("columns", 2);
      }
      {
        Span pk("pk_check");
        pk.SetAttribute("rows", 1);
        pk.SetAttribute("lookups", 1);
      }
      {
        Span encode("row.encode");
        encode.SetAttribute("rows", 1);
        encode.SetAttribute("bytes", 22);
      }
      Span write("store.write");
      write.SetAttribute("rows", 1);
      Span batch("rocksdb.batch");
      batch.SetAttribute("op_count", 1);
      batch.SetAttribute("bytes", 50);
      batch.SetAttribute("sync", false);
    }
    Span response("http.write_response");
    response.SetAttribute("bytes", 107);
  }
}

// The request thread's recording of one INSERT trace, from Begin to the last span.
void BM_RecordInsertTrace(benchmark::State& state) {
  Trace trace;
  for (auto _ : state) {
    trace.Begin();
    ScopedTrace scope(trace);
    RecordInsertRequest();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordInsertTrace);

// Trace::Snapshot of one recorded INSERT trace (the copy the store and exporters share).
void BM_SnapshotInsertTrace(benchmark::State& state) {
  Trace trace;
  trace.Begin();
  {
    ScopedTrace scope(trace);
    RecordInsertRequest();
  }
  for (auto _ : state) benchmark::DoNotOptimize(trace.Snapshot());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnapshotInsertTrace);

// The whole request-thread cost of tracing one INSERT as the server does it: Tracer::Begin,
// recording, Tracer::Finish into a full store of 10,000 traces (the default), which evicts one.
// Argument: the store's capacity (10,000 is the default; a small store stays in cache).
void BM_TracerInsertRequest(benchmark::State& state) {
  kalamdb::trace::TracerOptions options;
  options.store_max_traces = static_cast<size_t>(state.range(0));
  kalamdb::trace::Tracer tracer(options);
  tracer.Start();
  auto one = [&tracer] {
    auto trace = tracer.Begin({});
    {
      ScopedTrace scope(*trace);
      RecordInsertRequest();
    }
    tracer.Finish(std::move(trace));
  };
  for (int64_t i = 0; i < state.range(0); ++i) one();  // fill the store
  for (auto _ : state) one();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TracerInsertRequest)->Arg(10'000)->Arg(100);

// OTLP encoding of INSERT-shaped traces, 36 per request: the cost per span of the exporter's
// encoding (on the collector thread). Arguments: how many distinct traces are cycled through
// (36 stay in cache; 4,104 copies, ~8 MB, do not), and their form: 0 = snapshots, 1 = finished
// recordings (span ids drawn, attributes as set), which is what the exporter gets.
void BM_OtlpEncodeInsertTraces(benchmark::State& state) {
  const bool recordings = state.range(1) != 0;
  std::vector<std::shared_ptr<const Trace>> traces;
  std::vector<const Trace*> views;
  Trace recording;
  for (int64_t t = 0; t < state.range(0); ++t) {
    recording.Begin();
    {
      ScopedTrace scope(recording);
      RecordInsertRequest();
    }
    if (recordings) {
      recording.AssignSpanIds();
      auto copy = std::make_shared<Trace>();
      copy->CopyFrom(recording);
      traces.push_back(std::move(copy));
    } else {
      traces.push_back(recording.Snapshot());
    }
    views.push_back(traces.back().get());
  }
  kalamdb::trace::OtlpResource resource;
  resource.service_version = "0.1.0";
  resource.host_name = "bench-host";
  constexpr size_t kPerRequest = 36;
  std::string body;
  size_t spans = 0;
  size_t next = 0;
  for (auto _ : state) {
    const std::span<const Trace* const> request(views.data() + next, kPerRequest);
    body.clear();
    kalamdb::trace::EncodeOtlpRequest(request, resource, &body);
    benchmark::DoNotOptimize(body.data());
    for (const Trace* t : request) spans += t->spans().size();
    next += kPerRequest;
    if (next + kPerRequest > views.size()) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(spans));
  // Every request holds the same shape of traces (RecordInsertRequest), so any one's spans do.
  size_t request_spans = 0;
  for (size_t i = 0; i < kPerRequest; ++i) request_spans += views[i]->spans().size();
  state.counters["bytes_per_span"] =
      static_cast<double>(body.size()) / static_cast<double>(request_spans);
}
BENCHMARK(BM_OtlpEncodeInsertTraces)->Args({36, 0})->Args({36, 1})->Args({4104, 1});

}  // namespace

BENCHMARK_MAIN();
