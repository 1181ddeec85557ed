// http_limits_test.cc: transport limits of the real binary: body size, malformed input,
// pipelining and many idle keep-alive connections.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

constexpr int kBodyLimit = 1024;

ServerOptions SmallBodyServer() {
  ServerOptions options = RootServerOptions();
  options.config_toml = "[security]\nmax_request_body_size = " + std::to_string(kBodyLimit) + "\n";
  return options;
}

void ExpectBodyTooLarge(const ClientResponse& response, int64_t size) {
  EXPECT_EQ(response.status, 413) << response.body;
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(doc.Str("/error"), "BODY_TOO_LARGE") << response.body;
  EXPECT_FALSE(doc.Str("/message").value_or("").empty()) << response.body;
  EXPECT_EQ(doc.Int("/size_bytes"), size) << response.body;
  EXPECT_EQ(doc.Int("/max_bytes"), kBodyLimit) << response.body;
}

void ExpectHealthy(int port) {
  ClientResponse health = Call(port, "GET", "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(JsonDoc(health.body).Str("/status"), "healthy") << health.body;
}

TEST(HttpLimitsE2E, BodyOverTheLimitIs413) {
  ServerProcess server(SmallBodyServer());
  ASSERT_TRUE(server.Start());
  const Headers auth = {{"Authorization", BasicAuth("root", kRootPassword)}};

  // Just under the limit: handled normally.
  std::string padded = R"({"sql":"SELECT 1","pad":")";
  padded += std::string(kBodyLimit - padded.size() - 2, 'x') + "\"}";
  ASSERT_EQ(padded.size(), static_cast<size_t>(kBodyLimit));
  ClientResponse ok = Call(server.Port(), "POST", "/v1/api/sql", padded, auth);
  EXPECT_EQ(ok.status, 200) << ok.body;

  // One byte over, and well over.
  for (int64_t size : {int64_t{kBodyLimit + 1}, int64_t{4 * kBodyLimit}}) {
    std::string body(static_cast<size_t>(size), ' ');
    ExpectBodyTooLarge(Call(server.Port(), "POST", "/v1/api/sql", body, auth), size);
  }
  // On an auth route too, and before authentication.
  ExpectBodyTooLarge(Call(server.Port(), "POST", "/v1/api/auth/login", std::string(2000, ' ')),
                     2000);

  // The limit is decided from Content-Length, without waiting for the body.
  http::Client client("127.0.0.1", server.Port(), 5000);
  ASSERT_TRUE(client
                  .SendRaw("POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nContent-Length: 10000000\r\n\r\n")
                  .ok());
  auto announced = client.ReadResponse();
  ASSERT_TRUE(announced.ok()) << announced.status().ToString();
  ExpectBodyTooLarge(*announced, 10000000);
  EXPECT_EQ(announced->Header("Connection"), std::string_view("close"));

  ExpectHealthy(server.Port());
}

TEST(HttpLimitsE2E, SmallerOfTheTwoBodyLimitsApplies) {
  ServerOptions options = RootServerOptions();
  options.config_toml =
      "[security]\nmax_request_body_size = 100000\n[rate_limit]\n"
      "request_body_limit_bytes = " +
      std::to_string(kBodyLimit) + "\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ExpectBodyTooLarge(Call(server.Port(), "POST", "/v1/api/sql", std::string(5000, ' ')), 5000);
}

TEST(HttpLimitsE2E, ChunkedBodies) {
  ServerProcess server(SmallBodyServer());
  ASSERT_TRUE(server.Start());
  const std::string head =
      "POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("root", kRootPassword) +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  http::Client client("127.0.0.1", server.Port(), 5000);
  // {"sql":"SELECT 1"} in three chunks.
  ASSERT_TRUE(
      client.SendRaw(head + "5\r\n{\"sql\r\n6\r\n\":\"SEL\r\n7\r\nECT 1\"}\r\n0\r\n\r\n").ok());
  auto ok = client.ReadResponse();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(JsonDoc(ok->body).Str("/results/0/as_user"), "root") << ok->body;

  // Chunks adding up to more than the limit: 413 (the total size is not announced).
  std::string big = head;
  for (int i = 0; i < 3; ++i) big += "200\r\n" + std::string(0x200, ' ') + "\r\n";
  big += "0\r\n\r\n";
  http::Client over("127.0.0.1", server.Port(), 5000);
  ASSERT_TRUE(over.SendRaw(big).ok());
  auto too_large = over.ReadResponse();
  ASSERT_TRUE(too_large.ok()) << too_large.status().ToString();
  EXPECT_EQ(too_large->status, 413) << too_large->body;
  JsonDoc doc(too_large->body);
  EXPECT_EQ(doc.Str("/error"), "BODY_TOO_LARGE") << too_large->body;
  EXPECT_EQ(doc.Int("/max_bytes"), kBodyLimit) << too_large->body;
  EXPECT_GT(doc.Int("/size_bytes").value_or(0), kBodyLimit) << too_large->body;
  ExpectHealthy(server.Port());
}

TEST(HttpLimitsE2E, Http10ClosesAfterTheResponse) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port(), 5000);
  ASSERT_TRUE(client.SendRaw("GET /health HTTP/1.0\r\n\r\n").ok());
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(JsonDoc(response->body).Str("/status"), "healthy");
  EXPECT_EQ(response->Header("Connection"), std::string_view("close"));
  EXPECT_FALSE(client.connected());
}

TEST(HttpLimitsE2E, MalformedRequestsGet400AndTheServerKeepsServing) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /health HTTP/1.1 extra\r\n\r\n",
        "GET /health HTTP/1.1\r\nNo-Colon-Here\r\n\r\n", "\x01\x02\x03\x04\r\n\r\n",
        "POST /v1/api/sql HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /v1/api/sql HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    http::Client client("127.0.0.1", server.Port(), 5000);
    ASSERT_TRUE(client.SendRaw(garbage).ok());
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.ok()) << "no answer to " << ::testing::PrintToString(garbage) << ": "
                               << response.status().ToString();
    EXPECT_EQ(response->status, 400)
        << ::testing::PrintToString(garbage) << " -> " << response->body;
    EXPECT_TRUE(JsonDoc(response->body).IsString("/error")) << response->body;
    // The connection is closed after a malformed request.
    EXPECT_EQ(response->Header("Connection"), std::string_view("close"));
    auto after = client.ReadResponse();
    EXPECT_FALSE(after.ok()) << "expected the server to close the connection";
    ExpectHealthy(server.Port());
  }
  // A request cut off mid-way, then a closed connection, is not a problem either.
  {
    http::Client client("127.0.0.1", server.Port(), 5000);
    ASSERT_TRUE(client.SendRaw("POST /v1/api/sql HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"s").ok());
  }
  ExpectHealthy(server.Port());
}

// RFC 9112 §6.3 (RFC 7230 §3.3.3): a request whose Transfer-Encoding does not end in "chunked"
// has no determinable length; the server MUST answer 400 and close the connection. Treating it
// as body-less desynchronises the connection (request smuggling behind a proxy): the bytes
// after the head are then swallowed as a body or parsed as the next request.
TEST(HttpLimitsE2E, TransferEncodingWithoutChunkedIs400) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  for (const char* encoding : {"gzip", "identity", "chunked, gzip"}) {
    http::Client client("127.0.0.1", server.Port(), 3000);
    ASSERT_TRUE(client
                    .SendRaw(std::string("POST /v1/api/auth/logout HTTP/1.1\r\nHost: x\r\n"
                                         "Transfer-Encoding: ") +
                             encoding + "\r\n\r\n")
                    .ok());
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.ok()) << encoding << ": " << response.status().ToString();
    EXPECT_EQ(response->status, 400)
        << "Transfer-Encoding: " << encoding << " -> " << response->body;
    EXPECT_EQ(response->Header("Connection"), std::string_view("close"))
        << "Transfer-Encoding: " << encoding;
  }
  ExpectHealthy(server.Port());
}

TEST(HttpLimitsE2E, OversizedHeadersAre431) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port(), 5000);
  ClientResponse response =
      Call(client, "GET", "/health", "", {{"X-Big", std::string(32 * 1024, 'h')}});
  EXPECT_EQ(response.status, 431) << response.body;
  ExpectHealthy(server.Port());
}

TEST(HttpLimitsE2E, RequestTimeoutIs408AndIdleConnectionsAreClosed) {
  ServerOptions options = RootServerOptions();
  options.config_toml = "[performance]\nrequest_timeout = 1\nkeepalive_timeout = 1\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());

  // A request that never completes: 408 after about a second, then the connection closes.
  http::Client partial("127.0.0.1", server.Port(), 10000);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      partial.SendRaw("POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
          .ok());
  auto timed_out = partial.ReadResponse();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(timed_out.ok()) << timed_out.status().ToString();
  EXPECT_EQ(timed_out->status, 408) << timed_out->body;
  EXPECT_EQ(JsonDoc(timed_out->body).Str("/error"), "REQUEST_TIMEOUT") << timed_out->body;
  EXPECT_EQ(timed_out->Header("Connection"), std::string_view("close"));
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 5.0);

  // An idle keep-alive connection is closed after about a second.
  http::Client idle("127.0.0.1", server.Port(), 10000);
  ASSERT_EQ(Call(idle, "GET", "/health").status, 200);
  const auto idle_start = std::chrono::steady_clock::now();
  auto closed = idle.ReadResponse();  // nothing was asked: only the close can arrive
  const double idle_for =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - idle_start).count();
  EXPECT_FALSE(closed.ok());
  EXPECT_GE(idle_for, 0.9);
  EXPECT_LT(idle_for, 5.0);
  ExpectHealthy(server.Port());
}

TEST(HttpLimitsE2E, ConnectionsOverMaxConnectionsAreRefused) {
  constexpr int kMax = 5;
  ServerOptions options = RootServerOptions();
  options.config_toml = "[performance]\nmax_connections = " + std::to_string(kMax) + "\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::unique_ptr<http::Client>> open;
  for (int i = 0; i < kMax; ++i) {
    open.push_back(std::make_unique<http::Client>("127.0.0.1", server.Port(), 5000));
    ASSERT_TRUE(open.back()->SendRaw(request).ok());
    auto response = open.back()->ReadResponse();
    ASSERT_TRUE(response.ok()) << "connection " << i << ": " << response.status().ToString();
    EXPECT_EQ(response->status, 200);
  }
  // One more is closed without an answer.
  http::Client extra("127.0.0.1", server.Port(), 5000);
  ASSERT_TRUE(extra.SendRaw(request).ok());
  auto refused = extra.ReadResponse();
  EXPECT_FALSE(refused.ok()) << "connection over the limit got HTTP " << refused->status;
  // Closing one makes room again.
  open.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    http::Client again("127.0.0.1", server.Port(), 5000);
    if (again.SendRaw(request).ok()) {
      auto response = again.ReadResponse();
      served = response.ok() && response->status == 200;
    }
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served) << "no connection was served after one of " << kMax << " closed";
  // The kept connections still work.
  ASSERT_TRUE(open.front()->SendRaw(request).ok());
  auto kept = open.front()->ReadResponse();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->status, 200);
}

TEST(HttpLimitsE2E, PipelinedRequestsAreAnsweredInOrder) {
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  const std::string login_body = LoginBody("root", "wrong-password");
  const std::string sql_body = R"({"sql":"SELECT 1"})";
  std::string batch;
  batch += "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  batch +=
      "POST /v1/api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(login_body.size()) + "\r\n\r\n" + login_body;
  batch += "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
  batch +=
      "POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("root", kRootPassword) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(sql_body.size()) +
      "\r\n\r\n" + sql_body;
  batch += "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  batch += "GET /v1/api/healthcheck HTTP/1.1\r\nHost: x\r\n\r\n";

  http::Client client("127.0.0.1", server.Port(), 5000);
  ASSERT_TRUE(client.SendRaw(batch).ok());
  const int expected[] = {200, 401, 404, 200, 405, 200};
  for (int i = 0; i < 6; ++i) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.ok()) << "response " << i << ": " << response.status().ToString();
    EXPECT_EQ(response->status, expected[i]) << "response " << i << ": " << response->body;
    if (i == 1) {
      EXPECT_EQ(JsonDoc(response->body).Str("/error"), "unauthorized");
    }
    if (i == 3) {
      EXPECT_EQ(JsonDoc(response->body).Str("/results/0/as_user"), "root");
    }
  }
  // Still usable, as a normal keep-alive connection.
  ClientResponse last = Call(client, "GET", "/health");
  EXPECT_EQ(last.status, 200) << last.body;

  // Pipelined requests split at awkward places arrive byte by byte: same answers.
  http::Client slow("127.0.0.1", server.Port(), 5000);
  const std::string two =
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
  for (char c : two) ASSERT_TRUE(slow.SendRaw(std::string_view(&c, 1)).ok());
  auto first = slow.ReadResponse();
  auto second = slow.ReadResponse();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);
}

TEST(HttpLimitsE2E, TenThousandIdleKeepAliveConnections) {
  constexpr int kConnections = 10000;
  const long limit = RaiseFileLimitToHard();
  if (limit < 10500) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit is " << limit << ", need at least 10500 for "
                 << kConnections << " connections";
  }
  ServerProcess server(RootServerOptions());
  ASSERT_TRUE(server.Start());
  const auto start = std::chrono::steady_clock::now();

  std::vector<std::unique_ptr<http::Client>> clients;
  clients.reserve(kConnections);
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  // Each connection makes one request, so every one is an established keep-alive connection;
  // requests are written in waves and answered afterwards.
  constexpr int kWave = 500;
  for (int base = 0; base < kConnections; base += kWave) {
    for (int i = base; i < base + kWave; ++i) {
      clients.push_back(std::make_unique<http::Client>("127.0.0.1", server.Port(), 10000));
      Status st = clients.back()->SendRaw(request);
      ASSERT_TRUE(st.ok()) << "connection " << i << ": " << st.ToString();
    }
    for (int i = base; i < base + kWave; ++i) {
      auto response = clients[static_cast<size_t>(i)]->ReadResponse();
      ASSERT_TRUE(response.ok()) << "connection " << i << ": " << response.status().ToString();
      ASSERT_EQ(response->status, 200) << "connection " << i;
      ASSERT_EQ(response->Header("Connection"), std::string_view("keep-alive"))
          << "connection " << i;
    }
  }
  // All of them are open at once; a fresh connection is still served.
  ClientResponse fresh = Call(server.Port(), "GET", "/health");
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  ClientResponse login =
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  EXPECT_EQ(login.status, 200) << login.body;
  // And so are some of the idle ones.
  for (int i : {0, 1, kConnections / 2, kConnections - 2, kConnections - 1}) {
    // SendRaw/ReadResponse, not Send: Send would silently reconnect a closed connection.
    http::Client& idle = *clients[static_cast<size_t>(i)];
    ASSERT_TRUE(idle.SendRaw("GET /v1/api/healthcheck HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    auto again = idle.ReadResponse();
    ASSERT_TRUE(again.ok()) << "idle connection " << i << ": " << again.status().ToString();
    EXPECT_EQ(again->status, 200) << "idle connection " << i << ": " << again->body;
    EXPECT_TRUE(idle.connected());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
  // Closing half of them at once leaves the server healthy.
  clients.resize(kConnections / 2);
  ExpectHealthy(server.Port());
  // SIGTERM with 5,000 idle connections open: they are closed, the server exits promptly.
  const auto stop_start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
  const double stop_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_start).count();
  EXPECT_LT(stop_seconds, 5.0);
  EXPECT_NE(server.Stderr().find("shutdown complete"), std::string::npos) << server.Stderr();
}

}  // namespace
}  // namespace kalamdb::test
