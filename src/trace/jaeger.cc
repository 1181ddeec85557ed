#include "trace/jaeger.h"

#include <string_view>

namespace kalamdb::trace {
namespace {

void StringTag(JsonWriter& w, std::string_view key, std::string_view value) {
  w.BeginObject();
  w.Key("key").String(key);
  w.Key("type").String("string");
  w.Key("value").String(value);
  w.EndObject();
}

void AttrTag(JsonWriter& w, const Trace& trace, const AttrRecord& a) {
  w.BeginObject();
  w.Key("key").String(a.key);
  switch (a.type) {
    case ValueType::kString:
      w.Key("type").String("string");
      w.Key("value").String(trace.StringOf(a));
      break;
    case ValueType::kInt:
      w.Key("type").String("int64");
      w.Key("value").Int(a.int_value);
      break;
    case ValueType::kDouble:
      w.Key("type").String("float64");
      w.Key("value").Double(a.double_value, 9);
      break;
    case ValueType::kBool:
      w.Key("type").String("bool");
      w.Key("value").Bool(a.int_value != 0);
      break;
  }
  w.EndObject();
}

const char* KindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
    case SpanKind::kUnspecified:
      break;
  }
  return nullptr;
}

// Whole microseconds, truncated as Jaeger does.
int64_t Micros(int64_t ns) { return ns / 1000; }

void WriteSpan(JsonWriter& w, const Trace& trace, const SpanRecord& s, const std::string& trace_hex,
               const JaegerOptions& options) {
  w.BeginObject();
  w.Key("traceID").String(trace_hex);
  w.Key("spanID").String(s.id.ToHex());
  w.Key("operationName").String(s.name);
  w.Key("references").BeginArray();
  SpanId parent;
  if (s.parent != kNoSpan) {
    parent = trace.spans()[s.parent].id;
  } else {
    parent = trace.remote_parent();
  }
  if (parent.valid()) {
    w.BeginObject();
    w.Key("refType").String("CHILD_OF");
    w.Key("traceID").String(trace_hex);
    w.Key("spanID").String(parent.ToHex());
    w.EndObject();
  }
  w.EndArray();
  w.Key("startTime").Int(Micros(s.start_ns));
  int64_t end_ns = s.end_ns != 0 ? s.end_ns : s.start_ns;
  w.Key("duration").Int(Micros(end_ns - s.start_ns));
  if (options.nanos) {
    w.Key("startTimeUnixNano").Int(s.start_ns);
    w.Key("durationNanos").Int(end_ns - s.start_ns);
  }

  w.Key("tags").BeginArray();
  if (!options.scope_name.empty()) StringTag(w, "otel.scope.name", options.scope_name);
  if (!options.scope_version.empty()) StringTag(w, "otel.scope.version", options.scope_version);
  for (const AttrRecord& a : trace.AttributesOf(s)) AttrTag(w, trace, a);
  if (s.status == SpanStatus::kError) {
    StringTag(w, "error.code", ErrorCodeName(s.error_code));
    if (s.error_size > 0) StringTag(w, "error.message", trace.ErrorMessageOf(s));
  }
  if (const char* kind = KindName(s.kind)) StringTag(w, "span.kind", kind);
  if (s.status != SpanStatus::kUnset) {
    StringTag(w, "otel.status_code", s.status == SpanStatus::kError ? "ERROR" : "OK");
  }
  if (s.status == SpanStatus::kError) {
    w.BeginObject();
    w.Key("key").String("error");
    w.Key("type").String("bool");
    w.Key("value").Bool(true);
    w.EndObject();
    if (s.error_size > 0) StringTag(w, "otel.status_description", trace.ErrorMessageOf(s));
  }
  w.EndArray();

  w.Key("logs").BeginArray();
  const int32_t index = static_cast<int32_t>(&s - trace.spans().data());
  for (const EventRecord& e : trace.events()) {
    if (e.span != index) continue;
    w.BeginObject();
    w.Key("timestamp").Int(Micros(e.time_ns));
    if (options.nanos) w.Key("timestampUnixNano").Int(e.time_ns);
    w.Key("fields").BeginArray();
    StringTag(w, "event", e.name);
    for (uint32_t i = 0; i < e.field_count; ++i) {
      AttrTag(w, trace, trace.fields()[e.first_field + i]);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("processID").String("p1");
  w.Key("warnings").Null();
  w.EndObject();
}

}  // namespace

void WriteJaegerTrace(JsonWriter& w, const Trace& trace, const JaegerOptions& options) {
  const std::string trace_hex = trace.trace_id().ToHex();
  w.BeginObject();
  w.Key("traceID").String(trace_hex);
  w.Key("spans").BeginArray();
  for (const SpanRecord& s : trace.spans()) WriteSpan(w, trace, s, trace_hex, options);
  w.EndArray();
  w.Key("processes").BeginObject();
  w.Key("p1").BeginObject();
  w.Key("serviceName").String(options.service_name);
  w.Key("tags").BeginArray();
  for (const auto& [key, value] : options.process_tags) StringTag(w, key, value);
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.Key("warnings").Null();
  w.EndObject();
}

std::string ToJaegerJson(std::span<const Trace* const> traces, const JaegerOptions& options) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("data").BeginArray();
  for (const Trace* t : traces) WriteJaegerTrace(w, *t, options);
  w.EndArray();
  w.Key("total").Int(0);
  w.Key("limit").Int(0);
  w.Key("offset").Int(0);
  w.Key("errors").Null();
  w.EndObject();
  return out;
}

std::string ToJaegerJson(const Trace& trace, const JaegerOptions& options) {
  const Trace* one[] = {&trace};
  return ToJaegerJson(std::span<const Trace* const>(one, 1), options);
}

}  // namespace kalamdb::trace
