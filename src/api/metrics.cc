#include "api/metrics.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "api/api.h"

namespace kalamdb::api {
namespace {

void AppendInt(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void AppendSeconds(std::string& out, uint64_t nanos) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<double>(nanos) / 1e9);
  out.append(buf, end);
}

void Line(std::string& out, std::string_view name, std::string_view labels, uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  AppendInt(out, value);
  out += '\n';
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// A label value with \ " and newlines escaped.
std::string Label(std::string_view key, std::string_view value) {
  std::string out(key);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

void AppendPrometheusMetric(std::string& out, std::string_view name, std::string_view type,
                            std::string_view help, uint64_t value) {
  Header(out, name, type, help);
  Line(out, name, {}, value);
}

void Histogram::Observe(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  buckets_[BucketOfNanos(static_cast<uint64_t>(nanos))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
}

void Histogram::AddTo(Histogram& into) const {
  for (size_t i = 0; i < buckets_.size(); ++i)
    into.buckets_[i].fetch_add(buckets_[i].load(std::memory_order_relaxed),
                               std::memory_order_relaxed);
  into.count_.fetch_add(count_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  into.sum_nanos_.fetch_add(sum_nanos_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void Histogram::Write(std::string& out, std::string_view name, std::string_view labels) const {
  uint64_t cumulative = 0;
  const std::string bucket_name = std::string(name) + "_bucket";
  for (size_t i = 0; i <= kBoundsMicros.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = std::string(labels);
    if (!le.empty()) le += ',';
    le += "le=\"";
    if (i < kBoundsMicros.size()) {
      char buf[32];
      auto [end, ec] =
          std::to_chars(buf, buf + sizeof(buf), static_cast<double>(kBoundsMicros[i]) / 1e6);
      le.append(buf, end);
    } else {
      le += "+Inf";
    }
    le += '"';
    Line(out, bucket_name, le, cumulative);
  }
  out += name;
  out += "_sum";
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  AppendSeconds(out, sum_nanos_.load(std::memory_order_relaxed));
  out += '\n';
  Line(out, std::string(name) + "_count", labels, count_.load(std::memory_order_relaxed));
}

void Metrics::CountRequest(size_t route, std::string_view route_name, int status, int64_t nanos) {
  if (route >= kMaxRoutes) route = kMaxRoutes - 1;
  Route& r = routes_[route];
  if (r.name.load(std::memory_order_relaxed) == nullptr) {
    r.name.store(route_name.data(), std::memory_order_relaxed);
  }
  size_t index = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) {
      index = i;
      break;
    }
  }
  r.by_status[index].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(nanos);
}

void Metrics::CountRows(int64_t inserted, int64_t updated, int64_t deleted) {
  if (inserted > 0) rows_inserted_.fetch_add(inserted, std::memory_order_relaxed);
  if (updated > 0) rows_updated_.fetch_add(updated, std::memory_order_relaxed);
  if (deleted > 0) rows_deleted_.fetch_add(deleted, std::memory_order_relaxed);
}

namespace {
std::atomic<uint64_t> next_metrics_id{1};
}  // namespace

Metrics::Metrics() : id_(next_metrics_id.fetch_add(1, std::memory_order_relaxed)) {}

Metrics::SpanShard& Metrics::ThreadShard() {
  struct Cached {
    uint64_t owner = 0;
    SpanShard* shard = nullptr;
  };
  thread_local Cached cached;
  if (cached.owner != id_) {
    auto shard = std::make_unique<SpanShard>();
    std::lock_guard lock(shards_mu_);
    cached.shard = shards_.emplace_back(std::move(shard)).get();
    cached.owner = id_;
  }
  return *cached.shard;
}

void Metrics::ObserveTrace(const trace::Trace& trace) {
  SpanShard& shard = ThreadShard();
  for (const trace::SpanRecord& s : trace.spans()) {
    if (s.name == nullptr) continue;
    // Fibonacci hashing: the product's top bits (the low ones repeat the pointer's low bits,
    // and names laid out alike in .rodata would all probe the same slots).
    const size_t hash = (reinterpret_cast<uintptr_t>(s.name) * 0x9E3779B97F4A7C15ull) >> 57;
    static_assert(kSpanSlots == 128);
    for (size_t probe = 0; probe < kSpanSlots; ++probe) {
      SpanSlot& slot = shard.slots[(hash + probe) % kSpanSlots];
      const char* name = slot.name.load(std::memory_order_relaxed);
      if (name == nullptr) slot.name.store(name = s.name, std::memory_order_release);
      if (name != s.name) continue;
      slot.histogram.ObserveSingleWriter(s.end_ns > s.start_ns ? s.end_ns - s.start_ns : 0);
      break;
    }
  }
}

void Metrics::Write(std::string& out) const {
  Header(out, "kalamdb_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const Route& r : routes_) {
    const char* name = r.name.load(std::memory_order_relaxed);
    if (name == nullptr) continue;
    for (size_t i = 0; i <= kStatuses.size(); ++i) {
      uint64_t n = r.by_status[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string labels = Label("route", name) + "," +
                           Label("status", i < kStatuses.size() ? std::to_string(kStatuses[i])
                                                                : std::string("other"));
      Line(out, "kalamdb_http_requests_total", labels, n);
    }
  }
  Header(out, "kalamdb_http_request_duration_seconds", "histogram",
         "Time from the request's first byte to its response, by route.");
  for (const Route& r : routes_) {
    const char* name = r.name.load(std::memory_order_relaxed);
    if (name != nullptr)
      r.latency.Write(out, "kalamdb_http_request_duration_seconds", Label("route", name));
  }
  Header(out, "kalamdb_rows_inserted_total", "counter", "Rows inserted by SQL statements.");
  Line(out, "kalamdb_rows_inserted_total", {}, rows_inserted_.load(std::memory_order_relaxed));
  Header(out, "kalamdb_rows_updated_total", "counter", "Rows updated by SQL statements.");
  Line(out, "kalamdb_rows_updated_total", {}, rows_updated_.load(std::memory_order_relaxed));
  Header(out, "kalamdb_rows_deleted_total", "counter", "Rows deleted by SQL statements.");
  Line(out, "kalamdb_rows_deleted_total", {}, rows_deleted_.load(std::memory_order_relaxed));
  Header(out, "kalamdb_span_duration_seconds", "histogram",
         "Duration of traced spans, by span name (sampled requests only).");
  // Every shard's histograms summed per span name (two literals with the same text count as
  // one name), sorted by name.
  std::map<std::string_view, Histogram> named;
  {
    std::lock_guard lock(shards_mu_);
    for (const auto& shard : shards_) {
      for (const SpanSlot& slot : shard->slots) {
        if (const char* name = slot.name.load(std::memory_order_acquire))
          slot.histogram.AddTo(named[name]);
      }
    }
  }
  for (const auto& [name, histogram] : named) {
    histogram.Write(out, "kalamdb_span_duration_seconds", Label("span", name));
  }
}

}  // namespace kalamdb::api
