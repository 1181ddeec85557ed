#include "server/server.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "api/api.h"
#include "auth/auth.h"
#include "catalog/catalog.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "http/http.h"
#include "server/config.h"
#include "server/user_directory.h"
#include "sql/sql.h"
#include "storage/storage.h"
#include "trace/otlp.h"
#include "trace/tracer.h"

#ifndef KALAMDB_VERSION
#define KALAMDB_VERSION "0.0.0"
#endif
#ifndef KALAMDB_BUILD_DATE
#define KALAMDB_BUILD_DATE ""
#endif

namespace kalamdb::server {
namespace {

int Fatal(std::string_view message) {
  std::fprintf(stderr, "FATAL: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// Allows as many open files as the hard limit permits: each connection is one descriptor.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Finds the config file: argv[1], else ./server.toml, else server.toml next to the binary.
// Empty result: none found (built-in defaults apply).
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return {};
  return name;
}

// RocksDB figures for GET /metrics.
void AppendStoreMetrics(const storage::Store& store, std::string& out) {
  const storage::StoreStats s = store.Stats();
  using api::AppendPrometheusMetric;
  AppendPrometheusMetric(out, "kalamdb_rocksdb_writes_total", "counter",
                         "RocksDB write batches applied.", s.writes);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_write_ops_total", "counter",
                         "Puts and deletes in those batches.", s.write_ops);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_write_bytes_total", "counter",
                         "WriteBatch data bytes written.", s.write_bytes);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_write_stall_stops", "gauge",
                         "Write stops in the rows family since open.", s.stall_stops);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_write_stall_slowdowns", "gauge",
                         "Write slowdowns in the rows family since open.", s.stall_slowdowns);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_delayed_write_rate_bytes", "gauge",
                         "Write rate RocksDB allows while it delays writes (0: not delaying).",
                         s.delayed_write_rate);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_write_stopped", "gauge",
                         "1 while RocksDB stops writes.", s.write_stopped ? 1 : 0);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_memtable_bytes", "gauge", "Bytes in all memtables.",
                         s.memtable_bytes);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_estimated_rows", "gauge",
                         "Estimated keys in the rows family.", s.estimated_rows);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_running_flushes", "gauge", "Flushes running now.",
                         s.running_flushes);
  AppendPrometheusMetric(out, "kalamdb_rocksdb_running_compactions", "gauge",
                         "Compactions running now.", s.running_compactions);
  AppendPrometheusMetric(out, "kalamdb_wal_syncs_total", "counter",
                         "Group-commit WAL syncs (sync_writes).", s.wal_syncs);
  AppendPrometheusMetric(out, "kalamdb_wal_sync_waiters_total", "counter",
                         "Requests those syncs acknowledged (waiters per sync = ratio).",
                         s.wal_sync_waiters);
}

// OTLP exporter figures for GET /metrics.
void AppendExporterMetrics(const trace::ExporterStats& s, std::string& out) {
  using api::AppendPrometheusMetric;
  AppendPrometheusMetric(out, "kalamdb_otlp_queue_traces", "gauge",
                         "Traces waiting for OTLP export.", s.queue_depth);
  AppendPrometheusMetric(out, "kalamdb_otlp_exported_spans_total", "counter",
                         "Spans the collector accepted.", s.exported_spans);
  AppendPrometheusMetric(out, "kalamdb_otlp_export_requests_total", "counter",
                         "Export requests the collector accepted.", s.exported_requests);
  AppendPrometheusMetric(out, "kalamdb_otlp_failed_requests_total", "counter",
                         "Failed export attempts (retries count).", s.failed_requests);
  AppendPrometheusMetric(out, "kalamdb_otlp_dropped_traces_total", "counter",
                         "Traces dropped because the export queue was full.", s.dropped_queue_full);
  AppendPrometheusMetric(out, "kalamdb_otlp_dropped_spans_total", "counter",
                         "Spans dropped after failed exports or at shutdown.",
                         s.dropped_spans_export_failed + s.dropped_spans_shutdown);
}

std::string FindConfigPath(int argc, char** argv) {
  if (argc > 1) return argv[1];
  std::error_code ec;
  if (std::filesystem::exists("server.toml", ec)) return "server.toml";
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path() / "server.toml";
    if (std::filesystem::exists(beside, ec)) return beside.string();
  }
  return {};
}

void PrintUsage() {
  std::printf(
      "Usage: kalamdb-server [path/to/server.toml]\n\n"
      "Starts the KalamDB-compatible server. Without a path, ./server.toml is used when present,\n"
      "else the built-in defaults. KALAMDB_* environment variables override the file\n"
      "(docs/configuration.md).\n");
}

}  // namespace

int Main(int argc, char** argv) {
  if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    PrintUsage();
    return 0;
  }
  if (argc > 1 && std::string_view(argv[1]) == "--version") {
    std::printf("kalamdb-server %s\n", KALAMDB_VERSION);
    return 0;
  }
  if (argc > 2) return Fatal("too many arguments; usage: kalamdb-server [path/to/server.toml]");

  // Signals are taken synchronously by this thread; workers inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // 1. Configuration.
  Warnings warnings;
  Config config;
  std::string config_path = FindConfigPath(argc, argv);
  if (!config_path.empty()) {
    auto loaded = LoadConfigFile(config_path, &warnings);
    if (!loaded.ok()) return Fatal(loaded.status().message());
    config = std::move(loaded).value();
  } else {
    warnings.push_back("no server.toml found; using built-in defaults");
  }
  if (Status st = ApplyEnvOverrides(config, ProcessEnv, &warnings); !st.ok())
    return Fatal(st.message());
  if (Status st = Validate(config); !st.ok()) return Fatal(st.message());

  log::Options log_options;
  log::ParseLevel(config.logging.level, &log_options.level);
  log_options.to_console = config.logging.log_to_console;
  log_options.logs_path = config.logging.logs_path;
  log_options.format = config.logging.format;
  if (Status st = log::Init(log_options); !st.ok()) return Fatal(st.message());
  for (const auto& warning : warnings) log::Warn(warning);

  if (!IsLoopbackHost(config.server.host) && !config.auth.jwt_secret.empty() &&
      (config.auth.jwt_secret.size() < 32 || config.auth.jwt_secret == "CHANGE_ME_IN_PRODUCTION")) {
    return Fatal(
        "auth.jwt_secret: expected at least 32 characters (not a placeholder) when "
        "server.host is not a loopback address");
  }
  RaiseFileLimit();

  // 2. Storage and users.
  std::error_code ec;
  std::filesystem::create_directories(config.storage.data_path, ec);
  if (ec)
    return Fatal("storage.data_path: cannot create '" + config.storage.data_path +
                 "': " + ec.message());
  storage::Options storage_options;
  storage_options.path = config.storage.data_path + "/rocksdb";
  storage_options.sync_writes = config.storage.rocksdb.sync_writes;
  storage_options.group_commit = config.storage.rocksdb.group_commit;
  storage_options.block_cache_size = config.storage.rocksdb.block_cache_size;
  storage_options.max_background_jobs = config.storage.rocksdb.max_background_jobs;
  storage_options.max_open_files = config.storage.rocksdb.max_open_files;
  auto store = storage::Store::Open(storage_options);
  if (!store.ok()) return Fatal(store.status().message());

  catalog::UserStore users(**store);
  if (Status st = users.Load(); !st.ok()) return Fatal(st.message());

  auto secret =
      auth::ResolveJwtSecret(config.auth.jwt_secret, config.storage.data_path + "/jwt_secret");
  if (!secret.ok()) return Fatal(secret.status().message());
  auth::Options auth_options;
  auth_options.jwt_secret = std::move(secret).value();
  auth_options.jwt_expiry_hours = config.auth.jwt_expiry_hours;
  auth_options.bcrypt_cost = config.auth.bcrypt_cost;
  auth_options.allow_basic_auth = config.auth.allow_basic_auth;
  auth_options.basic_cache_seconds = config.auth.basic_auth_cache_seconds;
  auth::Authenticator authenticator(users, auth_options);
  const std::string& root_password =
      !config.env_root_password.empty() ? config.env_root_password : config.auth.root_password;
  if (Status st = authenticator.Bootstrap(root_password); !st.ok()) return Fatal(st.message());
  if (authenticator.NeedsSetup()) {
    log::Warn(
        "root has no password: call POST /v1/api/auth/setup from localhost, or restart "
        "with KALAMDB_ROOT_PASSWORD set");
  }

  // 3. Catalog, SQL engine, API and HTTP.
  catalog::Catalog catalog(**store);
  if (Status st = catalog.Load(); !st.ok()) return Fatal(st.message());
  UserDirectory user_directory(users, config.auth.bcrypt_cost);
  sql::Engine engine(
      catalog, **store,
      sql::EngineLimits{config.limits.default_query_limit, config.limits.max_query_limit},
      &user_directory);
  api::Options api_options;
  api_options.allow_remote_setup = config.auth.allow_remote_setup;
  api_options.cookie_secure = config.auth.cookie_secure;
  api_options.max_sql_bytes = config.limits.max_message_size;
  api_options.auth_requests_per_ip_per_sec = config.rate_limit.max_auth_requests_per_ip_per_sec;
  api_options.cors.allowed_origins = config.security.cors.allowed_origins;
  api_options.cors.allowed_methods = config.security.cors.allowed_methods;
  api_options.cors.allowed_headers = config.security.cors.allowed_headers;
  api_options.cors.expose_headers = config.security.cors.expose_headers;
  api_options.cors.allow_credentials = config.security.cors.allow_credentials;
  api_options.cors.max_age = config.security.cors.max_age;
  api_options.version = KALAMDB_VERSION;
  api_options.build_date = KALAMDB_BUILD_DATE;

  // Tracing: every /v1/api/* request into the in-memory store (and OTLP when enabled).
  std::unique_ptr<trace::Tracer> tracer;
  if (config.logging.traces.enabled) {
    trace::TracerOptions tracer_options;
    tracer_options.sample_ratio = config.logging.otlp.sample_ratio;
    tracer_options.store_max_traces = static_cast<size_t>(config.logging.traces.max_traces);
    tracer_options.ab_period_ms = config.logging.traces.ab_period_ms;
    if (tracer_options.ab_period_ms > 0) {
      log::Warn("[logging.traces] ab_period_ms = " + std::to_string(tracer_options.ab_period_ms) +
                ": tracing alternates on and off (for measuring its cost)");
    }
    tracer = std::make_unique<trace::Tracer>(tracer_options);
  }
  api_options.tracer = tracer.get();
  api_options.service_name = config.logging.otlp.service_name;
  api_options.host_name = HostName();

  // OTLP export: the collector thread hands every stored trace to the exporter's queue.
  const OtlpSection& otlp = config.logging.otlp;
  std::unique_ptr<trace::OtlpExporter> exporter;
  if (otlp.enabled && !tracer) {
    log::Warn(
        "logging.otlp.enabled is true but [logging.traces] enabled = false: nothing is exported");
  } else if (otlp.enabled) {
    auto transport = trace::MakeOtlpTransport(otlp.protocol, otlp.endpoint, otlp.timeout_ms);
    if (!transport.ok())
      return Fatal("logging.otlp.endpoint: " + std::string(transport.status().message()));
    trace::OtlpResource resource;
    resource.service_name = otlp.service_name;
    resource.service_version = KALAMDB_VERSION;
    resource.host_name = api_options.host_name;
    resource.scope_version = KALAMDB_VERSION;
    trace::ExporterOptions exporter_options;
    exporter_options.max_queue_traces = static_cast<size_t>(otlp.max_queue_traces);
    exporter_options.max_batch_spans = static_cast<size_t>(otlp.max_batch_spans);
    exporter_options.schedule_delay_ms = otlp.schedule_delay_ms;
    exporter = std::make_unique<trace::OtlpExporter>(std::move(transport).value(),
                                                     std::move(resource), exporter_options);
    // While the exporter's queue is full (a slow or unreachable collector), traces are not
    // even copied for it: counted as dropped, and the request path pays nothing for them.
    trace::OtlpExporter* e = exporter.get();
    tracer->AddConsumer([e](const trace::Trace& t) { e->Enqueue(t); },
                        [e] { return e->Accepting(); }, [e] { e->CountRefused(); });
    log::Info("exporting traces over OTLP/" + otlp.protocol + " to " + otlp.endpoint);
  }

  storage::Store& store_ref = **store;
  api_options.extra_metrics = [&store_ref, e = exporter.get()](std::string& out) {
    AppendStoreMetrics(store_ref, out);
    if (e != nullptr) AppendExporterMetrics(e->stats(), out);
  };
  api::Api api(authenticator, engine, api_options);
  if (tracer) tracer->Start();

  http::Options http_options;
  http_options.host = config.server.host;
  http_options.port = config.server.port;
  http_options.workers = config.server.workers;
  http_options.backlog = config.performance.backlog;
  http_options.max_connections = config.performance.max_connections;
  http_options.max_header_size = static_cast<uint32_t>(config.performance.max_header_size);
  http_options.max_body_size = static_cast<uint64_t>(config.BodyLimit());
  http_options.request_timeout_seconds = config.performance.request_timeout;
  http_options.keepalive_timeout_seconds = config.performance.keepalive_timeout;
  http_options.busy_poll_microseconds = config.performance.busy_poll_us;
  http_options.body_too_large = &api::Api::BodyTooLargeJson;
  http::Server http_server(http_options,
                           [&api](const http::Request& request, http::Response& response) {
                             api.Handle(request, response);
                           });
  if (Status st = http_server.Start(); !st.ok()) return Fatal(st.message());
  log::Info("kalamdb-server " KALAMDB_VERSION " listening on http://" + config.server.host + ":" +
            std::to_string(http_server.port()) + " (data in " + config.storage.data_path + ")");

  // 4. Maintenance: remove expired STREAM rows every 10 s (reads already hide them).
  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool stopping = false;
  std::thread maintenance([&] {
    SetCurrentThreadName("kalam-maintain");
    std::unique_lock lock(maintenance_mu);
    while (!maintenance_cv.wait_for(lock, std::chrono::seconds(10), [&] { return stopping; })) {
      lock.unlock();
      auto removed = sql::SweepExpiredStreamRows(catalog, **store);
      if (!removed.ok()) log::Warn("stream TTL sweep failed: " + removed.status().ToString());
      lock.lock();
    }
  });

  // 5. Wait for SIGINT/SIGTERM, then stop in order: HTTP (drains requests), maintenance, storage.
  int received = 0;
  sigwait(&signals, &received);
  log::Info(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
            ", shutting down: finishing in-flight requests");
  http_server.Stop(10);
  {
    std::lock_guard lock(maintenance_mu);
    stopping = true;
  }
  maintenance_cv.notify_all();
  maintenance.join();
  if (tracer) {
    tracer->Stop();
    const trace::TracerStats stats = tracer->stats();
    if (stats.dropped_queue_full > 0)
      log::Warn("tracing: " + std::to_string(stats.dropped_queue_full) +
                " traces were dropped because the collector queue was full");
  }
  if (exporter) {
    exporter->Shutdown(2000);
    const trace::ExporterStats s = exporter->stats();
    const uint64_t dropped =
        s.dropped_queue_full + s.dropped_spans_export_failed + s.dropped_spans_shutdown;
    if (dropped > 0 || s.failed_requests > 0) {
      log::Warn("OTLP export: " + std::to_string(s.exported_spans) + " spans exported, " +
                std::to_string(s.dropped_queue_full) + " traces dropped (queue full), " +
                std::to_string(s.dropped_spans_export_failed + s.dropped_spans_shutdown) +
                " spans dropped (export failed or shutdown), last error: " + s.last_error);
    }
  }
  if (Status st = (*store)->Close(); !st.ok()) {
    log::Error("closing storage failed: " + st.ToString());
    return 1;
  }
  log::Info("shutdown complete");
  return 0;
}

}  // namespace kalamdb::server
