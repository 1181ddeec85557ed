#include "trace/otlp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kalamdb::trace {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------------------------
// A small, strict protobuf reader: fails the test on malformed input, non-minimal varints,
// unexpected wire types and unknown field numbers.

struct PbField {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t u64 = 0;        // varint or fixed64 value
  std::string_view bytes;  // length-delimited payload
};

bool ReadVarint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
    if (in.empty()) return false;
    const uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (i > 0 && b == 0) return false;  // non-minimal encoding
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

std::vector<PbField> Parse(std::string_view in) {
  std::vector<PbField> fields;
  while (!in.empty()) {
    uint64_t key = 0;
    if (!ReadVarint(in, &key)) {
      ADD_FAILURE() << "bad tag";
      return fields;
    }
    PbField f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint32_t>(key & 7);
    switch (f.wire) {
      case 0:
        if (!ReadVarint(in, &f.u64)) {
          ADD_FAILURE() << "bad varint";
          return fields;
        }
        break;
      case 1:
        if (in.size() < 8) {
          ADD_FAILURE() << "short fixed64";
          return fields;
        }
        for (int i = 0; i < 8; ++i) {
          f.u64 |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
        }
        in.remove_prefix(8);
        break;
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(in, &len) || len > in.size()) {
          ADD_FAILURE() << "bad length";
          return fields;
        }
        f.bytes = in.substr(0, len);
        in.remove_prefix(len);
        break;
      }
      default:
        ADD_FAILURE() << "unexpected wire type " << f.wire;
        return fields;
    }
    fields.push_back(f);
  }
  return fields;
}

void ExpectWire(const PbField& f, uint32_t wire, const char* where) {
  EXPECT_EQ(f.wire, wire) << where << " field " << f.number;
}

struct DKeyValue {
  std::string key;
  int type = 0;  // AnyValue field number: 1 string, 2 bool, 3 int, 4 double
  std::string s;
  bool b = false;
  int64_t i = 0;
  double d = 0;
};

DKeyValue DecodeKeyValue(std::string_view bytes) {
  DKeyValue kv;
  int values = 0;
  for (const PbField& f : Parse(bytes)) {
    if (f.number == 1) {
      ExpectWire(f, 2, "KeyValue");
      kv.key = std::string(f.bytes);
    } else if (f.number == 2) {
      ExpectWire(f, 2, "KeyValue");
      ++values;
      int kinds = 0;
      for (const PbField& a : Parse(f.bytes)) {
        ++kinds;
        kv.type = static_cast<int>(a.number);
        switch (a.number) {
          case 1:
            ExpectWire(a, 2, "AnyValue");
            kv.s = std::string(a.bytes);
            break;
          case 2:
            ExpectWire(a, 0, "AnyValue");
            kv.b = a.u64 != 0;
            break;
          case 3:
            ExpectWire(a, 0, "AnyValue");
            kv.i = static_cast<int64_t>(a.u64);
            break;
          case 4:
            ExpectWire(a, 1, "AnyValue");
            kv.d = std::bit_cast<double>(a.u64);
            break;
          default:
            ADD_FAILURE() << "unexpected AnyValue field " << a.number;
        }
      }
      EXPECT_EQ(kinds, 1) << "AnyValue oneof";
    } else {
      ADD_FAILURE() << "unexpected KeyValue field " << f.number;
    }
  }
  EXPECT_EQ(values, 1) << kv.key;
  return kv;
}

struct DEvent {
  uint64_t time = 0;
  std::string name;
  std::vector<DKeyValue> attrs;
};

struct DSpan {
  std::string trace_id, span_id, parent;
  bool has_parent = false;
  std::string name;
  bool has_kind = false;
  uint64_t kind = 0;
  uint64_t start = 0, end = 0;
  std::vector<DKeyValue> attrs;
  uint64_t dropped_attrs = 0;
  std::vector<DEvent> events;
  bool has_status = false;
  bool has_status_message = false;
  std::string status_message;
  uint64_t status_code = 0;

  const DKeyValue* Attr(std::string_view key) const {
    for (const DKeyValue& kv : attrs) {
      if (kv.key == key) return &kv;
    }
    return nullptr;
  }
};

struct DRequest {
  int resource_spans = 0;
  int scope_spans = 0;
  std::vector<DKeyValue> resource_attrs;
  bool has_scope = false;
  std::string scope_name, scope_version;
  bool has_scope_name = false, has_scope_version = false;
  std::vector<DSpan> spans;

  const DKeyValue* ResourceAttr(std::string_view key) const {
    for (const DKeyValue& kv : resource_attrs) {
      if (kv.key == key) return &kv;
    }
    return nullptr;
  }
};

DSpan DecodeSpan(std::string_view bytes) {
  DSpan s;
  for (const PbField& f : Parse(bytes)) {
    switch (f.number) {
      case 1:
        ExpectWire(f, 2, "Span");
        s.trace_id = std::string(f.bytes);
        break;
      case 2:
        ExpectWire(f, 2, "Span");
        s.span_id = std::string(f.bytes);
        break;
      case 4:
        ExpectWire(f, 2, "Span");
        s.has_parent = true;
        s.parent = std::string(f.bytes);
        break;
      case 5:
        ExpectWire(f, 2, "Span");
        s.name = std::string(f.bytes);
        break;
      case 6:
        ExpectWire(f, 0, "Span");
        s.has_kind = true;
        s.kind = f.u64;
        break;
      case 7:
        ExpectWire(f, 1, "Span");
        s.start = f.u64;
        break;
      case 8:
        ExpectWire(f, 1, "Span");
        s.end = f.u64;
        break;
      case 9:
        ExpectWire(f, 2, "Span");
        s.attrs.push_back(DecodeKeyValue(f.bytes));
        break;
      case 10:
        ExpectWire(f, 0, "Span");
        s.dropped_attrs = f.u64;
        break;
      case 11: {
        ExpectWire(f, 2, "Span");
        DEvent e;
        for (const PbField& g : Parse(f.bytes)) {
          if (g.number == 1) {
            ExpectWire(g, 1, "Event");
            e.time = g.u64;
          } else if (g.number == 2) {
            ExpectWire(g, 2, "Event");
            e.name = std::string(g.bytes);
          } else if (g.number == 3) {
            ExpectWire(g, 2, "Event");
            e.attrs.push_back(DecodeKeyValue(g.bytes));
          } else {
            ADD_FAILURE() << "unexpected Event field " << g.number;
          }
        }
        s.events.push_back(std::move(e));
        break;
      }
      case 15:
        ExpectWire(f, 2, "Span");
        s.has_status = true;
        for (const PbField& g : Parse(f.bytes)) {
          if (g.number == 2) {
            ExpectWire(g, 2, "Status");
            s.has_status_message = true;
            s.status_message = std::string(g.bytes);
          } else if (g.number == 3) {
            ExpectWire(g, 0, "Status");
            s.status_code = g.u64;
          } else {
            ADD_FAILURE() << "unexpected Status field " << g.number;
          }
        }
        break;
      default:
        ADD_FAILURE() << "unexpected Span field " << f.number;
    }
  }
  return s;
}

DRequest Decode(std::string_view body) {
  DRequest r;
  for (const PbField& top : Parse(body)) {
    EXPECT_EQ(top.number, 1u);
    ExpectWire(top, 2, "ExportTraceServiceRequest");
    ++r.resource_spans;
    for (const PbField& rs : Parse(top.bytes)) {
      if (rs.number == 1) {
        ExpectWire(rs, 2, "ResourceSpans");
        for (const PbField& a : Parse(rs.bytes)) {
          EXPECT_EQ(a.number, 1u) << "Resource field";
          r.resource_attrs.push_back(DecodeKeyValue(a.bytes));
        }
      } else if (rs.number == 2) {
        ExpectWire(rs, 2, "ResourceSpans");
        ++r.scope_spans;
        for (const PbField& ss : Parse(rs.bytes)) {
          if (ss.number == 1) {
            r.has_scope = true;
            for (const PbField& sc : Parse(ss.bytes)) {
              if (sc.number == 1) {
                r.has_scope_name = true;
                r.scope_name = std::string(sc.bytes);
              } else if (sc.number == 2) {
                r.has_scope_version = true;
                r.scope_version = std::string(sc.bytes);
              } else {
                ADD_FAILURE() << "unexpected InstrumentationScope field " << sc.number;
              }
            }
          } else if (ss.number == 2) {
            r.spans.push_back(DecodeSpan(ss.bytes));
          } else {
            ADD_FAILURE() << "unexpected ScopeSpans field " << ss.number;
          }
        }
      } else {
        ADD_FAILURE() << "unexpected ResourceSpans field " << rs.number;
      }
    }
  }
  return r;
}

std::string BigEndian(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (56 - 8 * i));
  return s;
}

// Encodes snapshots of `traces` (null entries stay null), as the exporter sees them.
std::string Encode(const std::vector<Trace*>& traces, const OtlpResource& resource = {}) {
  std::vector<std::shared_ptr<const Trace>> snapshots;
  std::vector<const Trace*> pointers;
  for (Trace* t : traces) {
    snapshots.push_back(t != nullptr ? t->Snapshot() : nullptr);
    pointers.push_back(snapshots.back().get());
  }
  std::string out;
  EncodeOtlpRequest(std::span<const Trace* const>(pointers.data(), pointers.size()), resource,
                    &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

constexpr TraceId kTraceId{0x0102030405060708ull, 0x090a0b0c0d0e0f10ull};
constexpr SpanId kRemote{0xa1a2a3a4a5a6a7a8ull};

TEST(OtlpEncodeTest, EncodesSpansParentsKindsTimesAttributesEventsAndStatus) {
  Trace t;
  t.Begin(kTraceId, kRemote, true);
  const int32_t root = t.AddSpan("sql.execute", SpanKind::kServer, kNoSpan, 1'000, SpanId{0x11});
  const int32_t child = t.AddSpan("sql.parse", SpanKind::kInternal, root, 1'100, SpanId{0x22});
  const int32_t open_span =
      t.AddSpan("storage.put", SpanKind::kUnspecified, child, 1'200, SpanId{0x33});
  t.SetAttribute(root, "str", "hello");
  t.SetAttribute(root, "yes", true);
  t.SetAttribute(root, "no", false);
  t.SetAttribute(root, "rows", int64_t{-3});
  t.SetAttribute(root, "ratio", 0.5);
  t.SetStatus(root, SpanStatus::kOk);
  for (int i = 0; i < kMaxAttributes + 2; ++i) {
    static const char* const kKeys[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"};
    t.SetAttribute(child, kKeys[i], i);
  }
  t.SetError(child, ErrorCode::kInvalidSql, "syntax error at 1:5");
  t.AddEvent(child, "parsed", 1'150, {{"tokens", 12}, {"sql", "SELECT 1"}});
  t.AddEvent(root, "started", 1'050, {});
  t.AddEvent(child, "second", 1'160, {{"ok", true}});
  t.EndSpan(child, 1'900);
  t.EndSpan(root, 2'000);
  (void)open_span;  // left open: end_ns == 0

  OtlpResource resource;
  resource.service_name = "svc";
  resource.service_version = "1.2.3";
  resource.host_name = "box";
  resource.scope_name = "scope";
  resource.scope_version = "0.9";
  DRequest r = Decode(Encode({&t}, resource));

  EXPECT_EQ(r.resource_spans, 1);
  EXPECT_EQ(r.scope_spans, 1);
  ASSERT_EQ(r.resource_attrs.size(), 3u);
  EXPECT_EQ(r.resource_attrs[0].key, "service.name");
  EXPECT_EQ(r.resource_attrs[0].type, 1);
  EXPECT_EQ(r.resource_attrs[0].s, "svc");
  ASSERT_NE(r.ResourceAttr("service.version"), nullptr);
  EXPECT_EQ(r.ResourceAttr("service.version")->s, "1.2.3");
  ASSERT_NE(r.ResourceAttr("host.name"), nullptr);
  EXPECT_EQ(r.ResourceAttr("host.name")->s, "box");
  EXPECT_EQ(r.scope_name, "scope");
  EXPECT_EQ(r.scope_version, "0.9");

  ASSERT_EQ(r.spans.size(), 3u);
  const std::string trace_bytes = BigEndian(kTraceId.hi) + BigEndian(kTraceId.lo);
  for (const DSpan& s : r.spans) EXPECT_EQ(s.trace_id, trace_bytes);

  const DSpan& s0 = r.spans[0];
  EXPECT_EQ(s0.name, "sql.execute");
  EXPECT_EQ(s0.span_id, BigEndian(0x11));
  EXPECT_TRUE(s0.has_parent);
  EXPECT_EQ(s0.parent, BigEndian(kRemote.value));  // the remote parent from traceparent
  EXPECT_EQ(s0.kind, 2u);
  EXPECT_EQ(s0.start, 1'000u);
  EXPECT_EQ(s0.end, 2'000u);
  ASSERT_EQ(s0.attrs.size(), 5u);
  EXPECT_EQ(s0.attrs[0].key, "str");
  EXPECT_EQ(s0.attrs[0].type, 1);
  EXPECT_EQ(s0.attrs[0].s, "hello");
  EXPECT_EQ(s0.attrs[1].type, 2);
  EXPECT_TRUE(s0.attrs[1].b);
  EXPECT_EQ(s0.attrs[2].type, 2);  // false is still sent (oneof presence)
  EXPECT_FALSE(s0.attrs[2].b);
  EXPECT_EQ(s0.attrs[3].type, 3);
  EXPECT_EQ(s0.attrs[3].i, -3);
  EXPECT_EQ(s0.attrs[4].type, 4);
  EXPECT_EQ(s0.attrs[4].d, 0.5);
  EXPECT_EQ(s0.dropped_attrs, 0u);
  ASSERT_EQ(s0.events.size(), 1u);
  EXPECT_EQ(s0.events[0].name, "started");
  EXPECT_EQ(s0.events[0].time, 1'050u);
  EXPECT_TRUE(s0.events[0].attrs.empty());
  EXPECT_TRUE(s0.has_status);
  EXPECT_EQ(s0.status_code, 1u);
  EXPECT_FALSE(s0.has_status_message);

  const DSpan& s1 = r.spans[1];
  EXPECT_EQ(s1.name, "sql.parse");
  EXPECT_EQ(s1.span_id, BigEndian(0x22));
  EXPECT_EQ(s1.parent, BigEndian(0x11));
  EXPECT_EQ(s1.kind, 1u);
  EXPECT_EQ(s1.start, 1'100u);
  EXPECT_EQ(s1.end, 1'900u);
  // kMaxAttributes own attributes, then error.code and error.message.
  ASSERT_EQ(s1.attrs.size(), static_cast<size_t>(kMaxAttributes) + 2);
  EXPECT_EQ(s1.attrs[0].key, "a0");
  EXPECT_EQ(s1.attrs[0].type, 3);
  EXPECT_EQ(s1.attrs[0].i, 0);
  EXPECT_EQ(s1.attrs[7].i, 7);
  EXPECT_EQ(s1.attrs[kMaxAttributes].key, "error.code");
  EXPECT_EQ(s1.attrs[kMaxAttributes].s, ErrorCodeName(ErrorCode::kInvalidSql));
  EXPECT_EQ(s1.attrs[kMaxAttributes + 1].key, "error.message");
  EXPECT_EQ(s1.attrs[kMaxAttributes + 1].s, "syntax error at 1:5");
  EXPECT_EQ(s1.dropped_attrs, 2u);
  ASSERT_EQ(s1.events.size(), 2u);
  EXPECT_EQ(s1.events[0].name, "parsed");
  EXPECT_EQ(s1.events[0].time, 1'150u);
  ASSERT_EQ(s1.events[0].attrs.size(), 2u);
  EXPECT_EQ(s1.events[0].attrs[0].key, "tokens");
  EXPECT_EQ(s1.events[0].attrs[0].i, 12);
  EXPECT_EQ(s1.events[0].attrs[1].key, "sql");
  EXPECT_EQ(s1.events[0].attrs[1].s, "SELECT 1");
  EXPECT_EQ(s1.events[1].name, "second");
  ASSERT_EQ(s1.events[1].attrs.size(), 1u);
  EXPECT_TRUE(s1.events[1].attrs[0].b);
  EXPECT_TRUE(s1.has_status);
  EXPECT_EQ(s1.status_code, 2u);
  EXPECT_EQ(s1.status_message, "syntax error at 1:5");

  const DSpan& s2 = r.spans[2];
  EXPECT_EQ(s2.name, "storage.put");
  EXPECT_EQ(s2.parent, BigEndian(0x22));
  EXPECT_FALSE(s2.has_kind);  // SPAN_KIND_UNSPECIFIED is the default: not written
  EXPECT_EQ(s2.start, 1'200u);
  EXPECT_EQ(s2.end, 1'200u);  // still open: end = start
  EXPECT_TRUE(s2.attrs.empty());
  EXPECT_TRUE(s2.events.empty());
  EXPECT_FALSE(s2.has_status);  // unset: omitted
}

TEST(OtlpEncodeTest, RootWithoutRemoteParentHasNoParentAndDefaultsOmitEmptyResourceFields) {
  Trace a;
  a.Begin(TraceId{1, 2}, SpanId{}, true);
  const int32_t ra = a.AddSpan("root", SpanKind::kServer, kNoSpan, 5, SpanId{7});
  a.EndSpan(ra, 9);
  a.SetError(ra, ErrorCode::kInternal, "");
  Trace b;
  b.Begin(TraceId{3, 4}, SpanId{}, true);
  const int32_t rb = b.AddSpan("other", SpanKind::kClient, kNoSpan, 6, SpanId{8});
  b.EndSpan(rb, 10);

  DRequest r = Decode(Encode({&a, nullptr, &b}));
  ASSERT_EQ(r.resource_attrs.size(), 1u);
  EXPECT_EQ(r.resource_attrs[0].key, "service.name");
  EXPECT_EQ(r.resource_attrs[0].s, "kalamdb-server");
  EXPECT_EQ(r.scope_name, "kalamdb-server");
  EXPECT_FALSE(r.has_scope_version);
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_FALSE(r.spans[0].has_parent);
  EXPECT_EQ(r.spans[0].trace_id, BigEndian(1) + BigEndian(2));
  EXPECT_EQ(r.spans[1].trace_id, BigEndian(3) + BigEndian(4));
  EXPECT_EQ(r.spans[1].kind, 3u);
  // ERROR without a message: code and error.code only.
  EXPECT_EQ(r.spans[0].status_code, 2u);
  EXPECT_FALSE(r.spans[0].has_status_message);
  ASSERT_EQ(r.spans[0].attrs.size(), 1u);
  EXPECT_EQ(r.spans[0].attrs[0].key, "error.code");
  EXPECT_EQ(r.spans[0].attrs[0].s, "internal");
}

TEST(OtlpEncodeTest, ARecordingEncodesToTheBytesOfItsSnapshot) {
  // The exporter encodes finished recordings, not snapshots: interleaved attributes, a key set
  // twice, a span over the attribute cap, events and an error must come out as from the
  // snapshot, byte for byte.
  Trace t;
  t.Begin(kTraceId, kRemote, true);
  const int32_t root = t.AddSpan("POST /v1/api/sql", SpanKind::kServer, kNoSpan, 1'000);
  const int32_t child = t.AddSpan("sql.statement", SpanKind::kInternal, root, 1'100);
  const int32_t wide = t.AddSpan("wide", SpanKind::kInternal, root, 1'200);
  t.SetAttribute(child, "rows", 1);
  t.SetAttribute(root, "http.method", "POST");
  t.SetAttribute(child, "ratio", 0.25);
  t.SetAttribute(child, "rows", 3);
  t.SetAttribute(root, "ok", false);
  const char* keys[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"};
  for (const char* key : keys) t.SetAttribute(wide, key, "v");
  t.AddEvent(child, "retry", 1'150, {{"attempt", 2}, {"why", "busy"}});
  t.SetError(child, ErrorCode::kInvalidSql, "syntax error");
  t.EndSpan(wide, 1'250);
  t.EndSpan(child, 1'300);
  t.EndSpan(root, 1'400);
  t.AssignSpanIds();

  const std::vector<const Trace*> recording = {&t, &t};  // twice: the encoder's state resets
  std::string from_recording;
  EncodeOtlpRequest(recording, OtlpResource{}, &from_recording);
  const std::string from_snapshot = Encode({&t, &t});
  EXPECT_EQ(from_recording, from_snapshot);
  const DRequest r = Decode(from_recording);
  ASSERT_EQ(r.spans.size(), 6u);
  EXPECT_EQ(r.spans[1].attrs.size(), 4u);  // rows, ratio, error.code, error.message
  EXPECT_EQ(r.spans[2].attrs.size(), static_cast<size_t>(kMaxAttributes));
  EXPECT_EQ(r.spans[2].dropped_attrs, 2u);
  ASSERT_NE(r.spans[1].Attr("rows"), nullptr);
  EXPECT_EQ(r.spans[1].Attr("rows")->i, 3);    // the last value
  EXPECT_EQ(r.spans[1].attrs[0].key, "rows");  // in the first place
  ASSERT_EQ(r.spans[1].events.size(), 1u);
}

TEST(OtlpEncodeTest, EmptyInputStillGivesAValidRequestAndAppends) {
  std::string out = "prefix";
  EncodeOtlpRequest({}, OtlpResource{}, &out);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  DRequest r = Decode(std::string_view(out).substr(6));
  EXPECT_EQ(r.resource_spans, 1);
  EXPECT_EQ(r.scope_spans, 1);
  EXPECT_TRUE(r.has_scope);
  EXPECT_TRUE(r.spans.empty());
}

TEST(OtlpEncodeTest, LargeAndManySpansKeepCorrectLengths) {
  // One 40 KB string attribute (a span needing a 3-byte length) and many small spans (a
  // request over 16 KB) exercise every length-patching path.
  Trace t;
  t.Begin(TraceId{9, 9}, SpanId{}, true);
  const int32_t root = t.AddSpan("root", SpanKind::kServer, kNoSpan, 1, SpanId{1});
  const std::string big(40'000, 'x');
  t.SetAttribute(root, "big", big);
  for (int i = 0; i < 600; ++i) {
    const int32_t c = t.AddSpan("child", SpanKind::kInternal, root, 2 + i);
    t.SetAttribute(c, "i", i);
    t.EndSpan(c, 3 + i);
  }
  t.EndSpan(root, 1'000);
  DRequest r = Decode(Encode({&t}));
  ASSERT_EQ(r.spans.size(), 601u);
  ASSERT_NE(r.spans[0].Attr("big"), nullptr);
  EXPECT_EQ(r.spans[0].Attr("big")->s, big);
  EXPECT_EQ(r.spans[600].Attr("i")->i, 599);
  EXPECT_EQ(r.spans[600].parent, BigEndian(1));
}

// ---------------------------------------------------------------------------------------------
// Endpoints

TEST(OtlpEndpointTest, ParsesHostsPortsAndPaths) {
  using otlp_internal::ParseEndpoint;
  auto a = ParseEndpoint("http://127.0.0.1:4317", 1);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4317);
  EXPECT_EQ(a->path, "");
  EXPECT_EQ(a->HostPort(), "127.0.0.1:4317");
  auto b = ParseEndpoint("collector/custom/traces", 4318);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "collector");
  EXPECT_EQ(b->port, 4318);
  EXPECT_EQ(b->path, "/custom/traces");
  auto c = ParseEndpoint("http://[::1]:9000/", 1);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_TRUE(c->ipv6);
  EXPECT_EQ(c->HostPort(), "[::1]:9000");
  EXPECT_EQ(c->path, "/");

  for (const char* bad : {"", "http://", "https://h:1", "ftp://h", "h:", "h:0", "h:65536", "h:12x",
                          "[::1", "[::1]x", "a b:1", "u@h:1", "h:1/a b"}) {
    EXPECT_FALSE(ParseEndpoint(bad, 4317).ok()) << bad;
  }
}

TEST(OtlpEndpointTest, MakeTransportValidatesArguments) {
  EXPECT_TRUE(MakeOtlpTransport("grpc", "http://127.0.0.1:4317", 1000).ok());
  EXPECT_TRUE(MakeOtlpTransport("http", "http://127.0.0.1:4318", 1000).ok());
  auto bad_protocol = MakeOtlpTransport("thrift", "http://127.0.0.1:4317", 1000);
  ASSERT_FALSE(bad_protocol.ok());
  EXPECT_EQ(bad_protocol.status().code(), ErrorCode::kInvalidArgument);
  auto bad_endpoint = MakeOtlpTransport("grpc", "https://127.0.0.1:4317", 1000);
  ASSERT_FALSE(bad_endpoint.ok());
  EXPECT_EQ(bad_endpoint.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(MakeOtlpTransport("http", "127.0.0.1:4318", 0).ok());
}

// ---------------------------------------------------------------------------------------------
// Exporter with a fake transport

struct FakeState {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SendOutcome> script;    // outcome of call i (the last one repeats); empty: ok
  std::vector<size_t> request_spans;  // spans per Send call, accepted or not
  std::vector<std::vector<std::string>> request_trace_ids;
  std::vector<std::string> bodies;  // every request body, as sent
  int calls = 0;
  int in_send = 0;
  bool block = false;  // Send waits until cleared (or 10 s)

  void Release() {
    std::lock_guard<std::mutex> lk(mu);
    block = false;
    cv.notify_all();
  }
  bool WaitForCalls(int n) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(10), [&] { return calls >= n; });
  }
};

class FakeTransport final : public OtlpTransport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeState> state) : s_(std::move(state)) {}
  SendResult Send(std::string_view body) override {
    DRequest r = Decode(body);
    std::unique_lock<std::mutex> lk(s_->mu);
    const int call = s_->calls++;
    ++s_->in_send;
    s_->request_spans.push_back(r.spans.size());
    s_->bodies.emplace_back(body);
    std::vector<std::string> ids;
    for (const DSpan& sp : r.spans) ids.push_back(sp.trace_id);
    s_->request_trace_ids.push_back(std::move(ids));
    s_->cv.notify_all();
    s_->cv.wait_for(lk, std::chrono::seconds(10), [&] { return !s_->block; });
    --s_->in_send;
    SendOutcome outcome = SendOutcome::kOk;
    if (!s_->script.empty()) {
      outcome = s_->script[std::min<size_t>(static_cast<size_t>(call), s_->script.size() - 1)];
    }
    return {outcome, outcome == SendOutcome::kOk ? "" : "scripted failure"};
  }

 private:
  std::shared_ptr<FakeState> s_;
};

std::shared_ptr<const Trace> MakeTrace(int spans, uint64_t id) {
  auto t = std::make_shared<Trace>();
  t->Begin(TraceId{id, id}, SpanId{}, true);
  int32_t root = kNoSpan;
  for (int i = 0; i < spans; ++i) {
    const int32_t s = t->AddSpan("s", SpanKind::kInternal, root, 100 + i);
    t->EndSpan(s, 200 + i);
    if (i == 0) root = s;
  }
  return t->Snapshot();
}

ExporterOptions FastOptions(size_t batch, int delay_ms) {
  ExporterOptions o;
  o.max_batch_spans = batch;
  o.schedule_delay_ms = delay_ms;
  o.retry_backoff_ms = 1;
  return o;
}

TEST(OtlpExporterTest, BatchesWholeTracesUpToMaxBatchSpans) {
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(8, 60'000));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, i + 1)));
  exporter.Shutdown(10'000);
  ExporterStats st = exporter.stats();
  EXPECT_EQ(st.enqueued, 10u);
  EXPECT_EQ(st.exported_spans, 30u);
  EXPECT_EQ(st.queue_depth, 0u);
  size_t total = 0;
  for (size_t i = 0; i < fake->request_spans.size(); ++i) {
    const size_t n = fake->request_spans[i];
    EXPECT_LE(n, 8u);
    EXPECT_EQ(n % 3, 0u) << "a trace was split";
    // Spans of one trace are adjacent and no trace appears in two requests.
    std::vector<std::string> ids = fake->request_trace_ids[i];
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    EXPECT_EQ(ids.size() * 3, n);
    total += n;
  }
  EXPECT_EQ(total, 30u);
  EXPECT_GE(fake->request_spans.size(), 5u);  // 30 spans, at most 2 whole traces per request
  EXPECT_EQ(st.exported_requests, fake->request_spans.size());
}

TEST(OtlpExporterTest, ExportsFinishedRecordingsAsTheirSnapshots) {
  // What the Tracer's collector hands over: the recording itself, read only during Enqueue.
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(100, 60'000));
  Trace t;
  for (uint64_t id = 1; id <= 3; ++id) {
    t.Begin(TraceId{id, id}, SpanId{}, true);
    const int32_t root = t.AddSpan("root", SpanKind::kServer, kNoSpan, 100);
    const int32_t child = t.AddSpan("child", SpanKind::kInternal, root, 110);
    t.SetAttribute(child, "rows", static_cast<int64_t>(id));
    t.SetAttribute(root, "route", "/v1/api/sql");
    t.SetAttribute(child, "rows", static_cast<int64_t>(id * 10));
    t.EndSpan(child, 120);
    t.EndSpan(root, 130);
    t.AssignSpanIds();
    ASSERT_TRUE(exporter.Enqueue(t));
  }
  exporter.Shutdown(10'000);
  EXPECT_EQ(exporter.stats().exported_spans, 6u);
  ASSERT_EQ(fake->bodies.size(), 1u);
  const DRequest r = Decode(fake->bodies[0]);
  ASSERT_EQ(r.spans.size(), 6u);
  for (size_t i = 0; i < 3; ++i) {
    const DSpan& root = r.spans[2 * i];
    const DSpan& child = r.spans[2 * i + 1];
    EXPECT_EQ(root.name, "root");
    EXPECT_EQ(child.parent, root.span_id);
    ASSERT_EQ(child.attrs.size(), 1u);
    EXPECT_EQ(child.attrs[0].i, static_cast<int64_t>((i + 1) * 10));
    ASSERT_EQ(root.attrs.size(), 1u);
    EXPECT_EQ(root.attrs[0].s, "/v1/api/sql");
  }
}

TEST(OtlpExporterTest, AHalfFullQueueOfSmallTracesExportsWithoutWaiting) {
  // One-span traces never add up to max_batch_spans before the queue (8 traces) is full:
  // the exporter starts at half a queue instead of waiting out the schedule delay.
  auto fake = std::make_shared<FakeState>();
  ExporterOptions options = FastOptions(8192, 600'000);
  options.max_queue_traces = 8;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, options);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, i + 1)));
  EXPECT_TRUE(fake->WaitForCalls(1));
  exporter.Shutdown(10'000);
  EXPECT_EQ(exporter.stats().exported_spans, 4u);
  EXPECT_EQ(exporter.stats().dropped_queue_full, 0u);
}

TEST(OtlpExporterTest, RequestsStopAtMaxBatchBytes) {
  auto fake = std::make_shared<FakeState>();
  ExporterOptions options = FastOptions(100, 600'000);
  options.max_batch_bytes = 1;  // every trace alone is over it: one trace per request
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, options);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(exporter.Enqueue(MakeTrace(2, i + 1)));
  exporter.Shutdown(10'000);
  EXPECT_EQ(fake->request_spans, (std::vector<size_t>{2, 2, 2}));
  EXPECT_EQ(exporter.stats().exported_spans, 6u);
}

TEST(OtlpExporterTest, FullBatchExportsWithoutWaitingForTheScheduleDelay) {
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(6, 600'000));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, 1)));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, 2)));
  EXPECT_TRUE(fake->WaitForCalls(1));
  exporter.Shutdown();
  EXPECT_EQ(exporter.stats().exported_spans, 6u);
}

TEST(OtlpExporterTest, TraceLargerThanABatchIsSplit) {
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(8, 600'000));
  const auto trace = MakeTrace(20, 1);
  ASSERT_TRUE(exporter.Enqueue(trace));
  exporter.Shutdown(10'000);
  EXPECT_EQ(fake->request_spans, (std::vector<size_t>{8, 8, 4}));
  // The pieces hold the trace's spans in order, each once.
  std::vector<std::string> sent;
  for (const std::string& body : fake->bodies) {
    for (const DSpan& s : Decode(body).spans) sent.push_back(s.span_id);
  }
  ASSERT_EQ(sent.size(), 20u);
  for (size_t i = 0; i < sent.size(); ++i)
    EXPECT_EQ(sent[i], BigEndian(trace->spans()[i].id.value)) << "span " << i;
  EXPECT_EQ(exporter.stats().exported_spans, 20u);
  EXPECT_EQ(exporter.stats().exported_requests, 3u);
}

TEST(OtlpExporterTest, ScheduleDelayFlushesAPartialBatch) {
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(512, 20));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(2, 1)));
  EXPECT_TRUE(fake->WaitForCalls(1));  // long before any shutdown
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(2, 2)));
  EXPECT_TRUE(fake->WaitForCalls(2));
  EXPECT_EQ(fake->request_spans[0], 2u);
  exporter.Shutdown();
}

TEST(OtlpExporterTest, ShutdownFlushesWhatIsQueuedAndRefusesLaterTraces) {
  auto fake = std::make_shared<FakeState>();
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(512, 600'000));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(2, 1)));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(exporter.stats().exported_requests, 0u);  // neither a full batch nor the delay yet
  EXPECT_EQ(exporter.stats().queue_depth, 2u);
  exporter.Shutdown();
  ExporterStats st = exporter.stats();
  EXPECT_EQ(st.exported_requests, 1u);
  EXPECT_EQ(st.exported_spans, 3u);
  EXPECT_EQ(st.queue_depth, 0u);
  EXPECT_FALSE(exporter.Enqueue(MakeTrace(1, 3)));
  EXPECT_FALSE(exporter.Enqueue(nullptr));
  EXPECT_EQ(exporter.stats().dropped_after_shutdown, 1u);
  exporter.Shutdown();  // idempotent
}

TEST(OtlpExporterTest, QueueOverflowIsCountedWhileTheCollectorHangs) {
  auto fake = std::make_shared<FakeState>();
  fake->block = true;
  ExporterOptions o = FastOptions(1, 1);
  o.max_queue_traces = 4;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, o);
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, 100)));
  ASSERT_TRUE(fake->WaitForCalls(1));  // the exporter holds that trace, stuck in Send
  int accepted = 0;
  EXPECT_TRUE(exporter.Accepting());
  for (int i = 0; i < 10; ++i) accepted += exporter.Enqueue(MakeTrace(1, i + 1)) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_FALSE(exporter.Accepting());  // full: callers may skip preparing traces
  exporter.CountRefused();
  ExporterStats st = exporter.stats();
  EXPECT_EQ(st.dropped_queue_full, 7u);
  EXPECT_EQ(st.queue_depth, 4u);
  EXPECT_EQ(st.enqueued, 5u);
  fake->Release();
  exporter.Shutdown(10'000);
  EXPECT_EQ(exporter.stats().exported_spans, 5u);
  EXPECT_FALSE(exporter.Accepting());  // shut down
}

TEST(OtlpExporterTest, RetryableFailuresAreRetriedBoundedThenDroppedAndCounted) {
  auto fake = std::make_shared<FakeState>();
  fake->script = {SendOutcome::kRetryable};
  ExporterOptions o = FastOptions(512, 600'000);
  o.max_retries = 2;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, o);
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(4, 1)));
  exporter.Shutdown(10'000);
  ExporterStats st = exporter.stats();
  EXPECT_EQ(fake->calls, 3);  // one attempt plus two retries
  EXPECT_EQ(st.failed_requests, 3u);
  EXPECT_EQ(st.dropped_spans_export_failed, 4u);
  EXPECT_EQ(st.exported_spans, 0u);
  EXPECT_EQ(st.last_error, "scripted failure");
}

TEST(OtlpExporterTest, RetrySucceedsAndFatalIsNotRetried) {
  auto fake = std::make_shared<FakeState>();
  fake->script = {SendOutcome::kRetryable, SendOutcome::kOk, SendOutcome::kFatal};
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(3, 600'000));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, 1)));  // fails once, then ok
  ASSERT_TRUE(fake->WaitForCalls(2));
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, 2)));  // fatal: dropped at once
  exporter.Shutdown(10'000);
  ExporterStats st = exporter.stats();
  EXPECT_EQ(fake->calls, 3);
  EXPECT_EQ(st.exported_spans, 3u);
  EXPECT_EQ(st.exported_requests, 1u);
  EXPECT_EQ(st.failed_requests, 2u);
  EXPECT_EQ(st.dropped_spans_export_failed, 3u);
}

TEST(OtlpExporterTest, WhileTheCollectorFailsTheQueueTakesOneTraceAtATime) {
  auto fake = std::make_shared<FakeState>();
  fake->script = {SendOutcome::kRetryable, SendOutcome::kOk};  // the first request fails
  ExporterOptions o = FastOptions(512, 1);
  o.max_retries = 0;
  o.max_queue_traces = 64;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, o);
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, 1)));
  for (int i = 0; i < 1000 && exporter.stats().dropped_spans_export_failed == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(exporter.stats().dropped_spans_export_failed, 1u);
  {
    std::lock_guard<std::mutex> lk(fake->mu);
    fake->block = true;  // the probe's request waits in Send
  }
  EXPECT_TRUE(exporter.Accepting());  // nothing queued: the next trace is the probe
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, 2)));
  ASSERT_TRUE(fake->WaitForCalls(2));  // the probe is in flight, the queue empty again
  EXPECT_TRUE(exporter.Enqueue(MakeTrace(1, 3)));
  EXPECT_FALSE(exporter.Accepting());  // one queued while failing: the rest are refused
  EXPECT_FALSE(exporter.Enqueue(MakeTrace(1, 4)));
  EXPECT_EQ(exporter.stats().dropped_queue_full, 1u);
  fake->Release();  // the probe succeeds: the collector is back, the queue takes traces again
  for (int i = 0; i < 1000 && !exporter.Accepting(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(exporter.Accepting());
  EXPECT_TRUE(exporter.Enqueue(MakeTrace(1, 5)));
  EXPECT_TRUE(exporter.Enqueue(MakeTrace(1, 6)));
  exporter.Shutdown(10'000);
  const ExporterStats st = exporter.stats();
  EXPECT_EQ(st.exported_spans, 4u);  // traces 2, 3, 5 and 6
  EXPECT_EQ(st.dropped_spans_export_failed, 1u);
}

TEST(OtlpExporterTest, BlockingTransportNeverBlocksEnqueue) {
  auto fake = std::make_shared<FakeState>();
  fake->block = true;
  ExporterOptions o = FastOptions(2, 1);
  o.max_queue_traces = 64;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, o);
  ASSERT_TRUE(exporter.Enqueue(MakeTrace(2, 1)));
  ASSERT_TRUE(fake->WaitForCalls(1));
  int64_t worst_us = 0;
  for (int i = 0; i < 200; ++i) {
    auto trace = MakeTrace(2, i + 2);
    const auto start = Clock::now();
    exporter.Enqueue(std::move(trace));
    worst_us = std::max<int64_t>(
        worst_us,
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  }
  EXPECT_LT(worst_us, 50'000);  // generous: the real bound is a mutex push
  ExporterStats st = exporter.stats();
  EXPECT_EQ(st.enqueued, 65u);
  EXPECT_EQ(st.dropped_queue_full, 136u);
  fake->Release();
  exporter.Shutdown(10'000);
}

TEST(OtlpExporterTest, ShutdownGivesUpOnAHangingCollectorAndCountsTheRest) {
  auto fake = std::make_shared<FakeState>();
  fake->block = true;
  OtlpExporter exporter(std::make_unique<FakeTransport>(fake), {}, FastOptions(1, 1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(exporter.Enqueue(MakeTrace(1, i + 1)));
  ASSERT_TRUE(fake->WaitForCalls(1));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    fake->Release();  // the in-flight Send returns after the flush deadline
  });
  exporter.Shutdown(50);
  releaser.join();
  ExporterStats st = exporter.stats();
  EXPECT_EQ(st.exported_spans + st.dropped_spans_shutdown, 5u);
  EXPECT_GE(st.dropped_spans_shutdown, 1u);
  EXPECT_EQ(st.queue_depth, 0u);
}

// ---------------------------------------------------------------------------------------------
// Real transports against local sockets

// A port nothing listens on (bound, then closed).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A listening socket on 127.0.0.1 (connections complete in the kernel backlog).
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
};

std::string SampleBody() {
  Trace t;
  t.Begin(TraceId{1, 1}, SpanId{}, true);
  t.EndSpan(t.AddSpan("x", SpanKind::kServer, kNoSpan, 1), 2);
  return Encode({&t});
}

TEST(OtlpGrpcTransportTest, NothingListeningIsRetryableWithinTheTimeout) {
  const int port = FreePort();
  auto transport = MakeOtlpTransport("grpc", "http://127.0.0.1:" + std::to_string(port), 1000);
  ASSERT_TRUE(transport.ok());
  const auto start = Clock::now();
  SendResult r = (*transport)->Send(SampleBody());
  EXPECT_EQ(r.outcome, SendOutcome::kRetryable) << r.error;
  EXPECT_FALSE(r.error.empty());
  EXPECT_LT(MillisSince(start), 1000 + 4000);
}

TEST(OtlpGrpcTransportTest, SilentPeerHitsTheDeadlineAndIsRetryable) {
  Listener silent;  // accepts TCP but never speaks HTTP/2
  auto transport = MakeOtlpTransport("grpc", "127.0.0.1:" + std::to_string(silent.port), 300);
  ASSERT_TRUE(transport.ok());
  const auto start = Clock::now();
  SendResult r = (*transport)->Send(SampleBody());
  EXPECT_EQ(r.outcome, SendOutcome::kRetryable) << r.error;
  EXPECT_LT(MillisSince(start), 300 + 4000);
}

// Serves HTTP/1.1 requests on one kept-alive connection, answering with `statuses` in turn.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() { Stop(); }
  // Waits for the server thread (which ends after answering every status). Read heads and
  // bodies only after this.
  void Stop() {
    if (!thread_.joinable()) return;
    ::shutdown(listener_.fd, SHUT_RDWR);
    thread_.join();
  }
  int port() const { return listener_.port; }
  std::vector<std::string> heads;
  std::vector<std::string> bodies;

 private:
  void Serve() {
    int fd = ::accept(listener_.fd, nullptr, nullptr);
    if (fd < 0) return;
    std::string buf;
    char tmp[65536];
    for (int status : statuses_) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
          ::close(fd);
          return;
        }
        buf.append(tmp, static_cast<size_t>(n));
      }
      std::string head = buf.substr(0, end);
      size_t length = 0;
      if (size_t p = head.find("Content-Length: "); p != std::string::npos) {
        length = std::stoul(head.substr(p + 16));
      }
      while (buf.size() < end + 4 + length) {
        ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
          ::close(fd);
          return;
        }
        buf.append(tmp, static_cast<size_t>(n));
      }
      heads.push_back(head);
      bodies.push_back(buf.substr(end + 4, length));
      buf.erase(0, end + 4 + length);
      std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(fd);
  }

  Listener listener_;
  std::vector<int> statuses_;
  std::thread thread_;
};

TEST(OtlpHttpTransportTest, PostsProtobufAndClassifiesStatuses) {
  const std::string body = SampleBody();
  std::vector<SendResult> results;
  std::vector<std::string> heads, bodies;
  {
    TinyHttpServer server({200, 503, 429, 400});
    auto transport =
        MakeOtlpTransport("http", "http://127.0.0.1:" + std::to_string(server.port()), 5000);
    ASSERT_TRUE(transport.ok());
    for (int i = 0; i < 4; ++i) results.push_back((*transport)->Send(body));
    transport->reset();
    server.Stop();
    heads = server.heads;
    bodies = server.bodies;
  }
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, SendOutcome::kOk);
  EXPECT_EQ(results[1].outcome, SendOutcome::kRetryable);
  EXPECT_EQ(results[2].outcome, SendOutcome::kRetryable);
  EXPECT_EQ(results[3].outcome, SendOutcome::kFatal);
  EXPECT_NE(results[3].error.find("400"), std::string::npos) << results[3].error;
  ASSERT_EQ(heads.size(), 4u);
  EXPECT_EQ(heads[0].substr(0, heads[0].find("\r\n")), "POST /v1/traces HTTP/1.1");
  EXPECT_NE(heads[0].find("Content-Type: application/x-protobuf"), std::string::npos);
  EXPECT_EQ(bodies[0], body);
}

TEST(OtlpHttpTransportTest, CustomPathAndNothingListeningIsRetryable) {
  {
    TinyHttpServer server({200});
    auto transport = MakeOtlpTransport(
        "http", "http://127.0.0.1:" + std::to_string(server.port()) + "/otlp/v1/traces", 5000);
    ASSERT_TRUE(transport.ok());
    EXPECT_EQ((*transport)->Send("abc").outcome, SendOutcome::kOk);
    transport->reset();
    server.Stop();
    ASSERT_EQ(server.heads.size(), 1u);
    EXPECT_EQ(server.heads[0].substr(0, server.heads[0].find("\r\n")),
              "POST /otlp/v1/traces HTTP/1.1");
  }
  auto transport =
      MakeOtlpTransport("http", "http://127.0.0.1:" + std::to_string(FreePort()), 1000);
  ASSERT_TRUE(transport.ok());
  const auto start = Clock::now();
  SendResult r = (*transport)->Send("abc");
  EXPECT_EQ(r.outcome, SendOutcome::kRetryable);
  EXPECT_LT(MillisSince(start), 1000 + 4000);
}

TEST(OtlpHttpTransportTest, ExporterEndToEndOverHttp) {
  std::vector<std::string> bodies;
  {
    TinyHttpServer server({200});
    auto transport = MakeOtlpTransport("http", "127.0.0.1:" + std::to_string(server.port()), 5000);
    ASSERT_TRUE(transport.ok());
    OtlpResource resource;
    resource.service_name = "e2e";
    OtlpExporter exporter(std::move(*transport), resource, FastOptions(512, 600'000));
    ASSERT_TRUE(exporter.Enqueue(MakeTrace(3, 42)));
    exporter.Shutdown(10'000);
    EXPECT_EQ(exporter.stats().exported_spans, 3u);
    server.Stop();
    bodies = server.bodies;
  }
  ASSERT_EQ(bodies.size(), 1u);
  DRequest r = Decode(bodies[0]);
  EXPECT_EQ(r.resource_attrs[0].s, "e2e");
  ASSERT_EQ(r.spans.size(), 3u);
  EXPECT_EQ(r.spans[1].parent, r.spans[0].span_id);
}

}  // namespace
}  // namespace kalamdb::trace
