#include "cli/bench.h"

#include <simdjson.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <utility>

#include "cli/connection.h"
#include "cli/options.h"
#include "common/json_writer.h"

namespace kalamdb::cli {
namespace {

// Each power-of-two range [2^m, 2^(m+1)) above 2^kSubBits is split into 2^kSubBits buckets:
// a bucket is at most 1/128 of its values wide, so its midpoint is within 0.4 % of each.
constexpr int kSubBits = 7;
constexpr int64_t kSubCount = int64_t{1} << kSubBits;

}  // namespace

// ---- LatencyHistogram ------------------------------------------------------------------------

size_t LatencyHistogram::BucketOf(int64_t ns) {
  uint64_t value = ns < 0 ? 0 : static_cast<uint64_t>(ns);
  if (value < static_cast<uint64_t>(kSubCount)) return static_cast<size_t>(value);
  int magnitude = std::bit_width(value) - 1;  // >= kSubBits
  int shift = magnitude - kSubBits;
  uint64_t sub = (value >> shift) - static_cast<uint64_t>(kSubCount);
  return static_cast<size_t>(kSubCount + shift * kSubCount + static_cast<int64_t>(sub));
}

double LatencyHistogram::BucketMid(size_t index) {
  auto i = static_cast<int64_t>(index);
  if (i < kSubCount) return static_cast<double>(i);
  int64_t shift = (i - kSubCount) / kSubCount;
  int64_t sub = (i - kSubCount) % kSubCount;
  int64_t low = (kSubCount + sub) << shift;
  int64_t width = int64_t{1} << shift;
  // The bucket holds the integers low .. low + width - 1.
  return static_cast<double>(low) + static_cast<double>(width - 1) / 2.0;
}

LatencyHistogram::LatencyHistogram() : counts_(BucketOf(kMaxNs) + 1, 0) {}

void LatencyHistogram::Record(int64_t ns) {
  sum_ns_ += static_cast<double>(ns);
  int64_t value = std::clamp(ns, kMinNs, kMaxNs);
  ++counts_[BucketOf(value)];
  if (count_ == 0 || value < min_ns_) min_ns_ = value;
  if (value > max_ns_) max_ns_ = value;
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ns_ < min_ns_) min_ns_ = other.min_ns_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
  count_ += other.count_;
}

int64_t LatencyHistogram::NearestRank(double q, int64_t n) {
  if (n <= 0) return 0;
  q = std::clamp(q, 0.0, 100.0);
  // A hair below the exact product, so 95 % of 20 is rank 19, not 20 after rounding noise.
  auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(n) / 100.0 - 1e-9));
  return std::clamp<int64_t>(rank, 1, n);
}

double LatencyHistogram::PercentileNs(double q) const {
  if (count_ == 0) return 0;
  int64_t rank = NearestRank(q, count_);
  // The extremes are known exactly.
  if (rank <= 1) return static_cast<double>(min_ns_);
  if (rank >= count_) return static_cast<double>(max_ns_);
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(BucketMid(i), static_cast<double>(min_ns_), static_cast<double>(max_ns_));
    }
  }
  return static_cast<double>(max_ns_);
}

// ---- options ---------------------------------------------------------------------------------

std::string_view WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kSingle:
      return "single";
    case Workload::kBatched:
      return "batched";
    case Workload::kParallel:
      return "parallel";
  }
  return "?";
}

namespace {

std::optional<Workload> WorkloadFromName(std::string_view name) {
  for (Workload workload : kAllWorkloads) {
    if (WorkloadName(workload) == name) return workload;
  }
  return std::nullopt;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

// An integer option in [low, high], with a message naming the range.
CLI::Validator IntIn(int64_t low, int64_t high) {
  std::string range = std::to_string(low) + ".." + std::to_string(high);
  return CLI::Validator(
      [low, high](std::string& value) -> std::string {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || end != value.data() + value.size() || n < low || n > high) {
          return "must be an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                 ", got '" + value + "'";
        }
        return "";
      },
      range);
}

CLI::Validator Seconds() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double seconds = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc() || end != value.data() + value.size() || !(seconds > 0) ||
            seconds > 86400) {
          return "must be a number of seconds above 0 and at most 86400, got '" + value + "'";
        }
        return "";
      },
      "SECONDS");
}

CLI::Validator WorkloadList() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        for (std::string_view part : SplitCommas(value)) {
          if (!WorkloadFromName(part)) {
            return "'" + std::string(part) +
                   "' is not a workload (expected single, batched or parallel, or a comma list)";
          }
        }
        return "";
      },
      "single|batched|parallel");
}

CLI::Validator NamespaceName() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        bool ok = !value.empty() && value.size() <= 64 && !(value[0] >= '0' && value[0] <= '9');
        for (char c : value) {
          ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
        }
        if (!ok) {
          return "'" + value +
                 "' is not a plain namespace name (lower-case letters, digits and _, not "
                 "starting with a digit, at most 64)";
        }
        return "";
      },
      "NAME");
}

}  // namespace

BenchArgs ParseBenchArgs(const std::vector<std::string>& args, const char* (*env)(const char*),
                         int pid) {
  BenchArgs out;
  BenchOptions o;
  ConnectionOptions conn = ConnectionDefaults(env);
  o.ns = "bench_" + std::to_string(pid);
  std::string only;
  double duration = 0;

  CLI::App app{"kalam bench: benchmarks against a running server (shared/spec/benchmarks.md)",
               "kalam bench"};
  app.require_subcommand(1);
  CLI::App* insert = app.add_subcommand(
      "insert",
      "insert throughput: single-row, batched and parallel INSERTs into a fresh namespace, "
      "with client latency percentiles and the server's own time");
  AddConnectionOptions(*insert, conn);
  auto* single_opt = insert->add_option("--single", o.single, "single-row INSERTs")
                         ->check(IntIn(1, 100'000'000))
                         ->capture_default_str();
  auto* batches_opt = insert->add_option("--batches", o.batches, "batched INSERT requests")
                          ->check(IntIn(1, 10'000'000))
                          ->capture_default_str();
  insert->add_option("--batch-size", o.batch_size, "rows per batched INSERT")
      ->check(IntIn(1, 100'000))
      ->capture_default_str();
  insert->add_option("--workers", o.workers, "parallel workers, one connection each")
      ->check(IntIn(1, 512))
      ->capture_default_str();
  auto* per_worker_opt =
      insert->add_option("--per-worker", o.per_worker, "single-row INSERTs per parallel worker")
          ->check(IntIn(1, 100'000'000))
          ->capture_default_str();
  auto* duration_opt = insert
                           ->add_option("--duration", duration,
                                        "run each workload this many seconds instead of a count")
                           ->check(Seconds());
  duration_opt->excludes(single_opt)->excludes(batches_opt)->excludes(per_worker_opt);
  auto* only_opt = insert->add_option("--only", only, "run only these workloads (comma list)")
                       ->check(WorkloadList());
  insert->add_option("--namespace", o.ns, "namespace to create (must not exist)")
      ->check(NamespaceName())
      ->capture_default_str();
  insert->add_option("--json", o.json_path, "save the figures as JSON");
  insert->add_option("--compare", o.compare_path, "compare with figures saved by --json");
  insert->add_flag("--keep", o.keep, "keep the namespace and its rows afterwards");

  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      std::ostringstream help;
      std::ostringstream ignored;
      app.exit(e, help, ignored);
      out.out = help.str();
      out.exit_code = 0;
      return out;
    }
    out.err = "kalam bench: " + std::string(e.what()) +
              "\nRun 'kalam bench insert --help' for the options.\n";
    out.exit_code = 2;
    return out;
  }
  o.url = std::move(conn.url);
  o.user = std::move(conn.user);
  o.password = std::move(conn.password);
  o.token = std::move(conn.token);
  if (!ParseServerUrl(o.url)) {
    out.err = "kalam bench: --url: cannot use '" + o.url + "' (expected http://host:port)\n";
    out.exit_code = 2;
    return out;
  }
  if (*duration_opt) o.duration_s = duration;
  if (*only_opt) {
    std::vector<std::string_view> names = SplitCommas(only);
    o.workloads.clear();
    for (Workload workload : kAllWorkloads) {  // always in the canonical order
      if (std::find(names.begin(), names.end(), WorkloadName(workload)) != names.end()) {
        o.workloads.push_back(workload);
      }
    }
  }
  out.options = std::move(o);
  return out;
}

// ---- report ----------------------------------------------------------------------------------

WorkloadResult Summarize(std::string_view name, int64_t rows, double seconds,
                         const LatencyHistogram& latency, const LatencyHistogram& took) {
  WorkloadResult r;
  r.name = std::string(name);
  r.rows = rows;
  r.requests = latency.count();
  r.seconds = seconds;
  r.rows_per_sec = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
  r.p50_us = latency.PercentileNs(50) / 1e3;
  r.p95_us = latency.PercentileNs(95) / 1e3;
  r.p99_us = latency.PercentileNs(99) / 1e3;
  r.max_us = static_cast<double>(latency.max_ns()) / 1e3;
  r.server_took_p50_us = took.PercentileNs(50) / 1e3;
  r.server_took_total_ms = took.sum_ns() / 1e6;
  r.server_share = latency.sum_ns() > 0 ? took.sum_ns() / latency.sum_ns() : 0;
  return r;
}

const WorkloadResult* BenchReport::Find(std::string_view name) const {
  for (const WorkloadResult& workload : workloads) {
    if (workload.name == name) return &workload;
  }
  return nullptr;
}

std::string ReportToJson(const BenchReport& report) {
  std::string json;
  JsonWriter w(json);
  w.BeginObject();
  w.Key("url").String(report.url);
  w.Key("timestamp").String(report.timestamp);
  if (report.duration_s) w.Key("duration_s").Double(*report.duration_s, 3);
  for (const WorkloadResult& r : report.workloads) {
    w.Key(r.name).BeginObject();
    w.Key("rows").Int(r.rows);
    w.Key("requests").Int(r.requests);
    w.Key("seconds").Double(r.seconds, 9);
    w.Key("rows_per_sec").Double(r.rows_per_sec, 3);
    w.Key("p50_us").Double(r.p50_us, 3);
    w.Key("p95_us").Double(r.p95_us, 3);
    w.Key("p99_us").Double(r.p99_us, 3);
    w.Key("max_us").Double(r.max_us, 3);
    w.Key("server_took_p50_us").Double(r.server_took_p50_us, 3);
    w.Key("server_took_total_ms").Double(r.server_took_total_ms, 3);
    w.Key("server_share").Double(r.server_share, 4);
    if (r.batch_size > 0) w.Key("batch_size").Int(r.batch_size);
    if (r.workers > 0) w.Key("workers").Int(r.workers);
    w.EndObject();
  }
  w.EndObject();
  json += '\n';
  return json;
}

namespace {

bool NumberField(simdjson::dom::object object, std::string_view key, double* value) {
  return object[key].get_double().get(*value) == simdjson::SUCCESS;
}

bool IntField(simdjson::dom::object object, std::string_view key, int64_t* value) {
  if (object[key].get_int64().get(*value) == simdjson::SUCCESS) return true;
  double number = 0;
  if (!NumberField(object, key, &number) || !std::isfinite(number)) return false;
  *value = std::llround(number);
  return true;
}

}  // namespace

std::optional<BenchReport> ReportFromJson(std::string_view json, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  BenchReport report;
  std::string_view text;
  if (root["url"].get_string().get(text) == simdjson::SUCCESS) report.url = std::string(text);
  if (root["timestamp"].get_string().get(text) == simdjson::SUCCESS) {
    report.timestamp = std::string(text);
  }
  double duration = 0;
  if (NumberField(root, "duration_s", &duration)) report.duration_s = duration;
  for (Workload workload : kAllWorkloads) {
    std::string_view name = WorkloadName(workload);
    simdjson::dom::element element;
    if (root[name].get(element) != simdjson::SUCCESS) continue;
    simdjson::dom::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS) {
      *error = std::string(name) + ": not an object";
      return std::nullopt;
    }
    WorkloadResult r;
    r.name = std::string(name);
    std::pair<const char*, double*> required[] = {
        {"seconds", &r.seconds}, {"rows_per_sec", &r.rows_per_sec},
        {"p50_us", &r.p50_us},   {"p95_us", &r.p95_us},
        {"p99_us", &r.p99_us},   {"max_us", &r.max_us}};
    if (!IntField(object, "rows", &r.rows)) {
      *error = std::string(name) + ": no number 'rows'";
      return std::nullopt;
    }
    for (auto& [key, value] : required) {
      if (!NumberField(object, key, value)) {
        *error = std::string(name) + ": no number '" + key + "'";
        return std::nullopt;
      }
    }
    IntField(object, "requests", &r.requests);
    NumberField(object, "server_took_p50_us", &r.server_took_p50_us);
    NumberField(object, "server_took_total_ms", &r.server_took_total_ms);
    NumberField(object, "server_share", &r.server_share);
    IntField(object, "batch_size", &r.batch_size);
    IntField(object, "workers", &r.workers);
    report.workloads.push_back(std::move(r));
  }
  if (report.workloads.empty()) {
    *error = "no workload (single, batched or parallel) in it";
    return std::nullopt;
  }
  return report;
}

// ---- text output -----------------------------------------------------------------------------

namespace {

// Code points of UTF-8 text (for column widths: "µs", "→").
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return width;
}

// Rows of cells (the first is the header) as aligned columns two spaces apart; columns with
// `right[i]` are right-aligned. Trailing blanks are dropped.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right) {
  std::vector<size_t> widths(right.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      std::string pad(widths[i] - DisplayWidth(row[i]), ' ');
      line += right[i] ? pad + row[i] : row[i] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// 1234567 -> "1,234,567".
std::string Grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

// Rates and microseconds: grouped integers from 100 up, else one or two decimals.
std::string Figure(double value) {
  if (!std::isfinite(value)) return "-";
  if (std::fabs(value) >= 100) return Grouped(std::llround(value));
  if (std::fabs(value) >= 10) return Printf("%.1f", value);
  return Printf("%.2f", value);
}

}  // namespace

std::string FormatSummary(const BenchReport& report) {
  std::vector<std::vector<std::string>> rows{{"workload", "rows", "requests", "seconds", "rows/s",
                                              "p50 µs", "p95 µs", "p99 µs", "max µs",
                                              "server p50 µs", "server share"}};
  for (const WorkloadResult& r : report.workloads) {
    rows.push_back({r.name, Grouped(r.rows), Grouped(r.requests),
                    Printf(r.seconds < 1 ? "%.4f" : "%.3f", r.seconds), Figure(r.rows_per_sec),
                    Figure(r.p50_us), Figure(r.p95_us), Figure(r.p99_us), Figure(r.max_us),
                    Figure(r.server_took_p50_us), Printf("%.0f %%", r.server_share * 100)});
  }
  std::string out =
      RenderTable(rows, {false, true, true, true, true, true, true, true, true, true, true});
  const WorkloadResult* single = report.Find("single");
  std::vector<std::vector<std::string>> ratios;
  for (const char* name : {"batched", "parallel"}) {
    const WorkloadResult* other = report.Find(name);
    if (single == nullptr || other == nullptr || single->rows_per_sec <= 0) continue;
    ratios.push_back({std::string(name) + "/single",
                      Printf("%.2fx", other->rows_per_sec / single->rows_per_sec), "rows/s"});
  }
  if (!ratios.empty()) out += '\n' + RenderTable(ratios, {false, true, false});
  return out;
}

std::string FormatComparison(const BenchReport& before, const BenchReport& after,
                             std::string_view before_label) {
  struct Metric {
    const char* label;
    double WorkloadResult::*field;
    bool higher_is_better;
  };
  static constexpr Metric kMetrics[] = {
      {"rows/s", &WorkloadResult::rows_per_sec, true},
      {"p50 µs", &WorkloadResult::p50_us, false},
      {"p95 µs", &WorkloadResult::p95_us, false},
      {"p99 µs", &WorkloadResult::p99_us, false},
      {"max µs", &WorkloadResult::max_us, false},
      {"server p50 µs", &WorkloadResult::server_took_p50_us, false},
  };
  std::string out = "compared with " + std::string(before_label);
  if (!before.timestamp.empty()) out += " (" + before.timestamp + ")";
  out += ":\n";
  std::vector<std::vector<std::string>> rows{
      {"workload", "metric", "before", "", "after", "change", ""}};
  std::vector<std::string> missing;
  for (const WorkloadResult& now : after.workloads) {
    const WorkloadResult* then = before.Find(now.name);
    if (then == nullptr) {
      missing.push_back(now.name);
      continue;
    }
    for (const Metric& metric : kMetrics) {
      double a = then->*metric.field;
      double b = now.*metric.field;
      // Files without the server figures (older or hand-written) just skip that metric.
      if (metric.field == &WorkloadResult::server_took_p50_us && (a <= 0 || b <= 0)) continue;
      std::string change = "n/a";
      std::string verdict;
      if (a > 0) {
        double percent = (b - a) / a * 100;
        change = Printf("%+.1f%%", percent);
        if (std::fabs(percent) < 0.05) {
          verdict = "same";
        } else {
          verdict = (percent > 0) == metric.higher_is_better ? "better" : "worse";
        }
      }
      rows.push_back({now.name, metric.label, Figure(a), "→", Figure(b), change, verdict});
    }
  }
  out += RenderTable(rows, {false, false, true, false, true, true, false});
  for (const std::string& name : missing) {
    out += name + ": not in " + std::string(before_label) + "\n";
  }
  return out;
}

// ---- entry point -----------------------------------------------------------------------------

int BenchMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  BenchArgs parsed = ParseBenchArgs(
      args, [](const char* name) -> const char* { return std::getenv(name); },
      static_cast<int>(getpid()));
  std::cout << parsed.out << std::flush;
  std::cerr << parsed.err << std::flush;
  if (!parsed.options) return parsed.exit_code;
  return RunInsertBench(*parsed.options);
}

}  // namespace kalamdb::cli
