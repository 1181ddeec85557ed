// config.cc: reads server.toml (toml++), applies KALAMDB_* overrides and checks the result.
//
// Parsing is driven by one small reader per TOML table: every key a section knows is claimed
// by a typed accessor (Str, Bool, Int, Enum, StrList) or marked as tolerated; whatever is left
// over when the section is finished becomes an "unknown key" warning. The first invalid value
// stops the parse with a one-line kConfig error that names the dotted key.
//
// Integer ranges live in one place (the kRange* constants below) and are used three times:
// while parsing the file, while parsing environment variables, and by Validate().
#include "server/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include "common/json_writer.h"
#include "common/log.h"

namespace kalamdb::server {
namespace {

// ---------------------------------------------------------------------------------------------
// Ranges and allowed words.

struct IntRange {
  int64_t min;
  int64_t max;
};

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

constexpr IntRange kRangePort{1, 65535};
constexpr IntRange kRangeWorkers{0, 256};
constexpr IntRange kRangeBlockCache{0, kInt64Max};
constexpr IntRange kRangeBackgroundJobs{1, kIntMax};
constexpr IntRange kRangeOpenFiles{-1, kIntMax};
constexpr IntRange kRangeJwtExpiry{1, kIntMax};
constexpr IntRange kRangeBcryptCost{4, 31};
constexpr IntRange kRangeNonNegative{0, kIntMax};
constexpr IntRange kRangePositive{1, kIntMax};
constexpr IntRange kRangePositive64{1, kInt64Max};
constexpr IntRange kRangeHeaderSize{1024, 1048576};
constexpr IntRange kRangeBusyPoll{0, 10000};

constexpr std::string_view kLevels[] = {"error", "warn", "info", "debug", "trace"};
constexpr std::string_view kFormats[] = {"compact", "pretty", "json"};
constexpr std::string_view kProtocols[] = {"grpc", "http"};

template <size_t N>
std::string JoinWords(const std::string_view (&words)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += '|';
    out += words[i];
  }
  return out;
}

template <size_t N>
bool IsOneOf(std::string_view value, const std::string_view (&words)[N]) {
  return std::find(std::begin(words), std::end(words), value) != std::end(words);
}

// "1..65535", ">= 0" or "" (the whole type).
std::string RangeText(IntRange range) {
  const bool open_top = range.max == kIntMax || range.max == kInt64Max;
  if (open_top) {
    if (range.min == std::numeric_limits<int>::min() ||
        range.min == std::numeric_limits<int64_t>::min()) {
      return "";
    }
    return ">= " + std::to_string(range.min);
  }
  return std::to_string(range.min) + ".." + std::to_string(range.max);
}

std::string IntForm(IntRange range) {
  std::string text = RangeText(range);
  return text.empty() ? "an integer" : "an integer " + text;
}

// Narrows `range` to what the C++ field type can hold.
template <typename T>
IntRange FitRange(IntRange range) {
  return IntRange{std::max<int64_t>(range.min, std::numeric_limits<T>::min()),
                  std::min<int64_t>(range.max, std::numeric_limits<T>::max())};
}

// Error messages are one line; a parser description could in theory carry a line break.
std::string OneLine(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

Status ConfigError(std::string message) { return Status(ErrorCode::kConfig, std::move(message)); }

// ---------------------------------------------------------------------------------------------
// Rendering a TOML value for an error message, on one line.

std::string Quote(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string RenderDouble(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "a float";
  std::string out(buf, end);
  if (out.find_first_of(".eEni") == std::string::npos) out += ".0";
  return out;
}

std::string Render(const toml::node& node) {
  if (const auto* s = node.as_string()) return Quote(s->get());
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) return RenderDouble(f->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* a = node.as_array()) {
    std::string out = "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) out += ", ";
      out += Render(*a->get(i));
    }
    return out + "]";
  }
  if (node.is_table()) return "a table";
  std::ostringstream os;
  if (const auto* d = node.as_date()) os << *d;
  if (const auto* t = node.as_time()) os << *t;
  if (const auto* dt = node.as_date_time()) os << *dt;
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// TableReader: claims the keys of one TOML table.

class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, std::string_view source,
              Warnings* warnings)
      : table_(table), path_(std::move(path)), source_(source), warnings_(warnings) {}

  void Str(std::string_view key, std::string* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    if (const auto* s = node->as_string()) {
      *out = s->get();
    } else {
      Fail(key, "a string", *node);
    }
  }

  void Bool(std::string_view key, bool* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    if (const auto* b = node->as_boolean()) {
      *out = b->get();
    } else {
      Fail(key, "a boolean (true or false)", *node);
    }
  }

  template <typename T>
  void Int(std::string_view key, T* out, IntRange range) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const IntRange fit = FitRange<T>(range);
    const auto* i = node->as_integer();
    if (i == nullptr || i->get() < fit.min || i->get() > fit.max) {
      Fail(key, IntForm(fit), *node);
      return;
    }
    *out = static_cast<T>(i->get());
  }

  // A number in [0, 1] (integer 0 or 1 accepted).
  void Fraction(std::string_view key, double* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    std::optional<double> value;
    if (const auto* f = node->as_floating_point()) value = f->get();
    if (const auto* i = node->as_integer()) value = static_cast<double>(i->get());
    if (!value || !(*value >= 0.0 && *value <= 1.0)) {
      Fail(key, "a number from 0 to 1", *node);
      return;
    }
    *out = *value;
  }

  template <size_t N>
  void Enum(std::string_view key, std::string* out, const std::string_view (&words)[N]) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const auto* s = node->as_string();
    if (s == nullptr || !IsOneOf(s->get(), words)) {
      Fail(key, "one of " + JoinWords(words), *node);
      return;
    }
    *out = s->get();
  }

  void StrList(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const auto* a = node->as_array();
    const bool all_strings =
        a != nullptr &&
        std::all_of(a->begin(), a->end(), [](const toml::node& item) { return item.is_string(); });
    if (!all_strings) {
      Fail(key, "an array of strings", *node);
      return;
    }
    out->clear();
    for (const toml::node& item : *a) out->push_back(item.as_string()->get());
  }

  // Keys KalamDB knows that this server accepts and ignores, whatever their type.
  void Tolerate(std::initializer_list<std::string_view> keys) {
    for (std::string_view key : keys) claimed_.emplace(key);
  }

  // A sub-table; nullptr when absent or after an error (recorded) when not a table.
  const toml::table* Sub(std::string_view key) {
    const toml::node* node = Take(key);
    if (node == nullptr) return nullptr;
    if (const auto* t = node->as_table()) return t;
    Fail(key, "a table", *node);
    return nullptr;
  }

  std::string SubPath(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  std::string_view source() const { return source_; }
  Warnings* warnings() const { return warnings_; }

  // Reports unclaimed keys as warnings and returns the first error, if any.
  Status Finish() {
    if (!status_.ok()) return std::move(status_);
    if (warnings_ == nullptr) return Status::OK();
    for (auto&& [key, node] : table_) {
      (void)node;
      if (claimed_.count(key.str()) != 0) continue;
      warnings_->push_back(std::string(source_) + ": unknown key '" + SubPath(key.str()) +
                           "' (ignored)");
    }
    return Status::OK();
  }

  // Records an error found by nested readers (the first one wins).
  void Adopt(Status status) {
    if (status_.ok() && !status.ok()) status_ = std::move(status);
  }

 private:
  const toml::node* Take(std::string_view key) {
    claimed_.emplace(key);
    if (!status_.ok()) return nullptr;
    return table_.get(key);
  }

  void Fail(std::string_view key, const std::string& form, const toml::node& node) {
    Adopt(ConfigError(SubPath(key) + ": expected " + form + ", got " + Render(node)));
  }

  const toml::table& table_;
  std::string path_;
  std::string_view source_;
  Warnings* warnings_;
  std::set<std::string, std::less<>> claimed_;
  Status status_;
};

// Runs `fn(reader)` over `table` (when present) and folds its outcome into `parent`.
template <typename Fn>
void ReadSub(TableReader& parent, std::string_view key, Fn&& fn) {
  const toml::table* table = parent.Sub(key);
  if (table == nullptr) return;
  TableReader reader(*table, parent.SubPath(key), parent.source(), parent.warnings());
  fn(reader);
  parent.Adopt(reader.Finish());
}

// ---------------------------------------------------------------------------------------------
// Sections.

void ReadServer(TableReader& r, ServerSection& s) {
  r.Str("host", &s.host);
  r.Int("port", &s.port, kRangePort);
  r.Int("workers", &s.workers, kRangeWorkers);
  r.Str("public_origin", &s.public_origin);
  r.Tolerate({"api_version", "enable_http2", "ui_path"});
}

void ReadRocksDb(TableReader& r, RocksDbSection& s) {
  r.Bool("sync_writes", &s.sync_writes);
  r.Bool("group_commit", &s.group_commit);
  r.Int("block_cache_size", &s.block_cache_size, kRangeBlockCache);
  r.Int("max_background_jobs", &s.max_background_jobs, kRangeBackgroundJobs);
  r.Int("max_open_files", &s.max_open_files, kRangeOpenFiles);
  r.Tolerate({"disable_wal", "compact_on_startup", "cf_profiles"});
}

void ReadStorage(TableReader& r, StorageSection& s) {
  r.Str("data_path", &s.data_path);
  ReadSub(r, "rocksdb", [&](TableReader& sub) { ReadRocksDb(sub, s.rocksdb); });
  r.Tolerate({"remote_timeouts", "shared_tables_template", "user_tables_template"});
}

void ReadAuth(TableReader& r, AuthSection& s) {
  r.Str("root_password", &s.root_password);
  r.Str("jwt_secret", &s.jwt_secret);
  r.Int("jwt_expiry_hours", &s.jwt_expiry_hours, kRangeJwtExpiry);
  r.Int("bcrypt_cost", &s.bcrypt_cost, kRangeBcryptCost);
  r.Bool("allow_remote_setup", &s.allow_remote_setup);
  r.Bool("allow_basic_auth", &s.allow_basic_auth);
  r.Bool("cookie_secure", &s.cookie_secure);
  r.Int("basic_auth_cache_seconds", &s.basic_auth_cache_seconds, kRangeNonNegative);
  r.Tolerate({"jwt_trusted_issuers", "min_password_length", "max_password_length",
              "enforce_password_complexity", "pg_auth_token", "disable_common_password_check",
              "auto_create_users_from_provider"});
}

void ReadOtlp(TableReader& r, OtlpSection& s) {
  r.Bool("enabled", &s.enabled);
  r.Str("endpoint", &s.endpoint);
  r.Enum("protocol", &s.protocol, kProtocols);
  r.Str("service_name", &s.service_name);
  r.Int("timeout_ms", &s.timeout_ms, kRangePositive);
  r.Fraction("sample_ratio", &s.sample_ratio);
  r.Int("max_queue_traces", &s.max_queue_traces, kRangePositive);
  r.Int("max_batch_spans", &s.max_batch_spans, kRangePositive);
  r.Int("schedule_delay_ms", &s.schedule_delay_ms, kRangePositive);
}

void ReadTraces(TableReader& r, TracesSection& s) {
  r.Bool("enabled", &s.enabled);
  r.Int("max_traces", &s.max_traces, kRangeNonNegative);
  r.Int("ab_period_ms", &s.ab_period_ms, kRangeNonNegative);
}

void ReadLogging(TableReader& r, LoggingSection& s) {
  r.Enum("level", &s.level, kLevels);
  r.Str("logs_path", &s.logs_path);
  r.Bool("log_to_console", &s.log_to_console);
  r.Enum("format", &s.format, kFormats);
  r.Int("slow_query_threshold_ms", &s.slow_query_threshold_ms, kRangeNonNegative);
  ReadSub(r, "otlp", [&](TableReader& sub) { ReadOtlp(sub, s.otlp); });
  ReadSub(r, "traces", [&](TableReader& sub) { ReadTraces(sub, s.traces); });
  r.Tolerate({"targets"});
}

void ReadLimits(TableReader& r, LimitsSection& s) {
  r.Int("max_message_size", &s.max_message_size, kRangePositive64);
  r.Int("max_query_limit", &s.max_query_limit, kRangePositive);
  r.Int("default_query_limit", &s.default_query_limit, kRangePositive);
}

void ReadPerformance(TableReader& r, PerformanceSection& s) {
  r.Int("request_timeout", &s.request_timeout, kRangePositive);
  r.Int("keepalive_timeout", &s.keepalive_timeout, kRangePositive);
  r.Int("max_connections", &s.max_connections, kRangePositive);
  r.Int("backlog", &s.backlog, kRangePositive);
  r.Int("max_header_size", &s.max_header_size, kRangeHeaderSize);
  r.Int("busy_poll_us", &s.busy_poll_us, kRangeBusyPoll);
  r.Tolerate({"tokio_worker_threads", "worker_max_blocking_threads", "client_request_timeout",
              "client_disconnect_timeout"});
}

void ReadRateLimit(TableReader& r, RateLimitSection& s) {
  r.Int("max_queries_per_sec", &s.max_queries_per_sec, kRangePositive);
  r.Int("max_auth_requests_per_ip_per_sec", &s.max_auth_requests_per_ip_per_sec, kRangePositive);
  r.Int("max_connections_per_ip", &s.max_connections_per_ip, kRangePositive);
  r.Int("max_requests_per_ip_per_sec", &s.max_requests_per_ip_per_sec, kRangePositive);
  r.Int("request_body_limit_bytes", &s.request_body_limit_bytes, kRangePositive64);
  r.Int("ban_duration_seconds", &s.ban_duration_seconds, kRangeNonNegative);
  r.Bool("enable_connection_protection", &s.enable_connection_protection);
  r.Tolerate({"cache_max_entries", "cache_ttl_seconds", "max_messages_per_sec",
              "max_subscriptions_per_user"});
}

void ReadCors(TableReader& r, CorsSection& s) {
  r.StrList("allowed_origins", &s.allowed_origins);
  r.StrList("allowed_methods", &s.allowed_methods);
  r.StrList("allowed_headers", &s.allowed_headers);
  r.StrList("expose_headers", &s.expose_headers);
  r.Bool("allow_credentials", &s.allow_credentials);
  r.Int("max_age", &s.max_age, kRangeNonNegative);
  r.Tolerate({"allow_private_network"});
}

void ReadSecurity(TableReader& r, SecuritySection& s) {
  r.Int("max_request_body_size", &s.max_request_body_size, kRangePositive64);
  r.Int("max_ws_message_size", &s.max_ws_message_size, kRangePositive64);
  r.StrList("trusted_proxy_ranges", &s.trusted_proxy_ranges);
  ReadSub(r, "cors", [&](TableReader& sub) { ReadCors(sub, s.cors); });
  r.Tolerate({"strict_ws_origin_check"});
}

// Orders [auth] and [authentication] by where they start in the file, so the later one wins.
bool StartsBefore(const toml::node* a, const toml::node* b) {
  const toml::source_position pa = a->source().begin;
  const toml::source_position pb = b->source().begin;
  return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
}

Status ReadDocument(const toml::table& root, std::string_view source, Warnings* warnings,
                    Config& config) {
  TableReader r(root, "", source, warnings);
  auto section = [&](std::string_view key, auto&& fn) {
    const toml::table* table = r.Sub(key);
    if (table == nullptr) return;
    TableReader sub(*table, std::string(key), source, warnings);
    fn(sub);
    r.Adopt(sub.Finish());
  };
  section("server", [&](TableReader& s) { ReadServer(s, config.server); });
  section("storage", [&](TableReader& s) { ReadStorage(s, config.storage); });

  const toml::node* auth = root.get("auth");
  const toml::node* authentication = root.get("authentication");
  if (auth != nullptr && authentication != nullptr && StartsBefore(authentication, auth)) {
    section("authentication", [&](TableReader& s) { ReadAuth(s, config.auth); });
    section("auth", [&](TableReader& s) { ReadAuth(s, config.auth); });
  } else {
    section("auth", [&](TableReader& s) { ReadAuth(s, config.auth); });
    section("authentication", [&](TableReader& s) { ReadAuth(s, config.auth); });
  }

  section("logging", [&](TableReader& s) { ReadLogging(s, config.logging); });
  section("limits", [&](TableReader& s) { ReadLimits(s, config.limits); });
  section("performance", [&](TableReader& s) { ReadPerformance(s, config.performance); });
  section("rate_limit", [&](TableReader& s) { ReadRateLimit(s, config.rate_limit); });
  section("security", [&](TableReader& s) { ReadSecurity(s, config.security); });

  r.Tolerate({"datafusion", "flush", "manifest_cache", "retention", "stream", "topics", "websocket",
              "oauth", "user_management", "shutdown", "jobs", "execution", "files", "cluster",
              "rpc_tls", "transaction_timeout_secs", "max_transaction_buffer_bytes"});
  return r.Finish();
}

// ---------------------------------------------------------------------------------------------
// Environment.

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Status EnvError(const char* name, const std::string& form, std::string_view value) {
  return ConfigError(std::string(name) + ": expected " + form + ", got " + Quote(value));
}

class EnvReader {
 public:
  explicit EnvReader(EnvLookup env) : env_(env) {}

  // The value of `name`, or nullptr when unset or empty (an empty value counts as unset).
  const char* Get(const char* name) const {
    const char* value = env_(name);
    return value == nullptr || *value == '\0' ? nullptr : value;
  }

  void Str(const char* name, std::string* out) {
    if (const char* value = Get(name)) *out = value;
  }

  template <typename T>
  void Int(const char* name, T* out, IntRange range) {
    const char* value = Get(name);
    if (value == nullptr || !status_.ok()) return;
    const IntRange fit = FitRange<T>(range);
    std::string_view text = Trim(value);
    int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || parsed < fit.min ||
        parsed > fit.max) {
      status_ = EnvError(name, IntForm(fit), value);
      return;
    }
    *out = static_cast<T>(parsed);
  }

  void Bool(const char* name, bool* out) {
    const char* value = Get(name);
    if (value == nullptr || !status_.ok()) return;
    const std::string word = Lower(Trim(value));
    if (word == "true" || word == "1" || word == "yes") {
      *out = true;
    } else if (word == "false" || word == "0" || word == "no") {
      *out = false;
    } else {
      status_ = EnvError(name, "true|false|1|0|yes|no", value);
    }
  }

  // A number in [0, 1].
  void Fraction(const char* name, double* out) {
    const char* value = Get(name);
    if (value == nullptr || !status_.ok()) return;
    std::string_view text = Trim(value);
    double parsed = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !(parsed >= 0.0 && parsed <= 1.0)) {
      status_ = EnvError(name, "a number from 0 to 1", value);
      return;
    }
    *out = parsed;
  }

  // Comma-separated list; items are trimmed and empty items dropped.
  void List(const char* name, std::vector<std::string>* out) {
    const char* value = Get(name);
    if (value == nullptr) return;
    out->clear();
    std::string_view rest = value;
    while (true) {
      const size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      if (!item.empty()) out->emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  Status status() const { return status_; }

 private:
  EnvLookup env_;
  Status status_;
};

// ---------------------------------------------------------------------------------------------
// Validation helpers.

Status CheckRange(const char* key, int64_t value, IntRange range) {
  if (value >= range.min && value <= range.max) return Status::OK();
  std::string text = RangeText(range);
  if (text.rfind(">=", 0) == 0) {
    return ConfigError(std::string(key) + " (" + std::to_string(value) + ") must be " + text);
  }
  return ConfigError(std::string(key) + " (" + std::to_string(value) + ") must be in " + text);
}

template <size_t N>
Status CheckWord(const char* key, const std::string& value, const std::string_view (&words)[N]) {
  if (IsOneOf(value, words)) return Status::OK();
  return ConfigError(std::string(key) + " (" + Quote(value) + ") must be one of " +
                     JoinWords(words));
}

}  // namespace

// -------------------------------------------------------------------------------------------------

int64_t Config::BodyLimit() const {
  return std::min(security.max_request_body_size, rate_limit.request_body_limit_bytes);
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source,
                           Warnings* warnings) {
  try {
#if TOML_EXCEPTIONS
    toml::table root;
    try {
      root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
      return ConfigError(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                         std::to_string(e.source().begin.column) + ": " + OneLine(e.description()));
    }
#else
    toml::parse_result parsed = toml::parse(toml_text, source);
    if (!parsed) {
      const toml::parse_error& e = parsed.error();
      return ConfigError(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                         std::to_string(e.source().begin.column) + ": " + OneLine(e.description()));
    }
    toml::table root = std::move(parsed).table();
#endif
    Config config;
    Status status = ReadDocument(root, source, warnings, config);
    if (!status.ok()) return status;
    return config;
  } catch (const std::exception& e) {
    return ConfigError(std::string(source) + ": cannot parse configuration: " + e.what());
  }
}

Result<Config> LoadConfigFile(const std::string& path, Warnings* warnings) {
  auto cannot_read = [&](int err) {
    return ConfigError("cannot read config file '" + path + "': " + std::strerror(err));
  };
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return cannot_read(errno);
  std::string text;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0) text.append(buf, n);
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) return cannot_read(err != 0 ? err : EIO);
  return ParseConfig(text, path, warnings);
}

const char* ProcessEnv(const char* name) { return std::getenv(name); }

Status ApplyEnvOverrides(Config& config, EnvLookup env, Warnings* warnings) {
  EnvReader e(env);
  ServerSection& server = config.server;
  e.Str("KALAMDB_SERVER_HOST", &server.host);
  e.Int("KALAMDB_SERVER_PORT", &server.port, kRangePort);
  e.Int("KALAMDB_SERVER_WORKERS", &server.workers, kRangeWorkers);
  e.Str("KALAMDB_SERVER_PUBLIC_ORIGIN", &server.public_origin);
  e.Str("KALAMDB_DATA_DIR", &config.storage.data_path);
  e.Bool("KALAMDB_SYNC_WRITES", &config.storage.rocksdb.sync_writes);
  e.Bool("KALAMDB_GROUP_COMMIT", &config.storage.rocksdb.group_commit);

  LoggingSection& logging = config.logging;
  e.Str("KALAMDB_LOG_LEVEL", &logging.level);
  e.Str("KALAMDB_LOGS_DIR", &logging.logs_path);
  e.Bool("KALAMDB_LOG_TO_CONSOLE", &logging.log_to_console);
  e.Bool("KALAMDB_OTLP_ENABLED", &logging.otlp.enabled);
  e.Str("KALAMDB_OTLP_ENDPOINT", &logging.otlp.endpoint);
  e.Str("KALAMDB_OTLP_PROTOCOL", &logging.otlp.protocol);
  e.Str("KALAMDB_OTLP_SERVICE_NAME", &logging.otlp.service_name);
  e.Int("KALAMDB_OTLP_TIMEOUT_MS", &logging.otlp.timeout_ms, kRangePositive);
  e.Fraction("KALAMDB_OTLP_SAMPLE_RATIO", &logging.otlp.sample_ratio);
  e.Int("KALAMDB_OTLP_MAX_QUEUE_TRACES", &logging.otlp.max_queue_traces, kRangePositive);
  e.Int("KALAMDB_OTLP_MAX_BATCH_SPANS", &logging.otlp.max_batch_spans, kRangePositive);
  e.Int("KALAMDB_OTLP_SCHEDULE_DELAY_MS", &logging.otlp.schedule_delay_ms, kRangePositive);
  e.Bool("KALAMDB_TRACES_ENABLED", &logging.traces.enabled);
  e.Int("KALAMDB_TRACES_MAX_TRACES", &logging.traces.max_traces, kRangeNonNegative);
  e.Int("KALAMDB_TRACES_AB_PERIOD_MS", &logging.traces.ab_period_ms, kRangeNonNegative);

  AuthSection& auth = config.auth;
  e.Str("KALAMDB_JWT_SECRET", &auth.jwt_secret);
  e.Int("KALAMDB_JWT_EXPIRY_HOURS", &auth.jwt_expiry_hours, kRangeJwtExpiry);
  if (const char* value = e.Get("KALAMDB_COOKIE_SECURE")) {
    const std::string word = Lower(Trim(value));
    auth.cookie_secure = !(word == "false" || word == "0" || word == "no");
  }
  e.Bool("KALAMDB_ALLOW_REMOTE_SETUP", &auth.allow_remote_setup);
  e.Bool("KALAMDB_ALLOW_BASIC_AUTH", &auth.allow_basic_auth);
  e.Int("KALAMDB_BCRYPT_COST", &auth.bcrypt_cost, kRangeBcryptCost);
  e.Str("KALAMDB_ROOT_PASSWORD", &config.env_root_password);

  e.List("KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS", &config.security.cors.allowed_origins);
  // Two spellings; the KALAMDB_SECURITY_ one wins when both are set.
  const char* short_ranges = e.Get("KALAMDB_TRUSTED_PROXY_RANGES");
  const char* long_ranges = e.Get("KALAMDB_SECURITY_TRUSTED_PROXY_RANGES");
  if (short_ranges != nullptr && long_ranges != nullptr &&
      std::string_view(short_ranges) != long_ranges && warnings != nullptr) {
    warnings->push_back(
        "environment: KALAMDB_TRUSTED_PROXY_RANGES ignored, "
        "KALAMDB_SECURITY_TRUSTED_PROXY_RANGES is set too");
  }
  e.List("KALAMDB_TRUSTED_PROXY_RANGES", &config.security.trusted_proxy_ranges);
  e.List("KALAMDB_SECURITY_TRUSTED_PROXY_RANGES", &config.security.trusted_proxy_ranges);

  e.Int("KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC",
        &config.rate_limit.max_auth_requests_per_ip_per_sec, kRangePositive);
  // KALAMDB_CLUSTER_*, KALAMDB_NODE_ID, KALAMDB_RPC_TLS_*, KALAMDB_JWT_TRUSTED_ISSUERS,
  // KALAMDB_PG_AUTH_TOKEN, KALAMDB_WEBSOCKET_*, KALAMDB_TOPIC_VISIBILITY_TIMEOUT_SECS and
  // KALAMDB_TOKIO_WORKER_THREADS belong to features this server does not have; they are
  // never looked up, so setting them is harmless.
  return e.status();
}

Status Validate(const Config& config) {
  const ServerSection& server = config.server;
  if (server.host.empty()) return ConfigError("server.host must not be empty");
  KALAMDB_RETURN_IF_ERROR(CheckRange("server.port", server.port, kRangePort));
  KALAMDB_RETURN_IF_ERROR(CheckRange("server.workers", server.workers, kRangeWorkers));
  if (!server.public_origin.empty() && server.public_origin.rfind("http://", 0) != 0 &&
      server.public_origin.rfind("https://", 0) != 0) {
    return ConfigError("server.public_origin (" + Quote(server.public_origin) +
                       ") must start with http:// or https://");
  }

  if (config.storage.data_path.empty()) return ConfigError("storage.data_path must not be empty");
  const RocksDbSection& rocksdb = config.storage.rocksdb;
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("storage.rocksdb.block_cache_size", rocksdb.block_cache_size, kRangeBlockCache));
  KALAMDB_RETURN_IF_ERROR(CheckRange("storage.rocksdb.max_background_jobs",
                                     rocksdb.max_background_jobs, kRangeBackgroundJobs));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("storage.rocksdb.max_open_files", rocksdb.max_open_files, kRangeOpenFiles));

  const AuthSection& auth = config.auth;
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("auth.jwt_expiry_hours", auth.jwt_expiry_hours, kRangeJwtExpiry));
  KALAMDB_RETURN_IF_ERROR(CheckRange("auth.bcrypt_cost", auth.bcrypt_cost, kRangeBcryptCost));
  KALAMDB_RETURN_IF_ERROR(CheckRange("auth.basic_auth_cache_seconds", auth.basic_auth_cache_seconds,
                                     kRangeNonNegative));

  const LoggingSection& logging = config.logging;
  log::Level level;
  if (!log::ParseLevel(logging.level, &level)) {
    return ConfigError("logging.level (" + Quote(logging.level) + ") must be one of " +
                       JoinWords(kLevels));
  }
  KALAMDB_RETURN_IF_ERROR(CheckWord("logging.format", logging.format, kFormats));
  KALAMDB_RETURN_IF_ERROR(CheckRange("logging.slow_query_threshold_ms",
                                     logging.slow_query_threshold_ms, kRangeNonNegative));
  KALAMDB_RETURN_IF_ERROR(CheckWord("logging.otlp.protocol", logging.otlp.protocol, kProtocols));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("logging.otlp.timeout_ms", logging.otlp.timeout_ms, kRangePositive));

  const LimitsSection& limits = config.limits;
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("limits.max_message_size", limits.max_message_size, kRangePositive64));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("limits.max_query_limit", limits.max_query_limit, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("limits.default_query_limit", limits.default_query_limit, kRangePositive));
  if (limits.default_query_limit > limits.max_query_limit) {
    return ConfigError("limits.default_query_limit (" + std::to_string(limits.default_query_limit) +
                       ") must not exceed limits.max_query_limit (" +
                       std::to_string(limits.max_query_limit) + ")");
  }

  const PerformanceSection& perf = config.performance;
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("performance.request_timeout", perf.request_timeout, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("performance.keepalive_timeout", perf.keepalive_timeout, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("performance.max_connections", perf.max_connections, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(CheckRange("performance.backlog", perf.backlog, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("performance.max_header_size", perf.max_header_size, kRangeHeaderSize));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("performance.busy_poll_us", perf.busy_poll_us, kRangeBusyPoll));

  const RateLimitSection& rate = config.rate_limit;
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("rate_limit.max_queries_per_sec", rate.max_queries_per_sec, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(CheckRange("rate_limit.max_auth_requests_per_ip_per_sec",
                                     rate.max_auth_requests_per_ip_per_sec, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("rate_limit.max_connections_per_ip", rate.max_connections_per_ip, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(CheckRange("rate_limit.max_requests_per_ip_per_sec",
                                     rate.max_requests_per_ip_per_sec, kRangePositive));
  KALAMDB_RETURN_IF_ERROR(CheckRange("rate_limit.request_body_limit_bytes",
                                     rate.request_body_limit_bytes, kRangePositive64));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("rate_limit.ban_duration_seconds", rate.ban_duration_seconds, kRangeNonNegative));

  const SecuritySection& security = config.security;
  KALAMDB_RETURN_IF_ERROR(CheckRange("security.max_request_body_size",
                                     security.max_request_body_size, kRangePositive64));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("security.max_ws_message_size", security.max_ws_message_size, kRangePositive64));
  KALAMDB_RETURN_IF_ERROR(
      CheckRange("security.cors.max_age", security.cors.max_age, kRangeNonNegative));
  return Status::OK();
}

}  // namespace kalamdb::server
