// health_test.cc: /health, /v1/api/healthcheck and routing (404/405) on the real binary.
#include <gtest/gtest.h>

#include <algorithm>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

void ExpectHealthy(const ClientResponse& response) {
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), std::string_view("application/json"));
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(doc.Str("/status"), "healthy");
  ASSERT_TRUE(doc.Str("/version").has_value()) << response.body;
  EXPECT_FALSE(doc.Str("/version")->empty());
  EXPECT_EQ(doc.Str("/api_version"), "v1");
  EXPECT_TRUE(doc.IsString("/build_date")) << response.body;
}

TEST(HealthE2E, HealthAndHealthcheckFromLoopback) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port());
  ExpectHealthy(Call(client, "GET", "/health"));
  ExpectHealthy(Call(client, "GET", "/v1/api/healthcheck"));
  // Same connection again (keep-alive), and the two routes answer the same document.
  ClientResponse a = Call(client, "GET", "/health");
  ClientResponse b = Call(client, "GET", "/v1/api/healthcheck");
  ExpectHealthy(a);
  EXPECT_EQ(a.body, b.body);
  // The server reports the version it logs at startup.
  JsonDoc doc(a.body);
  EXPECT_NE(server.Stderr().find("kalamdb-server " + doc.Str("/version").value_or("?")),
            std::string::npos)
      << server.Stderr();
}

TEST(HealthE2E, HeadOnHealthHasNoBody) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port());
  ClientResponse head = Call(client, "HEAD", "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // The connection is still usable: no stray body bytes were sent after the HEAD answer.
  ExpectHealthy(Call(client, "GET", "/health"));
}

TEST(HealthE2E, UnknownRouteIs404) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port());
  for (const char* target : {"/", "/nope", "/v1/api/nope", "/healthz", "/v1/api/sql/extra"}) {
    ClientResponse response = Call(client, "GET", target);
    EXPECT_EQ(response.status, 404) << target << ": " << response.body;
  }
  ClientResponse post = Call(client, "POST", "/v1/api/unknown", "{}");
  EXPECT_EQ(post.status, 404) << post.body;
  // The query string is not part of the route.
  ExpectHealthy(Call(client, "GET", "/health?verbose=1"));
}

TEST(HealthE2E, WrongMethodOnKnownRouteIs405) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port());
  struct Case {
    const char* method;
    const char* target;
  };
  for (const Case& c : {Case{"POST", "/health"}, Case{"DELETE", "/v1/api/healthcheck"},
                        Case{"GET", "/v1/api/sql"}, Case{"PUT", "/v1/api/sql"},
                        Case{"GET", "/v1/api/auth/login"}, Case{"POST", "/v1/api/auth/me"},
                        Case{"POST", "/v1/api/auth/status"}, Case{"GET", "/v1/api/auth/setup"}}) {
    ClientResponse response = Call(client, c.method, c.target, "");
    EXPECT_EQ(response.status, 405) << c.method << " " << c.target << ": " << response.body;
  }
}

TEST(HealthE2E, WebSocketPathIsNotImplementedYet) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  ClientResponse response = Call(server.Port(), "GET", "/v1/ws");
  EXPECT_EQ(response.status, 501) << response.body;
  JsonDoc doc(response.body);
  EXPECT_EQ(doc.Str("/error"), "not_implemented") << response.body;
  EXPECT_TRUE(doc.IsString("/message")) << response.body;
}

TEST(HealthE2E, CorsPreflightAndAllowedOrigins) {
  ServerProcess server(
      RootServerOptions({{"KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS", "http://app.test"}}));
  ASSERT_TRUE(server.Start());
  ClientResponse preflight = Call(server.Port(), "OPTIONS", "/v1/api/sql", "",
                                  {{"Origin", "http://app.test"},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "Authorization"}});
  EXPECT_EQ(preflight.status, 204) << preflight.body;
  EXPECT_TRUE(preflight.body.empty());
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Origin"), std::string_view("http://app.test"));
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Methods"),
            std::string_view("GET, POST, PUT, DELETE, OPTIONS"));
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Headers"),
            std::string_view("Authorization, Content-Type"));
  EXPECT_EQ(preflight.Header("Access-Control-Max-Age"), std::string_view("3600"));

  // A normal request from the allowed origin carries the origin back.
  ClientResponse health =
      Call(server.Port(), "GET", "/health", "", {{"Origin", "http://app.test"}});
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Header("Access-Control-Allow-Origin"), std::string_view("http://app.test"));
  // Another origin does not.
  ClientResponse other =
      Call(server.Port(), "GET", "/health", "", {{"Origin", "http://evil.test"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_TRUE(HeaderValues(other, "Access-Control-Allow-Origin").empty());
  ClientResponse other_preflight =
      Call(server.Port(), "OPTIONS", "/v1/api/sql", "",
           {{"Origin", "http://evil.test"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_TRUE(HeaderValues(other_preflight, "Access-Control-Allow-Origin").empty());
  EXPECT_TRUE(HeaderValues(other_preflight, "Access-Control-Allow-Methods").empty());
}

TEST(HealthE2E, NonLoopbackClientGets403) {
  auto address = NonLoopbackIpv4();
  if (!address) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  ServerProcess server(RootServerOptions({{"KALAMDB_SERVER_HOST", "0.0.0.0"}}));
  ASSERT_TRUE(server.Start());
  http::Client remote(*address, server.Port());
  ClientResponse probe = Call(remote, "GET", "/health");
  if (probe.status == 0) GTEST_SKIP() << "cannot reach " << *address << ": " << probe.body;
  EXPECT_EQ(probe.status, 403);
  EXPECT_EQ(probe.body, R"({"error":"Access denied. Health endpoint is localhost-only."})");
  // A client cannot pretend to be local through proxy headers.
  ClientResponse spoofed = Call(remote, "GET", "/health", "",
                                {{"X-Forwarded-For", "127.0.0.1"}, {"X-Real-IP", "127.0.0.1"}});
  EXPECT_EQ(spoofed.status, 403) << spoofed.body;
  ClientResponse healthcheck = Call(remote, "GET", "/v1/api/healthcheck");
  EXPECT_EQ(healthcheck.status, 403);
  EXPECT_EQ(healthcheck.body, probe.body);

  // Setup status and setup are localhost-only too (auth.allow_remote_setup = false).
  ClientResponse status = Call(remote, "GET", "/v1/api/auth/status");
  EXPECT_EQ(status.status, 403) << status.body;
  JsonDoc status_doc(status.body);
  EXPECT_EQ(status_doc.Str("/error"), "forbidden") << status.body;
  ClientResponse setup = Call(remote, "POST", "/v1/api/auth/setup",
                              R"({"user":"admin","password":"kalamdb123",)"
                              R"("root_password":"kalamdb123","email":null})");
  EXPECT_EQ(setup.status, 403) << setup.body;
  JsonDoc setup_doc(setup.body);
  EXPECT_EQ(setup_doc.Str("/error"), "forbidden") << setup.body;

  // Login works from a remote address once root has a password.
  ClientResponse login =
      Call(remote, "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  EXPECT_EQ(login.status, 200) << login.body;

  // The same server still answers loopback clients.
  ExpectHealthy(Call(server.Port(), "GET", "/health"));
}

}  // namespace
}  // namespace kalamdb::test
