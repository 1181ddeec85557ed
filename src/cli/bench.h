// bench.h: `kalam bench insert`: the insert-throughput workloads of shared/spec/benchmarks.md.
//
//   kalam bench insert [--url URL] [--user U] [--password P | --token T] [--single N]
//                      [--batches N] [--batch-size N] [--workers N] [--per-worker N]
//                      [--duration SECONDS] [--only single|batched|parallel] [--namespace NS]
//                      [--json FILE] [--compare FILE] [--keep]
//
// Creates a namespace with the three tables of the spec, runs the single-row, batched and
// parallel workloads (counts, or --duration seconds each), prints a summary table (rows,
// requests, seconds, rows/s, client latency percentiles, the server's `took`), optionally
// saves it as JSON and compares it with a saved run, and drops the namespace (unless --keep).
//
// The pieces below (histogram, options, report, JSON, comparison) are pure and unit-tested;
// the workloads themselves live in bench_run.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kalamdb::cli {

// Entry point of `kalam bench ...`: argv[0] is "bench". Returns the process exit code:
// 0 success, 1 a failed request or check, 2 bad usage, 130 interrupted.
int BenchMain(int argc, char** argv);

// A log-linear latency histogram (HDR style) over 1 us .. 60 s with under 0.4 % error:
// values below 128 ns are exact, each power-of-two range above is split into 128 linear
// buckets. Records nanoseconds; values outside the range are clamped to it. Not thread-safe:
// one per thread, then Merge.
class LatencyHistogram {
 public:
  static constexpr int64_t kMinNs = 1'000;
  static constexpr int64_t kMaxNs = 60'000'000'000;

  LatencyHistogram();
  void Record(int64_t ns);
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  // Exact smallest and largest recorded values (after clamping); 0 when empty.
  int64_t min_ns() const { return count_ > 0 ? min_ns_ : 0; }
  int64_t max_ns() const { return max_ns_; }
  // Sum of the recorded values as given (not clamped).
  double sum_ns() const { return sum_ns_; }
  // Nearest-rank percentile, `q` in [0, 100]: the smallest value v with at least q % of the
  // values <= v, to within one bucket (the bucket's midpoint, kept within [min, max]); the
  // lowest and highest ranks give the exact min and max. 0 when empty.
  double PercentileNs(double q) const;

  // The rank (1-based) of the nearest-rank percentile `q` among `n` values.
  static int64_t NearestRank(double q, int64_t n);

 private:
  static size_t BucketOf(int64_t ns);
  static double BucketMid(size_t index);
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t min_ns_ = 0;
  int64_t max_ns_ = 0;
  double sum_ns_ = 0;
};

enum class Workload { kSingle, kBatched, kParallel };
inline constexpr Workload kAllWorkloads[] = {Workload::kSingle, Workload::kBatched,
                                             Workload::kParallel};
// "single", "batched", "parallel".
std::string_view WorkloadName(Workload workload);

struct BenchOptions {
  std::string url;  // default $KALAMDB_SERVER_URL, else http://127.0.0.1:8080
  std::string user = "root";
  std::string password;
  std::string token;  // when set: no login
  int64_t single = 200;
  int64_t batches = 20;
  int64_t batch_size = 100;
  int64_t workers = 10;
  int64_t per_worker = 100;
  std::optional<double> duration_s;  // each workload runs this long instead of a count
  std::vector<Workload> workloads{Workload::kSingle, Workload::kBatched, Workload::kParallel};
  std::string ns;  // default bench_<pid>
  std::string json_path;
  std::string compare_path;
  bool keep = false;
};

// The outcome of parsing `kalam bench ...` arguments (args[0] is "bench").
struct BenchArgs {
  std::optional<BenchOptions> options;  // set when the benchmark should run
  int exit_code = 0;                    // otherwise: exit with this (0 after --help)
  std::string out;                      // help text
  std::string err;                      // the usage error
};

// Parses the arguments with `env` (like getenv) supplying KALAMDB_SERVER_URL, KALAMDB_USER and
// KALAMDB_ROOT_PASSWORD, and `pid` the default namespace suffix. Validates every value.
BenchArgs ParseBenchArgs(const std::vector<std::string>& args, const char* (*env)(const char*),
                         int pid);

// The figures of one workload, as printed and saved.
struct WorkloadResult {
  std::string name;  // "single", "batched" or "parallel"
  int64_t rows = 0;
  int64_t requests = 0;
  double seconds = 0;
  double rows_per_sec = 0;
  double p50_us = 0;
  double p95_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double server_took_p50_us = 0;
  double server_took_total_ms = 0;
  double server_share = 0;  // sum of server took / sum of client latency (0..1)
  int64_t batch_size = 0;   // batched only
  int64_t workers = 0;      // parallel only
};

// Figures from the client latencies and server `took` values of `requests` requests that
// wrote `rows` rows in `seconds`.
WorkloadResult Summarize(std::string_view name, int64_t rows, double seconds,
                         const LatencyHistogram& latency, const LatencyHistogram& took);

struct BenchReport {
  std::string url;
  std::string timestamp;  // RFC 3339, UTC
  std::optional<double> duration_s;
  std::vector<WorkloadResult> workloads;  // in run order
  const WorkloadResult* Find(std::string_view name) const;
};

// {"url":..,"timestamp":..,"single":{"rows":..,"seconds":..,...},"batched":{..},...}
std::string ReportToJson(const BenchReport& report);
// Parses ReportToJson's output (unknown keys are ignored; workload keys other than the three
// names are skipped). nullopt with `error` set when it is not such a document.
std::optional<BenchReport> ReportFromJson(std::string_view json, std::string* error);

// The summary table (one line per workload) and the batched/single and parallel/single
// ratios of rows/s when both workloads ran.
std::string FormatSummary(const BenchReport& report);
// Per workload present in both and metric: before -> after, the change in % and whether it is
// better (rows/s up, latency down).
std::string FormatComparison(const BenchReport& before, const BenchReport& after,
                             std::string_view before_label);

// Runs the benchmark described by `options` (bench_run.cc); prints to stdout/stderr and
// returns the exit code.
int RunInsertBench(const BenchOptions& options);

}  // namespace kalamdb::cli
