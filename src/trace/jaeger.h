// jaeger.h: finished Traces as Jaeger's legacy query-API JSON (`GET /api/traces`).
//
// The shape and mapping follow what Jaeger's own OTLP translator produces (fixture in
// shared/fixtures/jaeger): times truncated to whole microseconds; tags in the order
// otel.scope.name, otel.scope.version, span attributes, error.code, error.message, span.kind,
// otel.status_code, error (bool true on ERROR), otel.status_description; events become logs
// whose first field is `event` = the event name; a root span with a remote parent (from
// `traceparent`) gets a CHILD_OF reference to it; every span uses process "p1".
//
// Traces are snapshots (Trace::Snapshot()): a trace still recording has no attributes or span
// ids to show yet.
// Thread-safety: pure functions; the Trace must not be written to during the call.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "trace/trace.h"

namespace kalamdb::trace {

struct JaegerOptions {
  std::string service_name = "kalamdb-server";
  // Process tags (resource attributes other than service.name), exported as string tags.
  std::vector<std::pair<std::string, std::string>> process_tags;
  // Instrumentation scope; empty name or version emits no tag.
  std::string scope_name = "kalamdb-server";
  std::string scope_version;
  // Not Jaeger: also write each span's exact "startTimeUnixNano" and "durationNanos" (and each
  // log's "timestampUnixNano"), since whole microseconds hide sub-microsecond spans. Readers
  // that only know Jaeger ignore them.
  bool nanos = false;
};

// Writes one trace object {"traceID","spans","processes","warnings"} as the next value of `w`.
void WriteJaegerTrace(JsonWriter& w, const Trace& trace, const JaegerOptions& options);

// The whole response envelope {"data":[...],"total":0,"limit":0,"offset":0,"errors":null}.
std::string ToJaegerJson(std::span<const Trace* const> traces, const JaegerOptions& options);
std::string ToJaegerJson(const Trace& trace, const JaegerOptions& options);

}  // namespace kalamdb::trace
