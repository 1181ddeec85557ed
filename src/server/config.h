// config.h: the server configuration: server.toml plus KALAMDB_* environment overrides.
//
// Sections and keys follow KalamDB's server.toml (docs/configuration.md lists each key).
// Unknown keys are warnings, invalid values are errors naming the key and the expected form.
// A Config is a plain value: read it once at startup, then share it read-only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalamdb::server {

struct ServerSection {
  // Address to listen on. Default: "127.0.0.1" (loopback only).
  std::string host = "127.0.0.1";
  // TCP port, 1..65535. Default: 8080.
  int port = 8080;
  // Event-loop threads; 0 = one per CPU core. Default: 0.
  int workers = 0;
  // Public origin (must start with http:// or https:// when set). Default: none.
  std::string public_origin;
};

struct RocksDbSection {
  // fsync the WAL before acknowledging each write. Default: false.
  bool sync_writes = false;
  // With sync_writes: concurrent statements share one WAL fsync (group commit; the answer
  // waits for it). false = each write syncs on its own request thread. Default: true.
  bool group_commit = true;
  // Block cache in bytes. Default: 64 MiB.
  int64_t block_cache_size = 64ll << 20;
  // Background flush/compaction threads. Default: 2.
  int max_background_jobs = 2;
  // -1 = unlimited. Default: -1.
  int max_open_files = -1;
};

struct StorageSection {
  // Root of all data; RocksDB lives in "<data_path>/rocksdb". Default: "./data".
  std::string data_path = "./data";
  RocksDbSection rocksdb;
};

struct AuthSection {
  // Password for root when root is first created (KALAMDB_ROOT_PASSWORD wins). Default: none.
  std::string root_password;
  // HS256 key. Empty = a random secret generated once and kept in "<data_path>/jwt_secret".
  // Default: empty.
  std::string jwt_secret;
  // Access-token lifetime; refresh tokens live 7x as long. Default: 24.
  int jwt_expiry_hours = 24;
  // bcrypt cost for new hashes, 4..31. Default: 12.
  int bcrypt_cost = 12;
  // Allow /v1/api/auth/setup and /status from non-loopback clients. Default: false.
  bool allow_remote_setup = false;
  // Accept "Authorization: Basic" on /v1/api/sql (curl -u). Default: true.
  bool allow_basic_auth = true;
  // Mark auth cookies Secure (only sent over https). Default: true.
  bool cookie_secure = true;
  // Seconds a successful Basic verification is reused without bcrypt. Default: 60.
  int basic_auth_cache_seconds = 60;
};

struct OtlpSection {
  // Export spans over OTLP. Default: false.
  bool enabled = false;
  // Collector endpoint. Default: "http://127.0.0.1:4317".
  std::string endpoint = "http://127.0.0.1:4317";
  // "grpc" or "http". Default: "grpc".
  std::string protocol = "grpc";
  // Default: "kalamdb-server".
  std::string service_name = "kalamdb-server";
  // Export timeout in ms, > 0. Default: 3000.
  int timeout_ms = 3000;
  // Fraction of requests traced (kept in the trace store and exported), 0..1; a request with
  // a sampled `traceparent` is always traced. Default: 1.
  double sample_ratio = 1.0;
  // Traces waiting for export; more are dropped and counted. Default: 4096 (~0.1 s of
  // single-row INSERTs at full speed; queued encoded, ~1.1-1.5 KB each, and a queue slot keeps
  // at most 4 KB between uses: 6-16 MB).
  int max_queue_traces = 4096;
  // Spans per export request. Default: 8192 (~1 MB, within collectors' usual 4 MiB limit).
  int max_batch_spans = 8192;
  // Export at least this often while spans wait. Default: 500.
  int schedule_delay_ms = 500;
};

// The server's own trace store (served at /v1/api/traces). Not a KalamDB section.
struct TracesSection {
  // Record request traces at all (store and export). Default: true.
  bool enabled = true;
  // Finished traces kept in memory, newest win; 0 keeps none. Default: 10000.
  int max_traces = 10000;
  // Measuring tracing's cost: alternate tracing on and off every this many milliseconds and
  // count requests by phase in /metrics (trace::TracerOptions::ab_period_ms). Default: 0.
  int ab_period_ms = 0;
};

struct LoggingSection {
  // error|warn|info|debug|trace. Default: "info".
  std::string level = "info";
  // Directory for server.log; empty disables the file. Default: "./logs".
  std::string logs_path = "./logs";
  // Default: true.
  bool log_to_console = true;
  // compact|pretty|json. Default: "compact".
  std::string format = "compact";
  // Statements slower than this are logged to slow.log. Default: 1200.
  int slow_query_threshold_ms = 1200;
  OtlpSection otlp;
  TracesSection traces;
};

struct LimitsSection {
  // Largest SQL text / message in bytes. Default: 1 MiB.
  int64_t max_message_size = 1 << 20;
  // Hard cap on rows returned by a SELECT. Default: 1000.
  int max_query_limit = 1000;
  // Rows returned by a SELECT without LIMIT; <= max_query_limit. Default: 50.
  int default_query_limit = 50;
};

struct PerformanceSection {
  // Seconds a request may take to arrive in full once started. Default: 30.
  int request_timeout = 30;
  // Seconds an idle keep-alive connection is kept open. Default: 75.
  int keepalive_timeout = 75;
  // Connections beyond this are refused at accept. Default: 25000.
  int max_connections = 25000;
  // listen() backlog. Default: 4096.
  int backlog = 4096;
  // Largest request head (request line plus headers) in bytes. Default: 16384.
  int max_header_size = 16384;
  // Microseconds a worker keeps polling for new events after serving before it sleeps;
  // trades a little CPU right after work for a much lower wake-up latency. 0..10000.
  // Default: 50.
  int busy_poll_us = 50;
};

struct RateLimitSection {
  int max_queries_per_sec = 100;                  // per user. Default: 100.
  int max_auth_requests_per_ip_per_sec = 20;      // Default: 20.
  int max_connections_per_ip = 100;               // Default: 100.
  int max_requests_per_ip_per_sec = 200;          // Default: 200.
  int64_t request_body_limit_bytes = 10ll << 20;  // Default: 10 MiB.
  int ban_duration_seconds = 300;                 // Default: 300.
  bool enable_connection_protection = true;       // Default: true.
};

struct CorsSection {
  // Empty or containing "*" = any origin. Default: empty.
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS"};
  std::vector<std::string> allowed_headers = {"Authorization", "Content-Type"};
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;  // Default: false.
  int max_age = 3600;              // Default: 3600.
};

struct SecuritySection {
  // Largest request body in bytes; larger gets 413. Default: 10 MiB.
  int64_t max_request_body_size = 10ll << 20;
  int64_t max_ws_message_size = 1 << 20;  // Default: 1 MiB.
  std::vector<std::string> trusted_proxy_ranges;
  CorsSection cors;
};

struct Config {
  ServerSection server;
  StorageSection storage;
  AuthSection auth;
  LoggingSection logging;
  LimitsSection limits;
  PerformanceSection performance;
  RateLimitSection rate_limit;
  SecuritySection security;
  // Root password from KALAMDB_ROOT_PASSWORD (highest priority), kept apart from the file's.
  std::string env_root_password;

  // The effective body limit: the smaller of security.max_request_body_size and
  // rate_limit.request_body_limit_bytes.
  int64_t BodyLimit() const;
};

// Non-fatal findings while loading (unknown keys), one line each.
using Warnings = std::vector<std::string>;

// Parses TOML text. `source` names the file in messages. Errors (kConfig) carry one line:
// "<source>:<line>:<col>: ..." for syntax, "<key>: expected <form>, got <value>" for values.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source, Warnings* warnings);
// Reads and parses a file. A missing file is an error.
Result<Config> LoadConfigFile(const std::string& path, Warnings* warnings);

// Environment lookup, injectable for tests. Returns nullptr when unset.
using EnvLookup = const char* (*)(const char* name);
// The process environment (std::getenv), as an EnvLookup: std::getenv itself returns char*
// and does not convert. Production code passes ProcessEnv to ApplyEnvOverrides.
const char* ProcessEnv(const char* name);
// Applies KALAMDB_* overrides (docs/configuration.md). Errors name the variable.
Status ApplyEnvOverrides(Config& config, EnvLookup env, Warnings* warnings);
// Checks cross-field rules (port range, level names, default_query_limit <= max_query_limit ...).
Status Validate(const Config& config);

}  // namespace kalamdb::server
