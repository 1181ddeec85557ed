#include "trace/tracer.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <new>
#include <set>

#include "common/clock.h"
#include "common/thread_name.h"

namespace kalamdb::trace {

// ---------------------------------------------------------------------------------------------
// TraceStore

TraceStore::TraceStore(size_t capacity, size_t max_bytes)
    : capacity_(capacity),
      max_bytes_(max_bytes != 0 ? max_bytes
                                : std::max(capacity * kBytesPerTrace, kMinDefaultBytes)) {}

void TraceStore::RingDeleter::operator()(std::byte* ring) const { munmap(ring, size); }

void TraceStore::AllocateLocked() {
  // Untouched pages of the ring cost no memory until traces (or Prefault) fill them.
  void* ring =
      mmap(nullptr, max_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring == MAP_FAILED) throw std::bad_alloc();
  bytes_ = std::unique_ptr<std::byte[], RingDeleter>(static_cast<std::byte*>(ring),
                                                     RingDeleter{max_bytes_});
  entries_.resize(capacity_);
}

void TraceStore::Allocate() {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  if (bytes_ == nullptr) AllocateLocked();
}

void TraceStore::Prefault(size_t min_ahead) {
  std::byte* ring = nullptr;
  size_t from = 0;
  size_t to = 0;
  {
    std::lock_guard lock(mu_);
    ring = bytes_.get();  // fixed from now on: the ring lives as long as the store
    if (ring == nullptr || paged_in_ >= max_bytes_) return;
    const uint64_t written = head_ - prefault_head_;
    prefault_head_ = head_;
    // head_ counts bytes over every lap: past the first, every page has been written.
    const uint64_t want = head_ + std::max<uint64_t>(min_ahead, 2 * written);
    to = static_cast<size_t>(std::min<uint64_t>(max_bytes_, want));
    if (to <= paged_in_) return;
    from = paged_in_;
    paged_in_ = to;
  }
#ifdef MADV_POPULATE_WRITE
  // Whole pages (the ring starts on one). Errors (EINVAL on kernels without it, ENOMEM) leave
  // the pages to fault in on first use.
  constexpr size_t kPage = 4096;
  const size_t begin = from / kPage * kPage;
  const size_t end = std::min(max_bytes_, (to + kPage - 1) / kPage * kPage);
  madvise(ring + begin, end - begin, MADV_POPULATE_WRITE);
#else
  (void)from;
#endif
}

void TraceStore::Keep(const Trace& trace) {
  if (capacity_ == 0) return;
  const size_t size = trace.PackedSize();
  std::lock_guard lock(mu_);
  if (size > max_bytes_) [[unlikely]] {
    ++too_large_;
    return;
  }
  if (bytes_ == nullptr) [[unlikely]]
    AllocateLocked();
  uint64_t at = head_;
  size_t offset = head_offset_;
  if (size > max_bytes_ - offset) {  // the next lap, from the start
    at += max_bytes_ - offset;
    offset = 0;
  }
  const uint64_t end = at + size;
  // Evict the oldest traces whose bytes this one overwrites, and one when the index is full.
  while (oldest_ < added_ &&
         (added_ - oldest_ >= capacity_ || entries_[oldest_slot_].position + max_bytes_ < end)) {
    ++oldest_;
    if (++oldest_slot_ == capacity_) oldest_slot_ = 0;
  }
  trace.PackTo(bytes_.get() + offset);
  entries_[next_slot_] = {at, offset};
  if (++next_slot_ == capacity_) next_slot_ = 0;
  ++added_;
  head_ = end;
  head_offset_ = offset + size;
}

template <typename Fn>
void TraceStore::Walk(Fn&& fn) const {
  uint64_t seq;  // the traces below this sequence number are still to visit
  {
    std::lock_guard lock(mu_);
    seq = added_;
  }
  for (;;) {
    std::lock_guard lock(mu_);
    for (size_t n = 0; n < kWalkChunk; ++n) {
      if (seq <= oldest_) return;  // visited all, or the rest was overwritten meanwhile
      --seq;
      if (!fn(PackedTrace(bytes_.get() + entries_[seq % capacity_].offset))) return;
    }
  }
}

namespace {

// The span a query's filters apply to: the first span named `operation`, or the root.
const SpanRecord* MatchingSpan(std::span<const SpanRecord> spans, const std::string& operation) {
  if (spans.empty()) return nullptr;
  if (operation.empty()) return &spans.front();
  for (const SpanRecord& s : spans) {
    if (s.name != nullptr && operation == s.name) return &s;
  }
  return nullptr;
}

bool Matches(const PackedTrace& trace, const TraceStore::Query& q) {
  const SpanRecord* s = MatchingSpan(trace.spans(), q.operation);
  if (s == nullptr) return false;
  const int64_t start_us = s->start_ns / 1000;
  const int64_t duration = std::max<int64_t>(0, s->end_ns - s->start_ns);
  if (q.start_us != 0 && start_us < q.start_us) return false;
  if (q.end_us != 0 && start_us > q.end_us) return false;
  if (duration < q.min_duration_ns) return false;
  if (q.max_duration_ns != 0 && duration > q.max_duration_ns) return false;
  return true;
}

// An unpacked copy of a stored trace, its span ids drawn into the store first.
std::unique_ptr<Trace> CopyOf(PackedTrace trace) {
  trace.AssignSpanIds();
  auto copy = std::make_unique<Trace>();
  copy->UnpackFrom(trace.block());
  return copy;
}

}  // namespace

std::vector<TraceSnapshot> TraceStore::Find(const Query& query) const {
  std::vector<TraceSnapshot> out;
  if (query.limit == 0) return out;
  // Unpacked copies under the mutex (a few memcpys each), snapshots (allocating, sorting)
  // outside it.
  std::vector<std::unique_ptr<Trace>> copies;
  Walk([&](PackedTrace trace) {
    if (!Matches(trace, query)) return true;
    copies.push_back(CopyOf(trace));
    return copies.size() < query.limit;
  });
  out.reserve(copies.size());
  for (auto& copy : copies) out.push_back(copy->Snapshot());
  return out;
}

TraceSnapshot TraceStore::Get(const TraceId& id) const {
  std::unique_ptr<Trace> copy;
  Walk([&](PackedTrace trace) {
    if (trace.trace_id() != id) return true;
    copy = CopyOf(trace);
    return false;
  });
  return copy != nullptr ? copy->Snapshot() : nullptr;
}

std::vector<std::string> TraceStore::Operations() const {
  // Names are string literals: collect distinct pointers first, then strings.
  std::set<const char*> names;
  Walk([&](PackedTrace trace) {
    for (const SpanRecord& s : trace.spans()) names.insert(s.name);
    return true;
  });
  std::set<std::string> sorted;
  for (const char* name : names) {
    if (name != nullptr) sorted.insert(name);
  }
  return {sorted.begin(), sorted.end()};
}

size_t TraceStore::size() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(added_ - oldest_);
}

uint64_t TraceStore::too_large() const {
  std::lock_guard lock(mu_);
  return too_large_;
}

// ---------------------------------------------------------------------------------------------
// Tracer

Tracer::Tracer(TracerOptions options)
    : options_(options),
      sampler_(options.sample_ratio),
      sink_(std::max<size_t>(1, options.queue_traces)),
      store_(options.store_max_traces, options.store_max_bytes) {}

Tracer::~Tracer() { Stop(); }

void Tracer::AddConsumer(std::function<void(const Trace&)> consumer, std::function<bool()> ready,
                         std::function<void()> refused) {
  consumers_.push_back({std::move(consumer), std::move(ready), std::move(refused)});
}

bool Tracer::ConsumersReady() const {
  for (const Consumer& c : consumers_) {
    if (c.ready == nullptr || c.ready()) return true;
  }
  return false;
}

void Tracer::ReportRefused() const {
  for (const Consumer& c : consumers_) {
    if (c.refused != nullptr) c.refused();
  }
}

void Tracer::Start() {
  if (!options_.enabled || thread_.joinable()) return;
  running_.store(true, std::memory_order_release);
  store_.Allocate();
  thread_ = std::thread([this] {
    SetCurrentThreadName("kalam-traces");
    Run();
  });
}

void Tracer::Stop() {
  {
    std::lock_guard lock(run_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  running_.store(false, std::memory_order_release);
}

namespace {

// One recycled trace per thread, taken and given back without the pool's mutex: in steady
// state a request thread records every request into the same trace, which stays in its core's
// cache. (Traces belong to no Tracer: any one may use it.)
thread_local std::unique_ptr<Trace> tls_spare;
// The same for the copies queued for the exporters (refilled by TraceSink::TrySubmit).
thread_local std::unique_ptr<Trace> tls_export_spare;

}  // namespace

bool Tracer::AbTraced() {
  const int64_t period = int64_t{options_.ab_period_ms} * 1'000'000;
  const int64_t now = SteadyNowNs();
  const bool traced = (now / period) % 2 == 0;
  if (now % period >= period / 2)
    (traced ? ab_traced_ : ab_untraced_).fetch_add(1, std::memory_order_relaxed);
  return traced;
}

std::unique_ptr<Trace> Tracer::Begin(std::string_view traceparent) {
  if (!options_.enabled) return nullptr;
  if (options_.ab_period_ms > 0 && !AbTraced()) [[unlikely]]
    return nullptr;
  std::unique_ptr<Trace> trace = std::move(tls_spare);
  if (trace == nullptr) {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      trace = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (trace == nullptr) trace = std::make_unique<Trace>();
  trace->Begin(traceparent, &sampler_);
  return trace;
}

void Tracer::Finish(std::unique_ptr<Trace> trace) {
  if (trace == nullptr) return;
  if (trace->sampled() && running_.load(std::memory_order_acquire)) {
    finished_.fetch_add(1, std::memory_order_relaxed);
    if (!consumers_.empty() && OfferToConsumers()) {
      // The exporters' copy goes to the collector, which hands it to them off this thread;
      // ids first, so that the copy and the trace the store keeps show the same ones.
      trace->AssignSpanIds();
      std::unique_ptr<Trace> copy = std::move(tls_export_spare);
      if (copy == nullptr) copy = std::make_unique<Trace>();
      copy->CopyFrom(*trace);
      sink_.TrySubmit(copy);  // hands back a recycled trace, or keeps ours when full
      if (copy != nullptr && copy->has_default_size()) tls_export_spare = std::move(copy);
    }
    store_.Keep(*trace);
  }
  Recycle(std::move(trace));
}

void Tracer::Recycle(std::unique_ptr<Trace> trace) {
  // A trace that grew far past the default (a huge request) is not worth keeping.
  if (!trace->has_default_size()) return;
  trace->Reset();
  if (tls_spare == nullptr) {
    tls_spare = std::move(trace);
    return;
  }
  std::lock_guard lock(pool_mu_);
  // Enough for every in-flight request; beyond that, free.
  if (pool_.size() < 256) pool_.push_back(std::move(trace));
}

void Tracer::Flush() {
  if (!running_.load(std::memory_order_acquire)) return;
  std::unique_lock lock(run_mu_);
  if (stopping_) return;
  const uint64_t want = ++flush_request_;
  run_cv_.notify_all();
  run_cv_.wait(lock, [&] { return flush_done_ >= want || stopping_; });
}

void Tracer::Collect(std::vector<std::unique_ptr<Trace>>& batch) {
  for (auto& copy : batch) {
    if (OfferToConsumers()) {  // the queue may have filled since Finish
      for (const Consumer& c : consumers_) c.consume(*copy);
    }
    collected_.fetch_add(1, std::memory_order_relaxed);
  }
  sink_.Recycle(batch);
  batch.clear();  // what the sink did not take back is freed here
}

void Tracer::Run() {
  std::vector<std::unique_ptr<Trace>> batch;
  batch.reserve(1024);
  const auto interval = std::chrono::milliseconds(std::max(1, options_.collect_interval_ms));
  store_.Prefault(kPrefaultAhead);  // the first traces' pages, off the request threads
  std::unique_lock lock(run_mu_);
  for (;;) {
    run_cv_.wait_for(lock, interval, [&] { return stopping_ || flush_request_ > flush_done_; });
    const bool stop = stopping_;
    const uint64_t request = flush_request_;
    lock.unlock();
    RecalibrateTicks();
    store_.Prefault(kPrefaultAhead);
    while (sink_.Drain(batch, 1024) > 0) Collect(batch);
    lock.lock();
    flush_done_ = request;
    run_cv_.notify_all();
    if (stop) return;
  }
}

TracerStats Tracer::stats() const {
  TracerStats s;
  s.finished = finished_.load(std::memory_order_relaxed);
  s.dropped_queue_full = sink_.dropped();
  s.collected = collected_.load(std::memory_order_relaxed);
  const uint64_t queued = sink_.accepted();
  s.queue_depth = static_cast<size_t>(queued - std::min(queued, s.collected));
  s.stored = store_.size();
  s.stored_too_large = store_.too_large();
  s.ab_traced = ab_traced_.load(std::memory_order_relaxed);
  s.ab_untraced = ab_untraced_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace kalamdb::trace
