// e2e_helpers.h: small helpers shared by the end-to-end tests (HTTP calls, cookies, auth).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client.h"
#include "support/json.h"
#include "support/server_process.h"

namespace kalamdb::test {

using Headers = std::vector<std::pair<std::string, std::string>>;
using http::ClientResponse;

inline constexpr char kRootPassword[] = "RootPass-e2e-123";

// One request on `client`. A network failure yields status 0 and the error text as body, so
// the caller's status assertion fails with a readable message.
ClientResponse Call(http::Client& client, std::string_view method, std::string_view target,
                    std::string_view body = {}, const Headers& headers = {});

// One request on a fresh connection to 127.0.0.1:port.
ClientResponse Call(int port, std::string_view method, std::string_view target,
                    std::string_view body = {}, const Headers& headers = {});

// "Basic base64(user:password)".
std::string BasicAuth(std::string_view user, std::string_view password);

// JSON string literal (with quotes) of `text`.
std::string Quoted(std::string_view text);

// {"user":..,"password":..}
std::string LoginBody(std::string_view user, std::string_view password);

// Every value of header `name` (case-insensitive), in order.
std::vector<std::string> HeaderValues(const ClientResponse& response, std::string_view name);

// The Set-Cookie header that sets cookie `name`, or nullopt.
std::optional<std::string> SetCookie(const ClientResponse& response, std::string_view name);

// The value part of cookie `name` in the response's Set-Cookie headers, or nullopt.
std::optional<std::string> CookieValue(const ClientResponse& response, std::string_view name);

// Attribute `attr` ("Max-Age", "HttpOnly" ...) of a Set-Cookie header: its value, "" for a
// flag attribute, nullopt when absent. Case-insensitive on the attribute name.
std::optional<std::string> CookieAttribute(std::string_view set_cookie, std::string_view attr);

// Logs in; returns the access token (empty on failure, with a gtest failure recorded).
std::string LoginToken(int port, std::string_view user, std::string_view password);

// Unix seconds of an RFC 3339 timestamp ("2026-05-04T10:00:00.123456+00:00" or "...Z"), or
// nullopt when `text` is not one.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// The decoded payload (JSON text) of a JWT, or nullopt when it is not three Base64URL parts.
std::optional<std::string> JwtPayload(std::string_view token);

// Seconds since the Unix epoch, now.
int64_t NowUnixSeconds();

// `keys` sorted (for comparing the key set of a JSON object).
std::vector<std::string> Sorted(std::vector<std::string> keys);

// Checks an /auth/* or health error: HTTP `status`, body exactly
// {"error":"<code>","message":"<non-empty text>"}.
void ExpectAuthError(const ClientResponse& response, int status, std::string_view code);

// The whole contents of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// What a run of the kalam binary printed and returned.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the kalam binary (KALAM_BIN) with `args`, the server's URL and `password` in its
// environment (KALAMDB_USER unset, HOME a fresh temporary directory), `input` as stdin (a
// file: not a terminal), and captures stdout and stderr.
RunResult RunKalam(const ServerProcess& server, const std::vector<std::string>& args,
                   const std::string& input = "", const std::string& password = kRootPassword);

// A server started with KALAMDB_ROOT_PASSWORD=kRootPassword (plus `extra_env`).
ServerOptions RootServerOptions(Headers extra_env = {});

}  // namespace kalamdb::test
