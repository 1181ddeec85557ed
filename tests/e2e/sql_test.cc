// sql_test.cc: POST /v1/api/sql on the real binary: authentication, the success envelope and
// the error envelope.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "common/json_writer.h"
#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

constexpr char kSelectOne[] = R"({"sql":"SELECT 1"})";

// {"status":"error","error":{"code":..,"message":..},"results":[],"took":<number>}.
void ExpectSqlError(const ClientResponse& response, int status, std::string_view code,
                    std::optional<std::string_view> message = std::nullopt) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), std::string_view("application/json"));
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"error", "results", "status", "took"}))
      << response.body;
  EXPECT_EQ(doc.Str("/status"), "error") << response.body;
  // `details` (the failing statement) is added for admin callers only.
  std::vector<std::string> keys = Sorted(doc.Keys("/error"));
  EXPECT_TRUE(keys == (std::vector<std::string>{"code", "message"}) ||
              keys == (std::vector<std::string>{"code", "details", "message"}))
      << response.body;
  EXPECT_EQ(doc.Str("/error/code"), code) << response.body;
  if (message) {
    EXPECT_EQ(doc.Str("/error/message"), *message) << response.body;
  } else {
    EXPECT_FALSE(doc.Str("/error/message").value_or("").empty()) << response.body;
  }
  EXPECT_EQ(doc.Size("/results"), 0) << response.body;
  ASSERT_TRUE(doc.IsNumber("/took")) << response.body;
  EXPECT_GE(*doc.Number("/took"), 0.0);
}

// The SELECT 1 success envelope, run as `user`.
void ExpectSelectOne(const ClientResponse& response, std::string_view user) {
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), std::string_view("application/json"));
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(doc.Str("/status"), "success");
  ASSERT_EQ(doc.Size("/results"), 1) << response.body;
  EXPECT_EQ(doc.Size("/results/0/schema"), 1) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("/results/0/schema/0")),
            (std::vector<std::string>{"data_type", "index", "name"}));
  EXPECT_EQ(doc.Str("/results/0/schema/0/name"), "Int64(1)");
  EXPECT_EQ(doc.Str("/results/0/schema/0/data_type"), "BigInt");
  EXPECT_EQ(doc.Int("/results/0/schema/0/index"), 0);
  // BIGINT cells are JSON strings.
  EXPECT_EQ(doc.Minified("/results/0/rows"), R"([["1"]])");
  EXPECT_EQ(doc.Int("/results/0/row_count"), 1);
  EXPECT_EQ(doc.Str("/results/0/as_user"), user);
  EXPECT_FALSE(doc.Has("/results/0/message"));
  ASSERT_TRUE(doc.IsNumber("/took")) << response.body;
  EXPECT_GE(*doc.Number("/took"), 0.0);
  // A single row-returning statement carries "error": null.
  EXPECT_TRUE(doc.IsNull("/error")) << response.body;
}

class SqlE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  int port() const { return server_.Port(); }
  ClientResponse Sql(std::string_view body, const Headers& headers) {
    return Call(port(), "POST", "/v1/api/sql", body, headers);
  }
  ClientResponse RootSql(std::string_view body) {
    return Sql(body, {{"Authorization", BasicAuth("root", kRootPassword)}});
  }
  ServerProcess server_{RootServerOptions()};
};

TEST_F(SqlE2E, MissingAuthorizationIs401) {
  ClientResponse response = Sql(kSelectOne, {});
  ExpectSqlError(response, 401, "MISSING_AUTHORIZATION", "Authentication required");
  // An empty header counts as missing.
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", " "}}), 401, "MISSING_AUTHORIZATION",
                 "Authentication required");
  // Authentication happens before the body is looked at.
  ExpectSqlError(Sql("not json", {}), 401, "MISSING_AUTHORIZATION", "Authentication required");
}

TEST_F(SqlE2E, BasicAuthSelectOne) {
  ExpectSelectOne(RootSql(kSelectOne), "root");
  // Letter case, spacing and a trailing semicolon do not matter.
  ExpectSelectOne(RootSql(R"({"sql":"  select   1 ;"})"), "root");
  // Unknown fields are ignored.
  ExpectSelectOne(RootSql(R"({"sql":"SELECT 1","unknown":{"a":[1]},"namespace_id":"default"})"),
                  "root");
  // Scalar params are accepted.
  ExpectSelectOne(RootSql(R"({"sql":"SELECT 1","params":[1,"x",null,true,2.5]})"), "root");
}

TEST_F(SqlE2E, BasicAuthIsCachedAndStillChecked) {
  http::Client client("127.0.0.1", port());
  const Headers good = {{"Authorization", BasicAuth("root", kRootPassword)}};
  for (int i = 0; i < 5; ++i)
    ExpectSelectOne(Call(client, "POST", "/v1/api/sql", kSelectOne, good), "root");
  // A cached good password does not make a wrong one pass.
  ExpectSqlError(Call(client, "POST", "/v1/api/sql", kSelectOne,
                      {{"Authorization", BasicAuth("root", std::string(kRootPassword) + "x")}}),
                 401, "INVALID_CREDENTIALS", "Invalid credentials");
  ExpectSelectOne(Call(client, "POST", "/v1/api/sql", kSelectOne, good), "root");
}

TEST_F(SqlE2E, WrongBasicCredentialsAre401) {
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", BasicAuth("root", "wrong")}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", BasicAuth("ghost", "whatever1")}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Basic !!!not-base64!!!"}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Basic " + std::string("cm9vdA==")}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");  // "root", no colon
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Digest abc"}}), 401, "INVALID_CREDENTIALS",
                 "Invalid credentials");
}

TEST_F(SqlE2E, BearerTokens) {
  std::string token = LoginToken(port(), "root", kRootPassword);
  ASSERT_FALSE(token.empty());
  ExpectSelectOne(Sql(kSelectOne, {{"Authorization", "Bearer " + token}}), "root");
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Bearer garbage"}}), 401, "INVALID_CREDENTIALS",
                 "Invalid credentials");
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Bearer a.b.c"}}), 401, "INVALID_CREDENTIALS",
                 "Invalid credentials");
  // A token with a tampered signature.
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Bearer " + tampered}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");
  // A refresh token is not an access token.
  ClientResponse login =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  std::string refresh = JsonDoc(login.body).Str("/refresh_token").value_or("");
  ASSERT_FALSE(refresh.empty()) << login.body;
  ExpectSqlError(Sql(kSelectOne, {{"Authorization", "Bearer " + refresh}}), 401,
                 "INVALID_CREDENTIALS", "Invalid credentials");
}

TEST(SqlBasicDisabledE2E, BasicIsRefusedWhenDisabled) {
  ServerProcess server(RootServerOptions({{"KALAMDB_ALLOW_BASIC_AUTH", "false"}}));
  ASSERT_TRUE(server.Start());
  ClientResponse basic = Call(server.Port(), "POST", "/v1/api/sql", kSelectOne,
                              {{"Authorization", BasicAuth("root", kRootPassword)}});
  ExpectSqlError(basic, 401, "INVALID_CREDENTIALS", "Invalid credentials");
  // Bearer still works, and so does password login.
  std::string token = LoginToken(server.Port(), "root", kRootPassword);
  ExpectSelectOne(Call(server.Port(), "POST", "/v1/api/sql", kSelectOne,
                       {{"Authorization", "Bearer " + token}}),
                  "root");
}

TEST_F(SqlE2E, RequestErrors) {
  ExpectSqlError(RootSql(R"({"sql":"SELEC 1"})"), 400, "INVALID_SQL");
  ClientResponse bad_json = RootSql(R"({"sql": "SELECT 1")");
  ExpectSqlError(bad_json, 400, "INVALID_INPUT");
  EXPECT_EQ(
      JsonDoc(bad_json.body).Str("/error/message").value_or("").rfind("Invalid JSON payload", 0),
      0u)
      << bad_json.body;
  ExpectSqlError(RootSql("[]"), 400, "INVALID_INPUT");
  ExpectSqlError(RootSql(""), 400, "INVALID_INPUT");
  ExpectSqlError(RootSql(R"({"query":"SELECT 1"})"), 400, "INVALID_INPUT");
  ExpectSqlError(RootSql(R"({"sql":1})"), 400, "INVALID_INPUT");
  ExpectSqlError(RootSql(R"({"sql":"   \n\t  "})"), 400, "EMPTY_SQL", "No SQL statements provided");
  ExpectSqlError(RootSql(R"({"sql":""})"), 400, "EMPTY_SQL", "No SQL statements provided");
  ExpectSqlError(RootSql(R"({"sql":" ; ;"})"), 400, "EMPTY_SQL", "No SQL statements provided");
  ExpectSqlError(RootSql(R"({"sql":"SELECT 1","params":[1,[2]]})"), 400, "INVALID_PARAMETER",
                 "Parameter $2 invalid: Array parameters not yet supported");
  ExpectSqlError(RootSql(R"({"sql":"SELECT 1","params":[{"a":1}]})"), 400, "INVALID_PARAMETER",
                 "Parameter $1 invalid: Object parameters not yet supported");
  std::string many = R"({"sql":"SELECT 1","params":[)";
  for (int i = 0; i < 51; ++i) many += (i ? ",1" : "1");
  many += "]}";
  ExpectSqlError(RootSql(many), 400, "INVALID_PARAMETER");
  // The server still answers on the same terms afterwards.
  ExpectSelectOne(RootSql(kSelectOne), "root");
}

TEST(SqlLimitsE2E, SqlLongerThanMaxMessageSizeIsInvalidSql) {
  ServerOptions options = RootServerOptions();
  options.config_toml = "[limits]\nmax_message_size = 64\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  std::string sql = "SELECT 1" + std::string(100, ' ');
  ClientResponse response =
      Call(server.Port(), "POST", "/v1/api/sql", R"({"sql":")" + sql + R"("})",
           {{"Authorization", BasicAuth("root", kRootPassword)}});
  ExpectSqlError(response, 400, "INVALID_SQL", "SQL query too long: 108 bytes (maximum 64 bytes)");
}

TEST_F(SqlE2E, ConcurrentClients) {
  std::string token = LoginToken(port(), "root", kRootPassword);
  constexpr int kThreads = 8;
  constexpr int kRequests = 100;
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      http::Client client("127.0.0.1", port());
      const Headers headers = {
          {"Authorization", t % 2 == 0 ? "Bearer " + token : BasicAuth("root", kRootPassword)}};
      for (int i = 0; i < kRequests; ++i) {
        ClientResponse response = Call(client, "POST", "/v1/api/sql", kSelectOne, headers);
        if (response.status == 200 && JsonDoc(response.body).Int("/results/0/row_count") == 1) {
          ++ok[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(ok[static_cast<size_t>(t)], kRequests) << "thread " << t;
}

TEST_F(SqlE2E, ManyRequestsOnOneKeepAliveConnection) {
  std::string token = LoginToken(port(), "root", kRootPassword);
  http::Client client("127.0.0.1", port());
  for (int i = 0; i < 200; ++i) {
    ClientResponse response =
        Call(client, "POST", "/v1/api/sql", kSelectOne, {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(response.status, 200) << "request " << i << ": " << response.body;
    ASSERT_NE(response.Header("Connection"), std::string_view("close"));
  }
  EXPECT_TRUE(client.connected());
}

}  // namespace
}  // namespace kalamdb::test

namespace kalamdb::test {
namespace {

// Namespace DDL through HTTP: messages, error codes, persistence across a restart.
TEST(SqlNamespaceE2E, CreateShowDropAndRestart) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  auto sql = [&](std::string_view statement) {
    std::string body;
    JsonWriter(body).BeginObject().Key("sql").String(statement).EndObject();
    return Call(server.Port(), "POST", "/v1/api/sql", body,
                {{"Authorization", BasicAuth("root", kRootPassword)}});
  };
  ClientResponse created = sql("CREATE NAMESPACE IF NOT EXISTS bench_ns");
  ASSERT_EQ(created.status, 200) << created.body;
  JsonDoc doc(created.body);
  EXPECT_EQ(doc.Str("/results/0/message"), "Namespace 'bench_ns' created successfully");
  EXPECT_EQ(doc.Int("/results/0/row_count"), 0);
  EXPECT_EQ(doc.Str("/results/0/as_user"), "root");
  EXPECT_FALSE(doc.Has("/results/0/schema"));
  EXPECT_FALSE(doc.Has("/error"));

  ExpectSqlError(sql("CREATE NAMESPACE bench_ns"), 400, "SQL_EXECUTION_ERROR",
                 "Statement 1 failed: Already exists: Namespace 'bench_ns' already exists");
  ExpectSqlError(sql("CREATE NAMESPACE system"), 400, "SQL_EXECUTION_ERROR");
  ExpectSqlError(sql("CREATE NAMESPACE ("), 400, "INVALID_SQL");

  ASSERT_TRUE(server.Restart());
  ClientResponse shown = sql("SHOW NAMESPACES");
  ASSERT_EQ(shown.status, 200) << shown.body;
  JsonDoc listing(shown.body);
  EXPECT_EQ(listing.Str("/results/0/schema/0/name"), "namespace_id");
  EXPECT_EQ(listing.Minified("/results/0/rows/0/0"), "\"bench_ns\"");
  EXPECT_EQ(listing.Int("/results/0/row_count"), 2);

  ClientResponse dropped = sql("DROP NAMESPACE IF EXISTS bench_ns CASCADE");
  ASSERT_EQ(dropped.status, 200) << dropped.body;
  EXPECT_EQ(JsonDoc(dropped.body).Str("/results/0/message"),
            "Namespace 'bench_ns' dropped successfully");
}

}  // namespace
}  // namespace kalamdb::test

namespace kalamdb::test {
namespace {

// The KalamDB CLI harness's readiness step 4 (reference §7), then the user lifecycle.
TEST(SqlUsersE2E, HarnessUserSetupAndLifecycle) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  auto sql_as = [&](std::string_view user, std::string_view password, std::string_view statement) {
    std::string body;
    JsonWriter(body).BeginObject().Key("sql").String(statement).EndObject();
    return Call(server.Port(), "POST", "/v1/api/sql", body,
                {{"Authorization", BasicAuth(user, password)}});
  };
  auto root = [&](std::string_view statement) { return sql_as("root", kRootPassword, statement); };

  ClientResponse missing = root("SELECT user_id FROM system.users WHERE user_id = 'admin' LIMIT 1");
  ASSERT_EQ(missing.status, 200) << missing.body;
  JsonDoc none(missing.body);
  EXPECT_EQ(none.Str("/results/0/schema/0/name"), "user_id");
  EXPECT_EQ(none.Size("/results/0/rows"), 0);

  ClientResponse created = root("CREATE USER admin WITH PASSWORD 'adminpw123' ROLE 'dba'");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(JsonDoc(created.body).Str("/results/0/message"), "User 'admin' created");
  ExpectSqlError(root("CREATE USER admin WITH PASSWORD 'x' ROLE 'dba'"), 400, "SQL_EXECUTION_ERROR",
                 "Statement 1 failed: Already exists: User 'admin' already exists");
  ASSERT_EQ(root("ALTER USER admin SET PASSWORD 'newpw12345'").status, 200);
  ASSERT_EQ(root("ALTER USER admin SET ROLE 'dba'").status, 200);

  ClientResponse found =
      root("SELECT user_id, password_hash, role FROM system.users WHERE user_id = 'admin' LIMIT 1");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(JsonDoc(found.body).Minified("/results/0/rows"), R"([["admin","***","dba"]])");

  // The new password works and the old one does not.
  EXPECT_EQ(sql_as("admin", "newpw12345", "SELECT 1").status, 200);
  EXPECT_EQ(sql_as("admin", "adminpw123", "SELECT 1").status, 401);
  // A dba reads system tables; a plain user may not, nor manage users.
  ASSERT_EQ(root("CREATE USER carol WITH PASSWORD 'carolpw123' ROLE user").status, 200);
  ExpectSqlError(sql_as("carol", "carolpw123", "SELECT * FROM system.users"), 403,
                 "PERMISSION_DENIED");
  ExpectSqlError(
      sql_as("carol", "carolpw123", "CREATE USER eve WITH PASSWORD 'evepw12345' ROLE user"), 403,
      "PERMISSION_DENIED");
  EXPECT_EQ(sql_as("admin", "newpw12345", "SELECT COUNT(*) FROM system.users").status, 200);
  // Which tables exist is not disclosed to non-admins; admins see the real reason.
  ExpectSqlError(sql_as("carol", "carolpw123", "SELECT * FROM nowhere.t"), 400,
                 "SQL_EXECUTION_ERROR", "SQL statement failed");
  ExpectSqlError(root("SELECT * FROM nowhere.t"), 400, "SQL_EXECUTION_ERROR",
                 "Statement 1 failed: Not found: Table 'nowhere.t' not found");
  EXPECT_EQ(JsonDoc(root("SELECT 1; SELECT * FROM nowhere.t").body).Str("/error/details"),
            "SELECT * FROM nowhere.t");
  EXPECT_FALSE(
      JsonDoc(sql_as("carol", "carolpw123", "SELECT * FROM nowhere.t").body).Has("/error/details"));

  ClientResponse dropped = root("DROP USER carol");
  ASSERT_EQ(dropped.status, 200) << dropped.body;
  EXPECT_EQ(JsonDoc(dropped.body).Str("/results/0/message"), "User 'carol' dropped (soft delete)");
  EXPECT_EQ(sql_as("carol", "carolpw123", "SELECT 1").status, 401);
  ClientResponse skipped = root("DROP USER IF EXISTS nobody");
  EXPECT_EQ(JsonDoc(skipped.body).Str("/results/0/message"),
            "User 'nobody' does not exist (skipped)");

  // Users and tables survive a restart; system.tables and system.columns describe them.
  ASSERT_EQ(root("CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)").status,
            200);
  ASSERT_TRUE(server.Restart());
  EXPECT_EQ(sql_as("admin", "newpw12345", "SELECT 1").status, 200);
  ClientResponse columns =
      root("SELECT column_name, data_type, primary_key FROM system.columns WHERE table_name = 't'");
  ASSERT_EQ(columns.status, 200) << columns.body;
  EXPECT_EQ(JsonDoc(columns.body).Minified("/results/0/rows"),
            R"([["id","BigInt",true],["v","Text",false]])");
}

}  // namespace
}  // namespace kalamdb::test
