#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace kalamdb::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

Config ParseOk(std::string_view text, Warnings* warnings = nullptr) {
  Result<Config> result = ParseConfig(text, "test.toml", warnings);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : Config();
}

std::string ParseError(std::string_view text) {
  Result<Config> result = ParseConfig(text, "test.toml", nullptr);
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), ErrorCode::kConfig);
  return std::string(result.status().message());
}

// ----------------------------------------------------------------------------------------------
// Defaults.

TEST(ParseConfigTest, EmptyDocumentGivesDefaults) {
  Warnings warnings;
  Config c = ParseOk("", &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.workers, 0);
  EXPECT_EQ(c.server.public_origin, "");
  EXPECT_EQ(c.storage.data_path, "./data");
  EXPECT_FALSE(c.storage.rocksdb.sync_writes);
  EXPECT_EQ(c.storage.rocksdb.block_cache_size, 64ll << 20);
  EXPECT_EQ(c.storage.rocksdb.max_background_jobs, 2);
  EXPECT_EQ(c.storage.rocksdb.max_open_files, -1);
  EXPECT_EQ(c.auth.jwt_secret, "");
  EXPECT_EQ(c.auth.jwt_expiry_hours, 24);
  EXPECT_EQ(c.auth.bcrypt_cost, 12);
  EXPECT_FALSE(c.auth.allow_remote_setup);
  EXPECT_TRUE(c.auth.allow_basic_auth);
  EXPECT_TRUE(c.auth.cookie_secure);
  EXPECT_EQ(c.auth.basic_auth_cache_seconds, 60);
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.logs_path, "./logs");
  EXPECT_TRUE(c.logging.log_to_console);
  EXPECT_EQ(c.logging.format, "compact");
  EXPECT_EQ(c.logging.slow_query_threshold_ms, 1200);
  EXPECT_FALSE(c.logging.otlp.enabled);
  EXPECT_EQ(c.logging.otlp.endpoint, "http://127.0.0.1:4317");
  EXPECT_EQ(c.logging.otlp.protocol, "grpc");
  EXPECT_EQ(c.logging.otlp.service_name, "kalamdb-server");
  EXPECT_EQ(c.logging.otlp.timeout_ms, 3000);
  EXPECT_EQ(c.limits.max_message_size, 1 << 20);
  EXPECT_EQ(c.limits.max_query_limit, 1000);
  EXPECT_EQ(c.limits.default_query_limit, 50);
  EXPECT_EQ(c.performance.request_timeout, 30);
  EXPECT_EQ(c.performance.keepalive_timeout, 75);
  EXPECT_EQ(c.performance.max_connections, 25000);
  EXPECT_EQ(c.performance.backlog, 4096);
  EXPECT_EQ(c.performance.max_header_size, 16384);
  EXPECT_EQ(c.performance.busy_poll_us, 50);
  EXPECT_EQ(c.rate_limit.max_queries_per_sec, 100);
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 20);
  EXPECT_EQ(c.rate_limit.request_body_limit_bytes, 10ll << 20);
  EXPECT_TRUE(c.rate_limit.enable_connection_protection);
  EXPECT_EQ(c.security.max_request_body_size, 10ll << 20);
  EXPECT_THAT(c.security.trusted_proxy_ranges, IsEmpty());
  EXPECT_THAT(c.security.cors.allowed_origins, IsEmpty());
  EXPECT_THAT(c.security.cors.allowed_methods,
              ElementsAre("GET", "POST", "PUT", "DELETE", "OPTIONS"));
  EXPECT_EQ(c.env_root_password, "");
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ParseConfigTest, EmptySectionsKeepDefaults) {
  Warnings warnings;
  Config c = ParseOk(R"(
[server]
[storage]
[storage.rocksdb]
[auth]
[logging]
[logging.otlp]
[limits]
[performance]
[rate_limit]
[security]
[security.cors]
)",
                     &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.storage.rocksdb.max_open_files, -1);
  EXPECT_EQ(c.auth.bcrypt_cost, 12);
  EXPECT_EQ(c.logging.otlp.timeout_ms, 3000);
  EXPECT_EQ(c.limits.default_query_limit, 50);
  EXPECT_EQ(c.security.cors.max_age, 3600);
}

// ----------------------------------------------------------------------------------------------
// Every section.

TEST(ParseConfigTest, ParsesEverySection) {
  Warnings warnings;
  Config c = ParseOk(R"(
[server]
host = "0.0.0.0"
port = 9090
workers = 4
public_origin = "https://db.example.com"

[storage]
data_path = "/var/lib/kalamdb"

[storage.rocksdb]
sync_writes = true
block_cache_size = 8589934592
max_background_jobs = 6
max_open_files = 5000

[auth]
root_password = "hunter2"
jwt_secret = "s3cret"
jwt_expiry_hours = 2
bcrypt_cost = 4
allow_remote_setup = true
allow_basic_auth = false
cookie_secure = false
basic_auth_cache_seconds = 0

[logging]
level = "debug"
logs_path = ""
log_to_console = false
format = "json"
slow_query_threshold_ms = 10

[logging.otlp]
enabled = true
endpoint = "http://collector:4318"
protocol = "http"
service_name = "db1"
timeout_ms = 500

[logging.traces]
enabled = false
max_traces = 5
ab_period_ms = 100

[limits]
max_message_size = 2048
max_query_limit = 100
default_query_limit = 10

[performance]
request_timeout = 5
keepalive_timeout = 6
max_connections = 7
backlog = 8
max_header_size = 2048

[rate_limit]
max_queries_per_sec = 11
max_auth_requests_per_ip_per_sec = 12
max_connections_per_ip = 13
max_requests_per_ip_per_sec = 14
request_body_limit_bytes = 15
ban_duration_seconds = 16
enable_connection_protection = false

[security]
max_request_body_size = 4096
max_ws_message_size = 8192
trusted_proxy_ranges = ["10.0.0.0/8", "192.168.0.0/16"]

[security.cors]
allowed_origins = ["https://app.example.com"]
allowed_methods = ["GET"]
allowed_headers = ["X-A", "X-B"]
expose_headers = ["X-Total"]
allow_credentials = true
max_age = 60
)",
                     &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9090);
  EXPECT_EQ(c.server.workers, 4);
  EXPECT_EQ(c.server.public_origin, "https://db.example.com");
  EXPECT_EQ(c.storage.data_path, "/var/lib/kalamdb");
  EXPECT_TRUE(c.storage.rocksdb.sync_writes);
  EXPECT_EQ(c.storage.rocksdb.block_cache_size, 8589934592ll);
  EXPECT_EQ(c.storage.rocksdb.max_background_jobs, 6);
  EXPECT_EQ(c.storage.rocksdb.max_open_files, 5000);
  EXPECT_EQ(c.auth.root_password, "hunter2");
  EXPECT_EQ(c.auth.jwt_secret, "s3cret");
  EXPECT_EQ(c.auth.jwt_expiry_hours, 2);
  EXPECT_EQ(c.auth.bcrypt_cost, 4);
  EXPECT_TRUE(c.auth.allow_remote_setup);
  EXPECT_FALSE(c.auth.allow_basic_auth);
  EXPECT_FALSE(c.auth.cookie_secure);
  EXPECT_EQ(c.auth.basic_auth_cache_seconds, 0);
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.logs_path, "");
  EXPECT_FALSE(c.logging.log_to_console);
  EXPECT_EQ(c.logging.format, "json");
  EXPECT_EQ(c.logging.slow_query_threshold_ms, 10);
  EXPECT_TRUE(c.logging.otlp.enabled);
  EXPECT_EQ(c.logging.otlp.endpoint, "http://collector:4318");
  EXPECT_EQ(c.logging.otlp.protocol, "http");
  EXPECT_EQ(c.logging.otlp.service_name, "db1");
  EXPECT_EQ(c.logging.otlp.timeout_ms, 500);
  EXPECT_FALSE(c.logging.traces.enabled);
  EXPECT_EQ(c.logging.traces.max_traces, 5);
  EXPECT_EQ(c.logging.traces.ab_period_ms, 100);
  EXPECT_EQ(c.limits.max_message_size, 2048);
  EXPECT_EQ(c.limits.max_query_limit, 100);
  EXPECT_EQ(c.limits.default_query_limit, 10);
  EXPECT_EQ(c.performance.request_timeout, 5);
  EXPECT_EQ(c.performance.keepalive_timeout, 6);
  EXPECT_EQ(c.performance.max_connections, 7);
  EXPECT_EQ(c.performance.backlog, 8);
  EXPECT_EQ(c.performance.max_header_size, 2048);
  EXPECT_EQ(c.rate_limit.max_queries_per_sec, 11);
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 12);
  EXPECT_EQ(c.rate_limit.max_connections_per_ip, 13);
  EXPECT_EQ(c.rate_limit.max_requests_per_ip_per_sec, 14);
  EXPECT_EQ(c.rate_limit.request_body_limit_bytes, 15);
  EXPECT_EQ(c.rate_limit.ban_duration_seconds, 16);
  EXPECT_FALSE(c.rate_limit.enable_connection_protection);
  EXPECT_EQ(c.security.max_request_body_size, 4096);
  EXPECT_EQ(c.security.max_ws_message_size, 8192);
  EXPECT_THAT(c.security.trusted_proxy_ranges, ElementsAre("10.0.0.0/8", "192.168.0.0/16"));
  EXPECT_THAT(c.security.cors.allowed_origins, ElementsAre("https://app.example.com"));
  EXPECT_THAT(c.security.cors.allowed_methods, ElementsAre("GET"));
  EXPECT_THAT(c.security.cors.allowed_headers, ElementsAre("X-A", "X-B"));
  EXPECT_THAT(c.security.cors.expose_headers, ElementsAre("X-Total"));
  EXPECT_TRUE(c.security.cors.allow_credentials);
  EXPECT_EQ(c.security.cors.max_age, 60);
  EXPECT_TRUE(Validate(c).ok()) << Validate(c).ToString();
  EXPECT_EQ(c.BodyLimit(), 15);
}

TEST(ParseConfigTest, DottedKeysAndInlineTablesWork) {
  Config c = ParseOk(R"(
server.port = 7000
logging = { level = "warn", otlp = { protocol = "http" } }
)");
  EXPECT_EQ(c.server.port, 7000);
  EXPECT_EQ(c.logging.level, "warn");
  EXPECT_EQ(c.logging.otlp.protocol, "http");
}

TEST(ParseConfigTest, EmptyArrayClearsDefaultList) {
  Config c = ParseOk("[security.cors]\nallowed_methods = []\n");
  EXPECT_THAT(c.security.cors.allowed_methods, IsEmpty());
}

// ----------------------------------------------------------------------------------------------
// [auth] and [authentication].

TEST(ParseConfigTest, AuthenticationIsAnAliasOfAuth) {
  Config c = ParseOk("[authentication]\njwt_secret = \"abc\"\nbcrypt_cost = 5\n");
  EXPECT_EQ(c.auth.jwt_secret, "abc");
  EXPECT_EQ(c.auth.bcrypt_cost, 5);
}

TEST(ParseConfigTest, LaterOfAuthAndAuthenticationWins) {
  Warnings warnings;
  Config c = ParseOk(R"(
[authentication]
bcrypt_cost = 5
jwt_expiry_hours = 3

[auth]
bcrypt_cost = 6
)",
                     &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.auth.bcrypt_cost, 6);
  EXPECT_EQ(c.auth.jwt_expiry_hours, 3);

  c = ParseOk(R"(
[auth]
bcrypt_cost = 6
allow_basic_auth = false

[authentication]
bcrypt_cost = 5
)");
  EXPECT_EQ(c.auth.bcrypt_cost, 5);
  EXPECT_FALSE(c.auth.allow_basic_auth);
}

TEST(ParseConfigTest, UnknownKeyInAuthenticationNamesThatSection) {
  Warnings warnings;
  ParseOk("[authentication]\nfoo = 1\n", &warnings);
  EXPECT_THAT(warnings, ElementsAre("test.toml: unknown key 'authentication.foo' (ignored)"));
}

// ----------------------------------------------------------------------------------------------
// Unknown and tolerated keys.

TEST(ParseConfigTest, UnknownKeysAreWarnings) {
  Warnings warnings;
  Config c = ParseOk(R"(
colour = "blue"
[server]
port = 8181
prot = 1
[server.extra]
a = 1
[storage.rocksdb]
wal_size = 3
[logging.otlp]
headers = "x"
[security.cors]
origin = "*"
[mystery]
x = 1
)",
                     &warnings);
  EXPECT_EQ(c.server.port, 8181);
  EXPECT_THAT(warnings, ElementsAre("test.toml: unknown key 'server.extra' (ignored)",
                                    "test.toml: unknown key 'server.prot' (ignored)",
                                    "test.toml: unknown key 'storage.rocksdb.wal_size' (ignored)",
                                    "test.toml: unknown key 'logging.otlp.headers' (ignored)",
                                    "test.toml: unknown key 'security.cors.origin' (ignored)",
                                    "test.toml: unknown key 'colour' (ignored)",
                                    "test.toml: unknown key 'mystery' (ignored)"));
}

TEST(ParseConfigTest, NullWarningsIsAllowed) {
  Result<Config> result = ParseConfig("[server]\nnope = 1\n", "x.toml", nullptr);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->server.port, 8080);
}

TEST(ParseConfigTest, KalamDbKeysWeDoNotImplementAreTolerated) {
  Warnings warnings;
  Config c = ParseOk(R"(
transaction_timeout_secs = 30
max_transaction_buffer_bytes = 1000

[server]
api_version = "v1"
enable_http2 = true
ui_path = "./ui"
port = 8282

[storage]
shared_tables_template = "{namespace}/{tableName}"
user_tables_template = "{namespace}/{tableName}/{userId}"

[storage.remote_timeouts]
request_timeout_secs = 60

[storage.rocksdb]
disable_wal = false
compact_on_startup = true

[storage.rocksdb.cf_profiles.default]
write_buffer_size = 1

[auth]
jwt_trusted_issuers = "a,b"
min_password_length = 8
max_password_length = 72
enforce_password_complexity = false
pg_auth_token = "t"
disable_common_password_check = true
auto_create_users_from_provider = false

[logging]
level = "warn"
[logging.targets]
datafusion = "warn"
[logging.targets.deep]
x = 1

[performance]
tokio_worker_threads = 4
worker_max_blocking_threads = 8
client_request_timeout = 5
client_disconnect_timeout = 2

[rate_limit]
cache_max_entries = 100
cache_ttl_seconds = 5
max_messages_per_sec = 50
max_subscriptions_per_user = 10

[security]
strict_ws_origin_check = true

[security.cors]
allow_private_network = false

[datafusion]
memory_limit = 1
[flush]
default_row_limit = 1
[manifest_cache]
x = 1
[retention]
x = 1
[stream]
x = 1
[topics]
x = 1
[websocket]
x = 1
[oauth]
enabled = false
[oauth.providers.google]
issuer = "https://accounts.google.com"
[user_management]
x = 1
[shutdown]
x = 1
[shutdown.flush]
timeout = 5
[jobs]
x = 1
[execution]
x = 1
[files]
x = 1
[cluster]
x = 1
[rpc_tls]
x = 1
)",
                     &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.server.port, 8282);
  EXPECT_EQ(c.logging.level, "warn");
}

// ----------------------------------------------------------------------------------------------
// Invalid values.

TEST(ParseConfigTest, WrongTypeNamesKeyAndForm) {
  EXPECT_EQ(ParseError("[server]\nport = \"abc\"\n"),
            "server.port: expected an integer 1..65535, got \"abc\"");
  EXPECT_EQ(ParseError("[server]\nhost = 5\n"), "server.host: expected a string, got 5");
  EXPECT_EQ(ParseError("[storage.rocksdb]\nsync_writes = \"yes\"\n"),
            "storage.rocksdb.sync_writes: expected a boolean (true or false), got \"yes\"");
  EXPECT_EQ(ParseError("[auth]\nallow_basic_auth = 1\n"),
            "auth.allow_basic_auth: expected a boolean (true or false), got 1");
  EXPECT_EQ(ParseError("[limits]\nmax_query_limit = 10.5\n"),
            "limits.max_query_limit: expected an integer >= 1, got 10.5");
  EXPECT_EQ(ParseError("[limits]\nmax_query_limit = 10.0\n"),
            "limits.max_query_limit: expected an integer >= 1, got 10.0");
  EXPECT_EQ(ParseError("[security]\ntrusted_proxy_ranges = \"10.0.0.0/8\"\n"),
            "security.trusted_proxy_ranges: expected an array of strings, got \"10.0.0.0/8\"");
  EXPECT_EQ(ParseError("[security.cors]\nallowed_origins = [\"a\", 2]\n"),
            "security.cors.allowed_origins: expected an array of strings, got [\"a\", 2]");
  EXPECT_EQ(ParseError("[logging]\nlevel = \"verbose\"\n"),
            "logging.level: expected one of error|warn|info|debug|trace, got \"verbose\"");
  EXPECT_EQ(ParseError("[logging]\nformat = \"xml\"\n"),
            "logging.format: expected one of compact|pretty|json, got \"xml\"");
  EXPECT_EQ(ParseError("[logging.otlp]\nprotocol = \"udp\"\n"),
            "logging.otlp.protocol: expected one of grpc|http, got \"udp\"");
  EXPECT_EQ(ParseError("server = 5\n"), "server: expected a table, got 5");
  EXPECT_EQ(ParseError("[storage]\nrocksdb = true\n"),
            "storage.rocksdb: expected a table, got true");
  EXPECT_EQ(ParseError("[auth]\njwt_secret = { a = 1 }\n"),
            "auth.jwt_secret: expected a string, got a table");
  EXPECT_EQ(ParseError("[server]\nhost = 1979-05-27\n"),
            "server.host: expected a string, got 1979-05-27");
  EXPECT_EQ(ParseError("[server]\nhost = \"a\\\"b\"\nport = \"x\\ny\"\n"),
            "server.port: expected an integer 1..65535, got \"x\\ny\"");
}

TEST(ParseConfigTest, OutOfRangeNamesKeyAndRange) {
  EXPECT_EQ(ParseError("[server]\nport = 0\n"), "server.port: expected an integer 1..65535, got 0");
  EXPECT_EQ(ParseError("[server]\nport = 65536\n"),
            "server.port: expected an integer 1..65535, got 65536");
  EXPECT_EQ(ParseError("[server]\nworkers = 257\n"),
            "server.workers: expected an integer 0..256, got 257");
  EXPECT_EQ(ParseError("[auth]\nbcrypt_cost = 3\n"),
            "auth.bcrypt_cost: expected an integer 4..31, got 3");
  EXPECT_EQ(ParseError("[storage.rocksdb]\nmax_open_files = -2\n"),
            "storage.rocksdb.max_open_files: expected an integer >= -1, got -2");
  EXPECT_EQ(ParseError("[performance]\nmax_header_size = 100\n"),
            "performance.max_header_size: expected an integer 1024..1048576, got 100");
  EXPECT_EQ(ParseError("[performance]\nbusy_poll_us = 20000\n"),
            "performance.busy_poll_us: expected an integer 0..10000, got 20000");
  EXPECT_EQ(ParseError("[performance]\nrequest_timeout = 0\n"),
            "performance.request_timeout: expected an integer >= 1, got 0");
  // An int field does not silently truncate a 64-bit value.
  EXPECT_EQ(ParseError("[limits]\nmax_query_limit = 4294967297\n"),
            "limits.max_query_limit: expected an integer >= 1, got 4294967297");
  EXPECT_EQ(ParseError("[security]\nmax_request_body_size = 0\n"),
            "security.max_request_body_size: expected an integer >= 1, got 0");
}

TEST(ParseConfigTest, FirstErrorWinsAndItIsOneLine) {
  std::string message = ParseError("[server]\nport = 0\nworkers = -1\n");
  EXPECT_EQ(message, "server.port: expected an integer 1..65535, got 0");
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(ParseConfigTest, SyntaxErrorCarriesLineAndColumn) {
  std::string message = ParseError("[server]\nport = 80\nhost = \n");
  EXPECT_THAT(message, StartsWith("test.toml:3:"));
  EXPECT_EQ(message.find('\n'), std::string::npos);

  message = ParseError("[server]\n[server]\n");
  EXPECT_THAT(message, StartsWith("test.toml:2:"));

  message = ParseError("[server\nport = 1\n");
  EXPECT_THAT(message, StartsWith("test.toml:1:"));
}

// ----------------------------------------------------------------------------------------------
// Files.

TEST(LoadConfigFileTest, MissingFileIsAnError) {
  Result<Config> result = LoadConfigFile("/nonexistent/dir/server.toml", nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kConfig);
  EXPECT_EQ(result.status().message(),
            "cannot read config file '/nonexistent/dir/server.toml': No such file or directory");
}

TEST(LoadConfigFileTest, DirectoryIsAnError) {
  Result<Config> result = LoadConfigFile("/", nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kConfig);
  EXPECT_THAT(std::string(result.status().message()), StartsWith("cannot read config file '/': "));
}

TEST(LoadConfigFileTest, ReadsFileAndUsesPathInMessages) {
  std::string path = ::testing::TempDir() + "config_test_load.toml";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("[server]\nport = 8123\nbogus = 1\n", f);
  std::fclose(f);
  Warnings warnings;
  Result<Config> result = LoadConfigFile(path, &warnings);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->server.port, 8123);
  EXPECT_THAT(warnings, ElementsAre(path + ": unknown key 'server.bogus' (ignored)"));

  f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("[server]\nport = = 1\n", f);
  std::fclose(f);
  result = LoadConfigFile(path, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), StartsWith(path + ":2:"));
  std::remove(path.c_str());
}

TEST(LoadConfigFileTest, RepositoryServerTomlLoadsWithoutWarnings) {
  const std::string path = std::string(KALAMDB_SOURCE_DIR) + "/server.toml";
  Warnings warnings;
  Result<Config> result = LoadConfigFile(path, &warnings);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_THAT(warnings, IsEmpty());
  const Config& c = *result;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.workers, 0);
  EXPECT_EQ(c.storage.data_path, "./data");
  EXPECT_FALSE(c.storage.rocksdb.sync_writes);
  EXPECT_EQ(c.auth.bcrypt_cost, 10);
  EXPECT_TRUE(c.auth.allow_basic_auth);
  EXPECT_FALSE(c.auth.allow_remote_setup);
  EXPECT_FALSE(c.auth.cookie_secure);
  EXPECT_EQ(c.auth.jwt_secret, "");
  EXPECT_EQ(c.auth.root_password, "");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.logs_path, "./logs");
  EXPECT_FALSE(c.logging.otlp.enabled);
  EXPECT_EQ(c.logging.otlp.endpoint, "http://127.0.0.1:4317");
  EXPECT_EQ(c.logging.otlp.protocol, "grpc");
  EXPECT_EQ(c.rate_limit.max_queries_per_sec, 100000);
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 10000);
  EXPECT_EQ(c.rate_limit.max_connections_per_ip, 20000);
  EXPECT_EQ(c.rate_limit.max_requests_per_ip_per_sec, 200000);
  EXPECT_EQ(c.security.max_request_body_size, 10485760);
  EXPECT_THAT(c.security.cors.allowed_origins, IsEmpty());
  EXPECT_TRUE(Validate(c).ok()) << Validate(c).ToString();
}

// ----------------------------------------------------------------------------------------------
// Environment overrides.

std::map<std::string, std::string>& FakeEnv() {
  static std::map<std::string, std::string> env;
  return env;
}

const char* LookupFakeEnv(const char* name) {
  auto it = FakeEnv().find(name);
  return it == FakeEnv().end() ? nullptr : it->second.c_str();
}

class EnvOverridesTest : public ::testing::Test {
 protected:
  void SetUp() override { FakeEnv().clear(); }
  void TearDown() override { FakeEnv().clear(); }

  Status Apply(Config& config, Warnings* warnings = nullptr) {
    EnvLookup lookup = [](const char* name) { return LookupFakeEnv(name); };
    return ApplyEnvOverrides(config, lookup, warnings);
  }

  std::string ApplyError(const std::map<std::string, std::string>& vars) {
    FakeEnv() = vars;
    Config config;
    Status status = Apply(config);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), ErrorCode::kConfig);
    return std::string(status.message());
  }
};

TEST_F(EnvOverridesTest, NothingSetChangesNothing) {
  Config config;
  Warnings warnings;
  ASSERT_TRUE(Apply(config, &warnings).ok());
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.env_root_password, "");
}

TEST_F(EnvOverridesTest, AppliesEveryVariable) {
  FakeEnv() = {
      {"KALAMDB_SERVER_HOST", "0.0.0.0"},
      {"KALAMDB_SERVER_PORT", "9999"},
      {"KALAMDB_SERVER_WORKERS", "3"},
      {"KALAMDB_SERVER_PUBLIC_ORIGIN", "https://x.example"},
      {"KALAMDB_DATA_DIR", "/srv/data"},
      {"KALAMDB_LOG_LEVEL", "trace"},
      {"KALAMDB_LOGS_DIR", "/srv/logs"},
      {"KALAMDB_LOG_TO_CONSOLE", "no"},
      {"KALAMDB_OTLP_ENABLED", "YES"},
      {"KALAMDB_OTLP_ENDPOINT", "http://otel:4318"},
      {"KALAMDB_OTLP_PROTOCOL", "http"},
      {"KALAMDB_OTLP_SERVICE_NAME", "svc"},
      {"KALAMDB_OTLP_TIMEOUT_MS", "1234"},
      {"KALAMDB_JWT_SECRET", "envsecret"},
      {"KALAMDB_JWT_EXPIRY_HOURS", "48"},
      {"KALAMDB_COOKIE_SECURE", "0"},
      {"KALAMDB_ALLOW_REMOTE_SETUP", "true"},
      {"KALAMDB_ALLOW_BASIC_AUTH", "false"},
      {"KALAMDB_BCRYPT_COST", "8"},
      {"KALAMDB_SYNC_WRITES", "1"},
      {"KALAMDB_ROOT_PASSWORD", "rootpw"},
      {"KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example,,"},
      {"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES", "10.0.0.0/8,172.16.0.0/12"},
      {"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "77"},
      // Tolerated: never looked up, never an error.
      {"KALAMDB_NODE_ID", "not a number"},
      {"KALAMDB_CLUSTER_PEERS", "x"},
      {"KALAMDB_TOKIO_WORKER_THREADS", "many"},
  };
  Config c;
  c.auth.root_password = "from-file";
  Warnings warnings;
  Status status = Apply(c, &warnings);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9999);
  EXPECT_EQ(c.server.workers, 3);
  EXPECT_EQ(c.server.public_origin, "https://x.example");
  EXPECT_EQ(c.storage.data_path, "/srv/data");
  EXPECT_EQ(c.logging.level, "trace");
  EXPECT_EQ(c.logging.logs_path, "/srv/logs");
  EXPECT_FALSE(c.logging.log_to_console);
  EXPECT_TRUE(c.logging.otlp.enabled);
  EXPECT_EQ(c.logging.otlp.endpoint, "http://otel:4318");
  EXPECT_EQ(c.logging.otlp.protocol, "http");
  EXPECT_EQ(c.logging.otlp.service_name, "svc");
  EXPECT_EQ(c.logging.otlp.timeout_ms, 1234);
  EXPECT_EQ(c.auth.jwt_secret, "envsecret");
  EXPECT_EQ(c.auth.jwt_expiry_hours, 48);
  EXPECT_FALSE(c.auth.cookie_secure);
  EXPECT_TRUE(c.auth.allow_remote_setup);
  EXPECT_FALSE(c.auth.allow_basic_auth);
  EXPECT_EQ(c.auth.bcrypt_cost, 8);
  EXPECT_TRUE(c.storage.rocksdb.sync_writes);
  EXPECT_EQ(c.env_root_password, "rootpw");
  EXPECT_EQ(c.auth.root_password, "from-file");
  EXPECT_THAT(c.security.cors.allowed_origins,
              ElementsAre("https://a.example", "https://b.example"));
  EXPECT_THAT(c.security.trusted_proxy_ranges, ElementsAre("10.0.0.0/8", "172.16.0.0/12"));
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 77);
  EXPECT_TRUE(Validate(c).ok()) << Validate(c).ToString();
}

TEST_F(EnvOverridesTest, CookieSecureIsTrueUnlessClearlyFalse) {
  for (const char* value : {"false", "FALSE", "0", "no"}) {
    FakeEnv() = {{"KALAMDB_COOKIE_SECURE", value}};
    Config c;
    ASSERT_TRUE(Apply(c).ok());
    EXPECT_FALSE(c.auth.cookie_secure) << value;
  }
  for (const char* value : {"true", "1", "on", "whatever"}) {
    FakeEnv() = {{"KALAMDB_COOKIE_SECURE", value}};
    Config c;
    c.auth.cookie_secure = false;
    ASSERT_TRUE(Apply(c).ok());
    EXPECT_TRUE(c.auth.cookie_secure) << value;
  }
}

TEST_F(EnvOverridesTest, ShortTrustedProxySpellingWorksAndLongOneWins) {
  FakeEnv() = {{"KALAMDB_TRUSTED_PROXY_RANGES", "127.0.0.1/32"}};
  Config c;
  ASSERT_TRUE(Apply(c).ok());
  EXPECT_THAT(c.security.trusted_proxy_ranges, ElementsAre("127.0.0.1/32"));

  FakeEnv() = {{"KALAMDB_TRUSTED_PROXY_RANGES", "127.0.0.1/32"},
               {"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES", "10.0.0.0/8"}};
  Config d;
  Warnings warnings;
  ASSERT_TRUE(Apply(d, &warnings).ok());
  EXPECT_THAT(d.security.trusted_proxy_ranges, ElementsAre("10.0.0.0/8"));
  EXPECT_EQ(warnings.size(), 1u);
}

TEST_F(EnvOverridesTest, EmptyValueCountsAsUnset) {
  FakeEnv() = {{"KALAMDB_SERVER_PORT", ""}, {"KALAMDB_SERVER_HOST", ""}};
  Config c;
  ASSERT_TRUE(Apply(c).ok());
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.host, "127.0.0.1");
}

TEST_F(EnvOverridesTest, BadValuesNameTheVariable) {
  EXPECT_EQ(ApplyError({{"KALAMDB_SERVER_PORT", "abc"}}),
            "KALAMDB_SERVER_PORT: expected an integer 1..65535, got \"abc\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_SERVER_PORT", "70000"}}),
            "KALAMDB_SERVER_PORT: expected an integer 1..65535, got \"70000\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_SERVER_PORT", "80x"}}),
            "KALAMDB_SERVER_PORT: expected an integer 1..65535, got \"80x\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_SERVER_WORKERS", "-1"}}),
            "KALAMDB_SERVER_WORKERS: expected an integer 0..256, got \"-1\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_LOG_TO_CONSOLE", "maybe"}}),
            "KALAMDB_LOG_TO_CONSOLE: expected true|false|1|0|yes|no, got \"maybe\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_SYNC_WRITES", "2"}}),
            "KALAMDB_SYNC_WRITES: expected true|false|1|0|yes|no, got \"2\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_BCRYPT_COST", "40"}}),
            "KALAMDB_BCRYPT_COST: expected an integer 4..31, got \"40\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_JWT_EXPIRY_HOURS", "99999999999"}}),
            "KALAMDB_JWT_EXPIRY_HOURS: expected an integer >= 1, got \"99999999999\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_OTLP_TIMEOUT_MS", "0"}}),
            "KALAMDB_OTLP_TIMEOUT_MS: expected an integer >= 1, got \"0\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "1.5"}}),
            "KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC: expected an integer >= 1, "
            "got \"1.5\"");
  EXPECT_EQ(ApplyError({{"KALAMDB_ALLOW_BASIC_AUTH", "sure"}}),
            "KALAMDB_ALLOW_BASIC_AUTH: expected true|false|1|0|yes|no, got \"sure\"");
}

TEST_F(EnvOverridesTest, StringValuesAreCheckedByValidate) {
  FakeEnv() = {{"KALAMDB_LOG_LEVEL", "loud"}};
  Config c;
  ASSERT_TRUE(Apply(c).ok());
  Status status = Validate(c);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "logging.level (\"loud\") must be one of error|warn|info|debug|trace");
}

TEST_F(EnvOverridesTest, ProcessEnvReadsTheRealEnvironment) {
  ASSERT_EQ(::setenv("KALAMDB_CONFIG_TEST_PROBE", "probe", 1), 0);
  EXPECT_STREQ(ProcessEnv("KALAMDB_CONFIG_TEST_PROBE"), "probe");
  ASSERT_EQ(::unsetenv("KALAMDB_CONFIG_TEST_PROBE"), 0);
  EXPECT_EQ(ProcessEnv("KALAMDB_CONFIG_TEST_PROBE"), nullptr);

  ASSERT_EQ(::setenv("KALAMDB_SERVER_PORT", "8765", 1), 0);
  Config c;
  Status status = ApplyEnvOverrides(c, ProcessEnv, nullptr);
  ::unsetenv("KALAMDB_SERVER_PORT");
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(c.server.port, 8765);
}

// ----------------------------------------------------------------------------------------------
// Validate.

std::string ValidateError(const Config& config) {
  Status status = Validate(config);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kConfig);
  return std::string(status.message());
}

TEST(ValidateTest, DefaultsAreValid) { EXPECT_TRUE(Validate(Config()).ok()); }

TEST(ValidateTest, ServerRules) {
  Config c;
  c.server.port = 0;
  EXPECT_EQ(ValidateError(c), "server.port (0) must be in 1..65535");
  c = Config();
  c.server.port = 70000;
  EXPECT_EQ(ValidateError(c), "server.port (70000) must be in 1..65535");
  c = Config();
  c.server.workers = 257;
  EXPECT_EQ(ValidateError(c), "server.workers (257) must be in 0..256");
  c = Config();
  c.server.workers = 256;
  EXPECT_TRUE(Validate(c).ok());
  c = Config();
  c.server.host = "";
  EXPECT_EQ(ValidateError(c), "server.host must not be empty");
  c = Config();
  c.server.public_origin = "db.example.com";
  EXPECT_EQ(ValidateError(c),
            "server.public_origin (\"db.example.com\") must start with http:// or https://");
  c.server.public_origin = "http://db.example.com";
  EXPECT_TRUE(Validate(c).ok());
  c.server.public_origin = "https://db.example.com";
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ValidateTest, LoggingRules) {
  Config c;
  c.logging.level = "INFO";
  EXPECT_EQ(ValidateError(c),
            "logging.level (\"INFO\") must be one of error|warn|info|debug|trace");
  c = Config();
  c.logging.format = "xml";
  EXPECT_EQ(ValidateError(c), "logging.format (\"xml\") must be one of compact|pretty|json");
  c = Config();
  c.logging.otlp.protocol = "udp";
  EXPECT_EQ(ValidateError(c), "logging.otlp.protocol (\"udp\") must be one of grpc|http");
  c = Config();
  c.logging.otlp.timeout_ms = 0;
  EXPECT_EQ(ValidateError(c), "logging.otlp.timeout_ms (0) must be >= 1");
  for (const char* level : {"error", "warn", "info", "debug", "trace"}) {
    c = Config();
    c.logging.level = level;
    EXPECT_TRUE(Validate(c).ok()) << level;
  }
}

TEST(ValidateTest, LimitRules) {
  Config c;
  c.limits.default_query_limit = 500;
  c.limits.max_query_limit = 100;
  EXPECT_EQ(ValidateError(c),
            "limits.default_query_limit (500) must not exceed limits.max_query_limit (100)");
  c = Config();
  c.limits.default_query_limit = 0;
  EXPECT_EQ(ValidateError(c), "limits.default_query_limit (0) must be >= 1");
  c = Config();
  c.limits.default_query_limit = 1000;
  c.limits.max_query_limit = 1000;
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ValidateTest, AuthRules) {
  Config c;
  c.auth.jwt_expiry_hours = 0;
  EXPECT_EQ(ValidateError(c), "auth.jwt_expiry_hours (0) must be >= 1");
  c = Config();
  c.auth.bcrypt_cost = 3;
  EXPECT_EQ(ValidateError(c), "auth.bcrypt_cost (3) must be in 4..31");
  c.auth.bcrypt_cost = 32;
  EXPECT_EQ(ValidateError(c), "auth.bcrypt_cost (32) must be in 4..31");
  c.auth.bcrypt_cost = 31;
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ValidateTest, PerformanceAndBodyRules) {
  Config c;
  c.performance.request_timeout = 0;
  EXPECT_EQ(ValidateError(c), "performance.request_timeout (0) must be >= 1");
  c = Config();
  c.performance.keepalive_timeout = -5;
  EXPECT_EQ(ValidateError(c), "performance.keepalive_timeout (-5) must be >= 1");
  c = Config();
  c.performance.max_header_size = 1023;
  EXPECT_EQ(ValidateError(c), "performance.max_header_size (1023) must be in 1024..1048576");
  c.performance.max_header_size = 1048577;
  EXPECT_EQ(ValidateError(c), "performance.max_header_size (1048577) must be in 1024..1048576");
  c.performance.max_header_size = 1024;
  EXPECT_TRUE(Validate(c).ok());
  c = Config();
  c.security.max_request_body_size = 0;
  EXPECT_EQ(ValidateError(c), "security.max_request_body_size (0) must be >= 1");
  c = Config();
  c.rate_limit.request_body_limit_bytes = -1;
  EXPECT_EQ(ValidateError(c), "rate_limit.request_body_limit_bytes (-1) must be >= 1");
  c = Config();
  c.security.max_ws_message_size = 0;
  EXPECT_EQ(ValidateError(c), "security.max_ws_message_size (0) must be >= 1");
}

TEST(ConfigTest, BodyLimitIsTheSmallerLimit) {
  Config c;
  EXPECT_EQ(c.BodyLimit(), 10ll << 20);
  c.security.max_request_body_size = 1000;
  EXPECT_EQ(c.BodyLimit(), 1000);
  c.security.max_request_body_size = 5000;
  c.rate_limit.request_body_limit_bytes = 2000;
  EXPECT_EQ(c.BodyLimit(), 2000);
}

}  // namespace
}  // namespace kalamdb::server
