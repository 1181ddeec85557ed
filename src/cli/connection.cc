#include "cli/connection.h"

#include <simdjson.h>

#include <charconv>
#include <utility>
#include <vector>

#include "common/json_writer.h"

namespace kalamdb::cli {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

ApiError NetworkError(const Status& status) {
  return ApiError{"CONNECTION_FAILED", std::string(status.message())};
}

// {"error":"<code>","message":"<text>"} -> ApiError; falls back to the HTTP status.
ApiError AuthError(const http::ClientResponse& response) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(response.body);
  simdjson::dom::element root;
  ApiError error{"HTTP_" + std::to_string(response.status), response.body.substr(0, 500)};
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return error;
  std::string_view code;
  std::string_view message;
  if (root["error"].get_string().get(code) == simdjson::SUCCESS) error.code = std::string(code);
  if (root["message"].get_string().get(message) == simdjson::SUCCESS) {
    error.message = std::string(message);
  }
  return error;
}

}  // namespace

std::optional<ServerUrl> ParseServerUrl(std::string_view url) {
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.find("://") != std::string_view::npos) {
    return std::nullopt;  // https and others: not supported
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.find('/') != std::string_view::npos) return std::nullopt;
  ServerUrl out;
  size_t colon = url.rfind(':');
  if (colon != std::string_view::npos && url.find(']') == std::string_view::npos) {
    std::string_view port = url.substr(colon + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = value;
    url = url.substr(0, colon);
  }
  if (url.empty()) return std::nullopt;
  out.host = std::string(url);
  return out;
}

Connection::Connection(ServerUrl url, int timeout_ms)
    : url_(std::move(url)),
      client_(std::make_unique<http::Client>(url_.host, url_.port, timeout_ms)) {}

std::optional<ApiError> Connection::StoreTokens(const http::ClientResponse& response) {
  if (response.status != 200) return AuthError(response);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(response.body);
  simdjson::dom::element root;
  std::string_view access;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
      root["access_token"].get_string().get(access) != simdjson::SUCCESS) {
    return ApiError{"INVALID_RESPONSE", "login answer without access_token"};
  }
  access_token_ = std::string(access);
  std::string_view refresh;
  if (root["refresh_token"].get_string().get(refresh) == simdjson::SUCCESS) {
    refresh_token_ = std::string(refresh);
  }
  return std::nullopt;
}

std::optional<ApiError> Connection::Login(std::string_view user, std::string_view password) {
  user_ = std::string(user);
  password_ = std::string(password);
  have_password_ = true;
  std::string body;
  JsonWriter writer(body);
  writer.BeginObject().Key("user").String(user).Key("password").String(password).EndObject();
  auto response = client_->Send("POST", "/v1/api/auth/login", body,
                                Headers{{"Content-Type", "application/json"}});
  if (!response.ok()) return NetworkError(response.status());
  return StoreTokens(*response);
}

std::optional<ApiError> Connection::Refresh() {
  if (refresh_token_.empty()) {
    if (have_password_) return Login(user_, password_);
    return ApiError{"TOKEN_EXPIRED", "the access token expired and there is no refresh token"};
  }
  auto response = client_->Send("POST", "/v1/api/auth/refresh", {},
                                Headers{{"Authorization", "Bearer " + refresh_token_}});
  if (!response.ok()) return NetworkError(response.status());
  std::optional<ApiError> error = StoreTokens(*response);
  if (error && have_password_) return Login(user_, password_);
  return error;
}

SqlResponse Connection::Execute(std::string_view sql) {
  std::string body;
  JsonWriter writer(body);
  writer.BeginObject().Key("sql").String(sql).EndObject();
  for (int attempt = 0;; ++attempt) {
    Headers headers{{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + access_token_}};
    auto response = client_->Send("POST", "/v1/api/sql", body, headers);
    if (!response.ok()) {
      SqlResponse out;
      out.error_code = "CONNECTION_FAILED";
      out.error_message = std::string(response.status().message());
      return out;
    }
    SqlResponse out = ParseSqlResponse(response->status, response->body);
    if (attempt == 0 && response->status == 401 && out.error_code == "TOKEN_EXPIRED") {
      if (std::optional<ApiError> error = Refresh()) {
        out.error_code = error->code;
        out.error_message = "token refresh failed: " + error->message;
        return out;
      }
      continue;
    }
    return out;
  }
}

}  // namespace kalamdb::cli
