// api.h: all that other subsystems see of src/api/: the /v1/api/* and health routes.
//
// The api is the only place that turns our ErrorCodes into HTTP statuses and KalamDB wire
// codes (errors.cc), and that reads or writes the JSON bodies of the reference API.
//
// Thread-safety: Handle() is called concurrently from every HTTP worker.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/http.h"

namespace kalamdb::auth {
class Authenticator;
}
namespace kalamdb::sql {
class Engine;
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

}  // namespace kalamdb::api
