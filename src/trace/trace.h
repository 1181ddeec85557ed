// trace.h: all that other subsystems see of src/trace/: in-process request tracing.
//
// Model: a request thread owns one Trace, a preallocated buffer of span records. While a
// ScopedTrace has installed it as the thread's current trace, every `Span s("sql.parse");`
// records a child of the thread's current span and becomes the current span until it ends.
// When no trace is installed (tracing disabled, or the trace was not sampled) a Span costs one
// thread-local load and one branch: no clock read, no record. Records are kept as they come
// (attributes appended with their span's index, span ids drawn when asked for); readers sort
// that out: the trace store's queries get an immutable snapshot (Trace::Snapshot(); see
// jaeger.h), the OTLP exporter reads a finished recording through an AttributeLayout (otlp.h),
// getting a copy through a TraceSink (bounded; drops the whole trace when full, never blocks
// the request).
//
// Conventions (shared/spec/tracing.md): times are nanoseconds since the Unix epoch; span ids are
// random and non-zero; span names, attribute keys and event names and field keys are
// compile-time constants (string literals, static storage): records keep the pointer, never a
// copy, and readers may remember a literal by its address (the OTLP encoder caches lengths so).
// String attribute values are copied into the trace's own arena, so callers may pass
// temporaries.
//
// Thread-safety: a Trace, Span and ScopedTrace belong to one thread. A snapshot is immutable and
// may be read by any number of threads.
// TraceSink and Sampler are thread-safe. The free functions are thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalamdb::trace {

// ---------------------------------------------------------------------------------------------
// Ids

// A 16-byte trace id, held as two big-endian halves (hi = first 8 bytes of the hex form).
struct TraceId {
  uint64_t hi = 0;
  uint64_t lo = 0;

  bool valid() const { return (hi | lo) != 0; }
  // Random and non-zero, from the calling thread's generator.
  static TraceId Random();
  // 32 lower-case hex digits.
  std::string ToHex() const;
  // Exactly 32 lower-case hex digits, not all zero; otherwise nullopt.
  static std::optional<TraceId> FromHex(std::string_view hex);
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// An 8-byte span id.
struct SpanId {
  uint64_t value = 0;

  bool valid() const { return value != 0; }
  static SpanId Random();
  // 16 lower-case hex digits.
  std::string ToHex() const;
  // Exactly 16 lower-case hex digits, not all zero; otherwise nullopt.
  static std::optional<SpanId> FromHex(std::string_view hex);
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

// A fast 64-bit generator per thread (splitmix64), seeded from the OS on first use. Not for
// secrets. Never returns 0.
uint64_t RandomNonZero64();

// Nanoseconds since the Unix epoch (system clock).
int64_t WallNanos();

// A fast monotonic tick counter for span times: the CPU's invariant time-stamp counter on
// x86-64 (about 8 ns to read, against 25-45 ns for clock_gettime), CLOCK_MONOTONIC
// nanoseconds elsewhere. A Trace converts ticks to Unix nanoseconds with a wall-clock anchor
// (taken per thread, renewed every 5 ms or when the rate is refined) and the process-wide rate
// below.
uint64_t ReadTicks();
// Nanoseconds per tick, measured against the system clock: first over ~2 ms on first use, then
// refined by every RecalibrateTicks() call (the collector calls it), converging as time passes.
double NanosPerTick();
void RecalibrateTicks();

// ---------------------------------------------------------------------------------------------
// W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00 only.

struct TraceParent {
  TraceId trace_id;
  SpanId parent_span_id;
  bool sampled = false;
};

// Parses "00-<32 hex>-<16 hex>-<2 hex>". Rejects other versions, other lengths, upper-case or
// non-hex digits, and all-zero ids.
std::optional<TraceParent> ParseTraceparent(std::string_view header);
// Formats the 55-character header value.
std::string FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled);
// The same into `out` (exactly 55 characters, no terminator).
void FormatTraceparentTo(char* out, const TraceId& trace_id, const SpanId& span_id, bool sampled);

// ---------------------------------------------------------------------------------------------
// Sampling

// Keeps a fixed fraction of traces, decided from the trace id alone: every process using the
// same ratio makes the same decision for a trace, so a sampled parent stays sampled.
class Sampler {
 public:
  // `ratio` is clamped to [0, 1]. 1 keeps everything, 0 nothing.
  explicit Sampler(double ratio = 1.0);
  bool ShouldSample(const TraceId& id) const;
  double ratio() const { return ratio_; }

 private:
  double ratio_;
  uint64_t threshold_;  // sampled when the id's low 56 bits are below this (2^56 = always)
};

// ---------------------------------------------------------------------------------------------
// Recorded data

enum class SpanKind : uint8_t { kUnspecified, kInternal, kServer, kClient, kProducer, kConsumer };
enum class SpanStatus : uint8_t { kUnset, kOk, kError };
enum class ValueType : uint8_t { kString, kInt, kDouble, kBool };

// An attribute or event-field value as passed by callers. A string value is borrowed only for
// the duration of the call that records it.
// One value slot (24 bytes): building a Value at a call site writes two words, not five.
class Value {
 public:
  Value(bool v) : type_(ValueType::kBool), i_(v ? 1 : 0) {}  // NOLINT: implicit by design
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Value(T v)
      : type_(ValueType::kInt), i_(static_cast<int64_t>(v)) {}       // NOLINT
  Value(double v) : type_(ValueType::kDouble), d_(v) {}              // NOLINT
  Value(std::string_view v) : type_(ValueType::kString), s_(v) {}    // NOLINT
  Value(const char* v) : type_(ValueType::kString), s_(v) {}         // NOLINT
  Value(const std::string& v) : type_(ValueType::kString), s_(v) {}  // NOLINT

  ValueType type() const { return type_; }
  // Each accessor answers for its own type only (0, 0.0, false or "" for another).
  int64_t int_value() const { return type_ == ValueType::kInt || IsBool() ? i_ : 0; }
  double double_value() const { return type_ == ValueType::kDouble ? d_ : 0.0; }
  bool bool_value() const { return IsBool() && i_ != 0; }
  std::string_view string_value() const {
    return type_ == ValueType::kString ? s_ : std::string_view();
  }

 private:
  bool IsBool() const { return type_ == ValueType::kBool; }
  ValueType type_;
  union {
    int64_t i_;
    double d_;
    std::string_view s_;
  };
};

// One key/value of an event. `key` must be a string literal (static storage: readers such as
// the OTLP encoder remember literals by address).
struct Field {
  const char* key;
  Value value;
};

// A stored attribute or field. String values live in the owning Trace's arena: read them with
// Trace::StringOf.
// 24 bytes: one value slot, read according to `type` (traces are kept by the thousand).
struct AttrRecord {
  struct StrRef {
    uint32_t offset;  // position in the arena
    uint32_t size;
  };
  const char* key;
  union {
    int64_t int_value;    // kInt; kBool as 0/1
    double double_value;  // kDouble
    StrRef str;           // kString
  };
  // The owning span's index (in a snapshot each span's attributes are also contiguous, see
  // SpanRecord::first_attr; in an event's fields, the event's span).
  int32_t span;
  ValueType type;
};

static_assert(sizeof(AttrRecord) == 24);

inline constexpr int kMaxAttributes = 8;  // per span; further attributes are counted as dropped
inline constexpr int32_t kNoSpan = -1;

struct SpanRecord {
  const char* name = nullptr;
  // Drawn lazily: invalid while recording unless asked for (Trace::SpanIdOf, Span::id()); every
  // span of a snapshot has one.
  SpanId id;
  // Index of the parent in Trace::spans(), or kNoSpan for a root (whose parent, if any, is the
  // trace's remote parent from `traceparent`).
  int32_t parent = kNoSpan;
  SpanKind kind = SpanKind::kInternal;
  SpanStatus status = SpanStatus::kUnset;
  // Snapshots only: the span's attributes are Trace::attributes()[first_attr, +attr_count)
  // (see Trace::AttributesOf), at most kMaxAttributes. dropped_attrs counts the rest (while
  // recording: those dropped at the trace's attribute cap, max_spans * kMaxAttributes sets).
  uint8_t attr_count = 0;
  uint8_t dropped_attrs = 0;
  uint32_t first_attr = 0;
  ErrorCode error_code = ErrorCode::kOk;  // meaningful when status == kError
  uint32_t error_offset = 0;              // error message in the arena
  uint32_t error_size = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;  // 0 while the span is open
};

struct EventRecord {
  int32_t span = kNoSpan;  // index of the owning span
  const char* name = nullptr;
  int64_t time_ns = 0;
  uint32_t first_field = 0;  // range in Trace::fields()
  uint32_t field_count = 0;
};

namespace internal {

// A growable array of trivially copyable records whose append is one compare and one
// increment: TryAppend() hands out the next slot uninitialised, or null when the array is full
// (the caller then grows it, out of line). Copies are exact-size.
template <typename T>
class RecordArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  RecordArray() = default;
  RecordArray(const RecordArray& other) { *this = other; }
  RecordArray& operator=(const RecordArray& other) {
    if (this == &other) return *this;
    data_.reset(other.size_ > 0 ? new T[other.size_] : nullptr);
    if (other.size_ > 0)
      std::memcpy(static_cast<void*>(data_.get()), other.data_.get(), other.size_ * sizeof(T));
    size_ = capacity_ = other.size_;
    return *this;
  }
  RecordArray(RecordArray&& other) noexcept { *this = std::move(other); }
  RecordArray& operator=(RecordArray&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }

  // Becomes a copy of `other`, reusing this array's storage when it is large enough (and
  // growing it at least twofold when not, so that sizes varying by a few do not reallocate).
  void AssignFrom(const RecordArray& other) {
    if (other.size_ > capacity_) {
      const size_t grown = std::max<size_t>(other.size_, size_t{capacity_} * 2);
      data_.reset(new T[grown]);
      capacity_ = static_cast<uint32_t>(grown);
    }
    if (other.size_ > 0)
      std::memcpy(static_cast<void*>(data_.get()), other.data_.get(), other.size_ * sizeof(T));
    size_ = other.size_;
  }

  T* TryAppend() { return size_ < capacity_ ? &data_[size_++] : nullptr; }
  // Appends n records, growing when needed; returns the position of the first.
  size_t Append(const T* values, size_t n) {
    const size_t at = size_;
    if (n > capacity_ - size_) [[unlikely]]
      reserve(std::max<size_t>(size_ + n, capacity_ * 2));
    if (n > 0) std::memcpy(static_cast<void*>(data_.get() + at), values, n * sizeof(T));
    size_ = static_cast<uint32_t>(at + n);
    return at;
  }
  void push_back(const T& value) {
    if (size_ == capacity_) reserve(capacity_ < 8 ? 8 : capacity_ * 2);
    data_[size_++] = value;
  }
  void reserve(size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<T[]> grown(new T[n]);
    if (size_ > 0) std::memcpy(static_cast<void*>(grown.get()), data_.get(), size_ * sizeof(T));
    data_ = std::move(grown);
    capacity_ = static_cast<uint32_t>(n);
  }
  void clear() { size_ = 0; }
  // For writers that fill reserved room through data() first: the records up to `n` become
  // the contents. REQUIRES: n <= capacity().
  void set_size(size_t n) { size_ = static_cast<uint32_t>(n); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_.get(); }
  T* end() { return data_.get() + size_; }
  const T* begin() const { return data_.get(); }
  const T* end() const { return data_.get() + size_; }
  operator std::span<const T>() const { return {data_.get(), size_}; }  // NOLINT: by design

 private:
  std::unique_ptr<T[]> data_;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Trace

namespace internal {

// A trace's ids, clock anchor and counters: what a copy, a snapshot and the packed form all take
// over as a whole.
struct TraceHeader {
  uint64_t anchor_ticks = 0;
  int64_t anchor_ns = 0;
  int64_t begin_ns = 0;
  int64_t steady_to_unix_ns = 0;
  double ns_per_tick = 1.0;
  TraceId trace_id;
  SpanId remote_parent;
  uint64_t dropped_spans = 0;
  int32_t current = kNoSpan;
  int32_t last_ended = kNoSpan;  // the span that ended last (Trace::LastEndedChildEnd)
  bool sampled = false;
};

}  // namespace internal

class Trace {
 public:
  struct Options {
    // Preallocated records; more are allocated on demand (once: Reset keeps the capacity).
    // Sized for a single-row INSERT (14 spans, 29 attributes, ~60 bytes of strings); a request
    // thread records every request into the same trace (tracer.h), which grows once if need be.
    size_t span_capacity = 16;
    size_t event_capacity = 0;
    size_t field_capacity = 0;
    size_t arena_capacity = 128;  // bytes for string values and error messages
    // Hard cap: spans past it are not recorded and counted in dropped_spans().
    size_t max_spans = 4096;
    size_t attr_capacity = 32;
  };

  Trace() : Trace(Options{}) {}
  explicit Trace(const Options& options);

  // Starts a trace. A valid `traceparent` gives the trace id and remote parent; a sampled flag of
  // 1 always records. Otherwise (empty, invalid, or flag 0) a trace id is adopted or drawn at
  // random and `sampler` decides (nullptr: record). Calls Reset() first. Returns sampled().
  bool Begin(std::string_view traceparent = {}, const Sampler* sampler = nullptr);
  // Starts a trace with explicit ids (tests, importers). Calls Reset() first.
  void Begin(const TraceId& trace_id, const SpanId& remote_parent, bool sampled);
  // Forgets every record and id. Keeps all capacity: steady-state reuse allocates nothing.
  void Reset();

  // The finished form readers use: an exact-size copy in which every span has an id, each span's
  // attributes are contiguous (AttributesOf), a key set twice on one span keeps its last value
  // in its first place, and attributes past kMaxAttributes per span are dropped and counted.
  // Recording stays cheap because this work is left to here. Span ids still missing are drawn
  // into this trace too, so that every snapshot of it shows the same ids.
  std::shared_ptr<const Trace> Snapshot();
  // True for a trace made by Snapshot().
  bool is_snapshot() const { return snapshot_; }
  // Becomes a copy of `other` (a recording trace), reusing this trace's storage where it is
  // large enough: how the copy for the exporters is made without allocating.
  void CopyFrom(const Trace& other);
  // Draws an id for every span that has none yet (Snapshot() does it too): before copies are
  // made, so that they all show the same ids.
  void AssignSpanIds();

  // The packed form (how the trace store keeps traces): the whole trace in one contiguous
  // block of PackedSize() bytes, a multiple of 8, written with a few sequential copies.
  size_t PackedSize() const;
  // Writes the packed form into `block` (8-byte aligned, PackedSize() bytes).
  void PackTo(std::byte* block) const;
  // Becomes the trace packed at `block` (as CopyFrom would of the packed trace).
  void UnpackFrom(const std::byte* block);

  // When Begin() ran, in Unix nanoseconds on this trace's clock.
  int64_t begin_ns() const { return header_.begin_ns; }
  // Now, in Unix nanoseconds, from the tick counter and this trace's anchor.
  int64_t Now() const { return TicksToUnixNs(ReadTicks()); }
  // A CLOCK_MONOTONIC time (std::chrono::steady_clock's on Linux) in Unix nanoseconds on this
  // trace's clock, through the offset the anchor measured: no clock read.
  int64_t FromSteadyNs(int64_t steady_ns) const { return steady_ns + header_.steady_to_unix_ns; }
  // The reverse: a time on this trace's clock as a CLOCK_MONOTONIC time.
  int64_t ToSteadyNs(int64_t unix_ns) const { return unix_ns - header_.steady_to_unix_ns; }

  const TraceId& trace_id() const { return header_.trace_id; }
  const SpanId& remote_parent() const { return header_.remote_parent; }
  bool sampled() const { return header_.sampled; }
  // The span new Spans nest under; kNoSpan when none is open.
  int32_t current() const { return header_.current; }
  void set_current(int32_t index) { header_.current = index; }
  // Where the span that ended last ended, when it is a child of the current span (the
  // previous sibling of a span opened now); otherwise 0.
  int64_t LastEndedChildEnd() const {
    const int32_t last = header_.last_ended;
    if (last == kNoSpan || header_.current == kNoSpan ||
        spans_[static_cast<size_t>(last)].parent != header_.current)
      return 0;
    return spans_[static_cast<size_t>(last)].end_ns;
  }

  // Low-level recording; Span uses these. Indexes are positions in spans(). AddSpan returns
  // kNoSpan (and counts a dropped span) past Options::max_spans. `id` invalid = draw one when
  // first asked for (SpanIdOf) or at Snapshot().
  int32_t AddSpan(const char* name, SpanKind kind, int32_t parent, int64_t start_ns,
                  SpanId id = {}) {
    SpanRecord* r = spans_.TryAppend();
    if (r == nullptr) [[unlikely]] {
      r = GrowSpans();
      if (r == nullptr) return kNoSpan;  // past max_spans, counted
    }
    *r = SpanRecord{};
    r->name = name;
    r->id = id;
    r->parent = parent;
    r->kind = kind;
    r->start_ns = start_ns;
    return static_cast<int32_t>(spans_.size() - 1);
  }
  void EndSpan(int32_t index, int64_t end_ns) {
    spans_[index].end_ns = end_ns;
    header_.last_ended = index;
  }
  // The span's id, drawn now if it has none yet.
  SpanId SpanIdOf(int32_t index);
  // Sets (or replaces, for the same key) an attribute: recorded as it comes, sorted out by
  // Snapshot().
  void SetAttribute(int32_t index, const char* key, const Value& value) {
    AttrRecord* a = attrs_.TryAppend();
    if (a == nullptr) [[unlikely]]
      return SetAttributeSlow(index, key, value);  // a tail call: the fast path saves no registers
    a->span = index;
    Store(*a, key, value);
  }
  void SetStatus(int32_t index, SpanStatus status) { spans_[index].status = status; }
  void SetKind(int32_t index, SpanKind kind) { spans_[index].kind = kind; }
  // Status ERROR with a code and message; exported as otel.status_code, error, error.code ...
  void SetError(int32_t index, ErrorCode code, std::string_view message);
  void AddEvent(int32_t index, const char* name, int64_t time_ns,
                std::initializer_list<Field> fields);

  // Reading (exporters: on snapshots).
  std::span<const SpanRecord> spans() const { return spans_; }
  // A snapshot's attributes of `span` (one of spans()); empty on a recording, finished or not
  // (read those through an AttributeLayout).
  std::span<const AttrRecord> AttributesOf(const SpanRecord& span) const {
    if (span.attr_count == 0) return {};
    return {attrs_.data() + span.first_attr, span.attr_count};
  }
  // Every attribute: in a snapshot grouped by span, while recording in the order set.
  std::span<const AttrRecord> attributes() const { return attrs_; }
  const std::vector<EventRecord>& events() const { return events_; }
  const std::vector<AttrRecord>& fields() const { return fields_; }
  std::string_view StringOf(const AttrRecord& a) const {
    return {arena_.data() + a.str.offset, a.str.size};
  }
  std::string_view ErrorMessageOf(const SpanRecord& s) const {
    return {arena_.data() + s.error_offset, s.error_size};
  }
  uint64_t dropped_spans() const { return header_.dropped_spans; }

  // Capacities, for tests of the no-allocation guarantee.
  size_t span_capacity() const { return spans_.capacity(); }
  // False once a large request grew the records far past Options' defaults (not worth reusing).
  bool has_default_size() const {
    return spans_.capacity() <= 64 && attrs_.capacity() <= 256 && arena_.capacity() <= 4096 &&
           events_.capacity() <= 64 && fields_.capacity() <= 256;
  }
  size_t arena_capacity() const { return arena_.capacity(); }

 private:
  struct SnapshotTag {};
  explicit Trace(SnapshotTag) : max_spans_(0), max_attrs_(0), snapshot_(true) {}

  void Store(AttrRecord& slot, const char* key, const Value& value) {
    // Written field by field in place: building a temporary and copying it stalls on
    // store-to-load forwarding.
    slot.key = key;
    slot.type = value.type();
    if (value.type() == ValueType::kDouble) {
      slot.double_value = value.double_value();
    } else if (value.type() != ValueType::kString) {
      slot.int_value = value.int_value();  // kInt, and kBool as 0/1
    } else {
      StoreString(slot, value.string_value());
    }
  }
  int64_t TicksToUnixNs(uint64_t ticks) const {
    return header_.anchor_ns +
           static_cast<int64_t>(static_cast<double>(ticks - header_.anchor_ticks) *
                                header_.ns_per_tick);
  }
  void StoreString(AttrRecord& slot, std::string_view s);
  // The slow paths of AddSpan and SetAttribute: grow (up to the caps) and return the next slot,
  // or count the drop and return null.
  SpanRecord* GrowSpans();
  void SetAttributeSlow(int32_t index, const char* key, const Value& value);

  void Anchor();

  size_t max_spans_;
  size_t max_attrs_;
  bool snapshot_ = false;
  internal::TraceHeader header_;
  internal::RecordArray<SpanRecord> spans_;
  internal::RecordArray<AttrRecord> attrs_;
  std::vector<EventRecord> events_;
  std::vector<AttrRecord> fields_;
  internal::RecordArray<char> arena_;
};

// A trace packed by Trace::PackTo, read in place (the trace store's filters): its ids and span
// records, without unpacking the rest.
class PackedTrace {
 public:
  explicit PackedTrace(std::byte* block) : block_(block) {}
  TraceId trace_id() const;
  std::span<const SpanRecord> spans() const;
  // Draws an id for every span that has none yet, in place: every later unpacking shows them.
  void AssignSpanIds();
  const std::byte* block() const { return block_; }

 private:
  std::span<SpanRecord> mutable_spans() const;
  std::byte* block_;
};

// How the attributes of a trace read, per span, in either form: a snapshot's contiguous ranges,
// or a recording's attributes (appended as they were set) sorted out as Snapshot() does it:
// grouped by span in the order set, a key set twice keeping its last value in its first place,
// at most kMaxAttributes per span with the rest counted as dropped. Lets a reader of a finished
// recording (the OTLP exporter) skip the snapshot's copy. Reusing one layout allocates nothing
// in steady state.
class AttributeLayout {
 public:
  // Lays out `trace`'s attributes; valid until `trace` changes or the next Build.
  void Build(const Trace& trace);
  // The attributes of span `index` (a position in trace.spans()).
  template <typename Fn>
  void ForEach(const Trace& trace, size_t index, Fn&& fn) const {
    if (trace.is_snapshot()) {
      for (const AttrRecord& a : trace.AttributesOf(trace.spans()[index])) fn(a);
      return;
    }
    const std::span<const AttrRecord> all = trace.attributes();
    for (uint32_t k = start_[index]; k < start_[index + 1]; ++k) fn(all[order_[k]]);
  }
  // The attributes dropped from span `index` (SpanRecord::dropped_attrs included), at most 255.
  uint8_t dropped(const Trace& trace, size_t index) const {
    return trace.is_snapshot() ? trace.spans()[index].dropped_attrs : dropped_[index];
  }

 private:
  // Recordings only: span i's attributes are attributes()[order_[k]] for k in
  // [start_[i], start_[i + 1]).
  std::vector<uint32_t> start_;
  std::vector<uint32_t> order_;
  std::vector<uint8_t> dropped_;
  std::vector<uint32_t> cursor_;  // scratch
};

namespace internal {
// The thread's installed trace; nullptr when tracing is off for this thread.
inline constinit thread_local Trace* tls_trace = nullptr;
}  // namespace internal

// The trace installed on this thread, or nullptr.
inline Trace* CurrentTrace() { return internal::tls_trace; }

// The start of the calling thread's current span, for a child opened right after its parent
// (Span(name, kind, CurrentSpanStart())): one clock read fewer. 0 (which a Span takes for now)
// when no trace is installed or no span is open.
inline int64_t CurrentSpanStart() {
  const Trace* t = internal::tls_trace;
  if (t == nullptr || t->current() == kNoSpan) return 0;
  return t->spans()[static_cast<size_t>(t->current())].start_ns;
}

// Where the current span's previous child ended, for a sibling opened right after it
// (Span(name, kind, PreviousSiblingEnd())): one clock read fewer, and the time between the two
// counts as the new span's. 0 (now) when no trace is installed, or when the span that ended
// last is not a child of the current one.
inline int64_t PreviousSiblingEnd() {
  const Trace* t = internal::tls_trace;
  return t != nullptr ? t->LastEndedChildEnd() : 0;
}

// Installs `trace` as the calling thread's current trace for this object's lifetime, if the
// trace is sampled; otherwise installs none (so Spans record nothing). Restores the previous
// one on destruction. `trace` must outlive this object. Nests LIFO.
class ScopedTrace {
 public:
  explicit ScopedTrace(Trace& trace) : previous_(internal::tls_trace) {
    internal::tls_trace = trace.sampled() ? &trace : nullptr;
  }
  ~ScopedTrace() { internal::tls_trace = previous_; }
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  Trace* previous_;
};

// RAII span on the calling thread's current trace: opens a child of the current span, becomes
// the current span, and on destruction (or End()) records the end time and restores the parent.
// Attributes and status may still be set after End() (until the trace finishes): setting them
// then keeps their cost out of the span's and its parent's measured time.
// Spans must end in LIFO order on the thread that opened them (they are neither copyable nor
// movable). With no trace installed, every method is a no-op costing one branch.
class Span {
 public:
  // `name` must be a string literal (the record keeps the pointer).
  explicit Span(const char* name, SpanKind kind = SpanKind::kInternal) {
    Trace* t = internal::tls_trace;
    if (t != nullptr) [[unlikely]]
      Open(t, name, kind);
  }
  // A span that started earlier, at `start_ns` (Unix nanoseconds; 0 = now): a request root
  // whose first byte arrived before the handler ran, or a span starting where another ended.
  Span(const char* name, SpanKind kind, int64_t start_ns) {
    Trace* t = internal::tls_trace;
    if (t != nullptr) [[unlikely]]
      Open(t, name, kind, start_ns);
  }
  ~Span() {
    if (trace_ != nullptr && !ended_) End();
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  // True when this span records (a trace is installed and the span cap was not reached).
  bool recording() const { return trace_ != nullptr; }
  void SetAttribute(const char* key, const Value& value) {
    if (trace_ != nullptr) trace_->SetAttribute(index_, key, value);
  }
  void SetKind(SpanKind kind) {
    if (trace_ != nullptr) trace_->SetKind(index_, kind);
  }
  void SetOk() {
    if (trace_ != nullptr) trace_->SetStatus(index_, SpanStatus::kOk);
  }
  void SetError(ErrorCode code, std::string_view message) {
    if (trace_ != nullptr) trace_->SetError(index_, code, message);
  }
  // Records SetError(status.code(), status.message()) when `status` is an error.
  void SetStatus(const Status& status) {
    if (trace_ != nullptr && !status.ok())
      trace_->SetError(index_, status.code(), status.message());
  }
  // An event at the current time (a Jaeger log). Field keys must be string literals.
  void AddEvent(const char* name, std::initializer_list<Field> fields = {});
  // Ends the span now and returns that instant (Unix ns; 0 when not recording); later calls
  // (and the destructor) do nothing and return the same. The span then stops being the current
  // one, but its setters keep recording into it.
  int64_t End();
  // The same at a given instant, for a span whose end is a time already read (its last
  // child's end, say): one clock read fewer. Not before the span's start.
  void EndAt(int64_t end_ns);
  // Ends the span where its last child ended, when that child is the trace's latest span and
  // has ended (a parent whose work ends with its last child's: one clock read fewer); otherwise
  // now, as End().
  void EndWithLastChild();
  // Ends this span and opens its next sibling `name` (a string literal) at the same instant:
  // sequential phases measured edge to edge, with one clock read per boundary and no gap
  // between them for the parent's self time. The object then stands for the new span.
  void Next(const char* name);
  // This span's id (invalid when not recording).
  SpanId id() const { return trace_ != nullptr ? trace_->SpanIdOf(index_) : SpanId{}; }

 private:
  void Open(Trace* trace, const char* name, SpanKind kind, int64_t start_ns = 0);
  Trace* trace_ = nullptr;
  int32_t index_ = kNoSpan;
  bool ended_ = false;
};

// ---------------------------------------------------------------------------------------------
// TraceSink: finished traces on their way to exporters.

using TraceSnapshot = std::shared_ptr<const Trace>;

// A bounded multi-producer queue of finished traces. TrySubmit never waits for the consumer:
// it takes a mutex held only for an O(1) push into reserved storage, and when `capacity` traces
// are pending it refuses the trace and counts it as dropped. A consumer (exporter) thread calls
// Drain periodically.
class TraceSink {
 public:
  explicit TraceSink(size_t capacity);

  // Takes `trace` and returns true, leaving in it a trace the consumer gave back (Recycle) or
  // null: under the one lock, so a producer that reuses what it gets back takes no other.
  // Returns false and leaves `trace` with the caller when the queue is full (counted as
  // dropped) or `trace` is null.
  bool TrySubmit(std::unique_ptr<Trace>& trace);
  // Moves up to `max` pending traces (oldest first) onto the end of `out`; returns how many.
  size_t Drain(std::vector<std::unique_ptr<Trace>>& out, size_t max = SIZE_MAX);
  // Takes the consumer's finished traces back for TrySubmit to hand out (reset, and at most
  // `capacity` kept; the rest are freed by the caller's vector). Clears nothing else of `traces`
  // but what it takes.
  void Recycle(std::vector<std::unique_ptr<Trace>>& traces);

  size_t capacity() const { return capacity_; }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Trace>> pending_;   // guarded by mu_; capacity_ reserved
  std::vector<std::unique_ptr<Trace>> recycled_;  // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> accepted_{0};
};

}  // namespace kalamdb::trace
