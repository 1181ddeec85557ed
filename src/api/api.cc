// api.cc: routing and the JSON bodies of /health, /v1/api/healthcheck, /v1/api/sql and
// /v1/api/auth/*. Shapes, codes and messages follow the KalamDB reference (docs/api.md).
#include "api/api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <iterator>
#include <optional>

#include "api/errors.h"
#include "api/metrics.h"
#include "auth/auth.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/strings.h"
#include "sql/sql.h"
#include "trace/jaeger.h"
#include "trace/tracer.h"

namespace kalamdb::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

double TookMs(const Request& request) {
  if (request.start_ns == 0) return 0.0;
  return static_cast<double>(SteadyNowNs() - request.start_ns) / 1e6;
}

// Value of cookie `name` in the Cookie header, or nullopt.
std::optional<std::string_view> CookieValue(const Request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (!EqualsIgnoreCase(key, "cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = TrimSpaces(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

// {"error":"<code>","message":"<message>"}: the shape of /auth/* and health errors.
void SimpleError(Response& response, int status, std::string_view code, std::string_view message) {
  response.status = status;
  response.body.clear();
  JsonWriter w(response.body);
  w.BeginObject().Key("error").String(code).Key("message").String(message).EndObject();
}

// The SQL envelope for errors: {"status":"error","results":[],"took":..,"error":{...}}.
void SqlError(Response& response, const Request& request, int status, std::string_view code,
              std::string_view message, std::string_view details = {}) {
  response.status = status;
  response.body.clear();
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("status").String("error");
  w.Key("results").BeginArray().EndArray();
  w.Key("took").Double(TookMs(request), 3);
  w.Key("error").BeginObject().Key("code").String(code).Key("message").String(message);
  if (!details.empty()) w.Key("details").String(details);
  w.EndObject();
  w.EndObject();
}

void WriteUser(JsonWriter& w, const catalog::User& user) {
  w.BeginObject();
  w.Key("id").String(user.user_id);
  w.Key("role").String(catalog::RoleName(user.role));
  w.Key("email");
  if (user.email)
    w.String(*user.email);
  else
    w.Null();
  w.Key("created_at").String(FormatRfc3339Micros(user.created_at));
  w.Key("updated_at").String(FormatRfc3339Micros(user.updated_at));
  w.EndObject();
}

// Parsed JSON object body of an auth endpoint; nullopt after answering 400.
struct Fields {
  std::optional<std::string> user, password, root_password, email;
};

std::optional<Fields> ParseAuthBody(const Request& request, Response& response,
                                    std::initializer_list<std::string_view> allowed) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(request.body);
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    SimpleError(response, 400, "invalid_request", "Request body must be a JSON object");
    return std::nullopt;
  }
  Fields fields;
  for (auto [key, value] : object) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      SimpleError(response, 400, "invalid_request", "unknown field `" + std::string(key) + "`");
      return std::nullopt;
    }
    std::optional<std::string>* slot = nullptr;
    if (key == "user" || key == "username")
      slot = &fields.user;
    else if (key == "password")
      slot = &fields.password;
    else if (key == "root_password")
      slot = &fields.root_password;
    else if (key == "email")
      slot = &fields.email;
    if (value.is_null()) continue;
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      SimpleError(response, 400, "invalid_request",
                  "field `" + std::string(key) + "` must be a string");
      return std::nullopt;
    }
    if (slot != nullptr) *slot = std::string(text);
  }
  return fields;
}

// Value of query parameter `name` ('+' and %XX decoded), or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      if (raw[i] == '+') {
        value += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 &&
                 hex(raw[i + 2]) >= 0) {
        value += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
        i += 2;
      } else {
        value += raw[i];
      }
    }
    return value;
  }
  return std::nullopt;
}

// Jaeger's query-API error envelope: {"data":null,...,"errors":[{"code":N,"msg":"..."}]}.
void JaegerError(Response& response, int status, std::string_view message) {
  response.status = status;
  response.body.clear();
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("data").Null();
  w.Key("total").Int(0).Key("limit").Int(0).Key("offset").Int(0);
  w.Key("errors").BeginArray().BeginObject();
  w.Key("code").Int(status).Key("msg").String(message);
  w.EndObject().EndArray();
  w.EndObject();
}

// Fixed-window counter per client IP; cheap enough for the auth endpoints.
class IpRateLimiter {
 public:
  explicit IpRateLimiter(int per_second) : per_second_(per_second) {}
  bool Allow(std::string_view ip) {
    if (per_second_ <= 0) return true;
    int64_t second = NowSeconds();
    std::lock_guard lock(mu_);
    if (windows_.size() > 100000) windows_.clear();
    auto& window = windows_[std::string(ip)];
    if (window.second != second) {
      window.second = second;
      window.count = 0;
    }
    return ++window.count <= per_second_;
  }

 private:
  struct Window {
    int64_t second = 0;
    int count = 0;
  };
  const int per_second_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
};

}  // namespace

struct Api::Impl {
  Impl(auth::Authenticator& a, sql::Engine& e, Options o)
      : auth(a),
        engine(e),
        options(std::move(o)),
        auth_limiter(options.auth_requests_per_ip_per_sec) {}

  auth::Authenticator& auth;
  sql::Engine& engine;
  const Options options;
  IpRateLimiter auth_limiter;
  Metrics metrics;
  trace::JaegerOptions jaeger;

  struct RouteEntry {
    std::string_view path;  // exact, or a prefix when it ends with '/'
    Method method;
    void (Impl::*handler)(const Request&, Response&);
    const char* span_name;  // root span of its traces; nullptr: not traced
  };
  static const RouteEntry kRoutes[];
  static const size_t kRouteCount;

  // The route serving `request`: its index in kRoutes, kRouteCount when the path is unknown,
  // or kRouteCount + 1 when the path is known but not the method.
  size_t FindRoute(const Request& request) const;
  void Route(const Request& request, Response& response, size_t route);
  void Health(const Request& request, Response& response);
  void PrometheusMetrics(const Request& request, Response& response);
  void Traces(const Request& request, Response& response);
  void TraceById(const Request& request, Response& response);
  void Services(const Request& request, Response& response);
  void Operations(const Request& request, Response& response);
  // The Jaeger options for one request (`precision=ns` adds exact nanosecond times).
  trace::JaegerOptions JaegerFor(const Request& request) const;
  // Admin credentials for the trace endpoints; false after answering 401/403.
  bool RequireAdmin(const Request& request, Response& response);
  void Sql(const Request& request, Response& response);
  void Login(const Request& request, Response& response);
  void Refresh(const Request& request, Response& response);
  void Logout(const Request& request, Response& response);
  void Me(const Request& request, Response& response);
  void Status(const Request& request, Response& response);
  void Setup(const Request& request, Response& response);
  void WriteTokens(const Request& request, Response& response, const auth::TokenPair& tokens);
  void AddCookie(const Request& request, Response& response, std::string_view name,
                 std::string_view value, int64_t max_age);
  bool OriginAllowed(std::string_view origin) const;
  void ApplyCors(const Request& request, Response& response) const;
};

bool Api::Impl::OriginAllowed(std::string_view origin) const {
  const auto& allowed = options.cors.allowed_origins;
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

void Api::Impl::ApplyCors(const Request& request, Response& response) const {
  std::string_view origin = request.Header("origin");
  if (origin.empty() || !OriginAllowed(origin)) return;
  const auto& cors = options.cors;
  response.AddHeader("Access-Control-Allow-Origin", std::string(origin));
  response.AddHeader("Vary", "Origin");
  if (cors.allow_credentials) response.AddHeader("Access-Control-Allow-Credentials", "true");
  auto join = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
      if (!out.empty()) out += ", ";
      out += item;
    }
    return out;
  };
  if (!cors.expose_headers.empty())
    response.AddHeader("Access-Control-Expose-Headers", join(cors.expose_headers));
  if (request.method == Method::kOptions &&
      !request.Header("access-control-request-method").empty()) {
    response.AddHeader("Access-Control-Allow-Methods", join(cors.allowed_methods));
    response.AddHeader("Access-Control-Allow-Headers", join(cors.allowed_headers));
    response.AddHeader("Access-Control-Max-Age", std::to_string(cors.max_age));
  }
}

const Api::Impl::RouteEntry Api::Impl::kRoutes[] = {
    {"/v1/api/sql", Method::kPost, &Impl::Sql, "POST /v1/api/sql"},
    {"/health", Method::kGet, &Impl::Health, nullptr},
    {"/v1/api/healthcheck", Method::kGet, &Impl::Health, nullptr},
    {"/metrics", Method::kGet, &Impl::PrometheusMetrics, nullptr},
    {"/v1/api/auth/login", Method::kPost, &Impl::Login, "POST /v1/api/auth/login"},
    {"/v1/api/auth/refresh", Method::kPost, &Impl::Refresh, "POST /v1/api/auth/refresh"},
    {"/v1/api/auth/logout", Method::kPost, &Impl::Logout, "POST /v1/api/auth/logout"},
    {"/v1/api/auth/me", Method::kGet, &Impl::Me, "GET /v1/api/auth/me"},
    {"/v1/api/auth/status", Method::kGet, &Impl::Status, "GET /v1/api/auth/status"},
    {"/v1/api/auth/setup", Method::kPost, &Impl::Setup, "POST /v1/api/auth/setup"},
    {"/v1/api/traces", Method::kGet, &Impl::Traces, nullptr},
    {"/v1/api/traces/", Method::kGet, &Impl::TraceById, nullptr},
    {"/v1/api/services", Method::kGet, &Impl::Services, nullptr},
    {"/v1/api/services/", Method::kGet, &Impl::Operations, nullptr},
};
const size_t Api::Impl::kRouteCount = std::size(Api::Impl::kRoutes);

size_t Api::Impl::FindRoute(const Request& request) const {
  static_assert(std::size(kRoutes) + 2 <= Metrics::kMaxRoutes);
  const std::string_view path = request.path;
  const Method method = request.method;
  bool path_known = false;
  for (size_t i = 0; i < kRouteCount; ++i) {
    const RouteEntry& route = kRoutes[i];
    const bool match = route.path.back() == '/'
                           ? path.size() > route.path.size() && path.starts_with(route.path)
                           : route.path == path;
    if (!match) continue;
    path_known = true;
    if (route.method == method || (route.method == Method::kGet && method == Method::kHead)) {
      return i;
    }
  }
  return path_known ? kRouteCount + 1 : kRouteCount;
}

void Api::Impl::Route(const Request& request, Response& response, size_t route) {
  // CORS preflight for any route.
  if (request.method == Method::kOptions && !request.Header("origin").empty()) {
    response.status = 204;
    response.content_type.clear();
    return;
  }
  if (route < kRouteCount) {
    const RouteEntry& entry = kRoutes[route];
    std::invoke(entry.handler, this, request, response);
    return;
  }
  response.content_type.clear();
  response.body.clear();
  if (request.path == "/v1/ws") {
    // The connection layer can hand this socket to a WebSocket session; live queries are not
    // implemented yet.
    SimpleError(response, 501, "not_implemented",
                "Live queries over WebSocket are not available yet");
    response.content_type = "application/json";
    return;
  }
  response.status = route == kRouteCount + 1 ? 405 : 404;
}

void Api::Impl::Health(const Request& request, Response& response) {
  if (!request.peer_is_loopback) {
    response.status = 403;
    response.body = "{\"error\":\"Access denied. Health endpoint is localhost-only.\"}";
    return;
  }
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("status").String("healthy");
  w.Key("version").String(options.version);
  w.Key("api_version").String("v1");
  w.Key("build_date").String(options.build_date);
  w.EndObject();
}

void Api::Impl::Sql(const Request& request, Response& response) {
  // 1. Authenticate before looking at the body.
  std::string_view authorization = request.Header("authorization");
  if (TrimSpaces(authorization).empty()) {
    SqlError(response, request, 401, "MISSING_AUTHORIZATION", "Authentication required");
    return;
  }
  trace::Span auth_span("auth.check");
  auto principal = auth.Authenticate(authorization);
  auth_span.EndWithLastChild();  // auth.basic or auth.bearer; the attributes are not timed
  if (auth_span.recording()) {
    if (std::string_view method = TrimSpaces(authorization);
        StartsWithIgnoreCase(method, "Basic ")) {
      auth_span.SetAttribute("auth.method", "basic");
    } else {
      auth_span.SetAttribute("auth.method", "bearer");
    }
    if (principal.ok()) {
      auth_span.SetAttribute("user_id", principal->user_id);
      auth_span.SetAttribute("role", catalog::RoleName(principal->role));
    }
    auth_span.SetStatus(principal.status());
  }
  if (!principal.ok()) {
    ErrorCode code = principal.status().code();
    WireError wire = AuthWireError(code);
    std::string_view message = code == ErrorCode::kTokenExpired    ? "Token expired"
                               : code == ErrorCode::kAccountLocked ? "Account locked"
                               : wire.http_status == 500           ? "Authentication failed"
                                                                   : "Invalid credentials";
    SqlError(response, request, wire.http_status, wire.code, message);
    return;
  }
  const bool is_admin = catalog::IsAdmin(principal->role);

  // 2. The JSON body: {"sql": "...", "params": [...]?, "namespace_id": "..."?}.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(request.body);
  simdjson::dom::element doc;
  simdjson::dom::object object;
  auto parse_error = parser.parse(padded).get(doc);
  if (parse_error != simdjson::SUCCESS || doc.get_object().get(object) != simdjson::SUCCESS) {
    std::string reason = parse_error != simdjson::SUCCESS ? simdjson::error_message(parse_error)
                                                          : "expected a JSON object";
    SqlError(response, request, 400, "INVALID_INPUT", "Invalid JSON payload: " + reason);
    return;
  }
  std::string_view sql_text;
  auto sql_field = object["sql"];
  if (sql_field.error() != simdjson::SUCCESS ||
      sql_field.get_string().get(sql_text) != simdjson::SUCCESS) {
    SqlError(response, request, 400, "INVALID_INPUT",
             "Invalid JSON payload: missing string field `sql`");
    return;
  }
  sql::Session session;
  session.user_id = principal->user_id;
  session.role = principal->role;
  std::string_view ns;
  if (object["namespace_id"].get_string().get(ns) == simdjson::SUCCESS && !ns.empty()) {
    session.default_namespace = std::string(ns);
  }
  simdjson::dom::array params;
  std::vector<sql::Param> bound;
  if (object["params"].get_array().get(params) == simdjson::SUCCESS) {
    size_t index = 0;
    for (auto param : params) {
      ++index;
      sql::Param& p = bound.emplace_back();
      if (param.is_null()) {
        p.kind = sql::Param::Kind::kNull;
      } else if (param.is_bool()) {
        p.kind = sql::Param::Kind::kBoolean;
        p.boolean = param.get_bool().value_unsafe();
      } else if (param.is_int64() || param.is_uint64()) {
        p.kind = sql::Param::Kind::kInteger;
        p.text = simdjson::minify(param);
      } else if (param.is_double()) {
        p.kind = sql::Param::Kind::kFloat;
        p.text = simdjson::minify(param);
      } else if (param.is_string()) {
        p.kind = sql::Param::Kind::kString;
        p.text = std::string(param.get_string().value_unsafe());
      }
      if (param.is_array() || param.is_object()) {
        SqlError(response, request, 400, "INVALID_PARAMETER",
                 "Parameter $" + std::to_string(index) + " invalid: " +
                     (param.is_array() ? "Array" : "Object") + " parameters not yet supported");
        return;
      }
    }
    if (index > 50) {
      SqlError(response, request, 400, "INVALID_PARAMETER",
               "Too many parameters: " + std::to_string(index) + " (maximum 50)");
      return;
    }
  }
  if (static_cast<int64_t>(sql_text.size()) > options.max_sql_bytes) {
    SqlError(response, request, 400, "INVALID_SQL",
             "SQL query too long: " + std::to_string(sql_text.size()) + " bytes (maximum " +
                 std::to_string(options.max_sql_bytes) + " bytes)");
    return;
  }
  if (std::all_of(sql_text.begin(), sql_text.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == ';'; })) {
    SqlError(response, request, 400, "EMPTY_SQL", "No SQL statements provided");
    return;
  }

  // 3. Execute.
  std::string failed_statement;
  thread_local std::vector<sql::QueryResult> results;  // reused: its storage stays allocated
  bool awaiting_sync = false;
  const kalamdb::Status executed =
      engine.ExecuteInto(session, sql_text, bound, &results, &failed_statement, &awaiting_sync);
  if (awaiting_sync) {
    // Group commit: the answer (success or error) leaves once a WAL sync covers its writes.
    response.hold = [engine = &engine](std::function<void(bool)> release) {
      engine->WhenDurable([release = std::move(release)](const kalamdb::Status& synced) {
        if (!synced.ok()) log::Error("write not acknowledged: " + synced.ToString());
        release(synced.ok());
      });
    };
  }
  if (!executed.ok()) {
    WireError wire = SqlWireError(executed.code());
    std::string_view message = executed.message();
    // Non-admins do not learn which tables exist, nor internal details (reference §2.1).
    if (!is_admin && wire.http_status == 500) message = "SQL request failed";
    if (!is_admin && executed.code() == ErrorCode::kNotFound &&
        message.find("Table '") != std::string_view::npos) {
      message = "SQL statement failed";
    }
    // Admins also get the failing statement's text (reference §2.1).
    SqlError(response, request, wire.http_status, wire.code, message,
             is_admin ? std::string_view(failed_statement) : std::string_view());
    return;
  }

  // 4. The success envelope.
  int64_t counts[4] = {0, 0, 0, 0};
  for (const auto& result : results) counts[static_cast<size_t>(result.dml)] += result.row_count;
  metrics.CountRows(counts[1], counts[2], counts[3]);
  // The answer is assembled from where the execution ended (its bookkeeping included): one
  // clock read fewer.
  trace::Span write_span("http.write_response", trace::SpanKind::kInternal,
                         trace::PreviousSiblingEnd());
  response.body.reserve(256);  // a DML answer fits: one allocation instead of several
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("status").String("success");
  w.Key("results").BeginArray();
  for (const auto& result : results) {
    w.BeginObject();
    if (!result.schema.empty()) {
      w.Key("schema").BeginArray();
      int index = 0;
      for (const auto& column : result.schema) {
        w.BeginObject().Key("name").String(column.name).Key("data_type");
        // Parameterised types ({"Decimal":{...}}) arrive as JSON; names as plain strings.
        if (!column.data_type.empty() && column.data_type.front() == '{') {
          w.Raw(column.data_type);
        } else {
          w.String(column.data_type);
        }
        w.Key("index").Int(index++);
        if (!column.flags.empty()) {
          w.Key("flags").BeginArray();
          for (const auto& flag : column.flags) w.String(flag);
          w.EndArray();
        }
        w.EndObject();
      }
      w.EndArray();
    }
    if (result.has_rows) {
      w.Key("rows").BeginArray();
      for (const auto& row : result.rows) {
        w.BeginArray();
        for (const auto& cell : row) w.Raw(cell);
        w.EndArray();
      }
      w.EndArray();
    }
    w.Key("row_count").Int(result.row_count);
    if (result.message) {
      w.Key("message").String(*result.message);
    } else if (result.dml != sql::QueryResult::Dml::kNone) {
      char buffer[48];
      w.Key("message").String(sql::DmlMessage(result.dml, result.row_count, buffer));
    }
    w.Key("as_user").String(result.as_user.empty() ? principal->user_id : result.as_user);
    w.EndObject();
  }
  w.EndArray();
  w.Key("took").Double(TookMs(request), 3);
  if (results.size() == 1 && results.front().has_rows) w.Key("error").Null();
  w.EndObject();
  write_span.SetAttribute("bytes", response.body.size());
}

void Api::Impl::AddCookie(const Request& request, Response& response, std::string_view name,
                          std::string_view value, int64_t max_age) {
  std::string cookie(name);
  cookie += "=";
  cookie += value;
  cookie += "; HttpOnly; SameSite=Strict; Path=/; Max-Age=";
  cookie += std::to_string(max_age);
  bool https =
      EqualsIgnoreCase(request.Header("x-forwarded-proto"), "https") && request.peer_is_loopback;
  if (options.cookie_secure && https) cookie += "; Secure";
  response.AddHeader("Set-Cookie", std::move(cookie));
}

void Api::Impl::WriteTokens(const Request& request, Response& response,
                            const auth::TokenPair& tokens) {
  const int64_t now = NowSeconds();
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("user");
  WriteUser(w, *tokens.user);
  w.Key("admin_ui_access").Bool(catalog::IsAdmin(tokens.user->role));
  w.Key("expires_at").String(FormatRfc3339Micros(tokens.access_expires_at * 1000000));
  w.Key("access_token").String(tokens.access_token);
  w.Key("refresh_token").String(tokens.refresh_token);
  w.Key("refresh_expires_at").String(FormatRfc3339Micros(tokens.refresh_expires_at * 1000000));
  w.EndObject();
  AddCookie(request, response, "kalamdb_auth", tokens.access_token, tokens.access_expires_at - now);
  AddCookie(request, response, "kalamdb_refresh", tokens.refresh_token,
            tokens.refresh_expires_at - now);
}

void Api::Impl::Login(const Request& request, Response& response) {
  if (!auth_limiter.Allow(request.peer_ip)) {
    SimpleError(response, 429, "rate_limited",
                "Too many authentication attempts. Please retry shortly.");
    return;
  }
  auto fields = ParseAuthBody(request, response, {"user", "username", "password"});
  if (!fields) return;
  std::string user = fields->user.value_or("");
  std::string password = fields->password.value_or("");
  if (user.size() > 128 || password.size() > 256) {
    SimpleError(response, 400, "invalid_request",
                "user must be at most 128 and password at most 256 characters");
    return;
  }
  auto tokens = auth.Login(user, password, request.peer_is_loopback);
  if (!tokens.ok()) {
    switch (tokens.status().code()) {
      case ErrorCode::kSetupRequired:
        SimpleError(response, 428, "setup_required", tokens.status().message());
        return;
      case ErrorCode::kAccountLocked:
        SimpleError(response, 401, "account_locked", tokens.status().message());
        return;
      case ErrorCode::kPermissionDenied:
        SimpleError(response, 403, "forbidden",
                    "Root login is only allowed from localhost until a password is set");
        return;
      case ErrorCode::kUnauthenticated:
        SimpleError(response, 401, "unauthorized", "Invalid credentials");
        return;
      default:
        SimpleError(response, 500, "internal_error", "Login failed");
        return;
    }
  }
  WriteTokens(request, response, *tokens);
}

void Api::Impl::Refresh(const Request& request, Response& response) {
  if (!auth_limiter.Allow(request.peer_ip)) {
    SimpleError(response, 429, "rate_limited",
                "Too many authentication attempts. Please retry shortly.");
    return;
  }
  std::string_view token;
  if (auto cookie = CookieValue(request, "kalamdb_refresh"); cookie && !cookie->empty()) {
    token = *cookie;
  } else {
    std::string_view authorization = TrimSpaces(request.Header("authorization"));
    if (authorization.size() > 7 && EqualsIgnoreCase(authorization.substr(0, 7), "Bearer ")) {
      token = TrimSpaces(authorization.substr(7));
    }
  }
  if (token.empty()) {
    SimpleError(response, 401, "unauthorized", "Refresh endpoint requires a refresh token");
    return;
  }
  auto tokens = auth.Refresh(token);
  if (!tokens.ok()) {
    SimpleError(response, 401, "unauthorized", tokens.status().message());
    return;
  }
  WriteTokens(request, response, *tokens);
}

void Api::Impl::Logout(const Request& request, Response& response) {
  response.body = "{\"message\":\"Logged out successfully\"}";
  AddCookie(request, response, "kalamdb_auth", "", 0);
  AddCookie(request, response, "kalamdb_refresh", "", 0);
}

void Api::Impl::Me(const Request& request, Response& response) {
  std::string_view token;
  std::string_view authorization = TrimSpaces(request.Header("authorization"));
  if (!authorization.empty()) {
    if (authorization.size() <= 7 || !EqualsIgnoreCase(authorization.substr(0, 7), "Bearer ")) {
      SimpleError(response, 401, "unauthorized", "Authorization scheme must be Bearer");
      return;
    }
    token = TrimSpaces(authorization.substr(7));
  } else if (auto cookie = CookieValue(request, "kalamdb_auth")) {
    token = *cookie;
  }
  if (token.empty()) {
    SimpleError(response, 401, "unauthorized", "Authentication required");
    return;
  }
  auto user = auth.VerifyAccessToken(token);
  if (!user.ok()) {
    SimpleError(
        response, 401, "unauthorized",
        user.status().code() == ErrorCode::kTokenExpired ? "Token expired" : "Invalid credentials");
    return;
  }
  JsonWriter w(response.body);
  w.BeginObject().Key("user");
  WriteUser(w, **user);
  w.Key("admin_ui_access").Bool(catalog::IsAdmin((*user)->role));
  w.EndObject();
}

void Api::Impl::Status(const Request& request, Response& response) {
  if (!auth_limiter.Allow(request.peer_ip)) {
    SimpleError(response, 429, "rate_limited",
                "Too many authentication attempts. Please retry shortly.");
    return;
  }
  if (!request.peer_is_loopback && !options.allow_remote_setup) {
    SimpleError(response, 403, "forbidden", "Setup status can only be checked from localhost");
    return;
  }
  bool needs_setup = auth.NeedsSetup();
  JsonWriter w(response.body);
  w.BeginObject().Key("needs_setup").Bool(needs_setup);
  w.Key("message").String(needs_setup
                              ? "Server requires initial setup. Call POST /v1/api/auth/setup "
                                "with user, password, root_password, and optional email."
                              : "Server is configured and ready.");
  w.EndObject();
}

void Api::Impl::Setup(const Request& request, Response& response) {
  if (!auth_limiter.Allow(request.peer_ip)) {
    SimpleError(response, 429, "rate_limited", "Too many setup attempts. Please retry shortly.");
    return;
  }
  if (!request.peer_is_loopback && !options.allow_remote_setup) {
    SimpleError(response, 403, "forbidden", "Server setup can only be performed from localhost");
    return;
  }
  auto fields =
      ParseAuthBody(request, response, {"user", "username", "password", "root_password", "email"});
  if (!fields) return;
  auto result = auth.Setup(fields->user.value_or(""), fields->password.value_or(""),
                           fields->root_password.value_or(""), fields->email);
  using auth::SetupOutcome;
  switch (result.outcome) {
    case SetupOutcome::kOk: {
      JsonWriter w(response.body);
      w.BeginObject().Key("user");
      WriteUser(w, *result.user);
      w.Key("message").String(result.message);
      w.EndObject();
      return;
    }
    case SetupOutcome::kAlreadyConfigured:
      SimpleError(response, 409, "already_configured", result.message);
      return;
    case SetupOutcome::kWeakPassword:
    case SetupOutcome::kWeakRootPassword:
      SimpleError(response, 400, "weak_password", result.message);
      return;
    case SetupOutcome::kInvalidUser:
      SimpleError(response, 400, "invalid_user", result.message);
      return;
    case SetupOutcome::kUserExists:
      SimpleError(response, 409, "user_exists", result.message);
      return;
    case SetupOutcome::kFailed:
      SimpleError(response, 500, "internal_error", "Setup failed");
      return;
  }
}

Api::Api(auth::Authenticator& auth, sql::Engine& engine, Options options)
    : impl_(std::make_unique<Impl>(auth, engine, std::move(options))) {
  impl_->jaeger.service_name = impl_->options.service_name;
  impl_->jaeger.scope_version = impl_->options.version;
  impl_->jaeger.process_tags.emplace_back("service.version", impl_->options.version);
  if (!impl_->options.host_name.empty())
    impl_->jaeger.process_tags.emplace_back("host.name", impl_->options.host_name);
}

Api::~Api() = default;

namespace {

const char* MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kPatch:
      return "PATCH";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

// The request's start (steady clock, first byte read) on the trace's clock, through the
// trace's steady-to-Unix offset (no clock read); never after the trace began.
int64_t WallStart(const trace::Trace& trace, const Request& request) {
  const int64_t now = trace.begin_ns();
  if (request.start_ns == 0) return now;
  return std::min(now, trace.FromSteadyNs(request.start_ns));
}

}  // namespace

void Api::Handle(const Request& request, Response& response) {
  Impl& impl = *impl_;
  const size_t route = impl.FindRoute(request);
  const char* span_name = route < Impl::kRouteCount ? Impl::kRoutes[route].span_name : nullptr;
  std::unique_ptr<trace::Trace> trace;
  int64_t end_steady_ns = 0;  // when a recorded root span ended
  if (span_name != nullptr && impl.options.tracer != nullptr)
    trace = impl.options.tracer->Begin(request.Header("traceparent"));
  if (trace != nullptr) {
    {
      trace::ScopedTrace scope(*trace);
      const int64_t wall_start = WallStart(*trace, request);
      trace::Span root(span_name, trace::SpanKind::kServer, wall_start);
      if (request.complete_ns > request.start_ns && root.recording()) {
        // The request arrived in several reads: the time until its last byte is its own span.
        const int32_t read = trace->AddSpan("http.read_request", trace::SpanKind::kInternal,
                                            trace->current(), wall_start);
        if (read != trace::kNoSpan) {
          trace->EndSpan(read, wall_start + (request.complete_ns - request.start_ns));
          trace->SetAttribute(read, "bytes", request.body.size());
        }
      }
      impl.Route(request, response, route);
      impl.ApplyCors(request, response);
      if (root.recording()) {
        // The request's latency below ends there too: one clock read fewer.
        end_steady_ns = trace->ToSteadyNs(root.End());
        root.SetAttribute("http.method", MethodName(request.method));
        root.SetAttribute("http.route", Impl::kRoutes[route].path);
        root.SetAttribute("http.status_code", response.status);
        root.SetAttribute("http.request_content_length", request.body.size());
        root.SetAttribute("net.peer.ip", request.peer_ip);
        if (response.status >= 500) root.SetError(ErrorCode::kInternal, "server error");
        trace::FormatTraceparentTo(response.traceparent.data(), trace->trace_id(), root.id(), true);
      } else {
        trace::FormatTraceparentTo(response.traceparent.data(), trace->trace_id(),
                                   trace::SpanId::Random(), false);
      }
      response.has_traceparent = true;
    }
    if (trace->sampled()) impl.metrics.ObserveTrace(*trace);  // while its spans are in cache
    impl.options.tracer->Finish(std::move(trace));
  } else {
    impl.Route(request, response, route);
    impl.ApplyCors(request, response);
  }
  const std::string_view route_name = route < Impl::kRouteCount    ? Impl::kRoutes[route].path
                                      : route == Impl::kRouteCount ? std::string_view("(unknown)")
                                                                   : std::string_view("(method)");
  if (end_steady_ns == 0) end_steady_ns = SteadyNowNs();
  impl.metrics.CountRequest(
      route, route_name, response.status,
      request.start_ns != 0 ? std::max<int64_t>(0, end_steady_ns - request.start_ns) : 0);
}

// ---------------------------------------------------------------------------------------------
// Observability endpoints

bool Api::Impl::RequireAdmin(const Request& request, Response& response) {
  std::string_view authorization = request.Header("authorization");
  if (TrimSpaces(authorization).empty()) {
    JaegerError(response, 401, "Authentication required");
    return false;
  }
  auto principal = auth.Authenticate(authorization);
  if (!principal.ok()) {
    JaegerError(response, 401,
                principal.status().code() == ErrorCode::kTokenExpired ? "Token expired"
                                                                      : "Invalid credentials");
    return false;
  }
  if (!catalog::IsAdmin(principal->role)) {
    JaegerError(response, 403, "Traces are visible to dba and system users only");
    return false;
  }
  return true;
}

void Api::Impl::Traces(const Request& request, Response& response) {
  if (!RequireAdmin(request, response)) return;
  if (options.tracer == nullptr) {
    JaegerError(response, 503, "Tracing is disabled ([logging.traces] enabled = false)");
    return;
  }
  trace::TraceStore::Query query;
  if (auto service = QueryParam(request.query, "service");
      service && !service->empty() && *service != options.service_name) {
    response.body = "{\"data\":[],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}";
    return;
  }
  if (auto operation = QueryParam(request.query, "operation")) query.operation = *operation;
  auto integer = [&](const char* name, int64_t* out) {
    auto text = QueryParam(request.query, name);
    if (!text || text->empty()) return true;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), *out);
    if (ec == std::errc() && end == text->data() + text->size() && *out >= 0) return true;
    JaegerError(response, 400,
                std::string("parameter ") + name + ": expected a non-negative integer");
    return false;
  };
  int64_t limit = 20;
  if (!integer("start", &query.start_us) || !integer("end", &query.end_us) ||
      !integer("limit", &limit)) {
    return;
  }
  query.limit = limit > 0 ? static_cast<size_t>(limit) : 20;
  for (auto [name, out] : {std::pair{"minDuration", &query.min_duration_ns},
                           std::pair{"maxDuration", &query.max_duration_ns}}) {
    auto text = QueryParam(request.query, name);
    if (!text || text->empty()) continue;
    auto ns = ParseDurationNs(*text);
    if (!ns) {
      JaegerError(response, 400,
                  std::string("parameter ") + name + ": expected a duration such as 1.5ms");
      return;
    }
    *out = *ns;
  }
  auto found = options.tracer->store().Find(query);
  std::vector<const trace::Trace*> traces;
  traces.reserve(found.size());
  for (const auto& t : found) traces.push_back(t.get());
  response.body = trace::ToJaegerJson(traces, JaegerFor(request));
}

trace::JaegerOptions Api::Impl::JaegerFor(const Request& request) const {
  trace::JaegerOptions out = jaeger;
  out.nanos = QueryParam(request.query, "precision") == std::optional<std::string>("ns");
  return out;
}

void Api::Impl::TraceById(const Request& request, Response& response) {
  if (!RequireAdmin(request, response)) return;
  std::string_view hex = request.path.substr(std::string_view("/v1/api/traces/").size());
  std::string lower(hex);
  for (char& c : lower) c = AsciiLower(c);
  // Jaeger accepts ids without leading zeros.
  if (lower.size() < 32) lower.insert(0, 32 - lower.size(), '0');
  auto id = trace::TraceId::FromHex(lower);
  if (!id) {
    JaegerError(response, 400, "malformed trace id");
    return;
  }
  trace::TraceSnapshot t =
      options.tracer != nullptr ? options.tracer->store().Get(*id) : trace::TraceSnapshot();
  if (t == nullptr) {
    JaegerError(response, 404, "trace not found");
    return;
  }
  response.body = trace::ToJaegerJson(*t, JaegerFor(request));
}

void Api::Impl::Services(const Request& request, Response& response) {
  if (!RequireAdmin(request, response)) return;
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("data").BeginArray().String(options.service_name).EndArray();
  w.Key("total").Int(1).Key("limit").Int(0).Key("offset").Int(0);
  w.Key("errors").Null();
  w.EndObject();
}

void Api::Impl::Operations(const Request& request, Response& response) {
  if (!RequireAdmin(request, response)) return;
  std::string_view rest = request.path.substr(std::string_view("/v1/api/services/").size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || rest.substr(slash) != "/operations") {
    JaegerError(response, 404, "unknown path");
    return;
  }
  std::vector<std::string> operations;
  if (options.tracer != nullptr && rest.substr(0, slash) == options.service_name)
    operations = options.tracer->store().Operations();
  JsonWriter w(response.body);
  w.BeginObject();
  w.Key("data").BeginArray();
  for (const auto& op : operations) w.String(op);
  w.EndArray();
  w.Key("total").Int(static_cast<int64_t>(operations.size()));
  w.Key("limit").Int(0).Key("offset").Int(0);
  w.Key("errors").Null();
  w.EndObject();
}

void Api::Impl::PrometheusMetrics(const Request& request, Response& response) {
  if (!request.peer_is_loopback && !RequireAdmin(request, response)) return;
  response.content_type = "text/plain; version=0.0.4";
  response.body.reserve(16384);
  metrics.Write(response.body);
  if (options.tracer != nullptr) {
    trace::TracerStats s = options.tracer->stats();
    AppendPrometheusMetric(response.body, "kalamdb_traces_finished_total", "counter",
                           "Sampled request traces finished.", s.finished);
    AppendPrometheusMetric(response.body, "kalamdb_traces_dropped_total", "counter",
                           "Traces dropped for the exporters because the collector queue was full.",
                           s.dropped_queue_full);
    AppendPrometheusMetric(response.body, "kalamdb_trace_queue_depth", "gauge",
                           "Traces waiting for the collector (with OTLP export on).",
                           s.queue_depth);
    AppendPrometheusMetric(response.body, "kalamdb_trace_store_traces", "gauge",
                           "Traces kept for /v1/api/traces.", s.stored);
    AppendPrometheusMetric(response.body, "kalamdb_trace_store_too_large_total", "counter",
                           "Traces not kept for /v1/api/traces: larger than the whole store.",
                           s.stored_too_large);
    if (s.ab_traced + s.ab_untraced > 0) {  // [logging.traces] ab_period_ms
      AppendPrometheusMetric(response.body, "kalamdb_traces_ab_traced_requests_total", "counter",
                             "Requests begun in the second half of a traced A/B period.",
                             s.ab_traced);
      AppendPrometheusMetric(response.body, "kalamdb_traces_ab_untraced_requests_total", "counter",
                             "Requests begun in the second half of an untraced A/B period.",
                             s.ab_untraced);
    }
  }
  if (options.extra_metrics) options.extra_metrics(response.body);
}

std::string Api::BodyTooLargeJson(uint64_t size, uint64_t max) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("error").String("BODY_TOO_LARGE");
  w.Key("message").String("Request body of " + std::to_string(size) +
                          " bytes exceeds the limit of " + std::to_string(max) + " bytes");
  w.Key("size_bytes").Int(static_cast<int64_t>(size));
  w.Key("max_bytes").Int(static_cast<int64_t>(max));
  w.EndObject();
  return body;
}

}  // namespace kalamdb::api
