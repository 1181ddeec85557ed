#include "trace/trace.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <random>

#include "common/clock.h"

namespace kalamdb::trace {
namespace {

uint64_t SeedFromOs() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  return seed;
}

// The 16 lower-case hex digits of `v`, most significant first, without a table or a loop
// (this runs for every traced response): each nibble is spread into its own byte, then turned
// into '0'-'9' or 'a'-'f' for all bytes at once.
void Hex64To(char* out, uint64_t v) {
  static_assert(std::endian::native == std::endian::little, "the byte order below is LE's");
  auto spread = [](uint64_t x) {  // 8 nibbles of x's low 32 bits -> 8 bytes, high nibble first
    x = ((x & 0xFFFF0000ull) << 16) | (x & 0xFFFFull);
    x = ((x & 0x0000FF000000FF00ull) << 8) | (x & 0x000000FF000000FFull);
    x = ((x & 0x00F000F000F000F0ull) << 4) | (x & 0x000F000F000F000Full);
    return __builtin_bswap64(x);  // memory order: most significant nibble at the lowest address
  };
  auto digits = [](uint64_t n) {  // nibble bytes -> ASCII
    const uint64_t letters = ((n + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
    return n + 0x3030303030303030ull + letters * ('a' - '0' - 10);
  };
  const uint64_t hi = digits(spread(v >> 32));
  const uint64_t lo = digits(spread(v & 0xFFFFFFFFull));
  std::memcpy(out, &hi, 8);
  std::memcpy(out + 8, &lo, 8);
}

void AppendHex64(std::string& out, uint64_t v) {
  const size_t at = out.size();
  out.resize(at + 16);
  Hex64To(out.data() + at, v);
}

// Lower-case hex only. Returns false on any other character.
bool ParseHex64(std::string_view hex, uint64_t& out) {
  uint64_t v = 0;
  for (char c : hex) {
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  out = v;
  return true;
}

}  // namespace

uint64_t RandomNonZero64() {
  thread_local uint64_t state = 0;
  thread_local bool seeded = false;
  if (!seeded) [[unlikely]] {
    state = SeedFromOs();
    seeded = true;
  }
  for (;;) {
    // splitmix64
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    if (z != 0) return z;
  }
}

int64_t WallNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// A (ticks, monotonic ns) pair read close together: of a few tries, the one whose two tick
// reads around the clock read are nearest (a try interrupted by the scheduler is discarded).
void ReadClockPair(uint64_t* ticks, int64_t* ns) {
  *ticks = 0;  // the first try always replaces both
  *ns = 0;
  uint64_t best = UINT64_MAX;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const uint64_t before = ReadTicks();
    const int64_t clock = SteadyNowNs();
    const uint64_t after = ReadTicks();
    if (after - before < best) {
      best = after - before;
      *ticks = before + (after - before) / 2;
      *ns = clock;
    }
  }
}

// The calibration: a (ticks, monotonic ns) origin and the rate since then.
struct TickCalibration {
  uint64_t origin_ticks;
  int64_t origin_ns;
  std::atomic<double> ns_per_tick;

  TickCalibration() {
    ReadClockPair(&origin_ticks, &origin_ns);
#if defined(__x86_64__)
    // A first estimate over ~2 ms; RecalibrateTicks refines it.
    uint64_t ticks;
    int64_t ns;
    do {
      ReadClockPair(&ticks, &ns);
    } while (ns - origin_ns < 2'000'000);
    ns_per_tick.store(
        static_cast<double>(ns - origin_ns) / static_cast<double>(ticks - origin_ticks),
        std::memory_order_relaxed);
#else
    ns_per_tick.store(1.0, std::memory_order_relaxed);
#endif
  }
};

TickCalibration& Calibration() {
  static TickCalibration calibration;
  return calibration;
}

}  // namespace

uint64_t ReadTicks() {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#else
  return static_cast<uint64_t>(SteadyNowNs());
#endif
}

double NanosPerTick() { return Calibration().ns_per_tick.load(std::memory_order_relaxed); }

void RecalibrateTicks() {
#if defined(__x86_64__)
  TickCalibration& c = Calibration();
  uint64_t ticks;
  int64_t ns;
  ReadClockPair(&ticks, &ns);
  if (ticks > c.origin_ticks && ns - c.origin_ns > 100'000'000) {
    c.ns_per_tick.store(
        static_cast<double>(ns - c.origin_ns) / static_cast<double>(ticks - c.origin_ticks),
        std::memory_order_relaxed);
  }
#endif
}

TraceId TraceId::Random() { return TraceId{RandomNonZero64(), RandomNonZero64()}; }

std::string TraceId::ToHex() const {
  std::string out;
  out.reserve(32);
  AppendHex64(out, hi);
  AppendHex64(out, lo);
  return out;
}

std::optional<TraceId> TraceId::FromHex(std::string_view hex) {
  TraceId id;
  if (hex.size() != 32 || !ParseHex64(hex.substr(0, 16), id.hi) ||
      !ParseHex64(hex.substr(16), id.lo) || !id.valid()) {
    return std::nullopt;
  }
  return id;
}

SpanId SpanId::Random() { return SpanId{RandomNonZero64()}; }

std::string SpanId::ToHex() const {
  std::string out;
  out.reserve(16);
  AppendHex64(out, value);
  return out;
}

std::optional<SpanId> SpanId::FromHex(std::string_view hex) {
  SpanId id;
  if (hex.size() != 16 || !ParseHex64(hex, id.value) || !id.valid()) return std::nullopt;
  return id;
}

std::optional<TraceParent> ParseTraceparent(std::string_view h) {
  // 00-<32>-<16>-<2>: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  if (h.substr(0, 2) != "00") return std::nullopt;
  auto trace_id = TraceId::FromHex(h.substr(3, 32));
  auto span_id = SpanId::FromHex(h.substr(36, 16));
  uint64_t flags = 0;
  if (!trace_id || !span_id || !ParseHex64(h.substr(53, 2), flags)) return std::nullopt;
  return TraceParent{*trace_id, *span_id, (flags & 1) != 0};
}

void FormatTraceparentTo(char* out, const TraceId& trace_id, const SpanId& span_id, bool sampled) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  Hex64To(out + 3, trace_id.hi);
  Hex64To(out + 19, trace_id.lo);
  out[35] = '-';
  Hex64To(out + 36, span_id.value);
  out[52] = '-';
  out[53] = '0';
  out[54] = sampled ? '1' : '0';
}

std::string FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled) {
  std::string out(55, '\0');
  FormatTraceparentTo(out.data(), trace_id, span_id, sampled);
  return out;
}

// ---------------------------------------------------------------------------------------------

Sampler::Sampler(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
  constexpr double kTwo56 = 72057594037927936.0;  // 2^56
  threshold_ = ratio_ >= 1.0 ? (uint64_t{1} << 56) : static_cast<uint64_t>(ratio_ * kTwo56);
}

bool Sampler::ShouldSample(const TraceId& id) const {
  // W3C: the right-most 7 bytes of a trace id are random.
  return (id.lo & ((uint64_t{1} << 56) - 1)) < threshold_;
}

// ---------------------------------------------------------------------------------------------

Trace::Trace(const Options& options)
    : max_spans_(options.max_spans),
      max_attrs_(std::max<size_t>(options.max_spans, 1) * kMaxAttributes) {
  // Never past the caps: the append fast paths only check capacity.
  spans_.reserve(std::min(options.span_capacity, max_spans_));
  attrs_.reserve(std::min(options.attr_capacity, max_attrs_));
  events_.reserve(options.event_capacity);
  fields_.reserve(options.field_capacity);
  arena_.reserve(options.arena_capacity);
}

void Trace::Anchor() {
  // The wall-clock anchor is taken per thread and renewed every 5 ms (or when the tick rate was
  // refined by RecalibrateTicks), not per trace: a clock_gettime costs about twice a tick read
  // here, and an anchor a few ms old adds only the rate's error over those ms.
  struct Cached {
    uint64_t ticks = 0;
    int64_t ns = 0;
    int64_t steady_to_unix_ns = 0;
    double ns_per_tick = 0;
  };
  thread_local Cached cached;
  const double rate = NanosPerTick();  // first: the first call calibrates for ~2 ms
  const uint64_t now = ReadTicks();
  if (cached.ns_per_tick != rate || static_cast<double>(now - cached.ticks) * rate > 5'000'000)
      [[unlikely]] {
    cached.ns_per_tick = rate;
    cached.ticks = now;
    cached.ns = WallNanos();
    cached.steady_to_unix_ns = cached.ns - SteadyNowNs();
  }
  header_.steady_to_unix_ns = cached.steady_to_unix_ns;
  header_.ns_per_tick = cached.ns_per_tick;
  header_.anchor_ticks = cached.ticks;
  header_.anchor_ns = cached.ns;
  header_.begin_ns =
      header_.anchor_ns +
      static_cast<int64_t>(static_cast<double>(now - header_.anchor_ticks) * header_.ns_per_tick);
}

bool Trace::Begin(std::string_view traceparent, const Sampler* sampler) {
  Reset();
  Anchor();
  if (auto tp = ParseTraceparent(traceparent)) {
    header_.trace_id = tp->trace_id;
    header_.remote_parent = tp->parent_span_id;
    header_.sampled = tp->sampled || sampler == nullptr || sampler->ShouldSample(header_.trace_id);
  } else {
    header_.trace_id = TraceId::Random();
    header_.sampled = sampler == nullptr || sampler->ShouldSample(header_.trace_id);
  }
  return header_.sampled;
}

void Trace::Begin(const TraceId& trace_id, const SpanId& remote_parent, bool sampled) {
  Reset();
  Anchor();
  header_.trace_id = trace_id;
  header_.remote_parent = remote_parent;
  header_.sampled = sampled;
}

void Trace::Reset() {
  header_.trace_id = {};
  header_.remote_parent = {};
  header_.sampled = false;
  header_.current = kNoSpan;
  header_.last_ended = kNoSpan;
  header_.dropped_spans = 0;
  spans_.clear();
  attrs_.clear();
  events_.clear();
  fields_.clear();
  arena_.clear();
}

SpanRecord* Trace::GrowSpans() {
  if (spans_.size() >= max_spans_) {
    ++header_.dropped_spans;
    return nullptr;
  }
  spans_.reserve(std::min(max_spans_, std::max<size_t>(8, spans_.capacity() * 2)));
  return spans_.TryAppend();
}

void Trace::SetAttributeSlow(int32_t index, const char* key, const Value& value) {
  if (attrs_.size() >= max_attrs_) {
    SpanRecord& r = spans_[index];
    if (r.dropped_attrs < 255) ++r.dropped_attrs;
    return;
  }
  attrs_.reserve(std::min(max_attrs_, std::max<size_t>(8, attrs_.capacity() * 2)));
  SetAttribute(index, key, value);
}

void Trace::StoreString(AttrRecord& a, std::string_view s) {
  // Offsets are 32-bit: past 1 GiB of strings in one trace, values are stored empty.
  if (s.size() > (size_t{1} << 30) - arena_.size()) s = {};
  a.str.size = static_cast<uint32_t>(s.size());
  a.str.offset = static_cast<uint32_t>(arena_.Append(s.data(), s.size()));
}

void Trace::CopyFrom(const Trace& other) {
  if (this == &other) return;
  max_spans_ = other.max_spans_;
  max_attrs_ = other.max_attrs_;
  snapshot_ = other.snapshot_;
  header_ = other.header_;
  spans_.AssignFrom(other.spans_);
  attrs_.AssignFrom(other.attrs_);
  arena_.AssignFrom(other.arena_);
  events_ = other.events_;
  fields_ = other.fields_;
}

// ---------------------------------------------------------------------------------------------
// The packed form: this header, then the span, attribute, event and field records, then the
// arena (padded to 8 bytes). Records are trivially copyable and their sizes multiples of 8, so
// every part stays aligned.

namespace {

struct PackedHeader {
  internal::TraceHeader header;
  uint64_t max_spans;
  uint64_t max_attrs;
  uint32_t spans;
  uint32_t attrs;
  uint32_t events;
  uint32_t fields;
  uint32_t arena;
  bool snapshot;
};

static_assert(sizeof(PackedHeader) % 8 == 0 && sizeof(SpanRecord) % 8 == 0 &&
              sizeof(AttrRecord) % 8 == 0 && sizeof(EventRecord) % 8 == 0);
static_assert(std::is_trivially_copyable_v<PackedHeader>);

constexpr size_t RoundUp8(size_t n) { return (n + 7) & ~size_t{7}; }

const PackedHeader& HeaderOf(const std::byte* block) {
  return *reinterpret_cast<const PackedHeader*>(block);
}

template <typename T>
size_t CopyRecords(std::byte* at, const T* records, size_t n) {
  if (n > 0) std::memcpy(at, records, n * sizeof(T));
  return n * sizeof(T);
}

}  // namespace

size_t Trace::PackedSize() const {
  return sizeof(PackedHeader) + spans_.size() * sizeof(SpanRecord) +
         attrs_.size() * sizeof(AttrRecord) + events_.size() * sizeof(EventRecord) +
         fields_.size() * sizeof(AttrRecord) + RoundUp8(arena_.size());
}

void Trace::PackTo(std::byte* block) const {
  PackedHeader h;
  h.header = header_;
  h.max_spans = max_spans_;
  h.max_attrs = max_attrs_;
  h.spans = static_cast<uint32_t>(spans_.size());
  h.attrs = static_cast<uint32_t>(attrs_.size());
  h.events = static_cast<uint32_t>(events_.size());
  h.fields = static_cast<uint32_t>(fields_.size());
  h.arena = static_cast<uint32_t>(arena_.size());
  h.snapshot = snapshot_;
  std::memcpy(block, &h, sizeof(h));
  std::byte* at = block + sizeof(h);
  at += CopyRecords(at, spans_.data(), spans_.size());
  at += CopyRecords(at, attrs_.data(), attrs_.size());
  at += CopyRecords(at, events_.data(), events_.size());
  at += CopyRecords(at, fields_.data(), fields_.size());
  CopyRecords(at, arena_.data(), arena_.size());
}

void Trace::UnpackFrom(const std::byte* block) {
  const PackedHeader& h = HeaderOf(block);
  header_ = h.header;
  max_spans_ = h.max_spans;
  max_attrs_ = h.max_attrs;
  snapshot_ = h.snapshot;
  const std::byte* at = block + sizeof(h);
  const auto* spans = reinterpret_cast<const SpanRecord*>(at);
  at += h.spans * sizeof(SpanRecord);
  const auto* attrs = reinterpret_cast<const AttrRecord*>(at);
  at += h.attrs * sizeof(AttrRecord);
  const auto* events = reinterpret_cast<const EventRecord*>(at);
  at += h.events * sizeof(EventRecord);
  const auto* fields = reinterpret_cast<const AttrRecord*>(at);
  at += h.fields * sizeof(AttrRecord);
  spans_.clear();
  spans_.Append(spans, h.spans);
  attrs_.clear();
  attrs_.Append(attrs, h.attrs);
  events_.assign(events, events + h.events);
  fields_.assign(fields, fields + h.fields);
  arena_.clear();
  arena_.Append(reinterpret_cast<const char*>(at), h.arena);
}

TraceId PackedTrace::trace_id() const { return HeaderOf(block_).header.trace_id; }

std::span<SpanRecord> PackedTrace::mutable_spans() const {
  return {reinterpret_cast<SpanRecord*>(block_ + sizeof(PackedHeader)), HeaderOf(block_).spans};
}

std::span<const SpanRecord> PackedTrace::spans() const { return mutable_spans(); }

void PackedTrace::AssignSpanIds() {
  for (SpanRecord& s : mutable_spans()) {
    if (!s.id.valid()) s.id = SpanId::Random();
  }
}

SpanId Trace::SpanIdOf(int32_t index) {
  SpanId& id = spans_[index].id;
  if (!id.valid()) id = SpanId::Random();
  return id;
}

namespace {

bool SameKey(const char* a, const char* b) {
  return a == b || (a[0] == b[0] && std::strcmp(a, b) == 0);
}

}  // namespace

void Trace::AssignSpanIds() {
  for (SpanRecord& s : spans_) {
    if (!s.id.valid()) s.id = SpanId::Random();
  }
}

void AttributeLayout::Build(const Trace& trace) {
  if (trace.is_snapshot()) return;  // ForEach reads the snapshot's own ranges
  const std::span<const SpanRecord> spans = trace.spans();
  const std::span<const AttrRecord> attrs = trace.attributes();
  const size_t n = spans.size();
  start_.assign(n + 1, 0);
  dropped_.resize(n);
  for (size_t i = 0; i < n; ++i) dropped_[i] = spans[i].dropped_attrs;
  order_.clear();
  if (attrs.empty()) return;
  // Group by span, keeping each span's order (a counting sort) ...
  for (const AttrRecord& a : attrs) ++start_[static_cast<size_t>(a.span) + 1];
  for (size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
  cursor_.assign(start_.begin(), start_.end() - 1);
  order_.resize(attrs.size());
  for (uint32_t i = 0; i < attrs.size(); ++i) order_[cursor_[attrs[i].span]++] = i;
  // ... then fold repeated keys and apply the cap, compacting each span's range in place.
  uint32_t out = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t first = out;
    unsigned dropped = dropped_[i];
    for (uint32_t k = start_[i]; k < start_[i + 1]; ++k) {
      const uint32_t index = order_[k];
      uint32_t j = first;
      while (j < out && !SameKey(attrs[order_[j]].key, attrs[index].key)) ++j;
      if (j < out) {
        order_[j] = index;  // the last value, in the first place
      } else if (out - first < static_cast<uint32_t>(kMaxAttributes)) {
        order_[out++] = index;
      } else {
        ++dropped;
      }
    }
    start_[i] = first;
    dropped_[i] = static_cast<uint8_t>(std::min(dropped, 255u));
  }
  start_[n] = out;
}

std::shared_ptr<const Trace> Trace::Snapshot() {
  AssignSpanIds();
  auto out = std::make_shared<Trace>(Trace(SnapshotTag{}));
  out->header_ = header_;
  out->spans_ = spans_;
  out->events_ = events_;
  out->fields_ = fields_;
  out->arena_ = arena_;
  thread_local AttributeLayout layout;
  layout.Build(*this);
  out->attrs_.reserve(attrs_.size());  // exact, or a little over when keys repeat
  for (size_t i = 0; i < out->spans_.size(); ++i) {
    SpanRecord& s = out->spans_[i];
    s.first_attr = static_cast<uint32_t>(out->attrs_.size());
    layout.ForEach(*this, i, [&](const AttrRecord& a) { out->attrs_.push_back(a); });
    s.attr_count = static_cast<uint8_t>(out->attrs_.size() - s.first_attr);
    s.dropped_attrs = layout.dropped(*this, i);
  }
  return out;
}

void Trace::SetError(int32_t index, ErrorCode code, std::string_view message) {
  if (message.size() > (size_t{1} << 30) - arena_.size()) message = {};
  SpanRecord& r = spans_[index];
  r.status = SpanStatus::kError;
  r.error_code = code;
  r.error_offset = static_cast<uint32_t>(arena_.Append(message.data(), message.size()));
  r.error_size = static_cast<uint32_t>(message.size());
}

void Trace::AddEvent(int32_t index, const char* name, int64_t time_ns,
                     std::initializer_list<Field> fields) {
  EventRecord e;
  e.span = index;
  e.name = name;
  e.time_ns = time_ns;
  e.first_field = static_cast<uint32_t>(fields_.size());
  e.field_count = static_cast<uint32_t>(fields.size());
  for (const Field& f : fields) {
    AttrRecord& slot = fields_.emplace_back();
    slot.span = index;
    Store(slot, f.key, f.value);
  }
  events_.push_back(e);
}

// ---------------------------------------------------------------------------------------------

void Span::Open(Trace* trace, const char* name, SpanKind kind, int64_t start_ns) {
  int32_t index =
      trace->AddSpan(name, kind, trace->current(), start_ns != 0 ? start_ns : trace->Now());
  if (index == kNoSpan) return;
  trace_ = trace;
  index_ = index;
  trace->set_current(index);
}

int64_t Span::End() {
  if (trace_ == nullptr) return 0;
  if (!ended_) EndAt(trace_->Now());
  return trace_->spans()[index_].end_ns;
}

void Span::EndAt(int64_t end_ns) {
  if (trace_ == nullptr || ended_) return;
  trace_->EndSpan(index_, std::max(end_ns, trace_->spans()[index_].start_ns));
  trace_->set_current(trace_->spans()[index_].parent);
  ended_ = true;
}

void Span::EndWithLastChild() {
  if (trace_ == nullptr || ended_) return;
  const SpanRecord& last = trace_->spans().back();  // this span itself when it has no child
  EndAt(last.parent == index_ && last.end_ns != 0 ? last.end_ns : trace_->Now());
}

void Span::Next(const char* name) {
  if (trace_ == nullptr) return;
  const int64_t now = trace_->Now();
  const SpanKind kind = trace_->spans()[index_].kind;
  if (!ended_) EndAt(now);
  const int32_t index = trace_->AddSpan(name, kind, trace_->current(), now);
  if (index == kNoSpan) {
    trace_ = nullptr;  // past the span cap: nothing more to record
    return;
  }
  index_ = index;
  ended_ = false;
  trace_->set_current(index);
}

void Span::AddEvent(const char* name, std::initializer_list<Field> fields) {
  if (trace_ != nullptr) trace_->AddEvent(index_, name, trace_->Now(), fields);
}

// ---------------------------------------------------------------------------------------------

TraceSink::TraceSink(size_t capacity) : capacity_(capacity) { pending_.reserve(capacity); }

bool TraceSink::TrySubmit(std::unique_ptr<Trace>& trace) {
  if (trace == nullptr) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() < capacity_) {
      pending_.push_back(std::move(trace));
      if (!recycled_.empty()) {
        trace = std::move(recycled_.back());
        recycled_.pop_back();
      }
      accepted_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void TraceSink::Recycle(std::vector<std::unique_ptr<Trace>>& traces) {
  for (auto& trace : traces) {
    if (trace != nullptr) trace->Reset();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& trace : traces) {
    if (trace == nullptr || recycled_.size() >= capacity_) continue;
    recycled_.push_back(std::move(trace));
  }
}

size_t TraceSink::Drain(std::vector<std::unique_ptr<Trace>>& out, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = std::min(max, pending_.size());
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(pending_[i]));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

}  // namespace kalamdb::trace
