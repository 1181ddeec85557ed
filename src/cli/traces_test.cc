// traces_test.cc: the trace analyzer on hand-made fixtures (src/cli/testdata) whose self
// times, gaps, percentiles and critical paths were worked out by hand, and on the output of a
// real Jaeger (shared/fixtures/jaeger).
//
// traces_basic.json holds three INSERT traces (root "POST /v1/api/sql", times in µs from the
// root's start, all with nanosecond fields) and one health-check trace without sql.execute:
//
//   span                 trace 1     trace 2     trace 3
//   POST /v1/api/sql     [0,100]     [0,200]     [0,150]
//    auth.check          [10,20]     [10,20]     [10,20]
//     auth.basic         [11,19]     [11,19]     [11,19]
//    sql.execute         [25,90]     [25,190]    [25,140]
//     sql.split          [26,28]     [26,28]     [26,28]
//     sql.statement      [30,85]     [30,185]    [30,135]   (table app.t / app.big / app.t)
//      sql.parse         [31,41]     [31,41]     [31,41]
//      coerce_rows       [35,45]     [35,45]     [35,45]    (overlaps sql.parse)
//      store.write       [50,80]     [50,180]    [50,100.5]
//       rocksdb.batch    [51,79]     [51,179]    [51,99.25]
//    http.write_response [92,99]     [192,199]   [142,149]
//
// traces_after.json is the same run with sql.split gone, a cache.lookup [46,49] under
// sql.statement and faster batches: [51,69], [51,99], [51,79.25].
// traces_quality.json (whole µs, limit 1) holds one trace with an orphan, a child overflowing
// its parent, a zero-duration span, a duplicated error span and short ids.
#include "cli/traces.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef KALAMDB_SOURCE_DIR
#error "KALAMDB_SOURCE_DIR must be defined"
#endif
#ifndef KALAMDB_SHARED_DIR
#error "KALAMDB_SHARED_DIR must be defined"
#endif

namespace kalamdb::cli::traces {
namespace {

constexpr char kRoot[] = "POST /v1/api/sql";
constexpr char kStatement[] = "POST /v1/api/sql > sql.execute > sql.statement";
constexpr char kBatch[] =
    "POST /v1/api/sql > sql.execute > sql.statement > store.write > rocksdb.batch";

std::string Fixture(const std::string& name) {
  return std::string(KALAMDB_SOURCE_DIR) + "/src/cli/testdata/" + name;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TraceSet LoadSet(const std::string& path) {
  auto set = ParseJaeger(ReadText(path));
  EXPECT_TRUE(set.ok()) << path << ": " << set.status().ToString();
  return set.ok() ? std::move(set).value() : TraceSet();
}

// µs -> ns, for exact comparisons with whole nanoseconds.
constexpr int64_t Ns(double us) { return static_cast<int64_t>(us * 1000); }

const Node* FindNode(const TraceTree& t, std::string_view path) {
  for (const Node& n : t.nodes) {
    if (n.path == path) return &n;
  }
  return nullptr;
}

// Gap position -> duration (ns) for the gaps of the span at `path`.
std::map<std::string, int64_t> GapsOf(const TraceTree& t, std::string_view path) {
  std::map<std::string, int64_t> out;
  for (const Gap& g : t.gaps) {
    if (t.nodes[static_cast<size_t>(g.parent)].path == path) out[g.position] += g.duration_ns;
  }
  return out;
}

// Operation -> time on the critical path (ns).
std::map<std::string, int64_t> CriticalOf(const TraceTree& t) {
  std::map<std::string, int64_t> out;
  for (const Section& s : t.critical) {
    out[t.nodes[static_cast<size_t>(s.node)].span->operation] += s.end_ns - s.start_ns;
  }
  return out;
}

// The keys of a JSON object, in order.
std::vector<std::string> KeysOf(simdjson::dom::element e) {
  std::vector<std::string> keys;
  simdjson::dom::object object;
  if (e.get_object().get(object) != simdjson::SUCCESS) return keys;
  for (auto field : object) keys.emplace_back(field.key);
  return keys;
}

bool HasWarning(const Analysis& a, std::string_view prefix) {
  for (const std::string& w : a.warnings) {
    if (w.starts_with(prefix)) return true;
  }
  return false;
}

std::string WarningText(const Analysis& a) {
  std::string out;
  for (const std::string& w : a.warnings) out += w + "\n";
  return out;
}

class BasicFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    set_ = LoadSet(Fixture("traces_basic.json"));
    ASSERT_EQ(set_.traces.size(), 4u);
    analysis_ = Analyze(set_, Options());
  }
  TraceSet set_;
  Analysis analysis_;
};

TEST(TracesPercentileTest, InterpolatesBetweenClosestRanks) {
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 0.5), 2.5);    // rank 1.5
  EXPECT_DOUBLE_EQ(Percentile(v, 0.95), 3.85);  // rank 2.85
  EXPECT_DOUBLE_EQ(Percentile(v, 1), 4);
  Distribution d = Summarize({28, 128, 48.25});
  EXPECT_EQ(d.count, 3u);
  EXPECT_DOUBLE_EQ(d.p50, 48.25);
  EXPECT_DOUBLE_EQ(d.p95, 120.025);  // 48.25 + 0.9 * 79.75
  EXPECT_DOUBLE_EQ(d.p99, 126.405);  // 48.25 + 0.98 * 79.75
  EXPECT_DOUBLE_EQ(d.max, 128);
  EXPECT_DOUBLE_EQ(d.sum, 204.25);
}

TEST(TracesParseTest, NormalizesIdsAndPrefersNanoseconds) {
  TraceSet set = LoadSet(Fixture("traces_basic.json"));
  ASSERT_EQ(set.traces.size(), 4u);
  EXPECT_EQ(set.SpanCount(), 34u);
  EXPECT_EQ(set.traces[0].trace_id, "000000000000000000000000000000a1");  // was "A1"
  const Trace& t3 = set.traces[2];
  ASSERT_EQ(t3.spans.size(), 11u);
  const Span& batch = t3.spans[9];
  EXPECT_EQ(batch.operation, "rocksdb.batch");
  EXPECT_TRUE(batch.exact);
  EXPECT_EQ(batch.duration_ns, 48250);  // "duration" says 48 µs
  EXPECT_EQ(batch.start_ns, 1700000003000051000);
  EXPECT_EQ(batch.parent_id, "0300000000000009");
  const Span& statement = t3.spans[5];
  ASSERT_EQ(statement.logs.size(), 1u);
  EXPECT_EQ(statement.logs[0].time_ns, 1700000003000046000);
  ASSERT_EQ(statement.logs[0].fields.size(), 2u);
  EXPECT_EQ(statement.logs[0].fields[0].value, "sql.dml_plan");
  EXPECT_TRUE(statement.logs[0].fields[1].is_number);
  EXPECT_DOUBLE_EQ(statement.logs[0].fields[1].number, 0.004);
  ASSERT_EQ(statement.tags.size(), 3u);
  EXPECT_EQ(statement.tags[1].key, "table");
  EXPECT_EQ(statement.tags[1].value, "app.t");
  EXPECT_EQ(statement.tags[2].value, "1");

  EXPECT_FALSE(ParseJaeger("not json").ok());
  EXPECT_FALSE(ParseJaeger("{\"data\":null,\"errors\":[{\"code\":401,\"msg\":\"no\"}]}").ok());
  EXPECT_FALSE(ParseJaeger("42").ok());
  auto bare = ParseJaeger("[]");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->traces.empty());
  EXPECT_EQ(NormalizeId("ABC", 6), "000abc");
}

TEST_F(BasicFixture, SelfTimeSubtractsTheUnionOfOverlappingChildren) {
  TraceTree t = BuildTree(set_.traces[0]);
  EXPECT_EQ(t.RootNode().path, kRoot);
  EXPECT_EQ(t.nodes.size(), 11u);
  const Node* statement = FindNode(t, kStatement);
  ASSERT_NE(statement, nullptr);
  // 55 µs minus [31,45] (sql.parse and coerce_rows overlap: 14, not 20) minus [50,80].
  EXPECT_EQ(statement->self_ns, Ns(11));
  EXPECT_EQ(FindNode(t, kRoot)->self_ns, Ns(18));  // 100 - 10 - 65 - 7
  EXPECT_EQ(FindNode(t, "POST /v1/api/sql > sql.execute")->self_ns, Ns(8));
  EXPECT_EQ(FindNode(t, "POST /v1/api/sql > auth.check")->self_ns, Ns(2));
  EXPECT_EQ(FindNode(t, kBatch)->self_ns, Ns(28));
  EXPECT_EQ(FindNode(t, kBatch)->depth, 4);

  EXPECT_EQ(GapsOf(t, kStatement),
            (std::map<std::string, int64_t>{{"start → sql.parse", Ns(1)},
                                            {"coerce_rows → store.write", Ns(5)},
                                            {"store.write → end", Ns(5)}}));
  EXPECT_EQ(GapsOf(t, kRoot),
            (std::map<std::string, int64_t>{{"start → auth.check", Ns(10)},
                                            {"auth.check → sql.execute", Ns(5)},
                                            {"sql.execute → http.write_response", Ns(2)},
                                            {"http.write_response → end", Ns(1)}}));
  // The gaps of a span with children add up to its self time.
  int64_t root_gaps = 0;
  for (const auto& [position, ns] : GapsOf(t, kRoot)) root_gaps += ns;
  EXPECT_EQ(root_gaps, FindNode(t, kRoot)->self_ns);
  EXPECT_TRUE(t.orphans.empty());
  EXPECT_TRUE(t.out_of_bounds.empty());
  EXPECT_EQ(t.duplicate_ids, 0);
}

TEST_F(BasicFixture, FractionalMicrosecondsComeFromTheNanosecondFields) {
  TraceTree t = BuildTree(set_.traces[2]);
  const Node* store = FindNode(t, "POST /v1/api/sql > sql.execute > sql.statement > store.write");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->self_ns, 2250);  // 50.5 - 48.25
  EXPECT_EQ(GapsOf(t, store->path),
            (std::map<std::string, int64_t>{{"start → rocksdb.batch", 1000},
                                            {"rocksdb.batch → end", 1250}}));
  EXPECT_EQ(FindNode(t, kStatement)->self_ns, 40500);  // 105 - 14 - 50.5
  EXPECT_EQ(GapsOf(t, kStatement)["store.write → end"], 34500);
}

TEST_F(BasicFixture, CriticalPathWalksBackFromTheLastFinishingChild) {
  TraceTree t = BuildTree(set_.traces[0]);
  // sql.parse ends (41) after coerce_rows started (35): it is off the path, and [30,35] is
  // sql.statement's own time.
  EXPECT_EQ(CriticalOf(t), (std::map<std::string, int64_t>{{kRoot, Ns(18)},
                                                           {"auth.check", Ns(2)},
                                                           {"auth.basic", Ns(8)},
                                                           {"sql.execute", Ns(8)},
                                                           {"sql.split", Ns(2)},
                                                           {"sql.statement", Ns(15)},
                                                           {"coerce_rows", Ns(10)},
                                                           {"store.write", Ns(2)},
                                                           {"rocksdb.batch", Ns(28)},
                                                           {"http.write_response", Ns(7)}}));
  // Forward in time, contiguous, covering the root.
  int64_t at = t.RootNode().span->start_ns;
  for (const Section& s : t.critical) {
    EXPECT_EQ(s.start_ns, at);
    at = s.end_ns;
  }
  EXPECT_EQ(at, t.RootNode().span->end_ns());
  EXPECT_EQ(t.nodes[static_cast<size_t>(t.critical.front().node)].path, kRoot);
  EXPECT_EQ(t.critical[1].start_ns - t.critical[0].start_ns, Ns(10));
  EXPECT_EQ(CriticalOf(BuildTree(set_.traces[2]))["sql.statement"], 44500);  // 34.5 + 5 + 5
}

TEST_F(BasicFixture, PathStatisticsOverTheMatchingTraces) {
  const Analysis& a = analysis_;
  EXPECT_EQ(a.fetched, 4u);
  ASSERT_EQ(a.trees.size(), 3u);  // the health check has no sql.execute
  EXPECT_EQ(a.spans, 33u);
  EXPECT_TRUE(a.exact);
  EXPECT_EQ(a.root_name, kRoot);
  EXPECT_DOUBLE_EQ(a.root.mean, Ns(150));
  EXPECT_DOUBLE_EQ(a.root.p50, Ns(150));
  EXPECT_DOUBLE_EQ(a.root.p95, Ns(195));
  EXPECT_DOUBLE_EQ(a.root.p99, Ns(199));
  EXPECT_EQ(a.trees.front().RootDurationNs(), Ns(100));  // sorted by root duration
  EXPECT_EQ(a.trees.back().RootDurationNs(), Ns(200));

  ASSERT_EQ(a.paths.size(), 11u);
  // By total self time: 204.25, 62.5, 54, 30, 30, 24, 24, 21, 6.25, 6, 6.
  std::vector<std::string> order;
  for (const PathStats& p : a.paths) order.push_back(p.path);
  EXPECT_EQ(
      order,
      (std::vector<std::string>{
          kBatch, kStatement, kRoot, "POST /v1/api/sql > sql.execute > sql.statement > coerce_rows",
          "POST /v1/api/sql > sql.execute > sql.statement > sql.parse",
          "POST /v1/api/sql > auth.check > auth.basic", "POST /v1/api/sql > sql.execute",
          "POST /v1/api/sql > http.write_response",
          "POST /v1/api/sql > sql.execute > sql.statement > store.write",
          "POST /v1/api/sql > auth.check", "POST /v1/api/sql > sql.execute > sql.split"}));
  const PathStats* batch = a.FindPath(kBatch);
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->total.count, 3u);
  EXPECT_NEAR(batch->total.mean, 68083.333, 0.001);
  EXPECT_DOUBLE_EQ(batch->total.p50, 48250);
  EXPECT_DOUBLE_EQ(batch->total.p95, 120025);
  EXPECT_DOUBLE_EQ(batch->total.p99, 126405);
  EXPECT_DOUBLE_EQ(batch->total.max, 128000);
  EXPECT_DOUBLE_EQ(batch->self.p50, 48250);
  EXPECT_NEAR(batch->share_of_root, 68083.333 / 150000, 1e-6);
  EXPECT_NEAR(batch->self_share_of_root, 204.25 / 450, 1e-9);
  const PathStats* statement = a.FindPath(kStatement);
  ASSERT_NE(statement, nullptr);
  EXPECT_DOUBLE_EQ(statement->total.p50, Ns(105));
  EXPECT_DOUBLE_EQ(statement->total.p95, Ns(150));
  EXPECT_DOUBLE_EQ(statement->self.p50, Ns(11));  // 11, 11, 40.5
  EXPECT_DOUBLE_EQ(statement->self.sum, 62500);
  EXPECT_NEAR(statement->share_of_root, 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(a.FindPath(kRoot)->self.p50, Ns(18));
  EXPECT_EQ(a.FindPath("GET /v1/api/healthcheck"), nullptr);
  EXPECT_EQ(WarningText(a), "skipped: 1 of 4 traces have no sql.execute span\n");
}

TEST_F(BasicFixture, OperationSubtreeHasItsOwnPathsAndShares) {
  const Analysis& a = analysis_;
  ASSERT_EQ(a.operation_paths.size(), 7u);
  EXPECT_EQ(a.operation_paths.front().path,
            "sql.execute > sql.statement > store.write > rocksdb.batch");
  EXPECT_EQ(a.operation_paths.front().folded,
            "sql.execute;sql.statement;store.write;rocksdb.batch");
  EXPECT_EQ(a.operation_paths.front().depth, 3);
  // Mean sql.execute: (65 + 165 + 115) / 3 = 115 µs.
  EXPECT_NEAR(a.operation_paths.front().share_of_root, 68083.333 / 115000, 1e-6);
  EXPECT_NEAR(a.operation_paths.front().self_share_of_root, 204.25 / 345, 1e-9);
  bool has_root = false;
  for (const PathStats& p : a.operation_paths) has_root |= p.path == "sql.execute";
  EXPECT_TRUE(has_root);
}

TEST_F(BasicFixture, GapsAreSummedPerTraceAndRankedByTotal) {
  const Analysis& a = analysis_;
  ASSERT_EQ(a.gaps.size(), 14u);
  const GapStats& top = a.gaps[0];
  EXPECT_EQ(top.parent_path, kStatement);
  EXPECT_EQ(top.position, "store.write → end");
  EXPECT_EQ(top.traces, 3u);
  EXPECT_EQ(top.over_threshold, 1u);  // 5, 5, 34.5 against 5 µs
  EXPECT_DOUBLE_EQ(top.total_ns, 44500);
  EXPECT_DOUBLE_EQ(top.max_ns, 34500);
  EXPECT_NEAR(top.mean_ns, 14833.333, 0.001);
  EXPECT_EQ(a.gaps[1].parent_path, kRoot);
  EXPECT_EQ(a.gaps[1].position, "start → auth.check");
  EXPECT_DOUBLE_EQ(a.gaps[1].mean_ns, 10000);
  EXPECT_EQ(a.gaps[1].over_threshold, 3u);
}

TEST_F(BasicFixture, CriticalPathIsAggregatedPerOperation) {
  const Analysis& a = analysis_;
  std::vector<std::pair<std::string, double>> got;
  for (const CriticalStats& c : a.critical) got.emplace_back(c.operation, c.total_ns);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, double>>{{"rocksdb.batch", 204250},
                                                              {"sql.statement", 74500},
                                                              {kRoot, 54000},
                                                              {"coerce_rows", 30000},
                                                              {"auth.basic", 24000},
                                                              {"sql.execute", 24000},
                                                              {"http.write_response", 21000},
                                                              {"store.write", 6250},
                                                              {"auth.check", 6000},
                                                              {"sql.split", 6000}}));
  double shares = 0;
  for (const CriticalStats& c : a.critical) shares += c.share;
  EXPECT_NEAR(shares, 1.0, 1e-12);
  EXPECT_NEAR(a.critical[0].share, 204.25 / 450, 1e-12);
}

TEST_F(BasicFixture, SlowestTracesAreComparedWithTheRest) {
  const Analysis& a = analysis_;
  EXPECT_EQ(a.slow_count, 1u);  // ceil(10% of 3)
  EXPECT_DOUBLE_EQ(a.slow_from_ns, Ns(200));
  EXPECT_DOUBLE_EQ(a.slow_root_p50, Ns(200));
  EXPECT_DOUBLE_EQ(a.rest_root_p50, Ns(125));
  EXPECT_DOUBLE_EQ(a.slow_spans, 11);
  ASSERT_EQ(a.tail_paths.size(), 1u);
  EXPECT_EQ(a.tail_paths[0].path, kBatch);
  EXPECT_DOUBLE_EQ(a.tail_paths[0].slow_ns, 128000);
  EXPECT_DOUBLE_EQ(a.tail_paths[0].rest_ns, 38125);  // (28 + 48.25) / 2
  ASSERT_GE(a.tail_attributes.size(), 2u);
  EXPECT_EQ(a.tail_attributes[0].name, "sql.statement table");
  EXPECT_EQ(a.tail_attributes[0].value, "app.big");
  EXPECT_DOUBLE_EQ(a.tail_attributes[0].slow, 1);
  EXPECT_DOUBLE_EQ(a.tail_attributes[0].rest, 0);
  EXPECT_EQ(a.tail_attributes[1].value, "app.t");
}

TEST_F(BasicFixture, HumanReportEndsWithTheTwoHeadlines) {
  const std::string headlines = Headlines(analysis_);
  EXPECT_EQ(headlines,
            "span with most self time: POST /v1/api/sql > sql.execute > sql.statement > "
            "store.write > rocksdb.batch (48.250 µs p50, 45.4% of root)\n"
            "largest unaccounted gap: POST /v1/api/sql > sql.execute > sql.statement "
            "[store.write → end] (14.833 µs mean over 3 traces)\n");
  const std::string report = RenderHuman(analysis_);
  EXPECT_TRUE(report.ends_with(headlines)) << report;
  for (const char* part :
       {"== waterfall: slowest trace 000000000000000000000000000000a2", "== waterfall: median",
        "== unaccounted time inside spans", "== spans by path", "== spans under sql.execute",
        "== critical path ==", "== slowest 10% (1 traces", "== warnings ==",
        "~ gap [store.write → end]", "@ sql.dml_plan  plan_ms=0.004", "table=app.big"}) {
    EXPECT_NE(report.find(part), std::string::npos) << part << "\n" << report;
  }
  // One waterfall line per span: offset, duration, self time, bar, name.
  EXPECT_NE(report.find("     51.000    128.000    128.000  |          "), std::string::npos)
      << report;
}

TEST_F(BasicFixture, JsonSummaryHasTheDocumentedKeys) {
  const std::string json = RenderJson(analysis_);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(KeysOf(doc),
            (std::vector<std::string>{"traces", "fetched", "spans", "operation", "precision",
                                      "gap_threshold_us", "root", "paths", "operation_paths",
                                      "gaps", "critical_path", "tail", "warnings", "headlines"}));
  EXPECT_EQ(doc["traces"].get_int64().value(), 3);
  EXPECT_EQ(std::string(doc["precision"].get_string().value()), "ns");
  simdjson::dom::element batch = doc["paths"].at(0).value();
  EXPECT_EQ(KeysOf(batch),
            (std::vector<std::string>{"path", "count", "mean_us", "p50_us", "p95_us", "p99_us",
                                      "max_us", "self_mean_us", "self_p50_us", "self_p95_us",
                                      "self_total_us", "share_of_root", "self_share_of_root"}));
  EXPECT_EQ(std::string(batch["path"].get_string().value()), kBatch);
  EXPECT_EQ(batch["count"].get_int64().value(), 3);
  EXPECT_DOUBLE_EQ(batch["mean_us"].get_double().value(), 68.083);
  EXPECT_DOUBLE_EQ(batch["p50_us"].get_double().value(), 48.25);
  EXPECT_DOUBLE_EQ(batch["p95_us"].get_double().value(), 120.025);
  EXPECT_DOUBLE_EQ(batch["p99_us"].get_double().value(), 126.405);
  EXPECT_DOUBLE_EQ(batch["self_p50_us"].get_double().value(), 48.25);
  EXPECT_DOUBLE_EQ(batch["share_of_root"].get_double().value(), 0.4539);
  simdjson::dom::element gap = doc["gaps"].at(0).value();
  EXPECT_EQ(KeysOf(gap),
            (std::vector<std::string>{"parent_path", "position", "count", "over_threshold",
                                      "mean_us", "max_us", "total_us"}));
  EXPECT_DOUBLE_EQ(gap["mean_us"].get_double().value(), 14.833);
  EXPECT_DOUBLE_EQ(gap["max_us"].get_double().value(), 34.5);
  simdjson::dom::element critical = doc["critical_path"].at(0).value();
  EXPECT_EQ(std::string(critical["operation"].get_string().value()), "rocksdb.batch");
  EXPECT_DOUBLE_EQ(critical["total_us"].get_double().value(), 204.25);
  EXPECT_DOUBLE_EQ(critical["share"].get_double().value(), 0.4539);
  EXPECT_EQ(doc["warnings"].get_array().value().size(), 1u);
}

TEST_F(BasicFixture, FoldedStacksSumSelfMicroseconds) {
  EXPECT_EQ(RenderFolded(analysis_),
            "POST /v1/api/sql 54\n"
            "POST /v1/api/sql;auth.check 6\n"
            "POST /v1/api/sql;auth.check;auth.basic 24\n"
            "POST /v1/api/sql;http.write_response 21\n"
            "POST /v1/api/sql;sql.execute 24\n"
            "POST /v1/api/sql;sql.execute;sql.split 6\n"
            "POST /v1/api/sql;sql.execute;sql.statement 63\n"  // 62.5 rounds up
            "POST /v1/api/sql;sql.execute;sql.statement;coerce_rows 30\n"
            "POST /v1/api/sql;sql.execute;sql.statement;sql.parse 30\n"
            "POST /v1/api/sql;sql.execute;sql.statement;store.write 6\n"
            "POST /v1/api/sql;sql.execute;sql.statement;store.write;rocksdb.batch 204\n");
}

TEST_F(BasicFixture, SavedFileGivesTheSameAnalysis) {
  set_.limit = 200;
  const std::string saved = SaveJaeger(set_);
  auto again = ParseJaeger(saved);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->limit, 200);
  EXPECT_EQ(again->traces.size(), 4u);
  EXPECT_EQ(SaveJaeger(*again), saved);
  EXPECT_EQ(RenderJson(Analyze(*again, Options())), RenderJson(Analyze(set_, Options())));
}

TEST_F(BasicFixture, OptionsChangeThresholdOperationAndTail) {
  Options o;
  o.gap_threshold_us = 0.5;
  o.slow_percent = 50;  // ceil(1.5) = 2 slow traces
  Analysis a = Analyze(set_, o);
  EXPECT_EQ(a.slow_count, 2u);
  EXPECT_EQ(a.gaps[0].over_threshold, 3u);
  o.operation = "GET /v1/api/healthcheck";
  Analysis health = Analyze(set_, o);
  ASSERT_EQ(health.trees.size(), 1u);
  EXPECT_TRUE(health.operation_paths.empty());  // the operation is the root
  EXPECT_TRUE(health.gaps.empty());
  EXPECT_EQ(health.slow_count, 0u);
  EXPECT_EQ(Headlines(health),
            "span with most self time: GET /v1/api/healthcheck (30.000 µs p50, 100.0% of "
            "root)\nlargest unaccounted gap: none\n");
  o.operation = "no.such.span";
  Analysis none = Analyze(set_, o);
  EXPECT_TRUE(none.empty());
  EXPECT_NE(RenderHuman(none).find("no matching traces"), std::string::npos);
  o.operation = "";  // every trace
  EXPECT_EQ(Analyze(set_, o).trees.size(), 4u);
}

TEST(TracesQualityTest, WarningsNameEachProblem) {
  TraceSet set = LoadSet(Fixture("traces_quality.json"));
  ASSERT_EQ(set.traces.size(), 1u);
  EXPECT_EQ(set.limit, 1);
  EXPECT_EQ(set.SpanCount(), 7u);
  TraceTree t = BuildTree(set.traces[0]);
  EXPECT_FALSE(t.exact);
  EXPECT_EQ(t.nodes.size(), 6u);  // the exact copy is dropped
  EXPECT_EQ(t.duplicate_ids, 1);
  EXPECT_EQ(t.copies_dropped, 1);
  ASSERT_EQ(t.orphans.size(), 1u);
  EXPECT_EQ(t.nodes[static_cast<size_t>(t.orphans[0])].path, "rocksdb.batch");
  ASSERT_EQ(t.out_of_bounds.size(), 1u);
  EXPECT_EQ(t.out_of_bounds[0].second, Ns(5));
  // Short ids ("2") still link up once padded.
  const Node* execute = FindNode(t, "POST /v1/api/sql > sql.execute");
  ASSERT_NE(execute, nullptr);
  EXPECT_EQ(execute->span->span_id, "0000000000000002");
  // sql.execute [10,90] holds [20,95] (trimmed to [20,90]) and [40,50]: union 70.
  EXPECT_EQ(execute->self_ns, Ns(10));
  // The overflowing statement is trimmed to its parent: 70 µs, not 75.
  const Node* statement = nullptr;
  for (const Node& n : t.nodes) {
    if (n.span->span_id == "0000000000000003") statement = &n;
  }
  ASSERT_NE(statement, nullptr);
  EXPECT_EQ(statement->self_ns, Ns(70));
  EXPECT_EQ(GapsOf(t, statement->path)["coerce_rows → end"], Ns(60));
  EXPECT_EQ(CriticalOf(t),
            (std::map<std::string, int64_t>{
                {kRoot, Ns(20)}, {"sql.execute", Ns(10)}, {"sql.statement", Ns(70)}}));

  Analysis a = Analyze(set, Options());
  EXPECT_FALSE(a.exact);
  EXPECT_EQ(a.warnings,
            (std::vector<std::string>{
                "precision: times are whole microseconds (no startTimeUnixNano/durationNanos); "
                "sub-microsecond spans and gaps are lost (the server's store gives ns with "
                "precision=ns)",
                "truncated: fetched 1 traces = the limit; older matching traces were not fetched "
                "(raise --last)",
                "orphan spans (parent not in the trace): 1 (rocksdb.batch ×1)",
                "children outside their parent's bounds: 1 (sql.execute > sql.statement ×1); "
                "worst 5.000 µs at POST /v1/api/sql > sql.execute > sql.statement; clipped to "
                "the parent",
                "zero-duration spans: 1 (coerce_rows ×1); likely microsecond truncation of "
                "sub-µs spans",
                "duplicate span ids: 1 in 1 trace(s); 1 exact copies ignored",
                "error spans: 1 (sql.statement ×1)"}));
  const std::string report = RenderHuman(a);
  EXPECT_NE(report.find("(orphan) rocksdb.batch"), std::string::npos) << report;
  EXPECT_NE(report.find("sql.statement [ERROR]"), std::string::npos) << report;
}

TEST(TracesQualityTest, CyclesAndFollowsFromAreHandled) {
  auto set = ParseJaeger(R"({"data":[{"traceID":"1","spans":[
    {"spanID":"1","operationName":"a","references":[{"refType":"CHILD_OF","spanID":"2"}],
     "startTime":100,"duration":10},
    {"spanID":"2","operationName":"b","references":[{"refType":"CHILD_OF","spanID":"1"}],
     "startTime":101,"duration":5},
    {"spanID":"3","operationName":"c","references":[{"refType":"FOLLOWS_FROM","spanID":"1"}],
     "startTime":102,"duration":7}]}]})");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE(set->traces[0].spans[2].follows_from);
  TraceTree t = BuildTree(set->traces[0]);
  EXPECT_EQ(t.cycles, 1);
  EXPECT_EQ(t.RootNode().span->operation, "a");
  // FOLLOWS_FROM children are in the tree but not on the critical path.
  EXPECT_EQ(CriticalOf(t), (std::map<std::string, int64_t>{{"a", 5000}, {"b", 5000}}));
  Options o;
  o.operation = "";
  EXPECT_TRUE(HasWarning(Analyze(*set, o), "parent loops: 1"));
}

TEST(TracesRealJaegerTest, ReadsJaegersOwnOutput) {
  // The fixture lives beside the repository (../shared), not in it: a checkout without it skips
  // this test, as JaegerTest.MatchesRealJaegerOutputForFixture does, instead of failing.
  const std::string path =
      std::string(KALAMDB_SHARED_DIR) + "/fixtures/jaeger/otlp2jaeger-out.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
  TraceSet set = LoadSet(path);
  ASSERT_EQ(set.traces.size(), 1u);
  EXPECT_EQ(set.SpanCount(), 2u);
  const Trace& t = set.traces[0];
  EXPECT_EQ(t.trace_id, "83a9efd15c1c98a977e0711cc93ee28b");
  EXPECT_EQ(t.spans[0].span_id, "e127af99e3b3e074");
  EXPECT_EQ(t.spans[0].parent_id, "909541b92cf05311");
  EXPECT_EQ(t.spans[0].operation, "okey-dokey-0");
  EXPECT_FALSE(t.spans[0].exact);
  EXPECT_EQ(t.spans[0].start_ns, 1706678909209712000);
  EXPECT_EQ(t.spans[0].duration_ns, 123000);
  ASSERT_EQ(t.spans[0].tags.size(), 4u);
  EXPECT_EQ(t.spans[0].tags[3].key, "span.kind");
  EXPECT_EQ(t.spans[0].tags[3].value, "server");

  Options o;
  o.operation = "okey-dokey-0";
  Analysis a = Analyze(set, o);
  ASSERT_EQ(a.trees.size(), 1u);
  EXPECT_EQ(a.spans, 2u);
  ASSERT_EQ(a.paths.size(), 1u);  // the second span is an exact copy
  EXPECT_EQ(a.paths[0].path, "okey-dokey-0");
  EXPECT_EQ(a.paths[0].total.count, 1u);
  EXPECT_DOUBLE_EQ(a.paths[0].total.p50, 123000);
  // The root's parent is the (remote) caller's span: not an orphan.
  EXPECT_TRUE(HasWarning(a, "duplicate span ids: 1 in 1 trace(s); 1 exact copies ignored"))
      << WarningText(a);
  EXPECT_TRUE(HasWarning(a, "precision: times are whole microseconds")) << WarningText(a);
  EXPECT_FALSE(HasWarning(a, "zero-duration")) << WarningText(a);
  EXPECT_FALSE(HasWarning(a, "orphan")) << WarningText(a);
  EXPECT_FALSE(HasWarning(a, "truncated")) << WarningText(a);  // the envelope's limit is 0
  EXPECT_EQ(a.warnings.size(), 2u) << WarningText(a);
}

TEST(TracesDiffTest, ReportsDeltasAndAddedOrRemovedPaths) {
  TraceSet before_set = LoadSet(Fixture("traces_basic.json"));
  TraceSet after_set = LoadSet(Fixture("traces_after.json"));
  Analysis before = Analyze(before_set, Options());
  Analysis after = Analyze(after_set, Options());
  std::vector<DiffRow> rows = DiffPaths(before, after);
  std::map<std::string, DiffRow> by_path;
  for (const DiffRow& r : rows) by_path[r.path] = r;
  ASSERT_EQ(rows.size(), 12u);
  const DiffRow& batch = by_path.at(kBatch);
  EXPECT_TRUE(batch.before_present && batch.after_present);
  EXPECT_DOUBLE_EQ(batch.p50_before, 48250);
  EXPECT_DOUBLE_EQ(batch.p50_after, 28250);  // 18, 28.25, 48
  EXPECT_DOUBLE_EQ(batch.p95_after, 46025);  // 28.25 + 0.9 * 19.75
  const DiffRow& store = by_path.at("POST /v1/api/sql > sql.execute > sql.statement > store.write");
  EXPECT_DOUBLE_EQ(store.self_p50_before, 2000);  // 2, 2, 2.25
  EXPECT_DOUBLE_EQ(store.self_p50_after, 22250);  // 12, 82, 22.25
  EXPECT_DOUBLE_EQ(by_path.at(kStatement).self_p50_after, 8000);
  EXPECT_DOUBLE_EQ(by_path.at("POST /v1/api/sql > sql.execute").self_p50_after, 10000);
  const DiffRow& split = by_path.at("POST /v1/api/sql > sql.execute > sql.split");
  EXPECT_TRUE(split.before_present);
  EXPECT_FALSE(split.after_present);
  const DiffRow& cache =
      by_path.at("POST /v1/api/sql > sql.execute > sql.statement > cache.lookup");
  EXPECT_FALSE(cache.before_present);
  EXPECT_EQ(cache.count_after, 3u);
  // Largest self-p50 change first (store.write +20.25, then the batch -20), then added/removed.
  EXPECT_EQ(rows[0].path, store.path);
  EXPECT_EQ(rows[1].path, kBatch);
  EXPECT_EQ(rows[10].path, cache.path);
  EXPECT_EQ(rows[11].path, split.path);

  const std::string text = RenderDiff(before, after);
  EXPECT_NE(text.find("added"), std::string::npos) << text;
  EXPECT_NE(text.find("removed"), std::string::npos) << text;
  for (const char* part : {"-20.000", "-41.5%", "+20.250", "+1012.5%"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }

  const std::string json = RenderDiffJson(before, after);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(doc["before"]["traces"].get_int64().value(), 3);
  simdjson::dom::element first = doc["paths"].at(0).value();
  EXPECT_EQ(std::string(first["status"].get_string().value()), "common");
  EXPECT_DOUBLE_EQ(first["self_p50_delta_us"].get_double().value(), 20.25);
  EXPECT_DOUBLE_EQ(first["self_p50_delta_pct"].get_double().value(), 1012.5);
  simdjson::dom::element second = doc["paths"].at(1).value();
  EXPECT_DOUBLE_EQ(second["p50_delta_us"].get_double().value(), -20);
  EXPECT_DOUBLE_EQ(second["p50_delta_pct"].get_double().value(), -41.451);
  simdjson::dom::element added = doc["paths"].at(10).value();
  EXPECT_EQ(std::string(added["status"].get_string().value()), "added");
  EXPECT_TRUE(added["p50_before_us"].is_null());
  EXPECT_EQ(std::string(doc["paths"].at(11)["status"].get_string().value()), "removed");
}

// Runs TracesMain with `args` (after "traces") and captures stdout and stderr.
int RunMain(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
  args.insert(args.begin(), "traces");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::stringstream captured_out, captured_err;
  std::streambuf* old_out = std::cout.rdbuf(captured_out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(captured_err.rdbuf());
  const int code = TracesMain(static_cast<int>(argv.size()), argv.data());
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  *out = captured_out.str();
  if (err != nullptr) *err = captured_err.str();
  return code;
}

TEST(TracesMainTest, LoadsSavedFilesAndPrintsEachFormat) {
  std::string out, err;
  ASSERT_EQ(RunMain({"--load", Fixture("traces_basic.json"), "--json"}, &out, &err), 0) << err;
  TraceSet set = LoadSet(Fixture("traces_basic.json"));
  EXPECT_EQ(out, RenderJson(Analyze(set, Options())));
  ASSERT_EQ(RunMain({"--load", Fixture("traces_basic.json"), "--folded"}, &out), 0);
  EXPECT_TRUE(out.starts_with("POST /v1/api/sql 54\n")) << out;
  ASSERT_EQ(RunMain({"--load", Fixture("traces_basic.json"), "--waterfalls", "1",
                     "--gap-threshold-us", "0.5", "--slow-percent", "50"},
                    &out),
            0);
  EXPECT_NE(out.find("== waterfall: slowest #3 trace"), std::string::npos) << out;
  EXPECT_NE(out.find("gaps above 0.500 µs"), std::string::npos) << out;
  EXPECT_NE(out.find("== slowest 50% (2 traces"), std::string::npos) << out;
  EXPECT_NE(out.find("largest unaccounted gap: "), std::string::npos);
  ASSERT_EQ(RunMain({"--diff", Fixture("traces_basic.json"), Fixture("traces_after.json")}, &out),
            0);
  EXPECT_TRUE(out.starts_with("== diff: before 3 traces")) << out;
  ASSERT_EQ(
      RunMain({"--diff", Fixture("traces_basic.json"), Fixture("traces_after.json"), "--json"},
              &out),
      0);
  EXPECT_TRUE(out.starts_with("{\"before\":{\"traces\":3,")) << out;
}

TEST(TracesMainTest, ReportsBadInput) {
  std::string out, err;
  EXPECT_EQ(RunMain({"--load", Fixture("no-such-file.json")}, &out, &err), 1);
  EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
  EXPECT_EQ(RunMain({"--load", Fixture("traces_basic.json"), "--operation", "nope"}, &out, &err),
            1);
  EXPECT_NE(err.find("has a 'nope' span"), std::string::npos) << err;
  EXPECT_NE(RunMain({"--load", "x", "--jaeger", "http://127.0.0.1:1"}, &out, &err), 0);
  EXPECT_NE(RunMain({"--json", "--folded"}, &out, &err), 0);
  EXPECT_NE(RunMain({"--last", "0"}, &out, &err), 0);
  EXPECT_EQ(RunMain({"--url", "https://x"}, &out, &err), 1);
  EXPECT_EQ(RunMain({"--since", "soon", "--url", "http://127.0.0.1:1"}, &out, &err), 1);
  EXPECT_NE(err.find("--since"), std::string::npos) << err;
}

}  // namespace
}  // namespace kalamdb::cli::traces
