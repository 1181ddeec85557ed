#include "cli/options.h"

#include <CLI/CLI.hpp>

namespace kalamdb::cli {

ConnectionOptions ConnectionDefaults(const char* (*env)(const char*)) {
  auto env_or = [env](const char* name, const char* fallback) {
    const char* value = env(name);
    return std::string(value != nullptr ? value : fallback);
  };
  ConnectionOptions o;
  o.url = env_or("KALAMDB_SERVER_URL", "http://127.0.0.1:8080");
  o.user = env_or("KALAMDB_USER", "root");
  o.password = env_or("KALAMDB_ROOT_PASSWORD", "");
  return o;
}

void AddConnectionOptions(CLI::App& app, ConnectionOptions& options, const char* user_help) {
  app.add_option("--url", options.url, "server URL (env KALAMDB_SERVER_URL)")
      ->capture_default_str();
  app.add_option("--user,-u", options.user, std::string(user_help) + " (env KALAMDB_USER)")
      ->capture_default_str();
  auto* password =
      app.add_option("--password,-p", options.password, "password (env KALAMDB_ROOT_PASSWORD)");
  auto* token = app.add_option("--token", options.token, "access token (instead of a login)");
  password->excludes(token);
}

}  // namespace kalamdb::cli
