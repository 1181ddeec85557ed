#include "trace/otlp.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace kalamdb::trace {
namespace {

// ---------------------------------------------------------------------------------------------
// Protobuf writer: just the wire types OTLP traces need (varint, fixed64, length-delimited).

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

constexpr size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

constexpr size_t TagSize(uint32_t field) { return VarintSize(field << 3); }

// Writes `v` at `p`; returns the byte after it.
inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

class PbWriter {
 public:
  // Appends to *out. Bytes are written through a cursor into space the string already holds
  // (grown in large steps), not by one append per field; Done() trims the string to what was
  // written and must be called last.
  explicit PbWriter(std::string* out) : out_(out), len_(out->size()) {}

  void Varint(uint64_t v) { len_ = PutVarint(Ensure(10), v) - out_->data(); }
  void Tag(uint32_t field, WireType type) { Varint((field << 3) | type); }
  void VarintField(uint32_t field, uint64_t v) {
    char* p = PutVarint(Ensure(20), (field << 3) | kVarint);
    len_ = PutVarint(p, v) - out_->data();
  }
  void Fixed64Field(uint32_t field, uint64_t v) {
    char* p = PutVarint(Ensure(18), (field << 3) | kFixed64);
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(v >> (8 * i));  // little-endian
    len_ = p - out_->data();
  }
  // Tag and length of a length-delimited field whose payload follows.
  void LengthPrefix(uint32_t field, size_t length) {
    char* p = PutVarint(Ensure(20), (field << 3) | kLengthDelimited);
    len_ = PutVarint(p, length) - out_->data();
  }
  void BytesField(uint32_t field, std::string_view bytes) {
    char* p = PutVarint(Ensure(20 + bytes.size()), (field << 3) | kLengthDelimited);
    p = PutVarint(p, bytes.size());
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    len_ = p + bytes.size() - out_->data();
  }
  // Big-endian id bytes (trace ids and span ids are written most significant byte first).
  void IdField(uint32_t field, uint64_t hi, uint64_t lo, bool sixteen) {
    char* p = PutVarint(Ensure(32), (field << 3) | kLengthDelimited);
    *p++ = static_cast<char>(sixteen ? 16 : 8);
    if (sixteen) {
      for (int i = 7; i >= 0; --i) *p++ = static_cast<char>(hi >> (8 * i));
    }
    for (int i = 7; i >= 0; --i) *p++ = static_cast<char>(lo >> (8 * i));
    len_ = p - out_->data();
  }

  // A nested message of unknown size: the length is written by End(). `reserve` bytes are set
  // aside for the length varint; a length needing more (or fewer) bytes shifts the content.
  struct Mark {
    size_t pos;
    size_t reserve;
  };
  Mark Begin(uint32_t field, size_t reserve) {
    Tag(field, kLengthDelimited);
    Ensure(reserve);
    Mark m{len_, reserve};
    len_ += reserve;
    return m;
  }
  void End(const Mark& m) {
    const size_t length = len_ - m.pos - m.reserve;
    const size_t need = VarintSize(length);
    if (need != m.reserve) {
      if (need > m.reserve) Ensure(need - m.reserve);
      char* data = out_->data();
      std::memmove(data + m.pos + need, data + m.pos + m.reserve, length);
      len_ = len_ + need - m.reserve;
    }
    PutVarint(out_->data() + m.pos, length);
  }

  // Room for `n` more bytes up front (a size hint).
  void Reserve(size_t n) { Ensure(n); }
  // For writers that assemble several fields at once: Cursor(n) gives room for n bytes at the
  // cursor, Advance(p) moves the cursor to p (at most n bytes further).
  char* Cursor(size_t n) { return Ensure(n); }
  void Advance(char* p) { len_ = static_cast<size_t>(p - out_->data()); }
  // Trims the string to the bytes written.
  void Done() { out_->resize(len_); }

 private:
  // Room for `n` bytes at the cursor; returns the cursor.
  char* Ensure(size_t n) {
    if (out_->size() - len_ < n) out_->resize(std::max(out_->size() * 2, len_ + n + 4096));
    return out_->data() + len_;
  }

  std::string* out_;
  size_t len_;  // bytes written; out_->size() may be larger (space not yet used)
};

// ---------------------------------------------------------------------------------------------
// OTLP field numbers (opentelemetry/proto/...).

namespace f {
constexpr uint32_t kRequestResourceSpans = 1;
constexpr uint32_t kResourceSpansResource = 1;
constexpr uint32_t kResourceSpansScopeSpans = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeSpansScope = 1;
constexpr uint32_t kScopeSpansSpans = 2;
constexpr uint32_t kScopeName = 1;
constexpr uint32_t kScopeVersion = 2;
constexpr uint32_t kSpanTraceId = 1;
constexpr uint32_t kSpanSpanId = 2;
constexpr uint32_t kSpanParentSpanId = 4;
constexpr uint32_t kSpanName = 5;
constexpr uint32_t kSpanKind = 6;
constexpr uint32_t kSpanStart = 7;
constexpr uint32_t kSpanEnd = 8;
constexpr uint32_t kSpanAttributes = 9;
constexpr uint32_t kSpanDroppedAttributes = 10;
constexpr uint32_t kSpanEvents = 11;
constexpr uint32_t kSpanStatus = 15;
constexpr uint32_t kEventTime = 1;
constexpr uint32_t kEventName = 2;
constexpr uint32_t kEventAttributes = 3;
constexpr uint32_t kStatusMessage = 2;
constexpr uint32_t kStatusCode = 3;
constexpr uint32_t kKeyValueKey = 1;
constexpr uint32_t kKeyValueValue = 2;
constexpr uint32_t kAnyString = 1;
constexpr uint32_t kAnyBool = 2;
constexpr uint32_t kAnyInt = 3;
constexpr uint32_t kAnyDouble = 4;
}  // namespace f

constexpr uint64_t kStatusCodeOk = 1;
constexpr uint64_t kStatusCodeError = 2;

std::string_view Cstr(const char* s) { return s != nullptr ? std::string_view(s) : ""; }

// KeyValue sizes are computed up front (they are small and flat), so no length is patched.
size_t LengthDelimitedSize(uint32_t field, size_t length) {
  return TagSize(field) + VarintSize(length) + length;
}

void StringKeyValue(PbWriter& w, uint32_t field, std::string_view key, std::string_view value) {
  const size_t any = LengthDelimitedSize(f::kAnyString, value.size());
  const size_t kv = LengthDelimitedSize(f::kKeyValueKey, key.size()) +
                    LengthDelimitedSize(f::kKeyValueValue, any);
  w.LengthPrefix(field, kv);
  w.BytesField(f::kKeyValueKey, key);
  w.LengthPrefix(f::kKeyValueValue, any);
  w.BytesField(f::kAnyString, value);
}

// Writes the bytes of a length-delimited field at `p`; returns the byte after it.
inline char* PutBytesField(char* p, uint32_t field, std::string_view bytes) {
  p = PutVarint(p, (field << 3) | kLengthDelimited);
  p = PutVarint(p, bytes.size());
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// One KeyValue (key, AnyValue) written in one go: its size is known up front.
void AttrKeyValue(PbWriter& w, uint32_t field, const Trace& trace, const AttrRecord& a) {
  const std::string_view key = Cstr(a.key);
  std::string_view str;
  size_t any = 0;
  switch (a.type) {
    case ValueType::kString:
      str = trace.StringOf(a);
      any = LengthDelimitedSize(f::kAnyString, str.size());
      break;
    case ValueType::kBool:
      any = TagSize(f::kAnyBool) + 1;
      break;
    case ValueType::kInt:
      any = TagSize(f::kAnyInt) + VarintSize(static_cast<uint64_t>(a.int_value));
      break;
    case ValueType::kDouble:
      any = TagSize(f::kAnyDouble) + 8;
      break;
  }
  const size_t kv = LengthDelimitedSize(f::kKeyValueKey, key.size()) +
                    LengthDelimitedSize(f::kKeyValueValue, any);
  char* p = w.Cursor(LengthDelimitedSize(field, kv));
  p = PutVarint(p, (field << 3) | kLengthDelimited);
  p = PutVarint(p, kv);
  p = PutBytesField(p, f::kKeyValueKey, key);
  p = PutVarint(p, (f::kKeyValueValue << 3) | kLengthDelimited);
  p = PutVarint(p, any);
  switch (a.type) {
    case ValueType::kString:
      p = PutBytesField(p, f::kAnyString, str);
      break;
    case ValueType::kBool:
      p = PutVarint(p, (f::kAnyBool << 3) | kVarint);
      *p++ = static_cast<char>(a.int_value != 0 ? 1 : 0);
      break;
    case ValueType::kInt:
      p = PutVarint(p, (f::kAnyInt << 3) | kVarint);
      p = PutVarint(p, static_cast<uint64_t>(a.int_value));
      break;
    case ValueType::kDouble: {
      p = PutVarint(p, (f::kAnyDouble << 3) | kFixed64);
      const uint64_t bits = std::bit_cast<uint64_t>(a.double_value);
      for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(bits >> (8 * i));
      break;
    }
  }
  w.Advance(p);
}

// Writes one ExportTraceServiceRequest incrementally: the constructor opens the resource and
// scope, AddSpans appends spans, Finish closes the nested messages.
class RequestEncoder {
 public:
  RequestEncoder(const OtlpResource& resource, std::string* out) : w_(out) {
    resource_spans_ = w_.Begin(f::kRequestResourceSpans, 3);
    PbWriter::Mark r = w_.Begin(f::kResourceSpansResource, 1);
    StringKeyValue(w_, f::kResourceAttributes, "service.name", resource.service_name);
    if (!resource.service_version.empty()) {
      StringKeyValue(w_, f::kResourceAttributes, "service.version", resource.service_version);
    }
    if (!resource.host_name.empty()) {
      StringKeyValue(w_, f::kResourceAttributes, "host.name", resource.host_name);
    }
    w_.End(r);
    scope_spans_ = w_.Begin(f::kResourceSpansScopeSpans, 3);
    PbWriter::Mark s = w_.Begin(f::kScopeSpansScope, 1);
    if (!resource.scope_name.empty()) w_.BytesField(f::kScopeName, resource.scope_name);
    if (!resource.scope_version.empty()) w_.BytesField(f::kScopeVersion, resource.scope_version);
    w_.End(s);
  }

  // Appends spans [begin, end) of `trace` (clamped to its span count).
  void AddSpans(const Trace& trace, size_t begin, size_t end) {
    const std::span<const SpanRecord> spans = trace.spans();
    end = std::min(end, spans.size());
    if (begin >= end) return;
    GroupEvents(trace);
    // A rough size hint: keeps reallocation rare for typical spans.
    w_.Reserve((end - begin) * 160);
    for (size_t i = begin; i < end; ++i) WriteSpan(trace, i);
  }

  void Finish() {
    w_.End(scope_spans_);
    w_.End(resource_spans_);
    w_.Done();
  }

 private:
  // Orders the trace's event indexes by owning span (a counting sort), so each span finds its
  // events without scanning them all.
  void GroupEvents(const Trace& trace) {
    const std::vector<EventRecord>& events = trace.events();
    const size_t n = trace.spans().size();
    event_start_.assign(n + 1, 0);
    event_order_.clear();
    if (events.empty()) return;
    for (const EventRecord& e : events) {
      if (e.span >= 0 && static_cast<size_t>(e.span) < n) ++event_start_[e.span + 1];
    }
    for (size_t i = 0; i < n; ++i) event_start_[i + 1] += event_start_[i];
    event_order_.resize(event_start_[n]);
    cursor_.assign(event_start_.begin(), event_start_.end() - 1);
    for (uint32_t i = 0; i < events.size(); ++i) {
      const int32_t s = events[i].span;
      if (s >= 0 && static_cast<size_t>(s) < n) event_order_[cursor_[s]++] = i;
    }
  }

  void WriteSpan(const Trace& trace, size_t index) {
    const SpanRecord& s = trace.spans()[index];
    PbWriter::Mark m = w_.Begin(f::kScopeSpansSpans, 1);
    w_.IdField(f::kSpanTraceId, trace.trace_id().hi, trace.trace_id().lo, true);
    w_.IdField(f::kSpanSpanId, 0, s.id.value, false);
    SpanId parent;
    if (s.parent != kNoSpan && s.parent >= 0 &&
        static_cast<size_t>(s.parent) < trace.spans().size()) {
      parent = trace.spans()[s.parent].id;
    } else if (s.parent == kNoSpan) {
      parent = trace.remote_parent();
    }
    if (parent.valid()) w_.IdField(f::kSpanParentSpanId, 0, parent.value, false);
    w_.BytesField(f::kSpanName, Cstr(s.name));
    if (s.kind != SpanKind::kUnspecified) {
      w_.VarintField(f::kSpanKind, static_cast<uint64_t>(s.kind));
    }
    const int64_t end_ns = s.end_ns != 0 ? s.end_ns : s.start_ns;
    w_.Fixed64Field(f::kSpanStart, static_cast<uint64_t>(s.start_ns));
    w_.Fixed64Field(f::kSpanEnd, static_cast<uint64_t>(end_ns));
    for (const AttrRecord& a : trace.AttributesOf(s))
      AttrKeyValue(w_, f::kSpanAttributes, trace, a);
    if (s.status == SpanStatus::kError) {
      StringKeyValue(w_, f::kSpanAttributes, "error.code", ErrorCodeName(s.error_code));
      if (s.error_size > 0) {
        StringKeyValue(w_, f::kSpanAttributes, "error.message", trace.ErrorMessageOf(s));
      }
    }
    if (s.dropped_attrs > 0) w_.VarintField(f::kSpanDroppedAttributes, s.dropped_attrs);
    if (!event_order_.empty()) {
      const std::vector<EventRecord>& events = trace.events();
      for (uint32_t k = event_start_[index]; k < event_start_[index + 1]; ++k) {
        const EventRecord& e = events[event_order_[k]];
        PbWriter::Mark em = w_.Begin(f::kSpanEvents, 1);
        w_.Fixed64Field(f::kEventTime, static_cast<uint64_t>(e.time_ns));
        w_.BytesField(f::kEventName, Cstr(e.name));
        const std::vector<AttrRecord>& fields = trace.fields();
        for (uint32_t j = 0; j < e.field_count; ++j) {
          const size_t fi = static_cast<size_t>(e.first_field) + j;
          if (fi >= fields.size()) break;
          AttrKeyValue(w_, f::kEventAttributes, trace, fields[fi]);
        }
        w_.End(em);
      }
    }
    if (s.status != SpanStatus::kUnset) {
      PbWriter::Mark sm = w_.Begin(f::kSpanStatus, 1);
      if (s.status == SpanStatus::kError) {
        if (s.error_size > 0) w_.BytesField(f::kStatusMessage, trace.ErrorMessageOf(s));
        w_.VarintField(f::kStatusCode, kStatusCodeError);
      } else {
        w_.VarintField(f::kStatusCode, kStatusCodeOk);
      }
      w_.End(sm);
    }
    w_.End(m);
  }

  PbWriter w_;
  PbWriter::Mark resource_spans_{};
  PbWriter::Mark scope_spans_{};
  std::vector<uint32_t> event_start_;  // per span: first position in event_order_; n + 1 items
  std::vector<uint32_t> event_order_;  // event indexes grouped by span
  std::vector<uint32_t> cursor_;
};

}  // namespace

void EncodeOtlpRequest(std::span<const Trace* const> traces, const OtlpResource& resource,
                       std::string* out) {
  RequestEncoder enc(resource, out);
  for (const Trace* t : traces) {
    if (t != nullptr) enc.AddSpans(*t, 0, t->spans().size());
  }
  enc.Finish();
}

// ---------------------------------------------------------------------------------------------
// Endpoints and transports

namespace otlp_internal {

std::string Endpoint::HostPort() const {
  std::string s;
  if (ipv6) {
    s.append("[").append(host).append("]");
  } else {
    s.append(host);
  }
  s.append(":").append(std::to_string(port));
  return s;
}

Result<Endpoint> ParseEndpoint(std::string_view endpoint, int default_port) {
  auto bad = [&](std::string_view why) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid OTLP endpoint '" + std::string(endpoint) + "': " + std::string(why));
  };
  std::string_view rest = endpoint;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    std::string_view name = rest.substr(0, scheme);
    if (name != "http" && name != "HTTP") {
      return bad("only http:// is supported (no TLS)");
    }
    rest.remove_prefix(scheme + 3);
  }
  Endpoint ep;
  ep.port = default_port;
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) ep.path = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    ep.host = std::string(authority.substr(1, close - 1));
    ep.ipv6 = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else {
    size_t colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (ep.host.empty()) return bad("empty host");
  for (char c : ep.host) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '[' || c == ']' ||
        (c == ':' && !ep.ipv6)) {
      return bad("bad character in host");
    }
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return bad("bad port");
    }
    ep.port = port;
  }
  for (char c : ep.path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("bad character in path");
  }
  return ep;
}

}  // namespace otlp_internal

Result<std::unique_ptr<OtlpTransport>> MakeOtlpTransport(std::string_view protocol,
                                                         std::string_view endpoint,
                                                         int timeout_ms) {
  if (timeout_ms <= 0) {
    return Status(ErrorCode::kInvalidArgument, "OTLP timeout must be positive");
  }
  if (protocol == "grpc") {
    auto ep = otlp_internal::ParseEndpoint(endpoint, 4317);
    if (!ep.ok()) return ep.status();
    return otlp_internal::MakeGrpcTransport(*ep, timeout_ms);
  }
  if (protocol == "http") {
    auto ep = otlp_internal::ParseEndpoint(endpoint, 4318);
    if (!ep.ok()) return ep.status();
    return otlp_internal::MakeHttpTransport(*ep, timeout_ms);
  }
  return Status(ErrorCode::kInvalidArgument,
                "unknown OTLP protocol '" + std::string(protocol) + "' (expected grpc or http)");
}

// ---------------------------------------------------------------------------------------------
// Exporter

using Clock = std::chrono::steady_clock;

struct OtlpExporter::State {
  std::unique_ptr<OtlpTransport> transport;
  OtlpResource resource;
  ExporterOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;
  // Ring buffer of queued traces; all guarded by mu.
  std::vector<std::shared_ptr<const Trace>> ring;
  size_t head = 0;
  size_t count = 0;
  size_t pending_spans = 0;
  bool stopping = false;
  // count == ring.size() || stopping, kept for Accepting() to read without the lock.
  std::atomic<bool> refusing{false};
  void UpdateRefusing() {
    refusing.store(count == ring.size() || stopping, std::memory_order_relaxed);
  }
  Clock::time_point flush_deadline;
  std::string last_error;

  std::atomic<uint64_t> enqueued{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_after_shutdown{0};
  std::atomic<uint64_t> exported_spans{0};
  std::atomic<uint64_t> exported_requests{0};
  std::atomic<uint64_t> failed_requests{0};
  std::atomic<uint64_t> dropped_spans_export_failed{0};
  std::atomic<uint64_t> dropped_spans_shutdown{0};

  std::mutex shutdown_mu;  // serialises Shutdown callers
  bool joined = false;     // guarded by shutdown_mu
  std::thread thread;

  // Exporter-thread scratch.
  std::vector<std::shared_ptr<const Trace>> batch;
  std::string body;

  void Run();
  // Pops whole traces off the front, up to max_batch_spans spans (at least one trace). REQUIRES:
  // mu held, count > 0.
  void TakeBatch();
  void ExportBatch();
  // Sends spans [begin, end) of batch[0] when `split`, else every trace of the batch.
  void SendRequest(size_t span_count, const Trace* split, size_t begin, size_t end);
  void DropQueued(std::unique_lock<std::mutex>& lk);
  bool PastFlushDeadline() {
    std::lock_guard<std::mutex> lk(mu);
    return stopping && Clock::now() >= flush_deadline;
  }
};

void OtlpExporter::State::Run() {
  const auto delay = std::chrono::milliseconds(options.schedule_delay_ms);
  std::unique_lock<std::mutex> lk(mu);
  Clock::time_point next = Clock::now() + delay;
  for (;;) {
    cv.wait_until(lk, next, [&] { return stopping || pending_spans >= options.max_batch_spans; });
    while (count > 0) {
      if (stopping && Clock::now() >= flush_deadline) {
        DropQueued(lk);
        break;
      }
      TakeBatch();
      lk.unlock();
      ExportBatch();
      batch.clear();  // releases the traces outside the lock
      lk.lock();
    }
    if (stopping) return;
    next = Clock::now() + delay;
  }
}

void OtlpExporter::State::TakeBatch() {
  size_t spans = 0;
  while (count > 0) {
    std::shared_ptr<const Trace>& slot = ring[head];
    const size_t n = slot->spans().size();
    if (!batch.empty() && spans + n > options.max_batch_spans) break;
    spans += n;
    pending_spans -= n;
    batch.push_back(std::move(slot));
    head = (head + 1) % ring.size();
    --count;
    if (spans >= options.max_batch_spans) break;
  }
  UpdateRefusing();
}

void OtlpExporter::State::ExportBatch() {
  const Trace& first = *batch.front();
  if (batch.size() == 1 && first.spans().size() > options.max_batch_spans) {
    const size_t total = first.spans().size();
    for (size_t begin = 0; begin < total; begin += options.max_batch_spans) {
      if (PastFlushDeadline()) {
        dropped_spans_shutdown.fetch_add(total - begin, std::memory_order_relaxed);
        return;
      }
      const size_t end = std::min(total, begin + options.max_batch_spans);
      SendRequest(end - begin, &first, begin, end);
    }
    return;
  }
  size_t spans = 0;
  for (const auto& t : batch) spans += t->spans().size();
  if (spans > 0) SendRequest(spans, nullptr, 0, 0);
}

void OtlpExporter::State::SendRequest(size_t span_count, const Trace* split, size_t begin,
                                      size_t end) {
  body.clear();
  {
    RequestEncoder enc(resource, &body);
    if (split != nullptr) {
      enc.AddSpans(*split, begin, end);
    } else {
      for (const auto& t : batch) enc.AddSpans(*t, 0, t->spans().size());
    }
    enc.Finish();
  }
  for (int attempt = 0;; ++attempt) {
    SendResult r = transport->Send(body);
    if (r.outcome == SendOutcome::kOk) {
      exported_requests.fetch_add(1, std::memory_order_relaxed);
      exported_spans.fetch_add(span_count, std::memory_order_relaxed);
      return;
    }
    failed_requests.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lk(mu);
    last_error = r.error.empty() ? std::string("export failed") : std::move(r.error);
    if (r.outcome == SendOutcome::kFatal || attempt >= options.max_retries) break;
    const int64_t backoff_ms = static_cast<int64_t>(options.retry_backoff_ms)
                               << std::min(attempt, 20);
    const Clock::time_point retry_at = Clock::now() + std::chrono::milliseconds(backoff_ms);
    // Gives up early when a shutdown's flush deadline falls before the retry.
    if (cv.wait_until(lk, retry_at, [&] { return stopping && flush_deadline < retry_at; })) break;
  }
  dropped_spans_export_failed.fetch_add(span_count, std::memory_order_relaxed);
}

void OtlpExporter::State::DropQueued(std::unique_lock<std::mutex>& lk) {
  std::vector<std::shared_ptr<const Trace>> left;
  left.reserve(count);
  while (count > 0) {
    left.push_back(std::move(ring[head]));
    head = (head + 1) % ring.size();
    --count;
  }
  UpdateRefusing();
  dropped_spans_shutdown.fetch_add(pending_spans, std::memory_order_relaxed);
  pending_spans = 0;
  lk.unlock();
  left.clear();
  lk.lock();
}

OtlpExporter::OtlpExporter(std::unique_ptr<OtlpTransport> transport, OtlpResource resource,
                           ExporterOptions options)
    : state_(std::make_unique<State>()) {
  options.max_queue_traces = std::max<size_t>(options.max_queue_traces, 1);
  options.max_batch_spans = std::max<size_t>(options.max_batch_spans, 1);
  options.schedule_delay_ms = std::max(options.schedule_delay_ms, 1);
  options.max_retries = std::max(options.max_retries, 0);
  options.retry_backoff_ms = std::max(options.retry_backoff_ms, 0);
  state_->transport = std::move(transport);
  state_->resource = std::move(resource);
  state_->options = options;
  state_->ring.resize(options.max_queue_traces);
  state_->batch.reserve(options.max_batch_spans);
  state_->thread = std::thread([s = state_.get()] { s->Run(); });
}

OtlpExporter::~OtlpExporter() { Shutdown(); }

bool OtlpExporter::Enqueue(std::shared_ptr<const Trace> trace) {
  if (trace == nullptr) return false;
  State& s = *state_;
  const size_t n = trace->spans().size();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    if (s.stopping) {
      s.dropped_after_shutdown.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (s.count == s.ring.size()) {
      s.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    s.ring[(s.head + s.count) % s.ring.size()] = std::move(trace);
    ++s.count;
    s.UpdateRefusing();
    const size_t before = s.pending_spans;
    s.pending_spans += n;
    wake = before < s.options.max_batch_spans && s.pending_spans >= s.options.max_batch_spans;
  }
  s.enqueued.fetch_add(1, std::memory_order_relaxed);
  if (wake) s.cv.notify_one();
  return true;
}

void OtlpExporter::Shutdown(int flush_timeout_ms) {
  State& s = *state_;
  std::lock_guard<std::mutex> guard(s.shutdown_mu);
  if (s.joined) return;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.stopping = true;
    s.UpdateRefusing();
    s.flush_deadline = Clock::now() + std::chrono::milliseconds(std::max(flush_timeout_ms, 0));
  }
  s.cv.notify_all();
  if (s.thread.joinable()) s.thread.join();
  s.joined = true;
}

bool OtlpExporter::Accepting() const { return !state_->refusing.load(std::memory_order_relaxed); }

void OtlpExporter::CountRefused() {
  state_->dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
}

ExporterStats OtlpExporter::stats() const {
  const State& s = *state_;
  ExporterStats st;
  st.enqueued = s.enqueued.load(std::memory_order_relaxed);
  st.dropped_queue_full = s.dropped_queue_full.load(std::memory_order_relaxed);
  st.dropped_after_shutdown = s.dropped_after_shutdown.load(std::memory_order_relaxed);
  st.exported_spans = s.exported_spans.load(std::memory_order_relaxed);
  st.exported_requests = s.exported_requests.load(std::memory_order_relaxed);
  st.failed_requests = s.failed_requests.load(std::memory_order_relaxed);
  st.dropped_spans_export_failed = s.dropped_spans_export_failed.load(std::memory_order_relaxed);
  st.dropped_spans_shutdown = s.dropped_spans_shutdown.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lk(s.mu);
  st.queue_depth = s.count;
  st.last_error = s.last_error;
  return st;
}

}  // namespace kalamdb::trace
