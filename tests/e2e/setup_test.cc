// setup_test.cc: first-run setup (/v1/api/auth/status, /v1/api/auth/setup) on a server started
// without a root password, and the readiness sequence of the KalamDB CLI test harness.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

constexpr char kSetupBody[] =
    R"({"user":"admin","password":"kalamdb123","root_password":"kalamdb123","email":null})";
constexpr char kNeedsSetupMessage[] =
    "Server requires initial setup. Call POST /v1/api/auth/setup with user, password, "
    "root_password, and optional email.";

std::string SetupBody(std::string_view user, std::string_view password,
                      std::string_view root_password) {
  return "{\"user\":" + Quoted(user) + ",\"password\":" + Quoted(password) +
         ",\"root_password\":" + Quoted(root_password) + ",\"email\":null}";
}

void ExpectNeedsSetup(int port, bool expected) {
  ClientResponse status = Call(port, "GET", "/v1/api/auth/status");
  ASSERT_EQ(status.status, 200) << status.body;
  JsonDoc doc(status.body);
  ASSERT_TRUE(doc.ok()) << status.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"message", "needs_setup"}));
  EXPECT_EQ(doc.Bool("/needs_setup"), expected) << status.body;
  EXPECT_EQ(doc.Str("/message"), expected ? kNeedsSetupMessage : "Server is configured and ready.");
}

TEST(SetupE2E, FullSetupFlow) {
  ServerProcess server;  // no KALAMDB_ROOT_PASSWORD
  ASSERT_TRUE(server.Start());
  const int port = server.Port();
  // The server tells the operator what to do.
  EXPECT_NE(server.Stderr().find("/v1/api/auth/setup"), std::string::npos) << server.Stderr();

  ExpectNeedsSetup(port, true);

  // Root cannot log in yet.
  ClientResponse login_empty = Call(port, "POST", "/v1/api/auth/login", LoginBody("root", ""));
  ExpectAuthError(login_empty, 428, "setup_required");
  ExpectAuthError(Call(port, "POST", "/v1/api/auth/login", LoginBody("root", "kalamdb123")), 401,
                  "unauthorized");
  ClientResponse sql = Call(port, "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
                            {{"Authorization", BasicAuth("root", "")}});
  EXPECT_EQ(sql.status, 401) << sql.body;

  // Rejected setups change nothing.
  ClientResponse weak =
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("admin", "short", "kalamdb123"));
  ExpectAuthError(weak, 400, "weak_password");
  ExpectAuthError(
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("admin", "password", "kalamdb123")), 400,
      "weak_password");
  ClientResponse weak_root =
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("admin", "kalamdb123", "12345678"));
  ExpectAuthError(weak_root, 400, "weak_password");
  ExpectAuthError(
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("root", "kalamdb123", "kalamdb123")), 400,
      "invalid_user");
  ExpectAuthError(
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("../etc", "kalamdb123", "kalamdb123")),
      400, "invalid_user");
  ExpectAuthError(
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("", "kalamdb123", "kalamdb123")), 400,
      "invalid_user");
  ClientResponse unknown_field = Call(
      port, "POST", "/v1/api/auth/setup",
      R"({"user":"admin","password":"kalamdb123","root_password":"kalamdb123","role":"system"})");
  EXPECT_EQ(unknown_field.status, 400) << unknown_field.body;
  EXPECT_EQ(Call(port, "POST", "/v1/api/auth/setup", "{oops").status, 400);
  ExpectNeedsSetup(port, true);

  // The real setup.
  ClientResponse setup = Call(port, "POST", "/v1/api/auth/setup", kSetupBody);
  ASSERT_EQ(setup.status, 200) << setup.body;
  JsonDoc doc(setup.body);
  ASSERT_TRUE(doc.ok()) << setup.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"message", "user"})) << setup.body;
  EXPECT_EQ(Sorted(doc.Keys("/user")),
            (std::vector<std::string>{"created_at", "email", "id", "role", "updated_at"}));
  EXPECT_EQ(doc.Str("/user/id"), "admin");
  EXPECT_EQ(doc.Str("/user/role"), "dba");
  EXPECT_TRUE(doc.IsNull("/user/email")) << setup.body;
  EXPECT_TRUE(ParseRfc3339(doc.Str("/user/created_at").value_or("")).has_value()) << setup.body;
  EXPECT_FALSE(doc.Str("/message").value_or("").empty());
  // No tokens: the new user has to log in.
  EXPECT_FALSE(doc.Has("/access_token"));
  EXPECT_FALSE(doc.Has("/refresh_token"));
  EXPECT_TRUE(HeaderValues(setup, "Set-Cookie").empty());

  // One-shot.
  ExpectAuthError(Call(port, "POST", "/v1/api/auth/setup", kSetupBody), 409, "already_configured");
  ExpectAuthError(
      Call(port, "POST", "/v1/api/auth/setup", SetupBody("other", "kalamdb123", "another-pass-1")),
      409, "already_configured");
  ExpectNeedsSetup(port, false);

  // Both users can log in; root keeps role system, admin is a dba.
  ClientResponse admin = Call(port, "POST", "/v1/api/auth/login", LoginBody("admin", "kalamdb123"));
  ASSERT_EQ(admin.status, 200) << admin.body;
  JsonDoc admin_doc(admin.body);
  EXPECT_EQ(admin_doc.Str("/user/id"), "admin");
  EXPECT_EQ(admin_doc.Str("/user/role"), "dba");
  EXPECT_EQ(admin_doc.Bool("/admin_ui_access"), true);
  ClientResponse root = Call(port, "POST", "/v1/api/auth/login", LoginBody("root", "kalamdb123"));
  ASSERT_EQ(root.status, 200) << root.body;
  JsonDoc root_doc(root.body);
  EXPECT_EQ(root_doc.Str("/user/role"), "system");
  // An empty root password is now simply wrong.
  ExpectAuthError(Call(port, "POST", "/v1/api/auth/login", LoginBody("root", "")), 401,
                  "unauthorized");

  // And the admin token works on the SQL endpoint.
  ClientResponse select =
      Call(port, "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
           {{"Authorization", "Bearer " + admin_doc.Str("/access_token").value_or("")}});
  EXPECT_EQ(select.status, 200) << select.body;
  EXPECT_EQ(JsonDoc(select.body).Str("/results/0/as_user"), "admin") << select.body;
}

TEST(SetupE2E, ConfiguredServerRefusesSetup) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  ExpectNeedsSetup(server.Port(), false);
  ExpectAuthError(Call(server.Port(), "POST", "/v1/api/auth/setup", kSetupBody), 409,
                  "already_configured");
  // Root's password is the one from the environment, untouched by the refused setup.
  EXPECT_FALSE(LoginToken(server.Port(), "root", kRootPassword).empty());
  ExpectAuthError(
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("admin", "kalamdb123")), 401,
      "unauthorized");
}

TEST(SetupE2E, RemoteClientsCannotSetUpByDefault) {
  auto address = NonLoopbackIpv4();
  if (!address) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  ServerOptions options;
  options.env = {{"KALAMDB_SERVER_HOST", "0.0.0.0"}};
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  http::Client remote(*address, server.Port());
  ClientResponse status = Call(remote, "GET", "/v1/api/auth/status");
  if (status.status == 0) GTEST_SKIP() << "cannot reach " << *address << ": " << status.body;
  ExpectAuthError(status, 403, "forbidden");
  EXPECT_EQ(JsonDoc(status.body).Str("/message"),
            "Setup status can only be checked from localhost");
  ClientResponse setup = Call(remote, "POST", "/v1/api/auth/setup", kSetupBody);
  ExpectAuthError(setup, 403, "forbidden");
  EXPECT_EQ(JsonDoc(setup.body).Str("/message"),
            "Server setup can only be performed from localhost");
  // Root without a password: an empty password asks for setup, any other is refused
  // remotely (403) and wrong locally (401).
  ExpectAuthError(Call(remote, "POST", "/v1/api/auth/login", LoginBody("root", "")), 428,
                  "setup_required");
  ExpectAuthError(Call(remote, "POST", "/v1/api/auth/login", LoginBody("root", "kalamdb123")), 403,
                  "forbidden");
  ExpectAuthError(
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", "kalamdb123")), 401,
      "unauthorized");
  // Nothing was set up.
  ExpectNeedsSetup(server.Port(), true);
}

TEST(SetupE2E, AllowRemoteSetup) {
  auto address = NonLoopbackIpv4();
  if (!address) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  ServerOptions options;
  options.env = {{"KALAMDB_SERVER_HOST", "0.0.0.0"}, {"KALAMDB_ALLOW_REMOTE_SETUP", "true"}};
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  http::Client remote(*address, server.Port());
  ClientResponse status = Call(remote, "GET", "/v1/api/auth/status");
  if (status.status == 0) GTEST_SKIP() << "cannot reach " << *address << ": " << status.body;
  EXPECT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(JsonDoc(status.body).Bool("/needs_setup"), true) << status.body;
  ClientResponse setup = Call(remote, "POST", "/v1/api/auth/setup", kSetupBody);
  EXPECT_EQ(setup.status, 200) << setup.body;
  EXPECT_EQ(JsonDoc(setup.body).Str("/user/role"), "dba") << setup.body;
  ClientResponse login =
      Call(remote, "POST", "/v1/api/auth/login", LoginBody("admin", "kalamdb123"));
  EXPECT_EQ(login.status, 200) << login.body;
  // Health stays localhost-only whatever allow_remote_setup says.
  EXPECT_EQ(Call(remote, "GET", "/health").status, 403);
}

TEST(SetupE2E, ConcurrentSetupsOnlyOneWins) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  constexpr int kThreads = 8;
  std::vector<int> statuses(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      statuses[static_cast<size_t>(i)] =
          Call(server.Port(), "POST", "/v1/api/auth/setup",
               SetupBody("admin" + std::to_string(i), "kalamdb123", "root-pw-" + std::to_string(i)))
              .status;
    });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  for (int i = 0; i < kThreads; ++i) {
    if (statuses[static_cast<size_t>(i)] == 200) {
      EXPECT_EQ(winner, -1) << "two setups succeeded: " << winner << " and " << i;
      winner = i;
    } else {
      EXPECT_EQ(statuses[static_cast<size_t>(i)], 409) << "setup " << i;
    }
  }
  ASSERT_NE(winner, -1);
  // Root's password is the winner's, and only the winner's user exists.
  const std::string w = std::to_string(winner);
  EXPECT_EQ(
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", "root-pw-" + w)).status,
      200);
  EXPECT_EQ(Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("admin" + w, "kalamdb123"))
                .status,
            200);
  const std::string loser = std::to_string((winner + 1) % kThreads);
  EXPECT_EQ(
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("admin" + loser, "kalamdb123"))
          .status,
      401);
}

// Reference §7 steps 1-3, exactly as the KalamDB CLI harness runs them against a fresh server.
TEST(SetupE2E, CliHarnessReadinessSequence) {
  const std::string root_password = "kalamdb123";
  // The harness's "fresh" server environment (without a KALAMDB_ROOT_PASSWORD).
  ServerOptions options;
  options.env = {{"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "200000"},
                 {"KALAMDB_LOG_LEVEL", "warn"}};
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  const int port = server.Port();

  // Step 1: status, then setup because needs_setup is true.
  ClientResponse status = Call(port, "GET", "/v1/api/auth/status");
  ASSERT_GE(status.status, 200);
  ASSERT_LT(status.status, 300) << status.body;
  JsonDoc status_doc(status.body);
  ASSERT_EQ(status_doc.Bool("/needs_setup"), true) << status.body;
  ClientResponse setup = Call(port, "POST", "/v1/api/auth/setup",
                              R"({"user":"admin","password":"kalamdb123","root_password":)" +
                                  Quoted(root_password) + R"(,"email":null})");
  ASSERT_GE(setup.status, 200);
  ASSERT_LT(setup.status, 300) << setup.body;

  // Step 2: the auth probe without Authorization must not be 2xx ("auth required").
  http::Client probe("127.0.0.1", port, 2000);
  ClientResponse unauthenticated = Call(probe, "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})");
  EXPECT_EQ(unauthenticated.status, 401) << unauthenticated.body;
  EXPECT_EQ(JsonDoc(unauthenticated.body).Str("/error/code"), "MISSING_AUTHORIZATION");

  // Step 3: login as root; only access_token is read.
  ClientResponse login = Call(port, "POST", "/v1/api/auth/login",
                              R"({"user":"root","password":)" + Quoted(root_password) + "}");
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = JsonDoc(login.body).Str("/access_token").value_or("");
  ASSERT_FALSE(token.empty()) << login.body;

  // The token is usable for SQL (step 4 onwards uses it).
  ClientResponse select = Call(port, "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
                               {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(select.status, 200) << select.body;
  JsonDoc select_doc(select.body);
  EXPECT_EQ(select_doc.Str("/status"), "success");
  EXPECT_EQ(select_doc.Str("/results/0/as_user"), "root");

  // A second harness process finds the server configured and skips setup.
  ClientResponse status2 = Call(port, "GET", "/v1/api/auth/status");
  EXPECT_EQ(JsonDoc(status2.body).Bool("/needs_setup"), false) << status2.body;
}

}  // namespace
}  // namespace kalamdb::test
