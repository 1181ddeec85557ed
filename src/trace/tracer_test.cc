#include "trace/tracer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace kalamdb::trace {
namespace {

// Records one trace with a root and `children` child spans through the public request path.
void RecordRequest(Tracer& tracer, const char* root_name, int children = 1,
                   std::string_view traceparent = {}) {
  auto trace = tracer.Begin(traceparent);
  ASSERT_NE(trace, nullptr);
  {
    ScopedTrace scope(*trace);
    Span root(root_name, SpanKind::kServer);
    for (int i = 0; i < children; ++i) Span child("child");
  }
  tracer.Finish(std::move(trace));
}

TraceStore::Query MakeQuery(std::string operation, size_t limit = 10) {
  TraceStore::Query q;
  q.operation = std::move(operation);
  q.limit = limit;
  return q;
}

TEST(TracerTest, DisabledTracerRecordsNothing) {
  TracerOptions options;
  options.enabled = false;
  Tracer tracer(options);
  tracer.Start();
  EXPECT_EQ(tracer.Begin({}), nullptr);
  tracer.Finish(nullptr);
  EXPECT_EQ(tracer.stats().finished, 0u);
}

TEST(TracerTest, FinishedTracesReachTheStoreAndConsumersAsExactCopies) {
  Tracer tracer(TracerOptions{});
  std::atomic<int> seen{0};
  tracer.AddConsumer([&](const Trace& t) {
    EXPECT_EQ(t.spans().size(), 3u);
    ++seen;
  });
  tracer.Start();
  for (int i = 0; i < 5; ++i) RecordRequest(tracer, "POST /v1/api/sql", 2);
  tracer.Flush();
  EXPECT_EQ(seen.load(), 5);
  EXPECT_EQ(tracer.store().size(), 5u);
  auto found = tracer.store().Find(MakeQuery("child", 3));
  ASSERT_EQ(found.size(), 3u);
  // The stored copy holds only what was recorded, not the request-side reserve.
  EXPECT_EQ(found[0]->span_capacity(), 3u);
  EXPECT_EQ(tracer.stats().collected, 5u);
  EXPECT_EQ(tracer.stats().queue_depth, 0u);
}

TEST(TracerTest, RequestSideTracesAreRecycled) {
  Tracer tracer(TracerOptions{});
  tracer.Start();
  RecordRequest(tracer, "root");
  tracer.Flush();
  auto trace = tracer.Begin({});
  ASSERT_NE(trace, nullptr);
  // A recycled trace keeps its reserved capacity and starts empty.
  EXPECT_GE(trace->span_capacity(), Trace::Options{}.span_capacity);
  EXPECT_TRUE(trace->spans().empty());
  tracer.Finish(std::move(trace));
}

TEST(TracerTest, UnsampledTracesAreNotStored) {
  TracerOptions options;
  options.sample_ratio = 0;
  Tracer tracer(options);
  tracer.Start();
  RecordRequest(tracer, "root");
  // An incoming sampled traceparent is always recorded, and joins the caller's trace.
  RecordRequest(tracer, "joined", 1, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  tracer.Flush();
  ASSERT_EQ(tracer.store().size(), 1u);
  auto id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  auto joined = tracer.store().Get(*id);
  ASSERT_NE(joined, nullptr);
  EXPECT_STREQ(joined->spans()[0].name, "joined");
  EXPECT_EQ(joined->remote_parent().ToHex(), "00f067aa0ba902b7");
}

TEST(TracerTest, StoreKeepsTheNewestAndAnswersNewestFirst) {
  TraceStore store(3);
  std::vector<TraceId> ids;
  for (int i = 0; i < 5; ++i) {
    auto t = std::make_unique<Trace>();
    t->Begin(TraceId{0, static_cast<uint64_t>(i + 1)}, {}, true);
    int32_t root = t->AddSpan(i % 2 == 0 ? "even" : "odd", SpanKind::kServer, kNoSpan,
                              1'000'000'000LL * (i + 1));
    t->EndSpan(root, 1'000'000'000LL * (i + 1) + 1000 * (i + 1));
    ids.push_back(t->trace_id());
    store.Keep(*t);
    t->Reset();  // the store kept a copy
  }
  EXPECT_EQ(store.size(), 3u);
  // Every query shows the same span ids (drawn once, into the stored trace).
  EXPECT_EQ(store.Get(ids[4])->spans()[0].id, store.Get(ids[4])->spans()[0].id);
  EXPECT_TRUE(store.Get(ids[4])->spans()[0].id.valid());
  EXPECT_EQ(store.Get(ids[0]), nullptr);  // evicted
  auto all = store.Find(MakeQuery(""));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]->trace_id(), ids[4]);
  EXPECT_EQ(all[2]->trace_id(), ids[2]);
  auto even = store.Find(MakeQuery("even"));
  ASSERT_EQ(even.size(), 2u);
  EXPECT_EQ(even[0]->trace_id(), ids[4]);
  // Durations are 3 us and 5 us for the kept "even" traces; start times are i+1 seconds.
  auto q = MakeQuery("even");
  q.min_duration_ns = 4000;
  EXPECT_EQ(store.Find(q).size(), 1u);
  q = MakeQuery("");
  q.start_us = 4'000'000;
  EXPECT_EQ(store.Find(q).size(), 2u);
  q = MakeQuery("");
  q.end_us = 3'500'000;
  EXPECT_EQ(store.Find(q).size(), 1u);
  EXPECT_EQ(store.Operations(), (std::vector<std::string>{"even", "odd"}));
}

TEST(TracerTest, FullQueueDropsWholeTracesForTheConsumersAndCounts) {
  TracerOptions options;
  options.queue_traces = 2;
  options.collect_interval_ms = 60'000;  // the collector never runs on its own here
  Tracer tracer(options);
  std::vector<size_t> seen;  // span counts of the traces the consumer got
  tracer.AddConsumer([&](const Trace& t) { seen.push_back(t.spans().size()); });
  tracer.Start();
  for (int i = 0; i < 5; ++i) RecordRequest(tracer, "root");
  TracerStats s = tracer.stats();
  EXPECT_EQ(s.finished, 5u);
  EXPECT_EQ(s.dropped_queue_full, 3u);
  EXPECT_EQ(s.queue_depth, 2u);
  // The store does not go through the queue: it has every trace at once.
  EXPECT_EQ(tracer.store().size(), 5u);
  tracer.Flush();
  ASSERT_EQ(seen.size(), 2u);  // whole traces or nothing
  EXPECT_EQ(seen[0], tracer.store().Find({})[0]->spans().size());
  EXPECT_EQ(tracer.stats().queue_depth, 0u);
}

TEST(TracerTest, StoreQueriesRunWhileTracesAreAdded) {
  // Queries walk the store a chunk at a time while a writer keeps overwriting it: every answer
  // is newest first, without duplicates, and within the limit.
  TraceStore store(300);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Trace t;
    for (uint64_t i = 1; i <= 20'000; ++i) {
      t.Begin(TraceId{0, i}, {}, true);
      const int32_t root = t.AddSpan("w", SpanKind::kServer, kNoSpan, static_cast<int64_t>(i));
      t.SetAttribute(root, "i", static_cast<int64_t>(i));
      t.EndSpan(root, static_cast<int64_t>(i) + 1);
      store.Keep(t);
    }
    done.store(true);
  });
  size_t queries = 0;
  while (!done.load() || queries < 3) {
    auto found = store.Find(MakeQuery("", 1000));
    ASSERT_LE(found.size(), 300u);
    for (size_t k = 1; k < found.size(); ++k)
      ASSERT_GT(found[k - 1]->trace_id().lo, found[k]->trace_id().lo);
    for (const auto& t : found) {
      ASSERT_EQ(t->AttributesOf(t->spans()[0]).size(), 1u);
      ASSERT_EQ(static_cast<uint64_t>(t->AttributesOf(t->spans()[0])[0].int_value),
                t->trace_id().lo);  // a whole trace, not half of two
    }
    ++queries;
  }
  writer.join();
  EXPECT_EQ(store.Find(MakeQuery("", 1000)).size(), 300u);
  EXPECT_EQ(store.Get(TraceId{0, 1}), nullptr);  // overwritten long ago
  ASSERT_NE(store.Get(TraceId{0, 20'000}), nullptr);
}

// A trace with `spans` root-level spans named "s", trace id {0, lo}.
Trace MakeTrace(uint64_t lo, int spans) {
  Trace t;
  t.Begin(TraceId{0, lo}, {}, true);
  for (int i = 0; i < spans; ++i) t.EndSpan(t.AddSpan("s", SpanKind::kServer, kNoSpan, 10), 20);
  return t;
}

TEST(TracerTest, TheStoreEvictsTheOldestForRoomInItsRing) {
  const size_t one = MakeTrace(1, 1).PackedSize();
  const size_t four = MakeTrace(1, 4).PackedSize();
  ASSERT_GT(four, one);
  // Room for three one-span traces (and a bit), more entries than that.
  TraceStore store(10, 3 * one + one / 2);
  for (uint64_t i = 1; i <= 3; ++i) store.Keep(MakeTrace(i, 1));
  EXPECT_EQ(store.size(), 3u);
  ASSERT_NE(store.Get(TraceId{0, 1}), nullptr);
  // The fourth does not fit after the third: it starts the next lap and overwrites the first.
  store.Keep(MakeTrace(4, 1));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.Get(TraceId{0, 1}), nullptr);
  for (uint64_t i = 2; i <= 4; ++i) {
    const TraceSnapshot t = store.Get(TraceId{0, i});
    ASSERT_NE(t, nullptr) << i;
    EXPECT_EQ(t->spans().size(), 1u);
  }
  // A larger trace needs the room of more than one: the two oldest go.
  store.Keep(MakeTrace(5, 4));
  EXPECT_EQ(store.Get(TraceId{0, 2}), nullptr);
  EXPECT_EQ(store.Get(TraceId{0, 3}), nullptr);
  ASSERT_NE(store.Get(TraceId{0, 4}), nullptr);
  ASSERT_NE(store.Get(TraceId{0, 5}), nullptr);
  EXPECT_EQ(store.Get(TraceId{0, 5})->spans().size(), 4u);
  EXPECT_EQ(store.size(), 2u);
  auto all = store.Find(MakeQuery("", 10));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->trace_id().lo, 5u);
  EXPECT_EQ(all[1]->trace_id().lo, 4u);
  EXPECT_EQ(store.too_large(), 0u);
}

TEST(TracerTest, TheStoreKeepsAtMostCapacityTracesAndRefusesOnesLargerThanItsRing) {
  TraceStore store(2, 1 << 20);
  for (uint64_t i = 1; i <= 5; ++i) store.Keep(MakeTrace(i, 2));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Get(TraceId{0, 3}), nullptr);
  ASSERT_NE(store.Get(TraceId{0, 4}), nullptr);
  ASSERT_NE(store.Get(TraceId{0, 5}), nullptr);

  const Trace big = MakeTrace(9, 8);
  TraceStore small(4, big.PackedSize() - 8);
  small.Keep(MakeTrace(1, 1));
  small.Keep(big);
  EXPECT_EQ(small.too_large(), 1u);
  EXPECT_EQ(small.size(), 1u);  // the refused trace evicted nothing
  EXPECT_NE(small.Get(TraceId{0, 1}), nullptr);

  TraceStore none(0);  // keeps nothing
  none.Keep(MakeTrace(1, 1));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.Get(TraceId{0, 1}), nullptr);
  EXPECT_TRUE(none.Find(MakeQuery("")).empty());
}

TEST(TracerTest, TheStoreDefaultsToTwoKibibytesOfRingPerTraceAndAtLeastFourMebibytes) {
  EXPECT_EQ(TraceStore(10'000).max_bytes(), 10'000u * 2048);
  EXPECT_EQ(TraceStore(10).max_bytes(), size_t{4} << 20);  // a floor for small stores
  EXPECT_EQ(TraceStore(10, 4096).max_bytes(), 4096u);
}

// This process's resident memory in bytes (/proc/self/statm), or -1.
long ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long pages = 0, resident = -1;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  std::fclose(f);
  return resident < 0 ? -1 : resident * 4096;
}

TEST(TracerTest, PrefaultPagesTheRingInAheadOfItsTracesAndKeepsWhatTheyHold) {
  constexpr long kMiB = 1 << 20;
  constexpr size_t kRing = size_t{16} << 20;
  TraceStore store(10000, kRing);
  store.Prefault(kMiB);  // before Allocate: nothing to do
  store.Allocate();
  store.Keep(MakeTrace(1, 3));
  long before = ResidentBytes();
  ASSERT_GT(before, 0);
  store.Prefault(4 * kMiB);  // about 4 MiB past the first trace
  long grown = ResidentBytes() - before;
  EXPECT_GE(grown, 3 * kMiB);
  EXPECT_LT(grown, 6 * kMiB);
  // Twice what was written since: 3 MiB of traces ask for 6 MiB more past them.
  const size_t one = MakeTrace(2, 40).PackedSize();
  for (uint64_t i = 2; i * one < 3 * kMiB; ++i) store.Keep(MakeTrace(i, 40));
  before = ResidentBytes();
  store.Prefault(kMiB);
  grown = ResidentBytes() - before;
  EXPECT_GE(grown, 4 * kMiB);  // up to ~9 MiB from ~4 MiB
  EXPECT_LT(grown, 7 * kMiB);
  store.Prefault(kRing);  // the rest, and no further
  const long whole = ResidentBytes();
  store.Prefault(kRing);
  EXPECT_LT(ResidentBytes() - whole, kMiB);
  const TraceSnapshot kept = store.Get(TraceId{0, 1});
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->spans().size(), 3u);
  TraceStore none(0);
  none.Allocate();  // capacity 0: no ring
  none.Prefault(kMiB);
  none.Keep(MakeTrace(3, 1));
  EXPECT_EQ(none.size(), 0u);
}

TEST(TracerTest, AnAbPeriodAlternatesTracingAndCountsRequestsByPhase) {
  TracerOptions options;
  options.ab_period_ms = 10;
  Tracer tracer(options);
  tracer.Start();
  uint64_t traced = 0;
  uint64_t untraced = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < until) {
    auto trace = tracer.Begin({});
    if (trace == nullptr) {
      ++untraced;
      continue;
    }
    ++traced;
    tracer.Finish(std::move(trace));
  }
  EXPECT_GT(traced, 0u);
  EXPECT_GT(untraced, 0u);
  const TracerStats s = tracer.stats();
  EXPECT_EQ(s.finished, traced);
  // Only requests begun in the second half of a period count.
  EXPECT_GT(s.ab_traced, 0u);
  EXPECT_GT(s.ab_untraced, 0u);
  EXPECT_LT(s.ab_traced, traced);
  EXPECT_LT(s.ab_untraced, untraced);
  EXPECT_EQ(Tracer(TracerOptions()).stats().ab_traced, 0u);  // off by default
}

TEST(TracerTest, EveryRequestOfAThreadRecordsIntoTheSameTrace) {
  TracerOptions options;
  options.store_max_traces = 2;
  Tracer tracer(options);
  tracer.Start();
  std::vector<const Trace*> recorded;
  std::vector<TraceId> ids;
  for (int i = 0; i < 4; ++i) {
    auto trace = tracer.Begin({});
    ASSERT_NE(trace, nullptr);
    EXPECT_TRUE(trace->spans().empty());  // reset before reuse
    recorded.push_back(trace.get());
    ids.push_back(trace->trace_id());
    {
      ScopedTrace scope(*trace);
      Span root("root");
    }
    tracer.Finish(std::move(trace));
  }
  // The store keeps packed copies; the thread's own trace comes back every time.
  for (int i = 1; i < 4; ++i) EXPECT_EQ(recorded[i], recorded[0]);
  EXPECT_EQ(tracer.store().size(), 2u);
  EXPECT_EQ(tracer.store().Get(ids[1]), nullptr);
  ASSERT_NE(tracer.store().Get(ids[2]), nullptr);
  ASSERT_NE(tracer.store().Get(ids[3]), nullptr);
  EXPECT_STREQ(tracer.store().Get(ids[3])->spans()[0].name, "root");
}

TEST(TracerTest, AConsumerThatIsNotReadyGetsNoCopiesAndCountsThem) {
  TracerOptions options;
  options.collect_interval_ms = 60'000;  // collected on Flush only
  Tracer tracer(options);
  std::atomic<bool> ready{false};
  int seen = 0;
  int refused = 0;
  tracer.AddConsumer([&](const Trace&) { ++seen; }, [&] { return ready.load(); },
                     [&] { ++refused; });
  tracer.Start();
  for (int i = 0; i < 3; ++i) RecordRequest(tracer, "root");
  EXPECT_EQ(tracer.stats().queue_depth, 0u);  // nothing was copied for it
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(tracer.store().size(), 3u);  // the store is not affected
  ready.store(true);
  RecordRequest(tracer, "root");
  RecordRequest(tracer, "root");
  // Queued while ready; not ready again when the collector gets to them: no snapshot, counted.
  ready.store(false);
  tracer.Flush();
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(refused, 5);
  ready.store(true);
  RecordRequest(tracer, "root");
  tracer.Flush();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(refused, 5);
}

TEST(TracerTest, ConsumersAndTheStoreSeeTheSameSpanIds) {
  Tracer tracer(TracerOptions{});
  std::vector<TraceSnapshot> seen;
  tracer.AddConsumer([&](const Trace& t) {
    Trace copy;  // what a consumer that keeps the trace does
    copy.CopyFrom(t);
    seen.push_back(copy.Snapshot());
  });
  tracer.Start();
  RecordRequest(tracer, "root", 3);
  RecordRequest(tracer, "root", 2);
  tracer.Flush();
  ASSERT_EQ(seen.size(), 2u);
  for (const TraceSnapshot& exported : seen) {
    const TraceSnapshot stored = tracer.store().Get(exported->trace_id());
    ASSERT_NE(stored, nullptr);
    ASSERT_EQ(stored->spans().size(), exported->spans().size());
    for (size_t i = 0; i < stored->spans().size(); ++i) {
      EXPECT_TRUE(exported->spans()[i].id.valid());
      EXPECT_EQ(stored->spans()[i].id, exported->spans()[i].id) << "span " << i;
    }
  }
}

TEST(TracerTest, ZeroCapacityStoreKeepsNothingButConsumersStillSeeTraces) {
  TracerOptions options;
  options.store_max_traces = 0;
  Tracer tracer(options);
  int seen = 0;
  tracer.AddConsumer([&](const Trace&) { ++seen; });
  tracer.Start();
  RecordRequest(tracer, "root");
  tracer.Flush();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(tracer.store().size(), 0u);
}

TEST(TickClockTest, TraceTimesFollowTheWallClock) {
  Trace trace;
  trace.Begin(TraceId::Random(), {}, true);
  const int64_t begin = WallNanos();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const int64_t wall_before = WallNanos();
  const int64_t now = trace.Now();
  const int64_t wall_after = WallNanos();
  // The rate is first measured over ~2 ms: allow 2% of the elapsed time, plus 0.2 ms for the
  // anchor, which is read without protection against preemption.
  const int64_t slack = (wall_after - begin) / 50 + 200'000;
  EXPECT_GE(now, wall_before - slack);
  EXPECT_LE(now, wall_after + slack);
  EXPECT_GT(NanosPerTick(), 0.0);
}

TEST(DurationTest, ParsesJaegerDurations) {
  EXPECT_EQ(ParseDurationNs("100ns"), 100);
  EXPECT_EQ(ParseDurationNs("250us"), 250'000);
  EXPECT_EQ(ParseDurationNs("1.5ms"), 1'500'000);
  EXPECT_EQ(ParseDurationNs("2s"), 2'000'000'000);
  EXPECT_EQ(ParseDurationNs("1m"), 60'000'000'000);
  EXPECT_FALSE(ParseDurationNs(""));
  EXPECT_FALSE(ParseDurationNs("ms"));
  EXPECT_FALSE(ParseDurationNs("10"));
  EXPECT_FALSE(ParseDurationNs("10 ms"));
  EXPECT_FALSE(ParseDurationNs("1e30h"));
}

// The same parser serves `kalam traces --since`: compound durations and days.
TEST(DurationTest, ParsesCompoundDurationsAndDays) {
  EXPECT_EQ(ParseDurationNs("1h30m"), 5'400'000'000'000);
  EXPECT_EQ(ParseDurationNs("2d"), 172'800'000'000'000);
  EXPECT_EQ(ParseDurationNs("1s500ms"), 1'500'000'000);
  EXPECT_FALSE(ParseDurationNs("1h30"));
  EXPECT_FALSE(ParseDurationNs("1x"));
  EXPECT_FALSE(ParseDurationNs("300000d"));  // past int64 nanoseconds
}

}  // namespace
}  // namespace kalamdb::trace
