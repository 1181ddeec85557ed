// otlp_test.cc: the real binary exports its traces over OTLP (gRPC and HTTP) to an independent
// receiver built from the official OpenTelemetry .proto files (tests/otlp-receiver, Node.js),
// and keeps answering while that receiver is down, hangs or refuses.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/e2e_helpers.h"

#ifndef KALAMDB_SOURCE_DIR
#error "KALAMDB_SOURCE_DIR must be defined"
#endif

namespace kalamdb::test {
namespace {

// `node tests/otlp-receiver/receiver.js` as a child; killed (and reaped) on destruction.
class Receiver {
 public:
  ::testing::AssertionResult Start() {
    const std::string dir = std::string(KALAMDB_SOURCE_DIR) + "/tests/otlp-receiver";
    if (access((dir + "/node_modules").c_str(), F_OK) != 0) {
      return ::testing::AssertionFailure()
             << dir << "/node_modules is missing: run `npm ci` there (./dev.sh test does)";
    }
    int out[2], in[2];
    if (pipe(out) != 0 || pipe(in) != 0) return ::testing::AssertionFailure() << "pipe failed";
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const std::string script = dir + "/receiver.js";
      execlp("node", "node", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];  // closing it makes the receiver exit
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos && read(out[0], &c, 1) == 1) line += c;
    close(out[0]);
    simdjson::dom::parser parser;
    simdjson::padded_string padded(line);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS)
      return ::testing::AssertionFailure() << "receiver did not start: '" << line << "'";
    grpc_ = static_cast<int>(doc["grpc"].get_int64().value());
    http_ = static_cast<int>(doc["http"].get_int64().value());
    control_ = static_cast<int>(doc["control"].get_int64().value());
    return ::testing::AssertionSuccess();
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }
  ~Receiver() { Stop(); }

  int grpc_port() const { return grpc_; }
  int http_port() const { return http_; }
  ClientResponse Control(std::string_view method, std::string_view target) {
    return Call(control_, method, target);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int grpc_ = 0, http_ = 0, control_ = 0;
};

struct Span {
  std::string transport, trace_id, span_id, parent, name;
  int64_t kind = 0, status_code = 0;
  uint64_t start = 0, end = 0;
  std::map<std::string, std::string> attributes;  // key -> minified JSON value
  std::map<std::string, std::string> resource;
};

std::vector<Span> ParseSpans(const std::string& body) {
  std::vector<Span> out;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "receiver answered no JSON: " << body;
    return out;
  }
  for (auto item : doc["spans"].get_array()) {
    Span s;
    s.transport = std::string(item["transport"].get_string().value());
    s.trace_id = std::string(item["traceId"].get_string().value());
    s.span_id = std::string(item["spanId"].get_string().value());
    s.parent = std::string(item["parentSpanId"].get_string().value());
    s.name = std::string(item["name"].get_string().value());
    s.kind = item["kind"].get_int64().value();
    s.status_code = item["status"]["code"].get_int64().value();
    s.start = std::stoull(std::string(item["startTimeUnixNano"].get_string().value()));
    s.end = std::stoull(std::string(item["endTimeUnixNano"].get_string().value()));
    for (auto [key, value] : item["attributes"].get_object())
      s.attributes[std::string(key)] = simdjson::minify(value);
    for (auto [key, value] : item["resource"].get_object())
      s.resource[std::string(key)] = simdjson::minify(value);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Span> OfTrace(const std::vector<Span>& spans, const std::string& trace_id) {
  std::vector<Span> out;
  for (const Span& s : spans) {
    if (s.trace_id == trace_id) out.push_back(s);
  }
  return out;
}

const Span* Named(const std::vector<Span>& spans, std::string_view name) {
  for (const Span& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Every span's parent is in the trace (the root's is the caller's span), and every child lies
// inside its parent's interval.
void ExpectConsistentTree(const std::vector<Span>& trace, const std::string& root_parent) {
  std::map<std::string, const Span*> by_id;
  for (const Span& s : trace) by_id[s.span_id] = &s;
  EXPECT_EQ(by_id.size(), trace.size()) << "duplicate span ids";
  int roots = 0;
  for (const Span& s : trace) {
    EXPECT_LE(s.start, s.end) << s.name;
    auto parent = by_id.find(s.parent);
    if (parent == by_id.end()) {
      ++roots;
      EXPECT_EQ(s.parent, root_parent) << s.name << " is an orphan";
      EXPECT_EQ(s.kind, 2) << "the root is a SERVER span";
      continue;
    }
    EXPECT_EQ(s.kind, 1) << s.name << " is INTERNAL";
    EXPECT_GE(s.start, parent->second->start) << s.name;
    EXPECT_LE(s.end, parent->second->end) << s.name;
  }
  EXPECT_EQ(roots, 1);
}

std::string TraceIdOf(const ClientResponse& response) {
  std::string_view tp = response.Header("traceparent");
  return tp.size() == 55 ? std::string(tp.substr(3, 32)) : std::string();
}

ServerOptions ExportingServer(const std::string& protocol, const std::string& endpoint) {
  return RootServerOptions({{"KALAMDB_OTLP_ENABLED", "true"},
                            {"KALAMDB_OTLP_PROTOCOL", protocol},
                            {"KALAMDB_OTLP_ENDPOINT", endpoint},
                            {"KALAMDB_OTLP_TIMEOUT_MS", "300"},
                            {"KALAMDB_OTLP_SCHEDULE_DELAY_MS", "50"}});
}

class OtlpTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start()); }

  ClientResponse Sql(ServerProcess& server, std::string_view sql, Headers extra = {}) {
    Headers headers = {{"Authorization", BasicAuth("root", kRootPassword)}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return Call(server.Port(), "POST", "/v1/api/sql", "{\"sql\":" + Quoted(sql) + "}", headers);
  }
  // Creates app.t (id BIGINT PRIMARY KEY, v TEXT) on a started `server`.
  void CreateTable(ServerProcess& server) {
    auto r =
        Sql(server, "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Waits until the receiver holds at least `min` spans; returns them all.
  std::vector<Span> SpansAtLeast(size_t min) {
    auto r = receiver_.Control("GET", "/spans?min=" + std::to_string(min) + "&timeoutMs=10000");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseSpans(r.body);
  }

  Receiver receiver_;
};

TEST_F(OtlpTest, GrpcExportCarriesInsertSelectAndFailureTraces) {
  ServerProcess server(
      ExportingServer("grpc", "http://127.0.0.1:" + std::to_string(receiver_.grpc_port())));
  ASSERT_TRUE(server.Start());
  ASSERT_NO_FATAL_FAILURE(CreateTable(server));
  const std::string caller_trace = "0af7651916cd43dd8448eb211c80319c";
  const std::string caller_span = "b7ad6b7169203331";
  auto insert = Sql(server, "INSERT INTO app.t (id, v) VALUES (1, 'literal-never-exported')",
                    {{"traceparent", "00-" + caller_trace + "-" + caller_span + "-01"}});
  ASSERT_EQ(insert.status, 200) << insert.body;
  auto select = Sql(server, "SELECT * FROM app.t");
  ASSERT_EQ(select.status, 200) << select.body;
  auto failed = Sql(server, "INSERT INTO app.t (id, v) VALUES (1, 'again')");
  ASSERT_EQ(failed.status, 400) << failed.body;

  // 4 traces: the DDL request, the INSERT (14 spans), the SELECT and the failure.
  std::vector<Span> spans = SpansAtLeast(45);
  auto insert_trace = OfTrace(spans, caller_trace);
  ASSERT_EQ(insert_trace.size(), 14u);
  ExpectConsistentTree(insert_trace, caller_span);
  std::set<std::string> names;
  for (const Span& s : insert_trace) names.insert(s.name);
  EXPECT_EQ(names, (std::set<std::string>{"POST /v1/api/sql", "auth.check", "auth.basic",
                                          "sql.execute", "sql.split", "sql.statement", "sql.parse",
                                          "sql.plan", "coerce_rows", "pk_check", "row.encode",
                                          "store.write", "rocksdb.batch", "http.write_response"}));
  const Span* root = Named(insert_trace, "POST /v1/api/sql");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->transport, "grpc");
  EXPECT_EQ(root->span_id, std::string(insert.Header("traceparent").substr(36, 16)));
  EXPECT_EQ(root->attributes.at("http.status_code"), "200");
  EXPECT_EQ(root->resource.at("service.name"), "\"kalamdb-server\"");
  EXPECT_TRUE(root->resource.count("service.version"));
  EXPECT_TRUE(root->resource.count("host.name"));
  const Span* statement = Named(insert_trace, "sql.statement");
  EXPECT_EQ(statement->attributes.at("kind"), "\"insert\"");
  EXPECT_EQ(statement->attributes.at("table"), "\"app.t\"");
  EXPECT_EQ(Named(insert_trace, "rocksdb.batch")->attributes.at("op_count"), "1");
  for (const Span& s : spans) {
    for (const auto& [key, value] : s.attributes)
      EXPECT_EQ(value.find("literal-never-exported"), std::string::npos) << s.name << " " << key;
  }

  auto select_trace = OfTrace(spans, TraceIdOf(select));
  ExpectConsistentTree(select_trace, "");
  ASSERT_NE(Named(select_trace, "scan"), nullptr);
  EXPECT_EQ(Named(select_trace, "sql.statement")->attributes.at("kind"), "\"select\"");
  EXPECT_EQ(Named(select_trace, "scan")->attributes.at("rows_matched"), "1");

  auto failed_trace = OfTrace(spans, TraceIdOf(failed));
  ExpectConsistentTree(failed_trace, "");
  const Span* failed_statement = Named(failed_trace, "sql.statement");
  ASSERT_NE(failed_statement, nullptr);
  EXPECT_EQ(failed_statement->status_code, 2);  // ERROR
  EXPECT_EQ(failed_statement->attributes.at("error.code"), "\"already_exists\"");
  EXPECT_EQ(Named(failed_trace, "store.write"), nullptr);
}

TEST_F(OtlpTest, HttpProtobufExport) {
  ServerProcess server(ExportingServer(
      "http", "http://127.0.0.1:" + std::to_string(receiver_.http_port()) + "/v1/traces"));
  ASSERT_TRUE(server.Start());
  auto response = Sql(server, "SELECT 1");
  ASSERT_EQ(response.status, 200);
  std::vector<Span> spans = SpansAtLeast(1);
  auto trace = OfTrace(spans, TraceIdOf(response));
  ASSERT_FALSE(trace.empty());
  ExpectConsistentTree(trace, "");
  for (const Span& s : trace) EXPECT_EQ(s.transport, "http");
  EXPECT_NE(Named(trace, "sql.execute"), nullptr);
}

// A collector that hangs, refuses or is gone never slows the server down: every request is
// still answered at once, and the failures are counted in /metrics.
TEST_F(OtlpTest, ServerKeepsAnsweringWhileTheCollectorHangsRefusesOrIsDown) {
  ServerProcess server(
      ExportingServer("grpc", "http://127.0.0.1:" + std::to_string(receiver_.grpc_port())));
  ASSERT_TRUE(server.Start());
  ASSERT_NO_FATAL_FAILURE(CreateTable(server));
  http::Client client("127.0.0.1", server.Port());
  Headers auth = {{"Authorization", BasicAuth("root", kRootPassword)}};
  int id = 0;
  auto burst = [&](const char* phase) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) {
      auto r =
          Call(client, "POST", "/v1/api/sql",
               "{\"sql\":\"INSERT INTO app.t (id, v) VALUES (" + std::to_string(++id) + ", 'x')\"}",
               auth);
      ASSERT_EQ(r.status, 200) << phase << ": " << r.body;
    }
    // 100 INSERTs take a few ms; one blocked on the exporter would take its 300 ms timeout.
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(5)) << phase;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // let exports be attempted
  };
  ASSERT_EQ(receiver_.Control("POST", "/mode?grpc=hang").status, 200);
  burst("hang");
  ASSERT_EQ(receiver_.Control("POST", "/mode?grpc=refuse").status, 200);
  burst("refuse");
  receiver_.Stop();
  burst("down");

  auto metrics = Call(server.Port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string key = "\nkalamdb_otlp_failed_requests_total ";
  size_t at = metrics.body.find(key);
  ASSERT_NE(at, std::string::npos) << metrics.body;
  EXPECT_GT(std::stoll(metrics.body.substr(at + key.size())), 0);
  // And it still shuts down promptly (the exporter's flush is bounded).
  const auto stop_start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(8));
}

}  // namespace
}  // namespace kalamdb::test
