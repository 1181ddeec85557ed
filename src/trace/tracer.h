// tracer.h: the server's tracing runtime: where request traces come from and where they go.
//
// A request thread calls Tracer::Begin() to get a recycled Trace (in steady state the same one
// for each of its requests: no allocation, and its records stay in the core's cache), installs
// it with ScopedTrace, records spans, and hands it back with Finish(). Finish never waits for a
// consumer: a sampled trace is packed into the TraceStore (the last `store_max_traces` traces,
// served by /v1/api/traces). When there are consumers (the OTLP exporter), Finish first copies
// the trace into a recycled one and queues that in a bounded TraceSink (full: the whole trace
// is dropped for them and counted). The trace then goes back to the thread's spare (or the
// pool).
//
// A collector thread drains the sink every `collect_interval_ms`, passes each copy to the
// consumers and recycles it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "trace/trace.h"

namespace kalamdb::trace {

// The last N finished traces, newest last, packed (Trace::PackTo) into one preallocated ring
// of bytes: storing a trace is a few sequential copies into memory next to the previous
// trace's, under the mutex, with no allocation; the request thread keeps recording into its
// own trace, which stays in its core's cache (recording straight into memory last touched
// 10,000 traces ago cost more than the copy). The work of turning a packed trace back into a
// readable one is left to the rare reader: queries unpack what they return under the mutex, a
// bounded number of traces at a time (Walk), and make the snapshots (Trace::Snapshot())
// outside it.
class TraceStore {
 public:
  // Ring bytes per trace of capacity when `max_bytes` is 0: an INSERT's trace packs into
  // ~1.7 KB, so a full store of them holds `capacity` traces; larger traces make it hold fewer.
  // At least kMinDefaultBytes, so that a small store still holds large traces.
  static constexpr size_t kBytesPerTrace = 2048;
  static constexpr size_t kMinDefaultBytes = size_t{4} << 20;

  // At most `capacity` traces in at most `max_bytes` (0: capacity * kBytesPerTrace, at least
  // kMinDefaultBytes) of ring, allocated by Allocate() or when the first trace is kept.
  explicit TraceStore(size_t capacity, size_t max_bytes = 0);

  // Allocates the ring now (address space only: pages come with the first traces, or with
  // Prefault). Does nothing when capacity is 0 or the ring exists.
  void Allocate();
  // Pages in the ring ahead of where the next traces go, without changing its contents (safe
  // while other threads keep traces): at least `min_ahead` bytes past the write position, and
  // twice what was written since the last call, so that a steady rate never catches up between
  // two calls. The tracer's collector calls it at start and every collect interval: the
  // request threads then never take a page fault (one every 4 KiB page, about every other
  // trace, during the ring's first lap), and an idle server holds only `min_ahead` of ring.
  // Nothing to do once the ring has been written or paged in whole, before Allocate(), or where
  // the kernel cannot (before Linux 5.14). Called by one thread at a time.
  void Prefault(size_t min_ahead);

  // Keeps a packed copy of `trace` as the newest, evicting the oldest traces whose room it
  // needs (or the oldest when `capacity` are kept). A trace larger than the whole ring is not
  // kept (counted in too_large()); capacity 0 keeps nothing. Holds the store's mutex for the
  // copy; waits only for queries, which take it for at most kWalkChunk traces at a time.
  void Keep(const Trace& trace);

  struct Query {
    // A trace matches when one of its spans has this name (empty: any trace).
    std::string operation;
    // Unix microseconds; the matching span (or the root) must start in [start_us, end_us].
    // 0 = unbounded.
    int64_t start_us = 0;
    int64_t end_us = 0;
    // Nanoseconds; the matching span (or the root) lasts at least this long.
    int64_t min_duration_ns = 0;
    int64_t max_duration_ns = 0;  // 0 = unbounded
    // Most recent first, at most this many. Default: 20.
    size_t limit = 20;
  };
  // Snapshots of the matching traces, most recent first (made outside the mutex, from copies).
  std::vector<TraceSnapshot> Find(const Query& query) const;
  // A snapshot of the trace with this id (the most recent one when several share it), or null.
  TraceSnapshot Get(const TraceId& id) const;
  // Every span name seen in stored traces, sorted.
  std::vector<std::string> Operations() const;

  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t max_bytes() const { return max_bytes_; }
  uint64_t too_large() const;

 private:
  // Calls fn(PackedTrace) under the mutex for the stored traces, newest first, until it returns
  // false, taking the mutex for at most kWalkChunk traces at a time: a query over the whole
  // store never holds up Keep (the request threads) for long. Traces added meanwhile are not
  // visited; the walk ends where it meets traces they overwrote. An empty store (capacity 0
  // included) visits nothing.
  template <typename Fn>
  void Walk(Fn&& fn) const;
  void AllocateLocked();  // REQUIRES: mu_ held, bytes_ null
  static constexpr size_t kWalkChunk = 256;

  // Where a stored trace is: at bytes_[offset], whole (a trace that would cross the ring's end
  // starts the next lap instead). `position` counts bytes over every lap (it never wraps): the
  // trace is overwritten once a later trace ends more than max_bytes_ past it.
  struct Entry {
    uint64_t position;
    size_t offset;
  };

  const size_t capacity_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  // Guarded by mu_. The traces with sequence numbers (0 = the first ever kept) in
  // [oldest_, added_) are stored; trace s is described by entries_[s % capacity_]. Queries
  // draw missing span ids into a stored trace in place (under mu_), so every query shows the
  // same ids.
  struct RingDeleter {
    size_t size;
    void operator()(std::byte* ring) const;
  };
  // max_bytes_ of anonymous memory mapped for the ring (page-aligned, for Prefault).
  std::unique_ptr<std::byte[], RingDeleter> bytes_{nullptr, RingDeleter{0}};
  std::vector<Entry> entries_;
  uint64_t added_ = 0;
  uint64_t oldest_ = 0;
  size_t next_slot_ = 0;    // added_ % capacity_
  size_t oldest_slot_ = 0;  // oldest_ % capacity_
  uint64_t head_ = 0;       // where the next trace goes: a position as in Entry ...
  size_t head_offset_ = 0;  // ... and its offset
  uint64_t too_large_ = 0;
  size_t paged_in_ = 0;         // Prefault: the ring's bytes [0, paged_in_) are paged in
  uint64_t prefault_head_ = 0;  // head_ at the last Prefault
};

struct TracerOptions {
  // Record traces at all. false: Begin() returns null and nothing is recorded. Default: true.
  bool enabled = true;
  // Fraction of root traces recorded (an incoming sampled traceparent always is). Default: 1.
  double sample_ratio = 1.0;
  // Finished traces waiting for the collector; more are dropped and counted. Default: 8192.
  size_t queue_traces = 8192;
  // Traces kept for /v1/api/traces; 0 keeps none. Default: 10,000.
  size_t store_max_traces = 10000;
  // The store's ring in bytes; 0: store_max_traces * TraceStore::kBytesPerTrace (20 MB), at
  // least TraceStore::kMinDefaultBytes.
  size_t store_max_bytes = 0;
  // How often the collector drains the queue for the consumers. Default: 20 ms.
  int collect_interval_ms = 20;
  // For measuring what tracing costs, in one process under the same machine conditions: when
  // > 0, tracing alternates by the steady clock, on for a period of this many milliseconds,
  // off (Begin() returns null, as with enabled = false) for the next. Requests that begin in
  // the second half of a period are counted by phase (TracerStats::ab_traced, ab_untraced),
  // so that work a phase leaves behind (the export of its traces) is not counted in the next;
  // their ratio is the throughput ratio, tracing on against off. Default: 0 (always on).
  int ab_period_ms = 0;
};

struct TracerStats {
  uint64_t finished = 0;  // sampled traces finished (stored, and queued for the consumers)
  uint64_t dropped_queue_full = 0;
  uint64_t collected = 0;  // traces the collector has passed to the consumers
  size_t queue_depth = 0;
  size_t stored = 0;
  uint64_t stored_too_large = 0;  // traces larger than the store's whole ring, not kept
  // With TracerOptions::ab_period_ms: requests begun in the second half of a traced or an
  // untraced period.
  uint64_t ab_traced = 0;
  uint64_t ab_untraced = 0;
};

class Tracer {
 public:
  explicit Tracer(TracerOptions options);
  ~Tracer();  // Stop()
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Consumers see every collected trace on the collector thread, in order: the finished
  // recording as the request thread left it, span ids drawn (the same ids as the stored trace),
  // valid only during the call; Trace::CopyFrom keeps one. Register before Start(). A consumer
  // must not block (the OTLP exporter encodes and enqueues).
  // A consumer that can say it would drop a trace anyway (a full export queue) passes ready()
  // and refused(): while ready() is false for every consumer, Finish copies nothing for them
  // and the collector passes nothing on; each such trace is reported to refused().
  void AddConsumer(std::function<void(const Trace&)> consumer,
                   std::function<bool()> ready = nullptr, std::function<void()> refused = nullptr);
  // Starts the collector thread.
  void Start();
  // Collects what is queued, then stops the collector thread. Idempotent.
  void Stop();

  bool enabled() const { return options_.enabled; }
  // A recycled trace, already begun from `traceparent` (see Trace::Begin) with this tracer's
  // sampler; null when tracing is disabled.
  std::unique_ptr<Trace> Begin(std::string_view traceparent);
  // Hands a finished trace over. Sampled: a copy is queued for the consumers (if any) and the
  // store keeps a packed copy. Then the trace goes to the thread's spare (or the pool) for the
  // next Begin.
  void Finish(std::unique_ptr<Trace> trace);
  // Waits until everything finished before this call has reached the consumers (tests,
  // shutdown). Stored traces are in the store as soon as Finish returns.
  void Flush();

  const TraceStore& store() const { return store_; }
  TracerStats stats() const;

 private:
  void Run();
  void Collect(std::vector<std::unique_ptr<Trace>>& batch);
  void Recycle(std::unique_ptr<Trace> trace);
  // With ab_period_ms: whether a request beginning now is traced; counts it by phase.
  bool AbTraced();
  // How far ahead of its write position the collector keeps the store's ring paged in, at
  // least (TraceStore::Prefault): what an idle server holds of it.
  static constexpr size_t kPrefaultAhead = size_t{2} << 20;

  const TracerOptions options_;
  const Sampler sampler_;
  TraceSink sink_;
  TraceStore store_;
  struct Consumer {
    std::function<void(const Trace&)> consume;
    std::function<bool()> ready;    // null: always
    std::function<void()> refused;  // null: nothing to report
  };
  // True when some consumer would take a trace now.
  bool ConsumersReady() const;
  // Reports a trace none of them would take to each consumer's refused().
  void ReportRefused() const;
  // ConsumersReady(), reporting the trace refused when not.
  bool OfferToConsumers() const {
    if (ConsumersReady()) return true;
    ReportRefused();
    return false;
  }
  std::vector<Consumer> consumers_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Trace>> pool_;  // guarded by pool_mu_

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;       // guarded by run_mu_
  uint64_t flush_request_ = 0;  // guarded by run_mu_
  uint64_t flush_done_ = 0;     // guarded by run_mu_
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> finished_{0};
  std::atomic<uint64_t> collected_{0};
  std::atomic<uint64_t> ab_traced_{0};
  std::atomic<uint64_t> ab_untraced_{0};
};

}  // namespace kalamdb::trace
