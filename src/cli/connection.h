// connection.h: an authenticated session with a kalamdb server over HTTP.
//
// Logs in with user/password (POST /v1/api/auth/login) or uses a given access token, sends
// SQL with "Authorization: Bearer <access>", and on a 401 TOKEN_EXPIRED refreshes the token
// once (POST /v1/api/auth/refresh with the refresh token, or a new login when only the
// password is known) and retries. One connection, not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/sql_response.h"
#include "http/client.h"

namespace kalamdb::cli {

struct ServerUrl {
  std::string host;
  int port = 8080;
};

// "http://host[:port][/]" (scheme optional) -> ServerUrl; nullopt when malformed or https.
std::optional<ServerUrl> ParseServerUrl(std::string_view url);

struct ApiError {
  std::string code;
  std::string message;
};

class Connection {
 public:
  explicit Connection(ServerUrl url, int timeout_ms = 60000);

  // Logs in and keeps the tokens. Returns the server's error (code from its "error" field).
  std::optional<ApiError> Login(std::string_view user, std::string_view password);
  // Uses `token` as the access token (no login; no refresh token).
  void SetAccessToken(std::string token) { access_token_ = std::move(token); }

  // Runs `sql` (one request). Network failures give code CONNECTION_FAILED.
  SqlResponse Execute(std::string_view sql);

 private:
  std::optional<ApiError> Refresh();
  std::optional<ApiError> StoreTokens(const http::ClientResponse& response);

  ServerUrl url_;
  std::unique_ptr<http::Client> client_;
  std::string user_;
  std::string password_;
  bool have_password_ = false;
  std::string access_token_;
  std::string refresh_token_;
};

}  // namespace kalamdb::cli
