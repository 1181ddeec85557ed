// otlp.h: finished Traces exported to an OpenTelemetry collector over OTLP (gRPC or HTTP).
//
// Three layers, each usable alone:
//   - EncodeOtlpRequest: traces -> protobuf bytes of one ExportTraceServiceRequest, written by
//     a small hand-written protobuf writer (no libprotobuf, no generated code).
//   - OtlpTransport: one attempt to deliver those bytes (OTLP/gRPC or OTLP/HTTP protobuf),
//     classified as ok / retryable / fatal by the OTLP retry rules.
//   - OtlpExporter: a background thread that batches queued traces, sends them with bounded
//     retries and counts everything it had to drop. Enqueue never waits for the network.
//
// Mapping (kept consistent with jaeger.cc): trace_id is 16 bytes big-endian (TraceId.hi then
// lo), span_id 8 bytes big-endian; parent_span_id is the parent record's id, or for a root the
// trace's remote_parent() when valid, else absent; kind is the SpanKind value (the enum matches
// OTLP's numbering; 0 is omitted); start/end are unix nanoseconds (an open span, end_ns == 0,
// gets end = start); attributes keep their type (string/bool/int/double AnyValue); events carry
// time, name and fields; status: unset -> absent, OK -> code 1, ERROR -> code 2 with the error
// message, plus attributes `error.code` (ErrorCodeName) and `error.message` (when non-empty)
// after the span's own attributes (at most kMaxAttributes of those, a key set twice keeping its
// last value: AttributeLayout); dropped_attributes_count counts the rest, with those dropped at
// the trace's cap while recording (SpanRecord::dropped_attrs).
// The resource carries service.name, service.version and host.name (the last two only when
// non-empty); the instrumentation scope carries scope_name / scope_version.
//
// Thread-safety: EncodeOtlpRequest is a pure function (the traces must not be written to during
// the call). Transports returned by MakeOtlpTransport are safe to call from several threads
// (calls are serialised). Every OtlpExporter method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "trace/trace.h"

namespace kalamdb::trace {

// The resource and instrumentation scope every exported span belongs to.
struct OtlpResource {
  std::string service_name = "kalamdb-server";  // resource attribute service.name (always sent)
  std::string service_version;                  // service.version (omitted when empty)
  std::string host_name;                        // host.name (omitted when empty)
  std::string scope_name = "kalamdb-server";    // InstrumentationScope.name (omitted when empty)
  std::string scope_version;                    // InstrumentationScope.version (omitted when empty)
};

// Appends to *out one protobuf-encoded
// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest holding every span of
// `traces` (snapshots, see Trace::Snapshot(), or finished recordings with their span ids drawn;
// null pointers are skipped) in one ResourceSpans with
// one ScopeSpans. With no spans at all it still appends a valid request (the resource and scope, no
// spans).
void EncodeOtlpRequest(std::span<const Trace* const> traces, const OtlpResource& resource,
                       std::string* out);

// ---------------------------------------------------------------------------------------------
// Transports

enum class SendOutcome {
  kOk,         // the collector accepted the request (including a partial success)
  kRetryable,  // transient: network error, timeout, gRPC UNAVAILABLE..., HTTP 429/502/503/504
  kFatal,      // the collector refused the data: retrying would not help
};

struct SendResult {
  SendOutcome outcome = SendOutcome::kOk;
  std::string error;  // empty on kOk; otherwise a human-readable reason
};

// One attempt to deliver an encoded ExportTraceServiceRequest.
class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;
  // Blocks for at most about the transport's timeout. Never throws.
  virtual SendResult Send(std::string_view body) = 0;
};

// Builds a transport. `protocol` is "grpc" or "http" (OTLP/HTTP with protobuf bodies).
// `endpoint` is "[http://]host[:port][/path]" with host a name, an IPv4 address or a bracketed
// IPv6 address:
//   - grpc: the scheme and path are ignored; the target is host:port (default port 4317). The
//     channel (plaintext) is created here and connects lazily; each Send is a unary call to
//     /opentelemetry.proto.collector.trace.v1.TraceService/Export with a deadline of timeout_ms.
//   - http: POST to the path, or /v1/traces when the path is empty or "/" (default port 4318),
//     Content-Type application/x-protobuf, over one kept-alive connection. timeout_ms bounds
//     the connect and each socket read or write.
// Errors: kInvalidArgument for an unknown protocol, an https:// or other scheme (no TLS), an
// empty host, a bad port or timeout_ms <= 0. Nothing is connected here, so an unreachable
// collector is not an error (Send reports it as kRetryable).
Result<std::unique_ptr<OtlpTransport>> MakeOtlpTransport(std::string_view protocol,
                                                         std::string_view endpoint, int timeout_ms);

// ---------------------------------------------------------------------------------------------
// Exporter

struct ExporterOptions {
  // Traces waiting to be exported; Enqueue past it drops the trace and counts it.
  size_t max_queue_traces = 4096;
  // Spans per Export request. Whole traces are packed; a trace is split only when it alone
  // holds more spans than this (then it goes out in several requests).
  size_t max_batch_spans = 8192;
  // Encoded bytes per Export request: batching stops before a request would grow past this,
  // whatever its span count (Jaeger and the OpenTelemetry Collector refuse gRPC messages over
  // 4 MiB by default). A single trace larger than this still goes out whole (split only by
  // max_batch_spans).
  size_t max_batch_bytes = 3 << 20;
  // Pending traces are exported at least this often; max_batch_spans pending spans start an
  // export at once.
  int schedule_delay_ms = 500;
  // Extra attempts per request after a retryable failure, waiting retry_backoff_ms, then twice
  // that, and so on. A request still failing (or failing fatally) is dropped and counted.
  int max_retries = 2;
  int retry_backoff_ms = 100;
};

struct ExporterStats {
  uint64_t enqueued = 0;                     // traces accepted by Enqueue
  uint64_t dropped_queue_full = 0;           // traces refused by Enqueue: queue full
  uint64_t dropped_after_shutdown = 0;       // traces refused by Enqueue: already shut down
  uint64_t exported_spans = 0;               // spans in requests the collector accepted
  uint64_t exported_requests = 0;            // requests the collector accepted
  uint64_t failed_requests = 0;              // failed Send attempts (each retry counts)
  uint64_t dropped_spans_export_failed = 0;  // spans of requests given up after failures
  uint64_t dropped_spans_shutdown = 0;       // spans still queued when the flush timed out
  size_t queue_depth = 0;                    // traces waiting now
  std::string last_error;                    // reason of the latest failed attempt, or empty
};

// Batches finished traces on a background thread (started by the constructor) and sends them,
// one request at a time, through `transport`. Enqueue encodes the trace's spans on the calling
// thread (no snapshot: straight from the recording), then holds a mutex only to swap the bytes
// into a queue slot reserved at construction; it never waits for the exporter or the network.
// The exporter thread only concatenates queued bytes into requests and sends them. An
// unreachable, slow, hanging or refusing collector only costs dropped (counted) traces/spans.
// Once a request has failed for good (its retries spent, or a fatal answer), the queue takes
// one trace at a time until a request succeeds again: the next request probes the collector,
// and meanwhile the traces that would only be dropped are refused before anyone copies or
// encodes them.
class OtlpExporter {
 public:
  // REQUIRES: transport != nullptr. Zero-valued sizes are treated as 1.
  OtlpExporter(std::unique_ptr<OtlpTransport> transport, OtlpResource resource,
               ExporterOptions options);
  ~OtlpExporter();  // Shutdown() with the default timeout
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues a finished trace: a snapshot, or a finished recording whose span ids have been
  // drawn (Trace::AssignSpanIds; the Tracer's consumers get such traces). Its spans are
  // encoded here, on the calling thread; the trace is read only during the call. Returns false
  // (and counts it) when the queue is full or the exporter is shut down; "full" is read first
  // without the lock (Accepting()), so a trace may be refused just as a slot frees up.
  bool Enqueue(const Trace& trace);
  // The same for a snapshot; false without counting for a null one.
  bool Enqueue(std::shared_ptr<const Trace> trace);
  // False while Enqueue would refuse (queue full, shut down, or a trace already queued while
  // the collector is failing); read without a lock, so
  // callers can skip preparing a trace that would only be dropped (then CountRefused() counts
  // it as dropped_queue_full).
  bool Accepting() const;
  void CountRefused();

  // Stops accepting traces, exports what is queued until `flush_timeout_ms` has passed (no new
  // request or retry starts after that; queued spans left are counted in
  // dropped_spans_shutdown), then joins the thread. A Send in flight at the deadline is waited
  // for, so the bound is flush_timeout_ms plus at most one transport timeout. Idempotent; safe
  // to call concurrently (later callers wait for the first).
  void Shutdown(int flush_timeout_ms = 2000);

  ExporterStats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// ---------------------------------------------------------------------------------------------
// Implementation details shared by otlp.cc, otlp_grpc.cc and otlp_http.cc (and their tests).

namespace otlp_internal {

struct Endpoint {
  std::string host;  // without brackets for IPv6
  int port = 0;
  std::string path;  // as given ("" when absent); starts with '/' otherwise
  bool ipv6 = false;
  // host:port, with the host bracketed when ipv6.
  std::string HostPort() const;
};

// Parses "[http://]host[:port][/path]" (see MakeOtlpTransport). Errors: kInvalidArgument.
Result<Endpoint> ParseEndpoint(std::string_view endpoint, int default_port);

std::unique_ptr<OtlpTransport> MakeGrpcTransport(const Endpoint& endpoint, int timeout_ms);
std::unique_ptr<OtlpTransport> MakeHttpTransport(const Endpoint& endpoint, int timeout_ms);

}  // namespace otlp_internal

}  // namespace kalamdb::trace
