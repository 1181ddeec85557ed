// bench_test.cc: unit tests of `kalam bench insert`: the latency histogram against an exact
// sorted-array reference, option validation, the JSON report round trip, the summary and the
// comparison output.
#include "cli/bench.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace kalamdb::cli {
namespace {

// ---- histogram -------------------------------------------------------------------------------

// The exact nearest-rank percentile of `sorted`.
int64_t ExactPercentile(const std::vector<int64_t>& sorted, double q) {
  auto n = static_cast<int64_t>(sorted.size());
  auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(n) / 100.0 - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, n);
  return sorted[static_cast<size_t>(rank - 1)];
}

void ExpectMatchesReference(std::vector<int64_t> values, const char* what) {
  LatencyHistogram histogram;
  for (int64_t v : values) histogram.Record(v);
  std::sort(values.begin(), values.end());
  ASSERT_EQ(histogram.count(), static_cast<int64_t>(values.size()));
  EXPECT_EQ(histogram.min_ns(), values.front()) << what;
  EXPECT_EQ(histogram.max_ns(), values.back()) << what;
  for (double q : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
    auto exact = static_cast<double>(ExactPercentile(values, q));
    EXPECT_NEAR(histogram.PercentileNs(q), exact, exact * 0.01) << what << " p" << q;
  }
  EXPECT_EQ(histogram.PercentileNs(100), static_cast<double>(values.back())) << what;
}

TEST(LatencyHistogramTest, PercentilesMatchSortedReferenceOnRandomData) {
  std::mt19937_64 random(20261201);
  // Log-uniform over the whole range, 1 us .. 60 s.
  std::uniform_real_distribution<double> exponent(std::log(1e3), std::log(6e10));
  std::vector<int64_t> log_uniform;
  for (int i = 0; i < 50000; ++i) log_uniform.push_back(std::llround(std::exp(exponent(random))));
  ExpectMatchesReference(log_uniform, "log-uniform");

  // A typical latency shape: a narrow body around 250 us and a long tail.
  std::normal_distribution<double> body(250e3, 30e3);
  std::exponential_distribution<double> tail(1 / 5e6);
  std::vector<int64_t> latencies;
  for (int i = 0; i < 20000; ++i) {
    double v = i % 50 == 0 ? 250e3 + tail(random) : body(random);
    latencies.push_back(std::max<int64_t>(1000, std::llround(v)));
  }
  ExpectMatchesReference(latencies, "body+tail");

  // Few distinct values, many duplicates.
  std::uniform_int_distribution<int> pick(0, 3);
  const int64_t kValues[] = {1000, 1500, 99999, 2'000'000};
  std::vector<int64_t> discrete;
  for (int i = 0; i < 1001; ++i) discrete.push_back(kValues[pick(random)]);
  ExpectMatchesReference(discrete, "discrete");
}

TEST(LatencyHistogramTest, SmallCountsAndEdges) {
  LatencyHistogram empty;
  EXPECT_EQ(empty.count(), 0);
  EXPECT_EQ(empty.PercentileNs(50), 0);
  EXPECT_EQ(empty.max_ns(), 0);
  EXPECT_EQ(empty.min_ns(), 0);

  LatencyHistogram one;
  one.Record(123'456);
  for (double q : {0.0, 50.0, 99.0, 100.0}) EXPECT_EQ(one.PercentileNs(q), 123'456) << q;

  LatencyHistogram two;
  two.Record(100'000);
  two.Record(200'000);
  EXPECT_NEAR(two.PercentileNs(50), 100'000, 1000);  // rank 1 of 2
  EXPECT_NEAR(two.PercentileNs(51), 200'000, 2000);  // rank 2
  EXPECT_EQ(two.PercentileNs(100), 200'000);
  EXPECT_DOUBLE_EQ(two.sum_ns(), 300'000);
}

TEST(LatencyHistogramTest, ClampsToTheRangeButSumsRawValues) {
  LatencyHistogram histogram;
  histogram.Record(10);               // below 1 us
  histogram.Record(120'000'000'000);  // 120 s, above 60 s
  EXPECT_EQ(histogram.min_ns(), LatencyHistogram::kMinNs);
  EXPECT_EQ(histogram.max_ns(), LatencyHistogram::kMaxNs);
  EXPECT_EQ(histogram.PercentileNs(0), LatencyHistogram::kMinNs);
  EXPECT_EQ(histogram.PercentileNs(100), LatencyHistogram::kMaxNs);
  EXPECT_DOUBLE_EQ(histogram.sum_ns(), 120'000'000'010.0);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(std::log(300e3), 0.8);
  LatencyHistogram all;
  LatencyHistogram parts[3];
  for (int i = 0; i < 9000; ++i) {
    int64_t v = std::llround(latency(random));
    all.Record(v);
    parts[i % 3].Record(v);
  }
  LatencyHistogram merged;
  for (const LatencyHistogram& part : parts) merged.Merge(part);
  merged.Merge(LatencyHistogram());  // an empty one changes nothing
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min_ns(), all.min_ns());
  EXPECT_EQ(merged.max_ns(), all.max_ns());
  EXPECT_DOUBLE_EQ(merged.sum_ns(), all.sum_ns());
  for (double q : {1.0, 50.0, 95.0, 99.0, 99.9}) {
    EXPECT_EQ(merged.PercentileNs(q), all.PercentileNs(q)) << q;
  }
}

TEST(LatencyHistogramTest, NearestRank) {
  EXPECT_EQ(LatencyHistogram::NearestRank(95, 20), 19);
  EXPECT_EQ(LatencyHistogram::NearestRank(50, 200), 100);
  EXPECT_EQ(LatencyHistogram::NearestRank(50, 201), 101);
  EXPECT_EQ(LatencyHistogram::NearestRank(99.9, 1000), 999);
  EXPECT_EQ(LatencyHistogram::NearestRank(100, 7), 7);
  EXPECT_EQ(LatencyHistogram::NearestRank(0, 7), 1);
  EXPECT_EQ(LatencyHistogram::NearestRank(50, 0), 0);
}

// ---- options ---------------------------------------------------------------------------------

const char* FakeEnv(const char* name) {
  if (std::strcmp(name, "KALAMDB_SERVER_URL") == 0) return "http://127.0.0.1:9999";
  if (std::strcmp(name, "KALAMDB_ROOT_PASSWORD") == 0) return "from-env";
  return nullptr;  // KALAMDB_USER unset: root
}

BenchArgs Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  return ParseBenchArgs(args, FakeEnv, 4242);
}

// The usage error of `args`, which must be refused with exit code 2.
std::string UsageError(std::vector<std::string> args) {
  BenchArgs parsed = Parse(args);
  EXPECT_FALSE(parsed.options.has_value());
  EXPECT_EQ(parsed.exit_code, 2);
  EXPECT_TRUE(parsed.err.starts_with("kalam bench: ")) << parsed.err;
  return parsed.err;
}

TEST(BenchOptionsTest, DefaultsComeFromTheSpecAndTheEnvironment) {
  BenchArgs parsed = Parse({"insert"});
  ASSERT_TRUE(parsed.options.has_value()) << parsed.err;
  const BenchOptions& o = *parsed.options;
  EXPECT_EQ(o.url, "http://127.0.0.1:9999");
  EXPECT_EQ(o.user, "root");
  EXPECT_EQ(o.password, "from-env");
  EXPECT_EQ(o.token, "");
  EXPECT_EQ(o.single, 200);
  EXPECT_EQ(o.batches, 20);
  EXPECT_EQ(o.batch_size, 100);
  EXPECT_EQ(o.workers, 10);
  EXPECT_EQ(o.per_worker, 100);
  EXPECT_FALSE(o.duration_s.has_value());
  EXPECT_EQ(o.workloads,
            (std::vector<Workload>{Workload::kSingle, Workload::kBatched, Workload::kParallel}));
  EXPECT_EQ(o.ns, "bench_4242");
  EXPECT_FALSE(o.keep);
  EXPECT_EQ(o.json_path, "");
  EXPECT_EQ(o.compare_path, "");
}

TEST(BenchOptionsTest, EveryOptionIsTaken) {
  std::vector<std::string> args{"insert", "--url", "http://db:8081", "--user", "alice"};
  for (const char* arg : {"--token", "tok", "--batch-size", "10", "--workers", "3", "--duration",
                          "1.5", "--only", "parallel,single", "--namespace", "my_bench", "--json",
                          "out.json", "--compare", "old.json", "--keep"}) {
    args.push_back(arg);
  }
  BenchArgs parsed = Parse(args);
  ASSERT_TRUE(parsed.options.has_value()) << parsed.err;
  const BenchOptions& o = *parsed.options;
  EXPECT_EQ(o.url, "http://db:8081");
  EXPECT_EQ(o.user, "alice");
  EXPECT_EQ(o.token, "tok");
  EXPECT_EQ(o.batch_size, 10);
  EXPECT_EQ(o.workers, 3);
  ASSERT_TRUE(o.duration_s.has_value());
  EXPECT_DOUBLE_EQ(*o.duration_s, 1.5);
  // Always in the canonical order, whatever the order given.
  EXPECT_EQ(o.workloads, (std::vector<Workload>{Workload::kSingle, Workload::kParallel}));
  EXPECT_EQ(o.ns, "my_bench");
  EXPECT_EQ(o.json_path, "out.json");
  EXPECT_EQ(o.compare_path, "old.json");
  EXPECT_TRUE(o.keep);

  BenchArgs counts =
      Parse({"insert", "--single", "20", "--batches", "3", "--per-worker", "5", "-p", "pw"});
  ASSERT_TRUE(counts.options.has_value()) << counts.err;
  EXPECT_EQ(counts.options->single, 20);
  EXPECT_EQ(counts.options->batches, 3);
  EXPECT_EQ(counts.options->per_worker, 5);
  EXPECT_EQ(counts.options->password, "pw");
}

TEST(BenchOptionsTest, BadWorkloadIsRefusedClearly) {
  std::string err = UsageError({"insert", "--only", "bogus"});
  EXPECT_NE(err.find("--only: 'bogus' is not a workload (expected single, batched or parallel"),
            std::string::npos)
      << err;
  EXPECT_NE(UsageError({"insert", "--only", "single,"}).find("'' is not a workload"),
            std::string::npos);
}

TEST(BenchOptionsTest, CountsMustBePositiveIntegers) {
  EXPECT_NE(UsageError({"insert", "--batch-size", "0"})
                .find("--batch-size: must be an integer from 1 to 100000, got '0'"),
            std::string::npos);
  EXPECT_NE(UsageError({"insert", "--workers", "0"}).find("--workers: "), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--workers", "513"}).find("--workers: "), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--single", "-5"}).find("--single"), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--batches", "ten"}).find("got 'ten'"), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--per-worker", "1.5"}).find("--per-worker"), std::string::npos);
}

TEST(BenchOptionsTest, DurationMustBePositiveAndExcludesCounts) {
  EXPECT_NE(UsageError({"insert", "--duration", "0"}).find("--duration: must be a number"),
            std::string::npos);
  EXPECT_NE(UsageError({"insert", "--duration", "-1"}).find("--duration"), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--duration", "soon"}).find("--duration"), std::string::npos);
  EXPECT_NE(UsageError({"insert", "--duration", "5", "--single", "10"}).find("excludes"),
            std::string::npos);
}

TEST(BenchOptionsTest, OtherMistakes) {
  EXPECT_NE(UsageError({"insert", "--password", "a", "--token", "b"}).find("excludes"),
            std::string::npos);
  EXPECT_NE(UsageError({}).find("subcommand"), std::string::npos);
  UsageError({"select"});
  UsageError({"insert", "--no-such-option"});
  EXPECT_NE(UsageError({"insert", "--namespace", "Bad-Name"}).find("--namespace"),
            std::string::npos);
  UsageError({"insert", "--namespace", "1abc"});
  EXPECT_NE(UsageError({"insert", "--url", "https://db:1"}).find("--url: cannot use"),
            std::string::npos);
}

TEST(BenchOptionsTest, HelpExitsZero) {
  BenchArgs parsed = Parse({"insert", "--help"});
  EXPECT_FALSE(parsed.options.has_value());
  EXPECT_EQ(parsed.exit_code, 0);
  EXPECT_NE(parsed.out.find("--batch-size"), std::string::npos) << parsed.out;
  EXPECT_NE(parsed.out.find("--duration"), std::string::npos) << parsed.out;
  EXPECT_EQ(parsed.out.find("from-env"), std::string::npos) << "the password is not shown";
}

// ---- report ----------------------------------------------------------------------------------

WorkloadResult Result(std::string name, int64_t rows, double rows_per_sec, double p50) {
  WorkloadResult r;
  r.name = std::move(name);
  r.rows = rows;
  r.requests = rows;
  r.seconds = static_cast<double>(rows) / rows_per_sec;
  r.rows_per_sec = rows_per_sec;
  r.p50_us = p50;
  r.p95_us = p50 * 1.5;
  r.p99_us = p50 * 2;
  r.max_us = p50 * 10;
  r.server_took_p50_us = p50 / 2;
  r.server_took_total_ms = 12.5;
  r.server_share = 0.5;
  return r;
}

TEST(BenchReportTest, SummarizeComputesTheFigures) {
  LatencyHistogram latency;
  LatencyHistogram took;
  for (int i = 1; i <= 100; ++i) {
    latency.Record(i * 10'000);  // 10 us .. 1000 us
    took.Record(i * 4'000);
  }
  WorkloadResult r = Summarize("batched", 1000, 0.5, latency, took);
  EXPECT_EQ(r.name, "batched");
  EXPECT_EQ(r.rows, 1000);
  EXPECT_EQ(r.requests, 100);
  EXPECT_DOUBLE_EQ(r.rows_per_sec, 2000);
  EXPECT_NEAR(r.p50_us, 500, 5);
  EXPECT_NEAR(r.p95_us, 950, 9.5);
  EXPECT_NEAR(r.p99_us, 990, 9.9);
  EXPECT_DOUBLE_EQ(r.max_us, 1000);
  EXPECT_NEAR(r.server_took_p50_us, 200, 2);
  EXPECT_DOUBLE_EQ(r.server_took_total_ms, 20.2);
  EXPECT_DOUBLE_EQ(r.server_share, 0.4);
}

TEST(BenchReportTest, JsonRoundTrip) {
  BenchReport report;
  report.url = "http://127.0.0.1:8080";
  report.timestamp = "2026-12-01T10:00:00Z";
  report.workloads = {Result("single", 200, 3846.154, 250.5), Result("batched", 2000, 51000, 974),
                      Result("parallel", 1000, 8000.25, 1260)};
  report.workloads[1].batch_size = 100;
  report.workloads[2].workers = 10;
  std::string json = ReportToJson(report);
  EXPECT_TRUE(
      json.starts_with(R"({"url":"http://127.0.0.1:8080","timestamp":"2026-12-01T10:00:00Z",)"
                       R"("single":{"rows":200,"requests":200,"seconds":0.05)"))
      << json;
  for (const char* key :
       {"\"rows_per_sec\":3846.154,", "\"p50_us\":250.5,", "\"p95_us\":375.75,", "\"p99_us\":501,",
        "\"max_us\":2505,", "\"batch_size\":100", "\"workers\":10"}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }

  std::string error;
  std::optional<BenchReport> back = ReportFromJson(json, &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(back->url, report.url);
  EXPECT_EQ(back->timestamp, report.timestamp);
  EXPECT_FALSE(back->duration_s.has_value());
  ASSERT_EQ(back->workloads.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const WorkloadResult& a = report.workloads[i];
    const WorkloadResult& b = back->workloads[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.rows, a.rows);
    EXPECT_EQ(b.requests, a.requests);
    EXPECT_NEAR(b.seconds, a.seconds, 1e-9);
    EXPECT_NEAR(b.rows_per_sec, a.rows_per_sec, 1e-3);
    EXPECT_NEAR(b.p50_us, a.p50_us, 1e-3);
    EXPECT_NEAR(b.p95_us, a.p95_us, 1e-3);
    EXPECT_NEAR(b.p99_us, a.p99_us, 1e-3);
    EXPECT_NEAR(b.max_us, a.max_us, 1e-3);
    EXPECT_NEAR(b.server_took_p50_us, a.server_took_p50_us, 1e-3);
    EXPECT_NEAR(b.server_took_total_ms, a.server_took_total_ms, 1e-3);
    EXPECT_NEAR(b.server_share, a.server_share, 1e-4);
    EXPECT_EQ(b.batch_size, a.batch_size);
    EXPECT_EQ(b.workers, a.workers);
  }
  // Written again, it is the same text.
  EXPECT_EQ(ReportToJson(*back), json);
}

TEST(BenchReportTest, JsonOmitsWorkloadsNotRun) {
  BenchReport report;
  report.timestamp = "t";
  report.duration_s = 10;
  report.workloads = {Result("parallel", 100, 1000, 300)};
  std::string json = ReportToJson(report);
  EXPECT_EQ(json.find("\"single\""), std::string::npos) << json;
  EXPECT_EQ(json.find("\"batched\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"duration_s\":10,"), std::string::npos) << json;
  std::string error;
  std::optional<BenchReport> back = ReportFromJson(json, &error);
  ASSERT_TRUE(back.has_value()) << error;
  ASSERT_EQ(back->workloads.size(), 1u);
  EXPECT_EQ(back->workloads[0].name, "parallel");
  EXPECT_EQ(back->Find("single"), nullptr);
  ASSERT_TRUE(back->duration_s.has_value());
  EXPECT_EQ(*back->duration_s, 10);
}

TEST(BenchReportTest, JsonReadsMinimalFilesAndRefusesOthers) {
  std::string error;
  // Only the documented keys, integers where doubles are usual, unknown keys ignored.
  std::optional<BenchReport> minimal = ReportFromJson(
      R"({"single":{"rows":10,"seconds":1,"rows_per_sec":10,"p50_us":5,"p95_us":6,"p99_us":7,)"
      R"("max_us":8,"extra":[1]},"other":{"rows":"x"}})",
      &error);
  ASSERT_TRUE(minimal.has_value()) << error;
  ASSERT_EQ(minimal->workloads.size(), 1u);
  EXPECT_EQ(minimal->workloads[0].rows, 10);
  EXPECT_EQ(minimal->workloads[0].p99_us, 7);
  EXPECT_EQ(minimal->workloads[0].requests, 0);

  EXPECT_FALSE(ReportFromJson("not json", &error).has_value());
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(ReportFromJson("[1,2]", &error).has_value());
  EXPECT_FALSE(ReportFromJson("{}", &error).has_value());
  EXPECT_EQ(error, "no workload (single, batched or parallel) in it");
  EXPECT_FALSE(ReportFromJson(R"({"batched":{"rows":1,"seconds":1,"rows_per_sec":1,)"
                              R"("p50_us":1,"p99_us":1,"max_us":1}})",
                              &error)
                   .has_value());
  EXPECT_EQ(error, "batched: no number 'p95_us'");
  EXPECT_FALSE(ReportFromJson(R"({"single":3})", &error).has_value());
  EXPECT_EQ(error, "single: not an object");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The line of `text` that starts with `workload` and has `metric` as its second column.
std::string LineOf(const std::string& text, const std::string& workload,
                   const std::string& metric) {
  for (const std::string& line : Lines(text)) {
    std::string rest = line.substr(std::min(line.size(), workload.size()));
    size_t start = rest.find_first_not_of(' ');
    if (line.starts_with(workload + " ") && start != std::string::npos &&
        rest.compare(start, metric.size() + 2, metric + "  ") == 0) {
      return line;
    }
  }
  return "";
}

// Whitespace-separated words of `line`.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

TEST(BenchReportTest, SummaryHasEveryWorkloadAndTheRatios) {
  BenchReport report;
  report.workloads = {Result("single", 200, 4000, 250.5), Result("batched", 2000, 50000, 1950),
                      Result("parallel", 1000, 9000, 1100)};
  std::string text = FormatSummary(report);
  std::vector<std::string> lines = Lines(text);
  ASSERT_GE(lines.size(), 7u) << text;
  EXPECT_EQ(Words(lines[0]),
            (std::vector<std::string>{"workload", "rows", "requests", "seconds", "rows/s", "p50",
                                      "µs", "p95", "µs", "p99", "µs", "max", "µs", "server", "p50",
                                      "µs", "server", "share"}));
  EXPECT_EQ(Words(lines[1]),
            (std::vector<std::string>{"single", "200", "200", "0.0500", "4,000", "251", "376",
                                      "501", "2,505", "125", "50", "%"}));
  EXPECT_EQ(Words(lines[2])[0], "batched");
  EXPECT_EQ(Words(lines[2])[1], "2,000");
  EXPECT_EQ(Words(lines[3])[0], "parallel");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(Words(lines[5]), (std::vector<std::string>{"batched/single", "12.50x", "rows/s"}));
  EXPECT_EQ(Words(lines[6]), (std::vector<std::string>{"parallel/single", "2.25x", "rows/s"}));
  // The columns line up: every row is as wide as the header or narrower.
  EXPECT_EQ(lines[1].find("4,000") + 5, lines[0].find("rows/s") + 6) << text;

  BenchReport alone;
  alone.workloads = {Result("batched", 2000, 50000, 1950)};
  EXPECT_EQ(FormatSummary(alone).find("/single"), std::string::npos);
}

TEST(BenchReportTest, ComparisonShowsBeforeAfterAndChange) {
  BenchReport before;
  before.timestamp = "2026-12-01T10:00:00Z";
  before.workloads = {Result("single", 200, 1000, 200), Result("batched", 2000, 50000, 1000)};
  BenchReport after;
  after.workloads = {Result("single", 200, 1100, 180), Result("batched", 2000, 40000, 1000),
                     Result("parallel", 1000, 9000, 1100)};
  after.workloads[0].max_us = 2200;           // before: 2000
  after.workloads[1].server_took_p50_us = 0;  // unknown: that line is skipped
  std::string text = FormatComparison(before, after, "old.json");
  EXPECT_TRUE(text.starts_with("compared with old.json (2026-12-01T10:00:00Z):\n")) << text;
  EXPECT_EQ(
      Words(LineOf(text, "single", "rows/s")),
      (std::vector<std::string>{"single", "rows/s", "1,000", "→", "1,100", "+10.0%", "better"}))
      << text;
  EXPECT_EQ(
      Words(LineOf(text, "single", "p50 µs")),
      (std::vector<std::string>{"single", "p50", "µs", "200", "→", "180", "-10.0%", "better"}))
      << text;
  EXPECT_EQ(
      Words(LineOf(text, "single", "max µs")),
      (std::vector<std::string>{"single", "max", "µs", "2,000", "→", "2,200", "+10.0%", "worse"}))
      << text;
  EXPECT_EQ(Words(LineOf(text, "single", "server p50 µs")),
            (std::vector<std::string>{"single", "server", "p50", "µs", "100", "→", "90.0", "-10.0%",
                                      "better"}))
      << text;
  EXPECT_EQ(
      Words(LineOf(text, "batched", "rows/s")),
      (std::vector<std::string>{"batched", "rows/s", "50,000", "→", "40,000", "-20.0%", "worse"}))
      << text;
  EXPECT_EQ(
      Words(LineOf(text, "batched", "p99 µs")),
      (std::vector<std::string>{"batched", "p99", "µs", "2,000", "→", "2,000", "+0.0%", "same"}))
      << text;
  EXPECT_EQ(LineOf(text, "batched", "server p50 µs"), "") << text;
  EXPECT_EQ(LineOf(text, "parallel", "rows/s"), "") << text;
  EXPECT_TRUE(text.ends_with("parallel: not in old.json\n")) << text;

  // A zero "before" has no percentage.
  before.workloads[0].p95_us = 0;
  EXPECT_EQ(Words(LineOf(FormatComparison(before, after, "x"), "single", "p95 µs")),
            (std::vector<std::string>{"single", "p95", "µs", "0.00", "→", "270", "n/a"}));
}

}  // namespace
}  // namespace kalamdb::cli
