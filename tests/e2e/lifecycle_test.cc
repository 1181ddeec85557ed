// lifecycle_test.cc: start-up, configuration errors, restarts and shutdown of the real binary.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

constexpr char kSetupBody[] =
    R"({"user":"admin","password":"kalamdb123","root_password":"kalamdb123","email":null})";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Checks the documented failure shape: exit status 1 and stderr that is exactly one line,
// starting "FATAL: " and containing `needle`.
void ExpectFatal(ServerProcess& server, std::string_view needle) {
  ASSERT_TRUE(server.Spawn());
  const int status = server.WaitForExit(15000);
  const std::string err = server.Stderr();
  EXPECT_EQ(status, 1) << err;
  std::vector<std::string> lines = Lines(err);
  ASSERT_EQ(lines.size(), 1u) << "stderr:\n" << err;
  EXPECT_EQ(lines[0].rfind("FATAL: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(needle), std::string::npos) << lines[0];
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Waits up to `timeout_ms` for `needle` to show up in the server's stderr.
bool WaitForStderr(const ServerProcess& server, std::string_view needle, int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Contains(server.Stderr(), needle)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Contains(server.Stderr(), needle);
}

void RunSetup(int port) {
  ClientResponse setup = Call(port, "POST", "/v1/api/auth/setup", kSetupBody);
  ASSERT_EQ(setup.status, 200) << setup.body;
}

void ExpectConfiguredWithAdmin(int port) {
  ClientResponse status = Call(port, "GET", "/v1/api/auth/status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(JsonDoc(status.body).Bool("/needs_setup"), false) << status.body;
  ClientResponse admin = Call(port, "POST", "/v1/api/auth/login", LoginBody("admin", "kalamdb123"));
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(JsonDoc(admin.body).Str("/user/role"), "dba");
  ClientResponse root = Call(port, "POST", "/v1/api/auth/login", LoginBody("root", "kalamdb123"));
  EXPECT_EQ(root.status, 200) << root.body;
  // A second setup is still refused.
  ClientResponse again = Call(port, "POST", "/v1/api/auth/setup", kSetupBody);
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST(LifecycleE2E, StartupLogsListeningAddress) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(
      WaitForStderr(server, "listening on http://127.0.0.1:" + std::to_string(server.Port())))
      << server.Stderr();
  ClientResponse health = Call(server.Port(), "GET", "/health");
  EXPECT_EQ(health.status, 200);
  // The log file lands in KALAMDB_LOGS_DIR, and the data in KALAMDB_DATA_DIR.
  std::ifstream log(server.Dir() + "/logs/server.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_TRUE(Contains(text.str(), "listening on")) << text.str();
  EXPECT_TRUE(std::filesystem::is_directory(server.DataDir() + "/rocksdb"));
}

TEST(LifecycleE2E, SigtermExitsZeroWithShutdownComplete) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  // An idle keep-alive connection must not hold up the shutdown.
  http::Client idle("127.0.0.1", server.Port());
  ASSERT_EQ(Call(idle, "GET", "/health").status, 200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.Stderr();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0) << "idle connections delayed the shutdown";
  const std::string err = server.Stderr();
  EXPECT_TRUE(Contains(err, "SIGTERM")) << err;
  EXPECT_TRUE(Contains(err, "shutdown complete")) << err;
  EXPECT_FALSE(PortAccepts(server.Port()));
}

TEST(LifecycleE2E, SigintExitsZeroWithShutdownComplete) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Stop(SIGINT), 0) << server.Stderr();
  EXPECT_TRUE(Contains(server.Stderr(), "SIGINT")) << server.Stderr();
  EXPECT_TRUE(Contains(server.Stderr(), "shutdown complete")) << server.Stderr();
}

TEST(LifecycleE2E, SigtermFinishesTheRequestInFlight) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  const std::string body = R"({"sql":"SELECT 1"})";
  const std::string head =
      "POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("root", kRootPassword) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  http::Client client("127.0.0.1", server.Port(), 10000);
  // The request is in flight: head and half the body sent.
  ASSERT_TRUE(client.SendRaw(head + body.substr(0, body.size() / 2)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  // Wait until the server stopped accepting, so the rest surely arrives after the signal.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (PortAccepts(server.Port()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(PortAccepts(server.Port())) << "still accepting 5 s after SIGTERM";
  ASSERT_TRUE(client.SendRaw(body.substr(body.size() / 2)).ok());
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status().ToString() << "\nstderr:\n" << server.Stderr();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(JsonDoc(response->body).Str("/results/0/as_user"), "root") << response->body;
  // The connection is closed after the last answer.
  EXPECT_EQ(response->Header("Connection"), std::string_view("close"));
  EXPECT_EQ(server.WaitForExit(15000), 0) << server.Stderr();
  EXPECT_TRUE(Contains(server.Stderr(), "shutdown complete")) << server.Stderr();
}

TEST(LifecycleE2E, UsersAndTokensSurviveARestart) {
  ServerProcess server;  // no root password: the setup creates the users
  ASSERT_TRUE(server.Start());
  RunSetup(server.Port());
  std::string token = LoginToken(server.Port(), "admin", "kalamdb123");
  ASSERT_FALSE(token.empty());

  ASSERT_TRUE(server.Restart());
  ExpectConfiguredWithAdmin(server.Port());
  // The generated JWT secret is kept in the data dir, so old tokens stay valid.
  ClientResponse me =
      Call(server.Port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(JsonDoc(me.body).Str("/user/id"), "admin") << me.body;
}

TEST(LifecycleE2E, AcknowledgedSetupSurvivesKill9) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  RunSetup(server.Port());
  EXPECT_EQ(server.Kill9(), 128 + SIGKILL);
  ASSERT_TRUE(server.Start()) << "restart after kill -9";
  ExpectConfiguredWithAdmin(server.Port());
  // And once more, to be sure the reopened store is sound.
  EXPECT_EQ(server.Kill9(), 128 + SIGKILL);
  ASSERT_TRUE(server.Start());
  ExpectConfiguredWithAdmin(server.Port());
}

TEST(LifecycleE2E, ConfiguredJwtSecretDecidesWhichTokensSurvive) {
  ServerProcess server(
      RootServerOptions({{"KALAMDB_JWT_SECRET", "first-secret-0123456789abcdefghijklmnop"}}));
  ASSERT_TRUE(server.Start());
  std::string token = LoginToken(server.Port(), "root", kRootPassword);
  ASSERT_FALSE(token.empty());
  const Headers bearer = {{"Authorization", "Bearer " + token}};
  // Same secret after a restart: the token is still good.
  ASSERT_TRUE(server.Restart());
  EXPECT_EQ(Call(server.Port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", bearer).status,
            200);
  // Another secret: the old token is rejected, the users are still there.
  server.SetEnv("KALAMDB_JWT_SECRET", "second-secret-0123456789abcdefghijklmnop");
  ASSERT_TRUE(server.Restart());
  ClientResponse stale =
      Call(server.Port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", bearer);
  EXPECT_EQ(stale.status, 401) << stale.body;
  EXPECT_EQ(JsonDoc(stale.body).Str("/error/code"), "INVALID_CREDENTIALS") << stale.body;
  EXPECT_FALSE(LoginToken(server.Port(), "root", kRootPassword).empty());
}

TEST(LifecycleE2E, LockoutSurvivesARestart) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  for (int i = 0; i < 5; ++i) {
    ClientResponse wrong =
        Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", "wrong-password"));
    ASSERT_EQ(wrong.status, 401) << wrong.body;
  }
  ASSERT_TRUE(server.Restart());
  ClientResponse locked =
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  EXPECT_EQ(locked.status, 401) << locked.body;
  EXPECT_EQ(JsonDoc(locked.body).Str("/error"), "account_locked") << locked.body;
}

TEST(LifecycleE2E, RootPasswordFromEnvOnlyAppliesOnFirstStart) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  EXPECT_FALSE(LoginToken(server.Port(), "root", kRootPassword).empty());
  // An existing root is never modified at startup: a new variable value has no effect.
  server.SetEnv("KALAMDB_ROOT_PASSWORD", "another-root-password");
  ASSERT_TRUE(server.Restart());
  EXPECT_FALSE(LoginToken(server.Port(), "root", kRootPassword).empty());
  ClientResponse other =
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", "another-root-password"));
  EXPECT_EQ(other.status, 401) << other.body;
}

TEST(LifecycleE2E, InvalidPortInConfigIsFatal) {
  // KALAMDB_SERVER_PORT would override the file: this server must read the file's value.
  ServerOptions options;
  options.config_toml = "[server]\nport = \"abc\"\n";
  options.env = {{"KALAMDB_SERVER_PORT", ""}};  // empty counts as unset
  ServerProcess file_only(options);
  ExpectFatal(file_only, "server.port");
}

TEST(LifecycleE2E, OtherInvalidValuesAreFatal) {
  {
    ServerOptions options;
    options.config_toml = "[auth]\nbcrypt_cost = 99\n";
    options.env = {{"KALAMDB_BCRYPT_COST", ""}};
    ServerProcess server(options);
    ExpectFatal(server, "auth.bcrypt_cost");
  }
  {
    ServerOptions options;
    options.config_toml = "[logging]\nlevel = \"loud\"\n";
    ServerProcess server(options);
    ExpectFatal(server, "logging.level");
  }
  {
    ServerOptions options;
    options.env = {{"KALAMDB_SERVER_PORT", "abc"}};
    ServerProcess server(options);
    ExpectFatal(server, "KALAMDB_SERVER_PORT");
  }
  {
    ServerOptions options;
    options.config_toml = "[server\nport = 1\n";  // TOML syntax error
    ServerProcess server(options);
    ExpectFatal(server, "server.toml:");
  }
  {
    ServerOptions options;
    options.config_path = "/nonexistent/kalamdb/server.toml";
    ServerProcess server(options);
    ExpectFatal(server, "/nonexistent/kalamdb/server.toml");
  }
}

TEST(LifecycleE2E, UnknownKeyIsAWarningNamingTheKey) {
  ServerOptions options = RootServerOptions();
  options.config_toml = "[server]\nportt = 8081\n[bogus_section]\nx = 1\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(WaitForStderr(server, "listening on")) << server.Stderr();
  const std::string err = server.Stderr();
  EXPECT_TRUE(Contains(err, "server.portt")) << err;
  EXPECT_TRUE(Contains(err, "bogus_section")) << err;
  EXPECT_FALSE(Contains(err, "FATAL")) << err;
  ClientResponse health = Call(server.Port(), "GET", "/health");
  EXPECT_EQ(health.status, 200) << health.body;
}

TEST(LifecycleE2E, RepositoryServerTomlStartsWithoutWarnings) {
  ServerOptions options = RootServerOptions();
  options.config_path = std::string(KALAMDB_SOURCE_DIR) + "/server.toml";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(WaitForStderr(server, "listening on")) << server.Stderr();
  EXPECT_FALSE(Contains(server.Stderr(), "WARN")) << server.Stderr();
  EXPECT_EQ(Call(server.Port(), "GET", "/health").status, 200);
}

// KalamDB's own server.toml carries sections this server does not implement; they must be
// accepted silently (reference §8: the CLI harness starts the binary with that file).
TEST(LifecycleE2E, KalamdbOnlySectionsAreAcceptedSilently) {
  ServerOptions options = RootServerOptions();
  options.config_toml = R"(transaction_timeout_secs = 30
[server]
host = "127.0.0.1"
port = 8080
api_version = "v1"
enable_http2 = true
[storage]
data_path = "./data"
[logging.otlp]
enabled = true
endpoint = "http://127.0.0.1:4317"
protocol = "grpc"
[authentication]
jwt_trusted_issuers = ""
enforce_password_complexity = false
[datafusion]
memory_limit = 1073741824
[flush]
default_row_limit = 10000
[websocket]
client_timeout_secs = 10
[cluster]
cluster_id = "cluster"
node_id = 1
[shutdown.flush]
timeout = 300
)";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(WaitForStderr(server, "listening on")) << server.Stderr();
  EXPECT_FALSE(Contains(server.Stderr(), "unknown key")) << server.Stderr();
  EXPECT_EQ(Call(server.Port(), "GET", "/health").status, 200);
}

TEST(LifecycleE2E, SecondServerOnTheSameDataDirIsFatal) {
  ServerProcess first(RootServerOptions());
  ASSERT_TRUE(first.Start());
  ServerProcess second(RootServerOptions({{"KALAMDB_DATA_DIR", first.DataDir()}}));
  ASSERT_TRUE(second.Spawn());
  EXPECT_EQ(second.WaitForExit(15000), 1) << second.Stderr();
  int fatal_lines = 0;
  for (const auto& line : Lines(second.Stderr())) {
    if (line.rfind("FATAL: ", 0) == 0) ++fatal_lines;
  }
  EXPECT_EQ(fatal_lines, 1) << second.Stderr();
  // The first one is unharmed.
  EXPECT_FALSE(LoginToken(first.Port(), "root", kRootPassword).empty());
}

TEST(LifecycleE2E, PortInUseIsFatal) {
  // Hold a listening socket on a free port, and start the server on that port.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ServerOptions options = RootServerOptions();
  options.port = ntohs(addr.sin_port);
  ServerProcess server(options);
  ASSERT_TRUE(server.Spawn());
  const int status = server.WaitForExit(15000);
  ::close(fd);
  const std::string err = server.Stderr();
  EXPECT_EQ(status, 1) << err;
  int fatal_lines = 0;
  for (const auto& line : Lines(err)) {
    if (line.rfind("FATAL: ", 0) == 0) {
      ++fatal_lines;
      EXPECT_TRUE(Contains(line, std::to_string(options.port))) << line;
    }
  }
  EXPECT_EQ(fatal_lines, 1) << err;
}

TEST(LifecycleE2E, BadServerHostIsFatal) {
  ServerProcess server(RootServerOptions({{"KALAMDB_SERVER_HOST", "not-an-address"}}));
  ASSERT_TRUE(server.Spawn());
  const int status = server.WaitForExit(15000);
  EXPECT_EQ(status, 1) << server.Stderr();
  int fatal_lines = 0;
  for (const auto& line : Lines(server.Stderr())) {
    if (line.rfind("FATAL: ", 0) == 0) {
      ++fatal_lines;
      EXPECT_TRUE(Contains(line, "server.host")) << line;
    }
  }
  EXPECT_EQ(fatal_lines, 1) << server.Stderr();
}

TEST(LifecycleE2E, HelpAndVersionFlags) {
  // Not through ServerProcess: these do not start a server. popen keeps it simple.
  for (const char* flag : {"--version", "--help"}) {
    std::string command = std::string(KALAMDB_SERVER_BIN) + " " + flag + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, n);
    int raw = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(raw) && WEXITSTATUS(raw) == 0) << flag << ": " << output;
    EXPECT_TRUE(Contains(output, "kalamdb-server")) << flag << ": " << output;
  }
}

}  // namespace
}  // namespace kalamdb::test
