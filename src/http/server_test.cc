#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "http/client.h"
#include "http/http.h"

namespace kalamdb::http {
namespace {

using namespace std::chrono_literals;

// Echoes method, path, query, a header and the body; /slow sleeps first.
void EchoHandler(const Request& req, Response& res) {
  if (req.path == "/slow") std::this_thread::sleep_for(300ms);
  res.content_type = "text/plain";
  res.body = std::string(req.method == Method::kPost ? "POST" : "GET") + " " +
             std::string(req.path) + " q=" + std::string(req.query) +
             " x=" + std::string(req.Header("x-test")) + " body=" + std::string(req.body);
  if (req.path == "/close") res.close = true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(Options options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 2;
    options.body_too_large = [](uint64_t size, uint64_t max) {
      return "{\"error\":\"BODY_TOO_LARGE\",\"size_bytes\":" + std::to_string(size) +
             ",\"max_bytes\":" + std::to_string(max) + "}";
    };
    server_ = std::make_unique<Server>(options, EchoHandler);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop(1);
  }
  Client NewClient(int timeout_ms = 5000) {
    return Client("127.0.0.1", server_->port(), timeout_ms);
  }

  std::unique_ptr<Server> server_;
};

TEST_F(HttpServerTest, AnswersGetAndKeepsConnectionAlive) {
  StartServer();
  Client client = NewClient();
  auto r1 = client.Send("GET", "/a?b=1", "", {{"X-Test", "yes"}});
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /a q=b=1 x=yes body=");
  EXPECT_EQ(r1->Header("Connection"), "keep-alive");
  EXPECT_FALSE(r1->Header("Date").empty());
  ASSERT_TRUE(client.connected());
  auto r2 = client.Send("POST", "/b", "hello");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->body, "POST /b q= x= body=hello");
  EXPECT_EQ(server_->open_connections(), 1);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client = NewClient();
  std::string batch;
  for (int i = 0; i < 5; ++i) {
    batch += "POST /p" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n" +
             std::to_string(i);
  }
  ASSERT_TRUE(client.SendRaw(batch).ok());
  for (int i = 0; i < 5; ++i) {
    auto r = client.ReadResponse();
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(r->body, "POST /p" + std::to_string(i) + " q= x= body=" + std::to_string(i));
  }
}

TEST_F(HttpServerTest, RequestSplitAcrossReads) {
  StartServer();
  Client client = NewClient();
  std::string req =
      "POST /split HTTP/1.1\r\nHost: x\r\nX-Test: 7\r\nContent-Length: 10\r\n\r\n0123456789";
  // Send in pieces that cut the request line, a header and the body.
  for (size_t pos : {0, 3, 17, 30, 49, 60}) {
    size_t next = pos == 60 ? req.size()
                            : (pos == 0    ? 3
                               : pos == 3  ? 17
                               : pos == 17 ? 30
                               : pos == 30 ? 49
                                           : 60);
    ASSERT_TRUE(client.SendRaw(req.substr(pos, next - pos)).ok());
    std::this_thread::sleep_for(5ms);  // lets each piece arrive as its own read
  }
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "POST /split q= x=7 body=0123456789");
}

TEST_F(HttpServerTest, ChunkedBodyIsAssembled) {
  StartServer();
  Client client = NewClient();
  ASSERT_TRUE(client
                  .SendRaw("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
                  .ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "POST /c q= x= body=abcdefg");
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  for (const std::string& bad : std::vector<std::string>{
           "GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
           std::string("GET /\0 HTTP/1.1\r\n\r\n", 19)}) {
    Client client = NewClient();
    ASSERT_TRUE(client.SendRaw(bad).ok());
    auto r = client.ReadResponse();
    ASSERT_TRUE(r.ok()) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->Header("Connection"), "close");
  }
  // The server still serves after all that.
  Client client = NewClient();
  auto ok = client.Send("GET", "/");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, OversizeBodyGets413WithoutReadingIt) {
  Options options;
  options.max_body_size = 1000;
  StartServer(options);
  Client client = NewClient();
  ASSERT_TRUE(client.SendRaw("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "{\"error\":\"BODY_TOO_LARGE\",\"size_bytes\":5000,\"max_bytes\":1000}");
  // Exactly at the limit is fine.
  Client client2 = NewClient();
  auto fine = client2.Send("POST", "/fits", std::string(1000, 'a'));
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 200);
}

TEST_F(HttpServerTest, OversizeChunkedBodyGets413) {
  Options options;
  options.max_body_size = 10;
  StartServer(options);
  Client client = NewClient();
  ASSERT_TRUE(client
                  .SendRaw("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n")
                  .ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, OversizeHeaderGets431) {
  Options options;
  options.max_header_size = 2048;
  StartServer(options);
  Client client = NewClient();
  ASSERT_TRUE(
      client.SendRaw("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, ExpectContinueGets100First) {
  StartServer();
  Client client = NewClient();
  ASSERT_TRUE(client
                  .SendRaw("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                           "Content-Length: 4\r\n\r\n")
                  .ok());
  // The client skips the interim 100 itself; make sure it arrives before we send the body.
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(client.SendRaw("data").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /e q= x= body=data");
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  StartServer();
  Client client = NewClient();
  ASSERT_TRUE(client.SendRaw("GET /old HTTP/1.0\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_FALSE(client.connected());
}

TEST_F(HttpServerTest, HandlerCanCloseConnection) {
  StartServer();
  Client client = NewClient();
  auto r = client.Send("GET", "/close");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_FALSE(client.connected());
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterKeepAliveTimeout) {
  Options options;
  options.keepalive_timeout_seconds = 1;
  StartServer(options);
  Client client = NewClient();
  ASSERT_TRUE(client.Send("GET", "/").ok());
  EXPECT_EQ(server_->open_connections(), 1);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(server_->open_connections(), 0);
}

TEST_F(HttpServerTest, SlowRequestGets408) {
  Options options;
  options.request_timeout_seconds = 1;
  StartServer(options);
  Client client = NewClient();
  ASSERT_TRUE(client.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n").ok());  // never finished
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 408);
}

TEST_F(HttpServerTest, StopFinishesInFlightRequest) {
  StartServer();
  Client idle = NewClient();
  ASSERT_TRUE(idle.Send("GET", "/").ok());
  std::atomic<int> status{0};
  std::thread inflight([&] {
    Client client = NewClient();
    auto r = client.Send("GET", "/slow");
    status = r.ok() ? r->status : -1;
  });
  std::this_thread::sleep_for(100ms);  // the /slow request is inside the handler now
  server_->Stop(5);
  inflight.join();
  EXPECT_EQ(status.load(), 200);
  EXPECT_EQ(server_->open_connections(), 0);
  // New connections are refused after Stop.
  Client late = NewClient(500);
  EXPECT_FALSE(late.Send("GET", "/").ok());
  server_.reset();
}

TEST_F(HttpServerTest, ManyConnectionsAtOnce) {
  StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 500; ++i) {
    clients.push_back(std::make_unique<Client>("127.0.0.1", server_->port()));
    ASSERT_TRUE(clients.back()->Send("GET", "/").ok()) << i;
  }
  EXPECT_EQ(server_->open_connections(), 500);
  for (auto& c : clients) {
    auto r = c->Send("GET", "/again");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpServerTest, RandomGarbageNeverCrashesOrHangs) {
  StartServer();
  std::mt19937 rng(12345);  // fixed seed: the same inputs on every run
  const std::string alphabet = std::string(
      "GETPOST /HTTP1.0\r\n:; \x00\xff"
      "0123456789abcdefTransfer-Encoding: chunked",
      65);
  for (int round = 0; round < 200; ++round) {
    std::string junk;
    // Half the rounds start like a real request so the parser gets past the request line.
    if (round % 2 == 0) junk = "POST / HTTP/1.1\r\n";
    size_t length = rng() % 300;
    for (size_t i = 0; i < length; ++i) junk.push_back(alphabet[rng() % alphabet.size()]);
    junk += "\r\n\r\n";
    Client client = NewClient(2000);
    ASSERT_TRUE(client.SendRaw(junk).ok());
    // Any answer or a close is fine; what matters is that the server stays up and responsive.
    client.ReadResponse().status().IgnoreError();
  }
  Client client = NewClient();
  auto r = client.Send("GET", "/still-alive");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, BindFailureIsAnError) {
  StartServer();
  Options options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  Server second(options, EchoHandler);
  Status st = second.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot listen"), std::string_view::npos);
}

// A handler that holds the answer of /held until the test releases it (Response::hold), and
// logs the order in which requests reach it.
class HeldResponses {
 public:
  void Handle(const Request& req, Response& res) {
    std::lock_guard lock(mu_);
    log_.emplace_back(req.path);
    res.content_type = "text/plain";
    res.body = std::string(req.path);
    if (req.path == "/held") {
      res.hold = [this](std::function<void(bool)> release) {
        std::lock_guard inner(mu_);
        release_ = std::move(release);
      };
    }
  }
  // Waits until a /held answer is waiting for its release; false after 5 s.
  bool WaitForHold() {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu_);
        if (release_) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  // Releases it from another thread, as group commit's sync thread does.
  void Release(bool ok) {
    std::function<void(bool)> release;
    {
      std::lock_guard lock(mu_);
      release = std::move(release_);
      release_ = nullptr;
      log_.emplace_back(ok ? "released" : "failed");
    }
    std::thread([release = std::move(release), ok] { release(ok); }).join();
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> log_;
  std::function<void(bool)> release_;
};

std::unique_ptr<Server> StartHeldServer(HeldResponses& held) {
  Options options;
  options.port = 0;
  options.workers = 1;  // the held connection and the other one share the worker
  auto server = std::make_unique<Server>(
      options, [&held](const Request& req, Response& res) { held.Handle(req, res); });
  EXPECT_TRUE(server->Start().ok());
  return server;
}

// Sends /held and /after pipelined in one write, and waits until /held's answer is held.
bool SendHeldThenAfter(Client& client, HeldResponses& held) {
  return client
             .SendRaw(
                 "POST /held HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                 "GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
             .ok() &&
         held.WaitForHold();
}

TEST(HttpHoldTest, HeldAnswerWaitsForReleaseWithoutBlockingTheWorker) {
  HeldResponses held;
  auto server = StartHeldServer(held);
  Client a("127.0.0.1", server->port(), 5000);
  // The second pipelined request is parsed only once the first's answer is released.
  ASSERT_TRUE(SendHeldThenAfter(a, held));
  // The worker meanwhile serves other connections.
  Client b("127.0.0.1", server->port(), 5000);
  auto other = b.Send("GET", "/other");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->body, "/other");
  held.Release(true);
  auto first = a.ReadResponse();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "/held");
  auto second = a.ReadResponse();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "/after");
  EXPECT_EQ(held.Log(), (std::vector<std::string>{"/held", "/other", "released", "/after"}));
  // The connection stays usable.
  auto again = a.Send("GET", "/again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "/again");
  server->Stop(1);
}

TEST(HttpHoldTest, FailedReleaseAnswers500AndCloses) {
  HeldResponses held;
  auto server = StartHeldServer(held);
  Client a("127.0.0.1", server->port(), 5000);
  ASSERT_TRUE(SendHeldThenAfter(a, held));
  held.Release(false);
  auto r = a.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("INTERNAL_ERROR"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_FALSE(a.ReadResponse().ok()) << "nothing after the failed answer";
  EXPECT_EQ(held.Log(), (std::vector<std::string>{"/held", "failed"}));
  server->Stop(1);
}

TEST(HttpHoldTest, StopWaitsForAHeldAnswer) {
  HeldResponses held;
  auto server = StartHeldServer(held);
  std::atomic<int> status{0};
  std::thread client([&] {
    Client a("127.0.0.1", server->port(), 5000);
    auto r = a.Send("POST", "/held", "");
    status = r.ok() ? r->status : -1;
  });
  ASSERT_TRUE(held.WaitForHold());
  std::thread stopper([&] { server->Stop(5); });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status.load(), 0) << "answered before its release";
  held.Release(true);
  client.join();
  stopper.join();
  EXPECT_EQ(status.load(), 200);
}

// A client that hangs up while its answer is held: the release finds the socket gone, the
// connection ends cleanly, and the worker goes on serving.
TEST(HttpHoldTest, ClientGoneWhileHeldEndsTheConnectionCleanly) {
  HeldResponses held;
  auto server = StartHeldServer(held);
  {
    Client a("127.0.0.1", server->port(), 5000);
    ASSERT_TRUE(SendHeldThenAfter(a, held));
    a.Close();
  }
  std::this_thread::sleep_for(50ms);
  held.Release(true);
  for (int i = 0; i < 200 && server->open_connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(server->open_connections(), 0);
  Client b("127.0.0.1", server->port(), 5000);
  auto r = b.Send("GET", "/next");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "/next");
  // (The request pipelined behind the held one had fully arrived, so it may still run.)
  const std::vector<std::string> log = held.Log();
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0], "/held");
  EXPECT_EQ(log[1], "released");
  EXPECT_EQ(log.back(), "/next");
  server->Stop(1);
}

}  // namespace
}  // namespace kalamdb::http
