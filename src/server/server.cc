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
#include "http/http.h"
#include "server/config.h"
#include "server/user_directory.h"
#include "sql/sql.h"
#include "storage/storage.h"

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
  api::Api api(authenticator, engine, api_options);

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
  if (Status st = (*store)->Close(); !st.ok()) {
    log::Error("closing storage failed: " + st.ToString());
    return 1;
  }
  log::Info("shutdown complete");
  return 0;
}

}  // namespace kalamdb::server
