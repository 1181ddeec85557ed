// api.h: all that other subsystems see of src/api/: the /v1/api/* and health routes.
//
// The api is the only place that turns our ErrorCodes into HTTP statuses and KalamDB wire
// codes (errors.cc), and that reads or writes the JSON bodies of the reference API.
//
// Tracing (docs/tracing.md): each /v1/api/* request except the trace endpoints is one trace
// whose root span is named after the route ("POST /v1/api/sql"); an incoming W3C
// `traceparent` is joined, and the response carries `traceparent` with the trace id and the
// root span id. GET /v1/api/traces, /v1/api/traces/{id}, /v1/api/services and
// /v1/api/services/{service}/operations serve the tracer's store in Jaeger's query-API shape
// to dba and system users. GET /metrics is Prometheus text (loopback, or an admin).
//
// Thread-safety: Handle() is called concurrently from every HTTP worker.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/http.h"

namespace kalamdb::auth {
class Authenticator;
}
namespace kalamdb::sql {
class Engine;
}
namespace kalamdb::trace {
class Tracer;
}

namespace kalamdb::api {

struct CorsOptions {
  // Empty or containing "*" = any origin.
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS"};
  std::vector<std::string> allowed_headers = {"Authorization", "Content-Type"};
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  int max_age = 3600;
};

struct Options {
  // /v1/api/auth/setup and /status from non-loopback clients. Default: false.
  bool allow_remote_setup = false;
  // Add "Secure" to auth cookies on https requests. Default: true.
  bool cookie_secure = true;
  // Largest accepted SQL text in bytes. Default: 1 MiB.
  int64_t max_sql_bytes = 1 << 20;
  // Auth endpoint requests per client IP per second; 0 = unlimited. Default: 20.
  int auth_requests_per_ip_per_sec = 20;
  CorsOptions cors;
  std::string version = "0.1.0";
  std::string build_date;
  // Request tracing: /v1/api/* requests are traced into it and /v1/api/traces reads its
  // store. Borrowed; null disables both.
  trace::Tracer* tracer = nullptr;
  // The Jaeger process of served traces: service name and tags.
  std::string service_name = "kalamdb-server";
  std::string host_name;
  // Appends more Prometheus lines to GET /metrics (storage, exporter figures). Optional.
  std::function<void(std::string&)> extra_metrics;
};

class Api {
 public:
  // Borrows `auth` and `engine`; both must outlive the Api.
  Api(auth::Authenticator& auth, sql::Engine& engine, Options options);
  ~Api();

  // Routes and answers one request.
  void Handle(const http::Request& request, http::Response& response);

  // The 413 body of the reference:
  // {"error":"BODY_TOO_LARGE","message":...,"size_bytes":N,"max_bytes":M}.
  static std::string BodyTooLargeJson(uint64_t size, uint64_t max);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends one Prometheus metric (its # HELP and # TYPE lines and one unlabelled sample) to
// `out`: for Options::extra_metrics writers. `type` is "counter" or "gauge".
void AppendPrometheusMetric(std::string& out, std::string_view name, std::string_view type,
                            std::string_view help, uint64_t value);

}  // namespace kalamdb::api
