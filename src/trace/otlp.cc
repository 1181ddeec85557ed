#include "trace/otlp.h"

#include <algorithm>
#include <array>
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

#include "common/thread_name.h"

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

// Encoded bytes: a RecordArray grows without zeroing what it adds (std::string's resize zeroes),
// and the writer below fills its reserved room through a cursor.
using Bytes = internal::RecordArray<char>;

std::string_view View(const Bytes& bytes) { return {bytes.data(), bytes.size()}; }

static_assert(std::endian::native == std::endian::little, "PutLittleEndian64 stores as is");
inline void PutLittleEndian64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as two overlapping word copies.
template <typename Word>
inline void CopyTwoWords(char* dst, const char* src, size_t n) {
  Word head;
  Word tail;
  std::memcpy(&head, src, sizeof(Word));
  std::memcpy(&tail, src + n - sizeof(Word), sizeof(Word));
  std::memcpy(dst, &head, sizeof(Word));
  std::memcpy(dst + n - sizeof(Word), &tail, sizeof(Word));
}

// memcpy for the short names, keys and values spans are made of, without a library call for
// each.
inline void CopyBytes(char* dst, const char* src, size_t n) {
  if (n >= 8 && n <= 16) {
    CopyTwoWords<uint64_t>(dst, src, n);
  } else if (n >= 4 && n < 8) {
    CopyTwoWords<uint32_t>(dst, src, n);
  } else if (n < 4) {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

class PbWriter {
 public:
  // Appends to *out. Bytes are written through a cursor into space the buffer already holds
  // (grown in large steps, not zeroed), not by one append per field; Done() sets the buffer's
  // size to what was written and must be called last.
  explicit PbWriter(Bytes* out) : out_(out), len_(out->size()) {}

  void Varint(uint64_t v) { len_ = PutVarint(Ensure(10), v) - out_->data(); }
  void Tag(uint32_t field, WireType type) { Varint((field << 3) | type); }
  void VarintField(uint32_t field, uint64_t v) {
    char* p = PutVarint(Ensure(20), (field << 3) | kVarint);
    len_ = PutVarint(p, v) - out_->data();
  }
  void Fixed64Field(uint32_t field, uint64_t v) {
    char* p = PutVarint(Ensure(18), (field << 3) | kFixed64);
    PutLittleEndian64(p, v);
    len_ = p + 8 - out_->data();
  }
  // Tag and length of a length-delimited field whose payload follows.
  void LengthPrefix(uint32_t field, size_t length) {
    char* p = PutVarint(Ensure(20), (field << 3) | kLengthDelimited);
    len_ = PutVarint(p, length) - out_->data();
  }
  void BytesField(uint32_t field, std::string_view bytes) {
    char* p = PutVarint(Ensure(20 + bytes.size()), (field << 3) | kLengthDelimited);
    p = PutVarint(p, bytes.size());
    CopyBytes(p, bytes.data(), bytes.size());
    len_ = p + bytes.size() - out_->data();
  }
  // Big-endian id bytes (trace ids and span ids are written most significant byte first).
  void IdField(uint32_t field, uint64_t hi, uint64_t lo, bool sixteen) {
    char* p = PutVarint(Ensure(32), (field << 3) | kLengthDelimited);
    *p++ = static_cast<char>(sixteen ? 16 : 8);
    if (sixteen) {
      PutLittleEndian64(p, __builtin_bswap64(hi));
      p += 8;
    }
    PutLittleEndian64(p, __builtin_bswap64(lo));
    len_ = p + 8 - out_->data();
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
  // Returns the number of bytes the length took (a good `reserve` for a similar message).
  size_t End(const Mark& m) {
    const size_t length = len_ - m.pos - m.reserve;
    const size_t need = VarintSize(length);
    if (need != m.reserve) [[unlikely]] {
      if (need > m.reserve) Ensure(need - m.reserve);
      char* data = out_->data();
      std::memmove(data + m.pos + need, data + m.pos + m.reserve, length);
      len_ = len_ + need - m.reserve;
    }
    PutVarint(out_->data() + m.pos, length);
    return need;
  }

  // Bytes already encoded (a whole field or fields).
  void Raw(std::string_view bytes) {
    char* p = Ensure(bytes.size());
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    len_ += bytes.size();
  }
  // Room for `n` more bytes up front (a size hint).
  void Reserve(size_t n) { Ensure(n); }
  // For writers that assemble several fields at once: Cursor(n) gives room for n bytes at the
  // cursor, Advance(p) moves the cursor to p (at most n bytes further).
  char* Cursor(size_t n) { return Ensure(n); }
  void Advance(char* p) { len_ = static_cast<size_t>(p - out_->data()); }
  // Bytes in the buffer so far (those written through this writer included).
  size_t size() const { return len_; }
  // Sets the buffer's size to the bytes written.
  void Done() { out_->set_size(len_); }

 private:
  // Room for `n` bytes at the cursor; returns the cursor.
  char* Ensure(size_t n) {
    if (out_->capacity() - len_ < n) [[unlikely]]
      Grow(n);
    return out_->data() + len_;
  }
  void Grow(size_t n) {
    out_->set_size(len_);  // so that the bytes written so far move with the storage
    out_->reserve(std::max({out_->capacity() * 2, len_ + n, size_t{256}}));
  }

  Bytes* out_;
  size_t len_;  // bytes written (the buffer's size is set by Done)
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
  CopyBytes(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// One KeyValue (key, AnyValue) written in one go: its size is known up front.
void AttrKeyValue(PbWriter& w, uint32_t field, const Trace& trace, const AttrRecord& a,
                  std::string_view key) {
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
      PutLittleEndian64(p, std::bit_cast<uint64_t>(a.double_value));
      p += 8;
      break;
    }
  }
  w.Advance(p);
}

// What the encoder remembers of the string literals it meets (span names and attribute keys:
// their address identifies them, trace.h): the length, so strlen runs once per literal, not
// once per use; and, for span names, how many bytes the span's length took last time, so the
// length is written in place instead of shifting the span's bytes (spans of one name are much
// alike). A small direct-mapped table: a collision only costs a strlen.
class LiteralCache {
 public:
  struct Entry {
    const char* literal = nullptr;
    std::string_view text;
    size_t length_bytes = 1;  // for span names: VarintSize of the last span's length
  };
  Entry& Of(const char* literal) {
    if (literal == nullptr) [[unlikely]] {
      none_ = Entry{};
      return none_;
    }
    const uint64_t h =
        static_cast<uint64_t>(reinterpret_cast<uintptr_t>(literal)) * 0x9E3779B97F4A7C15ull;
    Entry& e = table_[h >> (64 - kBits)];
    if (e.literal != literal) e = Entry{literal, std::string_view(literal), 1};
    return e;
  }

 private:
  static constexpr int kBits = 8;
  std::array<Entry, size_t{1} << kBits> table_{};
  Entry none_;
};

// The bytes around a request's spans, made once per resource: an ExportTraceServiceRequest
// with one ResourceSpans holding one ScopeSpans is its head (the resource and scope fields and
// the lengths of the two enclosing messages) followed by the spans' fields, so spans encoded on
// their own (SpanEncoder) concatenate into a request with nothing to patch.
class RequestFrame {
 public:
  explicit RequestFrame(const OtlpResource& resource) {
    PbWriter r(&resource_);
    PbWriter::Mark m = r.Begin(f::kResourceSpansResource, 1);
    StringKeyValue(r, f::kResourceAttributes, "service.name", resource.service_name);
    if (!resource.service_version.empty()) {
      StringKeyValue(r, f::kResourceAttributes, "service.version", resource.service_version);
    }
    if (!resource.host_name.empty()) {
      StringKeyValue(r, f::kResourceAttributes, "host.name", resource.host_name);
    }
    r.End(m);
    r.Done();
    PbWriter w(&scope_);
    m = w.Begin(f::kScopeSpansScope, 1);
    if (!resource.scope_name.empty()) w.BytesField(f::kScopeName, resource.scope_name);
    if (!resource.scope_version.empty()) w.BytesField(f::kScopeVersion, resource.scope_version);
    w.End(m);
    w.Done();
  }

  // Appends the head of a request whose spans' fields, `spans_bytes` bytes in all, follow.
  void AppendHead(size_t spans_bytes, Bytes* out) const {
    const size_t scope_spans = scope_.size() + spans_bytes;
    const size_t resource_spans =
        resource_.size() + LengthDelimitedSize(f::kResourceSpansScopeSpans, scope_spans);
    PbWriter w(out);
    w.LengthPrefix(f::kRequestResourceSpans, resource_spans);
    w.Raw(View(resource_));
    w.LengthPrefix(f::kResourceSpansScopeSpans, scope_spans);
    w.Raw(View(scope_));
    w.Done();
  }

 private:
  Bytes resource_;  // ResourceSpans.resource, tag included
  Bytes scope_;     // ScopeSpans.scope, tag included
};

// Encodes spans as ScopeSpans.spans fields, straight from a finished recording (or a snapshot):
// its attributes are read through an AttributeLayout, so no snapshot is made. Keeps its scratch
// between calls (no allocation in steady state). One per thread.
class SpanEncoder {
 public:
  // Appends spans [begin, end) of `trace` (clamped to its span count) to *out; when `span_ends`
  // is given, the end offset in *out of each span is appended to it. Span ids must have been
  // drawn (Trace::AssignSpanIds; a snapshot has them): a span without one is sent with an
  // invalid (empty) id.
  void Append(const Trace& trace, size_t begin, size_t end, Bytes* out,
              std::vector<uint32_t>* span_ends) {
    const std::span<const SpanRecord> spans = trace.spans();
    end = std::min(end, spans.size());
    if (begin >= end) return;
    layout_.Build(trace);
    GroupEvents(trace);
    PbWriter w(out);
    // A rough size hint: keeps reallocation rare for typical spans.
    w.Reserve((end - begin) * 160);
    for (size_t i = begin; i < end; ++i) {
      WriteSpan(w, trace, i);
      if (span_ends != nullptr) span_ends->push_back(static_cast<uint32_t>(w.size()));
    }
    w.Done();
  }

 private:
  // Orders the trace's event indexes by owning span (a counting sort), so each span finds its
  // events without scanning them all.
  void GroupEvents(const Trace& trace) {
    const std::vector<EventRecord>& events = trace.events();
    const size_t n = trace.spans().size();
    event_order_.clear();
    if (events.empty()) return;
    event_start_.assign(n + 1, 0);
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

  void WriteSpan(PbWriter& w, const Trace& trace, size_t index) {
    const SpanRecord& s = trace.spans()[index];
    const LiteralCache::Entry name = literals_.Of(s.name);
    PbWriter::Mark m = w.Begin(f::kScopeSpansSpans, name.length_bytes);
    w.IdField(f::kSpanTraceId, trace.trace_id().hi, trace.trace_id().lo, true);
    w.IdField(f::kSpanSpanId, 0, s.id.value, false);
    SpanId parent;
    if (s.parent != kNoSpan && s.parent >= 0 &&
        static_cast<size_t>(s.parent) < trace.spans().size()) {
      parent = trace.spans()[s.parent].id;
    } else if (s.parent == kNoSpan) {
      parent = trace.remote_parent();
    }
    if (parent.valid()) w.IdField(f::kSpanParentSpanId, 0, parent.value, false);
    w.BytesField(f::kSpanName, name.text);
    if (s.kind != SpanKind::kUnspecified) {
      w.VarintField(f::kSpanKind, static_cast<uint64_t>(s.kind));
    }
    const int64_t end_ns = s.end_ns != 0 ? s.end_ns : s.start_ns;
    w.Fixed64Field(f::kSpanStart, static_cast<uint64_t>(s.start_ns));
    w.Fixed64Field(f::kSpanEnd, static_cast<uint64_t>(end_ns));
    layout_.ForEach(trace, index, [&](const AttrRecord& a) {
      AttrKeyValue(w, f::kSpanAttributes, trace, a, literals_.Of(a.key).text);
    });
    if (s.status == SpanStatus::kError) {
      StringKeyValue(w, f::kSpanAttributes, "error.code", ErrorCodeName(s.error_code));
      if (s.error_size > 0) {
        StringKeyValue(w, f::kSpanAttributes, "error.message", trace.ErrorMessageOf(s));
      }
    }
    if (const uint8_t dropped = layout_.dropped(trace, index); dropped > 0) {
      w.VarintField(f::kSpanDroppedAttributes, dropped);
    }
    if (!event_order_.empty()) {
      const std::vector<EventRecord>& events = trace.events();
      for (uint32_t k = event_start_[index]; k < event_start_[index + 1]; ++k) {
        const EventRecord& e = events[event_order_[k]];
        PbWriter::Mark em = w.Begin(f::kSpanEvents, 1);
        w.Fixed64Field(f::kEventTime, static_cast<uint64_t>(e.time_ns));
        w.BytesField(f::kEventName, literals_.Of(e.name).text);
        const std::vector<AttrRecord>& fields = trace.fields();
        for (uint32_t j = 0; j < e.field_count; ++j) {
          const size_t fi = static_cast<size_t>(e.first_field) + j;
          if (fi >= fields.size()) break;
          const AttrRecord& field = fields[fi];
          AttrKeyValue(w, f::kEventAttributes, trace, field, literals_.Of(field.key).text);
        }
        w.End(em);
      }
    }
    if (s.status != SpanStatus::kUnset) {
      PbWriter::Mark sm = w.Begin(f::kSpanStatus, 1);
      if (s.status == SpanStatus::kError) {
        if (s.error_size > 0) w.BytesField(f::kStatusMessage, trace.ErrorMessageOf(s));
        w.VarintField(f::kStatusCode, kStatusCodeError);
      } else {
        w.VarintField(f::kStatusCode, kStatusCodeOk);
      }
      w.End(sm);
    }
    literals_.Of(s.name).length_bytes = w.End(m);
  }

  AttributeLayout layout_;
  LiteralCache literals_;
  std::vector<uint32_t> event_start_;  // per span: first position in event_order_; n + 1 items
  std::vector<uint32_t> event_order_;  // event indexes grouped by span
  std::vector<uint32_t> cursor_;
};

}  // namespace

void EncodeOtlpRequest(std::span<const Trace* const> traces, const OtlpResource& resource,
                       std::string* out) {
  // Per-thread scratch, warm from call to call as the exporter's own.
  thread_local SpanEncoder encoder;
  thread_local Bytes spans;
  thread_local Bytes head;
  spans.clear();
  head.clear();
  for (const Trace* t : traces) {
    if (t != nullptr) encoder.Append(*t, 0, t->spans().size(), &spans, nullptr);
  }
  RequestFrame(resource).AppendHead(spans.size(), &head);
  out->append(View(head)).append(View(spans));
  if (spans.capacity() > (size_t{1} << 20)) spans = Bytes();  // not kept for a rare huge one
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

namespace {

// A queued trace, already encoded: its spans as ScopeSpans.spans fields (SpanEncoder), ready to
// be concatenated into a request. Queue slots keep their storage for the next trace.
struct EncodedTrace {
  Bytes bytes;
  std::vector<uint32_t> span_ends;  // end offset in `bytes` of each span
  size_t spans() const { return span_ends.size(); }
  // Lets go of storage a very large trace left behind.
  void Trim() {
    if (bytes.capacity() > kKeepBytes) bytes = Bytes();
    if (span_ends.capacity() > kKeepBytes / 64) std::vector<uint32_t>().swap(span_ends);
  }
  static constexpr size_t kKeepBytes = 4096;  // an INSERT trace takes ~1.1-1.5 KB
};

}  // namespace

struct OtlpExporter::State {
  std::unique_ptr<OtlpTransport> transport;
  RequestFrame frame{OtlpResource{}};
  ExporterOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;
  // Ring buffer of queued traces; all guarded by mu. Slots are swapped, never freed: each
  // keeps the storage of the trace it held last.
  std::vector<EncodedTrace> ring;
  size_t head = 0;
  size_t count = 0;
  size_t pending_spans = 0;
  bool stopping = false;
  // The last request failed for good and none has succeeded since: the queue then takes one
  // trace at a time (the next request is the probe). Written under mu; SendBody reads it
  // without the lock to skip the lock after a success.
  std::atomic<bool> failing{false};
  // count == ring.size() || stopping || (failing && count > 0), kept for Accepting() to read
  // without the lock.
  std::atomic<bool> refusing{false};
  void UpdateRefusing() {
    const bool probe_queued = failing.load(std::memory_order_relaxed) && count > 0;
    refusing.store(count == ring.size() || stopping || probe_queued, std::memory_order_relaxed);
  }
  // Enters or leaves the failing state. REQUIRES: mu held.
  void SetFailing(bool value) {
    failing.store(value, std::memory_order_relaxed);
    UpdateRefusing();
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

  // Exporter-thread scratch: the traces taken off the queue (batch[0, batch_size)) and the
  // request body.
  std::vector<EncodedTrace> batch;
  size_t batch_size = 0;
  Bytes body;

  // A full request is waiting, or the queue is half full (many small traces: a full batch
  // of spans may never come before the queue overflows). REQUIRES: mu held.
  bool BatchReady() const {
    return pending_spans >= options.max_batch_spans || count * 2 >= ring.size();
  }
  void Run();
  // Takes whole traces off the front, up to max_batch_spans spans (at least one trace).
  // REQUIRES: mu held, count > 0.
  void TakeBatch();
  void ExportBatch();
  // Sends the body, which holds `span_count` spans, with the retry rules.
  void SendBody(size_t span_count);
  // Drops every queued trace, counting their spans. REQUIRES: mu held.
  void DropQueued();
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
    cv.wait_until(lk, next, [&] { return stopping || BatchReady(); });
    while (count > 0) {
      if (stopping && Clock::now() >= flush_deadline) {
        DropQueued();
        break;
      }
      TakeBatch();
      lk.unlock();
      ExportBatch();
      for (size_t i = 0; i < batch_size; ++i) batch[i].Trim();
      batch_size = 0;
      lk.lock();
    }
    if (stopping) return;
    next = Clock::now() + delay;
  }
}

void OtlpExporter::State::TakeBatch() {
  size_t spans = 0;
  size_t bytes = 0;
  while (count > 0) {
    EncodedTrace& slot = ring[head];
    const size_t n = slot.spans();
    const size_t b = slot.bytes.size();
    if (batch_size > 0 &&
        (spans + n > options.max_batch_spans || bytes + b > options.max_batch_bytes))
      break;
    spans += n;
    bytes += b;
    pending_spans -= n;
    if (batch_size == batch.size()) batch.emplace_back();
    std::swap(batch[batch_size++], slot);
    head = (head + 1) % ring.size();
    --count;
    if (spans >= options.max_batch_spans) break;
  }
  UpdateRefusing();
}

void OtlpExporter::State::ExportBatch() {
  const EncodedTrace& first = batch.front();
  if (batch_size == 1 && first.spans() > options.max_batch_spans) {
    const size_t total = first.spans();
    for (size_t begin = 0; begin < total; begin += options.max_batch_spans) {
      if (PastFlushDeadline()) {
        dropped_spans_shutdown.fetch_add(total - begin, std::memory_order_relaxed);
        return;
      }
      const size_t end = std::min(total, begin + options.max_batch_spans);
      const size_t from = begin == 0 ? 0 : first.span_ends[begin - 1];
      const size_t to = first.span_ends[end - 1];
      body.clear();
      frame.AppendHead(to - from, &body);
      body.Append(first.bytes.data() + from, to - from);
      SendBody(end - begin);
    }
    return;
  }
  size_t spans = 0;
  size_t bytes = 0;
  for (size_t i = 0; i < batch_size; ++i) {
    spans += batch[i].spans();
    bytes += batch[i].bytes.size();
  }
  if (spans == 0) return;
  body.clear();
  frame.AppendHead(bytes, &body);
  for (size_t i = 0; i < batch_size; ++i) body.Append(batch[i].bytes.data(), batch[i].bytes.size());
  SendBody(spans);
}

void OtlpExporter::State::SendBody(size_t span_count) {
  for (int attempt = 0;; ++attempt) {
    SendResult r = transport->Send(View(body));
    if (r.outcome == SendOutcome::kOk) {
      exported_requests.fetch_add(1, std::memory_order_relaxed);
      exported_spans.fetch_add(span_count, std::memory_order_relaxed);
      if (failing.load(std::memory_order_relaxed)) {  // the collector is back
        std::lock_guard<std::mutex> lk(mu);
        SetFailing(false);
      }
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
  {
    std::lock_guard<std::mutex> lk(mu);
    SetFailing(true);
  }
  dropped_spans_export_failed.fetch_add(span_count, std::memory_order_relaxed);
}

void OtlpExporter::State::DropQueued() {
  while (count > 0) {
    ring[head].Trim();
    head = (head + 1) % ring.size();
    --count;
  }
  UpdateRefusing();
  dropped_spans_shutdown.fetch_add(pending_spans, std::memory_order_relaxed);
  pending_spans = 0;
}

OtlpExporter::OtlpExporter(std::unique_ptr<OtlpTransport> transport, OtlpResource resource,
                           ExporterOptions options)
    : state_(std::make_unique<State>()) {
  options.max_queue_traces = std::max<size_t>(options.max_queue_traces, 1);
  options.max_batch_spans = std::max<size_t>(options.max_batch_spans, 1);
  options.max_batch_bytes = std::max<size_t>(options.max_batch_bytes, 1);
  options.schedule_delay_ms = std::max(options.schedule_delay_ms, 1);
  options.max_retries = std::max(options.max_retries, 0);
  options.retry_backoff_ms = std::max(options.retry_backoff_ms, 0);
  state_->transport = std::move(transport);
  state_->frame = RequestFrame(resource);
  state_->options = options;
  state_->ring.resize(options.max_queue_traces);
  state_->thread = std::thread([s = state_.get()] {
    SetCurrentThreadName("kalam-otlp");
    s->Run();
  });
}

OtlpExporter::~OtlpExporter() { Shutdown(); }

bool OtlpExporter::Enqueue(std::shared_ptr<const Trace> trace) {
  return trace != nullptr && Enqueue(*trace);
}

bool OtlpExporter::Enqueue(const Trace& trace) {
  State& s = *state_;
  // Encoded here, on the caller's thread and outside the mutex, into this thread's spare slot;
  // the spare and the queue's free slot then trade places under the mutex.
  thread_local SpanEncoder encoder;
  thread_local EncodedTrace spare;
  const size_t n = trace.spans().size();
  // The pre-check reads `refusing` without the lock: a trace that finds it set is refused and
  // counted even if a slot frees up meanwhile (as Accepting() documents).
  const bool encode = !s.refusing.load(std::memory_order_relaxed);
  struct TrimSpare {  // on every way out: the spare lets go of a very large trace's bytes
    ~TrimSpare() { spare.Trim(); }
  } trim_spare;
  if (encode) {
    spare.bytes.clear();
    spare.span_ends.clear();
    encoder.Append(trace, 0, n, &spare.bytes, &spare.span_ends);
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    if (s.stopping) {
      s.dropped_after_shutdown.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const bool probe_queued = s.failing.load(std::memory_order_relaxed) && s.count > 0;
    if (!encode || s.count == s.ring.size() || probe_queued) {
      s.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const bool ready_before = s.BatchReady();
    std::swap(s.ring[(s.head + s.count) % s.ring.size()], spare);
    ++s.count;
    s.UpdateRefusing();
    s.pending_spans += n;
    wake = !ready_before && s.BatchReady();  // one notification per batch, not per trace
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
