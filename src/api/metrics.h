// metrics.h (internal to src/api): counters and latency histograms for GET /metrics.
//
// Everything on the request path is a relaxed atomic increment into fixed arrays: no lock, no
// allocation. Span histograms are observed on the request thread when its trace finishes
// (its spans are still in that core's cache), into a shard of the calling thread keyed by the
// span name's address (names are string literals): no lock, no shared cache line. A scrape
// sums the shards.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "trace/tracer.h"

namespace kalamdb::api {

// Cumulative histogram of durations with fixed bounds (seconds in the exposition).
class Histogram {
 public:
  // Upper bounds in microseconds; the last bucket is +Inf.
  static constexpr std::array<int64_t, 16> kBoundsMicros = {
      10,   25,    50,    100,   250,    500,    1000,    2500,
      5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

  void Observe(int64_t nanos);
  // The same for a histogram only one thread ever observes into: plain loads and stores, no
  // locked read-modify-write (readers still see whole values). Inline: it runs for every span.
  void ObserveSingleWriter(int64_t nanos) {
    const uint64_t n = nanos > 0 ? static_cast<uint64_t>(nanos) : 0;
    Bump(buckets_[BucketOfNanos(n)], 1);
    Bump(count_, 1);
    Bump(sum_nanos_, n);
  }
  // Writes the _bucket, _sum and _count lines of `name` with `labels` ("route=\"/x\"", may be
  // empty).
  void Write(std::string& out, std::string_view name, std::string_view labels) const;
  // Adds this histogram's figures into `into` (to write several shards as one).
  void AddTo(Histogram& into) const;

 private:
  // The bucket of a duration: the first bound it does not exceed (most spans fall in the first).
  static size_t BucketOfNanos(uint64_t nanos) {
    size_t bucket = 0;
    while (bucket < kBoundsMicros.size() &&
           nanos > static_cast<uint64_t>(kBoundsMicros[bucket]) * 1000)
      ++bucket;
    return bucket;
  }
  static void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

class Metrics {
 public:
  Metrics();

  // Statuses counted individually; others count as "other".
  static constexpr std::array<int, 18> kStatuses = {200, 201, 204, 400, 401, 403, 404, 405, 408,
                                                    409, 413, 415, 428, 429, 431, 500, 501, 503};
  static constexpr size_t kMaxRoutes = 24;

  // `route` < kMaxRoutes (the last index is for unknown paths); `route_name` must outlive this.
  void CountRequest(size_t route, std::string_view route_name, int status, int64_t nanos);
  void CountRows(int64_t inserted, int64_t updated, int64_t deleted);
  // One observation per span of a finished trace, into the calling thread's shard.
  void ObserveTrace(const trace::Trace& trace);

  // The Prometheus text exposition (version 0.0.4) of everything above.
  void Write(std::string& out) const;

 private:
  struct Route {
    std::atomic<const char*> name{nullptr};
    std::array<std::atomic<uint64_t>, kStatuses.size() + 1> by_status{};
    Histogram latency;
  };
  std::array<Route, kMaxRoutes> routes_;
  std::atomic<uint64_t> rows_inserted_{0};
  std::atomic<uint64_t> rows_updated_{0};
  std::atomic<uint64_t> rows_deleted_{0};

  // One thread's span histograms: open addressing on the name pointer; a slot's name is
  // published (release) after its histogram is ready. Names beyond the table's size are not
  // counted. Only the owning thread writes a shard.
  static constexpr size_t kSpanSlots = 128;
  struct SpanSlot {
    std::atomic<const char*> name{nullptr};
    Histogram histogram;
  };
  struct SpanShard {
    std::array<SpanSlot, kSpanSlots> slots;
  };
  SpanShard& ThreadShard();

  const uint64_t id_;  // tells this instance's thread shards from another's
  mutable std::mutex shards_mu_;
  std::vector<std::unique_ptr<SpanShard>> shards_;  // guarded by shards_mu_; never shrinks
};

}  // namespace kalamdb::api
