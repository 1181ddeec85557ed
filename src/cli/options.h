// options.h: the server connection every kalam command takes.
//
// --url, --user/-u, and --password/-p or --token (mutually exclusive), with defaults from
// KALAMDB_SERVER_URL (http://127.0.0.1:8080), KALAMDB_USER (root) and KALAMDB_ROOT_PASSWORD.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace kalamdb::cli {

struct ConnectionOptions {
  std::string url;
  std::string user;
  std::string password;
  std::string token;  // when set: no login
};

// The defaults, read through `env` (std::getenv in the binary; injectable for tests).
ConnectionOptions ConnectionDefaults(const char* (*env)(const char*));
// Registers the four options on `app`, bound to `options` (which must outlive the parse).
// `user_help` describes --user ("user name", "admin user" ...).
void AddConnectionOptions(CLI::App& app, ConnectionOptions& options,
                          const char* user_help = "user name");

}  // namespace kalamdb::cli
