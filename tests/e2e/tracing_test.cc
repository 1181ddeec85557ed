// tracing_test.cc: request traces of the real binary, read back through /v1/api/traces (the
// server's own store, in Jaeger's query-API shape), and GET /metrics.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

struct SpanInfo {
  std::string id, parent, name;
  int64_t start_ns = 0, duration_ns = 0;
  std::map<std::string, std::string> tags;  // key -> minified JSON value
};

struct TraceInfo {
  std::string trace_id;
  std::vector<SpanInfo> spans;

  const SpanInfo* Find(std::string_view name) const {
    for (const auto& s : spans) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  std::vector<std::string> ChildNames(const SpanInfo& parent) const {
    std::vector<std::string> out;
    for (const auto& s : spans) {
      if (s.parent == parent.id) out.push_back(s.name);
    }
    return out;
  }
  const SpanInfo* ById(const std::string& id) const {
    for (const auto& s : spans) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }
};

// The traces of a Jaeger envelope fetched with precision=ns.
std::vector<TraceInfo> ParseTraces(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  std::vector<TraceInfo> out;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << body;
    return out;
  }
  simdjson::dom::array data;
  if (doc["data"].get_array().get(data) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no data array: " << body.substr(0, 500);
    return out;
  }
  for (auto trace : data) {
    TraceInfo t;
    t.trace_id = std::string(trace["traceID"].get_string().value());
    for (auto span : trace["spans"].get_array()) {
      SpanInfo s;
      s.id = std::string(span["spanID"].get_string().value());
      s.name = std::string(span["operationName"].get_string().value());
      for (auto ref : span["references"].get_array()) {
        s.parent = std::string(ref["spanID"].get_string().value());
      }
      s.start_ns = span["startTimeUnixNano"].get_int64().value();
      s.duration_ns = span["durationNanos"].get_int64().value();
      for (auto tag : span["tags"].get_array()) {
        s.tags[std::string(tag["key"].get_string().value())] = simdjson::minify(tag["value"]);
      }
      t.spans.push_back(std::move(s));
    }
    out.push_back(std::move(t));
  }
  return out;
}

class TracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(RootServerOptions());
    ASSERT_TRUE(server_->Start());
    client_ = std::make_unique<http::Client>("127.0.0.1", server_->Port());
    auth_ = {{"Authorization", BasicAuth("root", kRootPassword)}};
    ASSERT_EQ(
        Sql("CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)").status,
        200);
  }

  ClientResponse Sql(std::string_view sql, Headers extra = {}) {
    Headers headers = auth_;
    headers.insert(headers.end(), extra.begin(), extra.end());
    return Call(*client_, "POST", "/v1/api/sql", "{\"sql\":" + Quoted(sql) + "}", headers);
  }
  ClientResponse Get(std::string_view target, const Headers& headers) {
    return Call(*client_, "GET", target, {}, headers);
  }
  std::vector<TraceInfo> Traces(const std::string& query) {
    auto response = Get("/v1/api/traces?" + query + "&precision=ns", auth_);
    EXPECT_EQ(response.status, 200) << response.body;
    return ParseTraces(response.body);
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<http::Client> client_;  // keep-alive connection to the server
  Headers auth_;
};

TEST_F(TracingTest, InsertTraceHasTheDocumentedTreeAndJoinsTheCallersTrace) {
  const std::string caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  auto response = Sql("INSERT INTO app.t (id, v) VALUES (1, 'secret-literal-42')",
                      {{"traceparent", "00-" + caller_trace + "-" + caller_span + "-01"}});
  ASSERT_EQ(response.status, 200) << response.body;
  // The response names the trace: the caller's trace id and the server's root span.
  std::string traceparent(response.Header("traceparent"));
  ASSERT_EQ(traceparent.size(), 55u) << traceparent;
  EXPECT_EQ(traceparent.substr(3, 32), caller_trace);
  const std::string root_id = traceparent.substr(36, 16);

  // The collector publishes within its interval (20 ms); allow a slow machine some slack.
  ClientResponse found;
  for (int attempt = 0; attempt < 100; ++attempt) {
    found = Get("/v1/api/traces/" + caller_trace + "?precision=ns", auth_);
    if (found.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(found.status, 200) << found.body;
  // No literal value of the statement appears anywhere in the trace.
  EXPECT_EQ(found.body.find("secret-literal-42"), std::string::npos);
  auto traces = ParseTraces(found.body);
  ASSERT_EQ(traces.size(), 1u);
  const TraceInfo& t = traces[0];
  EXPECT_EQ(t.trace_id, caller_trace);

  const SpanInfo* root = t.Find("POST /v1/api/sql");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->id, root_id);
  EXPECT_EQ(root->parent, caller_span);  // CHILD_OF the caller's span
  EXPECT_EQ(root->tags.at("span.kind"), "\"server\"");
  EXPECT_EQ(root->tags.at("http.method"), "\"POST\"");
  EXPECT_EQ(root->tags.at("http.route"), "\"/v1/api/sql\"");
  EXPECT_EQ(root->tags.at("http.status_code"), "200");
  EXPECT_EQ(root->tags.at("net.peer.ip"), "\"127.0.0.1\"");
  EXPECT_TRUE(root->tags.count("http.request_content_length"));
  EXPECT_EQ(t.ChildNames(*root),
            (std::vector<std::string>{"auth.check", "sql.execute", "http.write_response"}));

  const SpanInfo* auth = t.Find("auth.check");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->tags.at("auth.method"), "\"basic\"");
  EXPECT_EQ(auth->tags.at("user_id"), "\"root\"");
  EXPECT_EQ(auth->tags.at("role"), "\"system\"");
  EXPECT_EQ(t.ChildNames(*auth), (std::vector<std::string>{"auth.basic"}));
  EXPECT_TRUE(t.Find("auth.basic")->tags.count("cache.hit"));

  const SpanInfo* execute = t.Find("sql.execute");
  ASSERT_NE(execute, nullptr);
  EXPECT_EQ(execute->tags.at("statement_count"), "1");
  EXPECT_EQ(execute->tags.at("user_id"), "\"root\"");
  EXPECT_EQ(execute->tags.at("rows"), "1");
  EXPECT_EQ(t.ChildNames(*execute), (std::vector<std::string>{"sql.split", "sql.statement"}));
  const SpanInfo* statement = t.Find("sql.statement");
  EXPECT_EQ(statement->tags.at("kind"), "\"insert\"");
  EXPECT_EQ(statement->tags.at("table"), "\"app.t\"");
  EXPECT_EQ(statement->tags.at("rows"), "1");
  EXPECT_EQ(t.ChildNames(*statement),
            (std::vector<std::string>{"sql.parse", "sql.plan", "coerce_rows", "pk_check",
                                      "row.encode", "store.write"}));
  EXPECT_EQ(t.Find("sql.parse")->tags.at("cache.hit"), "false");
  // The table is empty, so its key watermark rules every key out: no lookup (KeyWatermarks).
  EXPECT_EQ(t.Find("pk_check")->tags.at("lookups"), "0");
  EXPECT_EQ(t.Find("coerce_rows")->tags.at("columns"), "2");
  const SpanInfo* write = t.Find("store.write");
  EXPECT_EQ(t.ChildNames(*write), (std::vector<std::string>{"rocksdb.batch"}));
  const SpanInfo* batch = t.Find("rocksdb.batch");
  EXPECT_EQ(batch->tags.at("op_count"), "1");
  EXPECT_EQ(batch->tags.at("sync"), "false");
  EXPECT_GT(std::stoll(batch->tags.at("bytes")), 0);
  EXPECT_GT(std::stoll(t.Find("http.write_response")->tags.at("bytes")), 0);

  // Every child lies within its parent, and siblings do not overlap.
  for (const SpanInfo& s : t.spans) {
    const SpanInfo* parent = t.ById(s.parent);
    if (parent == nullptr) continue;
    EXPECT_GE(s.start_ns, parent->start_ns) << s.name;
    EXPECT_LE(s.start_ns + s.duration_ns, parent->start_ns + parent->duration_ns) << s.name;
  }
}

// The share of an INSERT trace's sql.execute that no leaf span accounts for (the self time of
// every span with children inside it), median over `traces`.
double MedianUnaccountedShare(const std::vector<TraceInfo>& traces) {
  std::vector<double> ratios;
  for (const TraceInfo& t : traces) {
    const SpanInfo* execute = t.Find("sql.execute");
    if (execute == nullptr || execute->duration_ns <= 0) {
      ADD_FAILURE() << "an INSERT trace without sql.execute";
      return 1.0;
    }
    // Walk the subtree of sql.execute.
    std::set<std::string> inside = {execute->id};
    bool grew = true;
    while (grew) {
      grew = false;
      for (const SpanInfo& s : t.spans) {
        if (inside.count(s.parent) && inside.insert(s.id).second) grew = true;
      }
    }
    int64_t unaccounted = 0;
    for (const SpanInfo& s : t.spans) {
      if (!inside.count(s.id)) continue;
      int64_t children = 0;
      bool has_children = false;
      for (const SpanInfo& c : t.spans) {
        if (c.parent == s.id) {
          children += c.duration_ns;
          has_children = true;
        }
      }
      if (has_children) unaccounted += s.duration_ns - children;
    }
    ratios.push_back(static_cast<double>(unaccounted) / static_cast<double>(execute->duration_ns));
  }
  std::sort(ratios.begin(), ratios.end());
  return ratios.empty() ? 1.0 : ratios[ratios.size() / 2];
}

// The time in sql.execute that no leaf span accounts for stays under 10% of sql.execute: the
// median over 200 INSERTs (after 100 to warm caches and allocators up). The machine is shared,
// and a preemption inside a parent span inflates its self time: up to three runs of 200 are
// measured and the best median counts (noise only ever adds time).
TEST_F(TracingTest, InsertTimeIsAccountedForByLeafSpans) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "timing proportions are not meaningful under AddressSanitizer";
#endif
  constexpr int kInserts = 200;
  int id = 10;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (" + std::to_string(id++) + ", 'x')").status,
              200);
  }
  double best = 1.0;
  for (int run = 0; run < 3 && best >= 0.10; ++run) {
    for (int i = 0; i < kInserts; ++i) {
      ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (" + std::to_string(id++) + ", 'x')").status,
                200);
    }
    std::vector<TraceInfo> traces;
    const int64_t expected_first = id - kInserts;
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      traces =
          Traces("service=kalamdb-server&operation=pk_check&limit=" + std::to_string(kInserts));
      if (traces.size() == kInserts) break;
    }
    ASSERT_EQ(traces.size(), static_cast<size_t>(kInserts)) << "from id " << expected_first;
    const double median = MedianUnaccountedShare(traces);
    std::printf("run %d: median unaccounted share of sql.execute: %.3f\n", run + 1, median);
    best = std::min(best, median);
  }
  EXPECT_LT(best, 0.10) << "best median unaccounted share of sql.execute over up to 3 runs";
  RecordProperty("median_unaccounted_share", std::to_string(best));
}

TEST_F(TracingTest, FailingAndSelectStatementsAreTraced) {
  ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (1, 'a')").status, 200);
  auto failed = Sql("INSERT INTO app.t (id, v) VALUES (1, 'b')");
  ASSERT_EQ(failed.status, 400) << failed.body;
  std::string failed_trace(failed.Header("traceparent").substr(3, 32));
  auto select = Sql("SELECT * FROM app.t WHERE v = 'a'");
  ASSERT_EQ(select.status, 200) << select.body;
  std::string select_trace(select.Header("traceparent").substr(3, 32));
  auto syntax = Sql("INSERT INTO app.t (id, v) VALUES (2, ");
  ASSERT_EQ(syntax.status, 400) << syntax.body;
  std::string syntax_trace(syntax.Header("traceparent").substr(3, 32));

  auto fetch = [&](const std::string& id) {
    ClientResponse r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = Get("/v1/api/traces/" + id + "?precision=ns", auth_);
      if (r.status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(r.status, 200) << r.body;
    auto traces = ParseTraces(r.body);
    EXPECT_EQ(traces.size(), 1u);
    return traces.empty() ? TraceInfo{} : traces[0];
  };
  TraceInfo f = fetch(failed_trace);
  const SpanInfo* statement = f.Find("sql.statement");
  ASSERT_NE(statement, nullptr);
  EXPECT_EQ(statement->tags.at("otel.status_code"), "\"ERROR\"");
  EXPECT_EQ(statement->tags.at("error"), "true");
  EXPECT_EQ(statement->tags.at("error.code"), "\"already_exists\"");
  EXPECT_EQ(f.Find("sql.execute")->tags.at("otel.status_code"), "\"ERROR\"");
  EXPECT_EQ(f.Find("POST /v1/api/sql")->tags.at("http.status_code"), "400");
  EXPECT_EQ(f.Find("store.write"), nullptr);  // nothing was written

  // A syntax error returns with the statement's span still open: it must still end inside
  // sql.execute, and nothing may nest under the ended sql.execute afterwards.
  TraceInfo e = fetch(syntax_trace);
  const SpanInfo* e_root = e.Find("POST /v1/api/sql");
  const SpanInfo* e_execute = e.Find("sql.execute");
  const SpanInfo* e_statement = e.Find("sql.statement");
  ASSERT_NE(e_root, nullptr);
  ASSERT_NE(e_execute, nullptr);
  ASSERT_NE(e_statement, nullptr);
  EXPECT_EQ(e_statement->parent, e_execute->id);
  EXPECT_EQ(e.Find("sql.parse")->tags.at("otel.status_code"), "\"ERROR\"");
  EXPECT_LE(e_statement->start_ns + e_statement->duration_ns,
            e_execute->start_ns + e_execute->duration_ns);
  EXPECT_EQ(e.ChildNames(*e_root), (std::vector<std::string>{"auth.check", "sql.execute"}));
  EXPECT_EQ(e.ChildNames(*e_execute), (std::vector<std::string>{"sql.split", "sql.statement"}));

  TraceInfo s = fetch(select_trace);
  const SpanInfo* select_statement = s.Find("sql.statement");
  ASSERT_NE(select_statement, nullptr);
  EXPECT_EQ(select_statement->tags.at("kind"), "\"select\"");
  EXPECT_EQ(select_statement->tags.at("table"), "\"app.t\"");
  EXPECT_EQ(s.ChildNames(*select_statement),
            (std::vector<std::string>{"sql.parse", "sql.plan", "scan", "json.encode"}));
  const SpanInfo* scan = s.Find("scan");
  EXPECT_EQ(scan->tags.at("index"), "\"table_prefix\"");
  EXPECT_EQ(scan->tags.at("rows_scanned"), "1");
  EXPECT_EQ(scan->tags.at("rows_matched"), "1");
}

TEST_F(TracingTest, TraceEndpointsFilterAndAreForAdminsOnly) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (" + std::to_string(i) + ", 'x')").status, 200);
  }
  ASSERT_EQ(Sql("CREATE USER alice WITH PASSWORD 'AlicePass-123' ROLE user").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Jaeger's envelope, most recent first, limit honoured.
  auto two = Get("/v1/api/traces?service=kalamdb-server&operation=sql.execute&limit=2", auth_);
  ASSERT_EQ(two.status, 200) << two.body;
  JsonDoc doc(two.body);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc.Keys(""), (std::vector<std::string>{"data", "total", "limit", "offset", "errors"}));
  EXPECT_EQ(doc.Size("/data"), 2);
  EXPECT_TRUE(doc.IsNull("/errors"));
  EXPECT_EQ(doc.Keys("/data/0"),
            (std::vector<std::string>{"traceID", "spans", "processes", "warnings"}));
  EXPECT_EQ(doc.Str("/data/0/processes/p1/serviceName"), "kalamdb-server");
  EXPECT_FALSE(doc.Has("/data/0/spans/0/durationNanos"));  // plain Jaeger unless precision=ns
  auto newest = ParseTraces(Get("/v1/api/traces?limit=1&precision=ns", auth_).body);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].spans[0].name, "POST /v1/api/sql");

  // Another service's traces: none. A duration no INSERT reaches: none.
  EXPECT_EQ(JsonDoc(Get("/v1/api/traces?service=other", auth_).body).Size("/data"), 0);
  EXPECT_EQ(JsonDoc(Get("/v1/api/traces?operation=sql.execute&minDuration=10s", auth_).body)
                .Size("/data"),
            0);
  // Bad parameters: 400 with Jaeger's error list.
  auto bad = Get("/v1/api/traces?minDuration=fast", auth_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(JsonDoc(bad.body).Int("/errors/0/code"), 400);
  EXPECT_EQ(Get("/v1/api/traces?limit=-1", auth_).status, 400);
  EXPECT_EQ(Get("/v1/api/traces/zz", auth_).status, 400);
  EXPECT_EQ(Get("/v1/api/traces/0123456789abcdef0123456789abcdef", auth_).status, 404);

  // Services and operations.
  EXPECT_EQ(JsonDoc(Get("/v1/api/services", auth_).body).Minified("/data"),
            R"(["kalamdb-server"])");
  auto ops = Get("/v1/api/services/kalamdb-server/operations", auth_);
  ASSERT_EQ(ops.status, 200);
  EXPECT_NE(ops.body.find("\"sql.execute\""), std::string::npos) << ops.body;
  EXPECT_NE(ops.body.find("\"rocksdb.batch\""), std::string::npos) << ops.body;

  // Only dba and system users see traces.
  EXPECT_EQ(Get("/v1/api/traces", {}).status, 401);
  EXPECT_EQ(Get("/v1/api/traces", {{"Authorization", BasicAuth("root", "wrong")}}).status, 401);
  EXPECT_EQ(Get("/v1/api/traces", {{"Authorization", BasicAuth("alice", "AlicePass-123")}}).status,
            403);
  // The trace endpoints are not traced themselves.
  EXPECT_TRUE(Get("/v1/api/traces", auth_).Header("traceparent").empty());
}

TEST_F(TracingTest, MetricsCountRequestsRowsAndSpans) {
  ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'b')").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto metrics = Get("/metrics", {});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header("Content-Type"), std::string_view("text/plain; version=0.0.4"));
  const std::string& m = metrics.body;
  // CREATE NAMESPACE + CREATE TABLE (one request) and the INSERT.
  EXPECT_NE(m.find("kalamdb_http_requests_total{route=\"/v1/api/sql\",status=\"200\"} 2\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("kalamdb_rows_inserted_total 2\n"), std::string::npos);
  EXPECT_NE(m.find("kalamdb_http_request_duration_seconds_count{route=\"/v1/api/sql\"} 2\n"),
            std::string::npos);
  EXPECT_NE(m.find("kalamdb_span_duration_seconds_count{span=\"rocksdb.batch\"}"),
            std::string::npos);
  EXPECT_NE(m.find("kalamdb_span_duration_seconds_bucket{span=\"sql.execute\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(m.find("kalamdb_rocksdb_write_ops_total "), std::string::npos);
  EXPECT_NE(m.find("kalamdb_rocksdb_write_stall_stops "), std::string::npos);
  EXPECT_NE(m.find("kalamdb_traces_dropped_total 0\n"), std::string::npos);
  EXPECT_NE(m.find("kalamdb_trace_queue_depth "), std::string::npos);
  EXPECT_NE(m.find("kalamdb_trace_store_too_large_total 0\n"), std::string::npos);
  EXPECT_EQ(m.find("kalamdb_traces_ab_"), std::string::npos);  // only in the A/B mode
}

TEST(TracingAbTest, AnAbPeriodAlternatesTracedAndUntracedRequests) {
  ServerProcess server(RootServerOptions({{"KALAMDB_TRACES_AB_PERIOD_MS", "20"}}));
  ASSERT_TRUE(server.Start());
  Headers auth = {{"Authorization", BasicAuth("root", kRootPassword)}};
  int traced = 0;
  int untraced = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) {
    auto response = Call(server.Port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", auth);
    ASSERT_EQ(response.status, 200);
    // An untraced request answers without a traceparent, as with tracing disabled.
    (response.Header("traceparent").empty() ? untraced : traced) += 1;
  }
  EXPECT_GT(traced, 0);
  EXPECT_GT(untraced, 0);
  const std::string m = Call(server.Port(), "GET", "/metrics", {}, {}).body;
  EXPECT_NE(m.find("kalamdb_traces_ab_traced_requests_total "), std::string::npos) << m;
  EXPECT_NE(m.find("kalamdb_traces_ab_untraced_requests_total "), std::string::npos);
}

TEST(TracingDisabledTest, NoTracesWhenDisabled) {
  ServerProcess server(RootServerOptions({{"KALAMDB_TRACES_ENABLED", "false"}}));
  ASSERT_TRUE(server.Start());
  Headers auth = {{"Authorization", BasicAuth("root", kRootPassword)}};
  auto response = Call(server.Port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", auth);
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.Header("traceparent").empty());
  EXPECT_EQ(Call(server.Port(), "GET", "/v1/api/traces", {}, auth).status, 503);
}

}  // namespace
}  // namespace kalamdb::test
