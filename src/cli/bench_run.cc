// bench_run.cc: the workloads of `kalam bench insert` against a server (see bench.h).
//
// One login (or --token) gives the access token; every connection uses it, so the parallel
// workers cost no extra bcrypt logins and stay clear of the server's auth rate limit. Each
// worker opens its own keep-alive connection with a SELECT 1 before the clock starts. Latency
// is the steady-clock time around Connection::Execute; `took` is the server's own figure.
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <latch>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "cli/bench.h"
#include "cli/connection.h"
#include "common/json_writer.h"
#include "http/client.h"

namespace kalamdb::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

// ---- Ctrl-C ----------------------------------------------------------------------------------

std::atomic<bool> g_interrupted{false};

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

// SIGINT/SIGTERM set a flag that every loop checks; the request in flight finishes (the client
// retries EINTR), then the namespace is dropped. A second Ctrl-C kills (SA_RESETHAND).
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

bool Interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

// ---- helpers ---------------------------------------------------------------------------------

struct Failure {
  std::string code;
  std::string message;
};

void PrintFailure(const Failure& failure) {
  std::cout << std::flush;
  std::cerr << "ERROR " << failure.code << ": " << failure.message << std::endl;
}

std::string NowRfc3339() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// POST /v1/api/auth/login -> the access token, or the server's error.
std::optional<Failure> LoginForToken(const ServerUrl& url, const std::string& user,
                                     const std::string& password, std::string* token) {
  http::Client client(url.host, url.port, 60000);
  std::string body;
  JsonWriter writer(body);
  writer.BeginObject().Key("user").String(user).Key("password").String(password).EndObject();
  auto response =
      client.Send("POST", "/v1/api/auth/login", body, {{"Content-Type", "application/json"}});
  if (!response.ok()) {
    return Failure{"CONNECTION_FAILED", std::string(response.status().message())};
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(response->body);
  simdjson::dom::element root;
  bool parsed = parser.parse(padded).get(root) == simdjson::SUCCESS;
  std::string_view text;
  if (response->status == 200 && parsed &&
      root["access_token"].get_string().get(text) == simdjson::SUCCESS) {
    *token = std::string(text);
    return std::nullopt;
  }
  Failure failure{"HTTP_" + std::to_string(response->status), response->body.substr(0, 500)};
  if (response->status == 200) failure = {"INVALID_RESPONSE", "login answer without access_token"};
  if (parsed && root["error"].get_string().get(text) == simdjson::SUCCESS) {
    failure.code = std::string(text);
  }
  if (parsed && root["message"].get_string().get(text) == simdjson::SUCCESS) {
    failure.message = std::string(text);
  }
  return failure;
}

std::optional<Failure> Run(Connection& connection, const std::string& sql) {
  SqlResponse response = connection.Execute(sql);
  if (!response.ok) return Failure{response.error_code, response.error_message};
  return std::nullopt;
}

// One timed INSERT that must report `rows` rows.
std::optional<Failure> TimedInsert(Connection& connection, const std::string& sql, int64_t rows,
                                   LatencyHistogram& latency, LatencyHistogram& took) {
  Clock::time_point start = Clock::now();
  SqlResponse response = connection.Execute(sql);
  Clock::time_point end = Clock::now();
  if (!response.ok) return Failure{response.error_code, response.error_message};
  latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
  took.Record(std::llround(response.took_ms * 1e6));
  if (response.results.empty() || response.results[0].row_count != rows) {
    std::string got = response.results.empty() ? "no result" : response.results[0].message;
    return Failure{"UNEXPECTED_RESULT",
                   "expected 'Inserted " + std::to_string(rows) + " row(s)', got '" + got + "'"};
  }
  return std::nullopt;
}

// ---- progress --------------------------------------------------------------------------------

// A "\r"-overwritten line on stderr while a workload runs, when stderr is a terminal and the run
// is long: duration mode, or past 2 s.
class Progress {
 public:
  Progress(std::string label, std::optional<double> duration_s, int64_t total_rows,
           const std::atomic<int64_t>& rows)
      : label_(std::move(label)), duration_s_(duration_s), total_rows_(total_rows), rows_(rows) {
    if (isatty(STDERR_FILENO) == 1) thread_ = std::thread([this] { Loop(); });
  }
  ~Progress() { Stop(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    Clock::time_point start = Clock::now();
    bool shown = false;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
      double elapsed = SecondsBetween(start, Clock::now());
      if (!duration_s_ && elapsed < 2) continue;
      int64_t rows = rows_.load(std::memory_order_relaxed);
      char line[160];
      if (duration_s_) {
        std::snprintf(line, sizeof(line), "\r%s: %.1f/%.0f s, %lld rows, %.0f rows/s\033[K",
                      label_.c_str(), elapsed, *duration_s_, static_cast<long long>(rows),
                      static_cast<double>(rows) / elapsed);
      } else {
        std::snprintf(line, sizeof(line), "\r%s: %lld/%lld rows, %.1f s, %.0f rows/s\033[K",
                      label_.c_str(), static_cast<long long>(rows),
                      static_cast<long long>(total_rows_), elapsed,
                      static_cast<double>(rows) / elapsed);
      }
      std::fputs(line, stderr);
      shown = true;
    }
    if (shown) std::fputs("\r\033[K", stderr);
  }

  std::string label_;
  std::optional<double> duration_s_;
  int64_t total_rows_;
  const std::atomic<int64_t>& rows_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// ---- the workloads ---------------------------------------------------------------------------

struct Measured {
  int64_t rows = 0;
  double seconds = 0;
  LatencyHistogram latency;
  LatencyHistogram took;
};

struct Bench {
  const BenchOptions& options;
  ServerUrl url;
  std::string token;
  Connection& main;

  std::string Table(Workload workload) const {
    std::string_view name = workload == Workload::kBatched ? "batch" : WorkloadName(workload);
    return options.ns + "." + std::string(name);
  }

  // Whether request `i` (0-based) of a sequential loop should be sent.
  bool Continue(int64_t i, int64_t count, Clock::time_point deadline) const {
    if (Interrupted()) return false;
    return options.duration_s ? Clock::now() < deadline : i < count;
  }

  Clock::time_point Deadline(Clock::time_point start) const {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(options.duration_s.value_or(0)));
  }

  std::optional<Failure> Single(Measured& m) {
    std::atomic<int64_t> done{0};
    Progress progress("single", options.duration_s, options.single, done);
    std::string table = Table(Workload::kSingle);
    Clock::time_point start = Clock::now();
    Clock::time_point deadline = Deadline(start);
    for (int64_t i = 0; Continue(i, options.single, deadline); ++i) {
      std::string sql = "INSERT INTO " + table + " (id, value) VALUES (" + std::to_string(i) +
                        ", 'v" + std::to_string(i) + "')";
      if (auto failure = TimedInsert(main, sql, 1, m.latency, m.took)) return failure;
      ++m.rows;
      done.store(m.rows, std::memory_order_relaxed);
    }
    m.seconds = SecondsBetween(start, Clock::now());
    return std::nullopt;
  }

  std::optional<Failure> Batched(Measured& m) {
    std::atomic<int64_t> done{0};
    Progress progress("batched", options.duration_s, options.batches * options.batch_size, done);
    std::string table = Table(Workload::kBatched);
    Clock::time_point start = Clock::now();
    Clock::time_point deadline = Deadline(start);
    std::string sql;
    for (int64_t b = 0; Continue(b, options.batches, deadline); ++b) {
      sql = "INSERT INTO " + table + " (id, value, batch_id) VALUES ";
      for (int64_t k = 0; k < options.batch_size; ++k) {
        std::string id = std::to_string(b * options.batch_size + k);
        if (k > 0) sql += ", ";
        sql += "(" + id + ", 'batch_value_" + id + "', " + std::to_string(b) + ")";
      }
      if (auto failure = TimedInsert(main, sql, options.batch_size, m.latency, m.took)) {
        return failure;
      }
      m.rows += options.batch_size;
      done.store(m.rows, std::memory_order_relaxed);
    }
    m.seconds = SecondsBetween(start, Clock::now());
    return std::nullopt;
  }

  std::optional<Failure> Parallel(Measured& m) {
    struct Worker {
      LatencyHistogram latency;
      LatencyHistogram took;
      int64_t rows = 0;
      std::optional<Failure> failure;
    };
    auto workers = static_cast<size_t>(options.workers);
    std::vector<Worker> states(workers);
    std::atomic<int64_t> done{0};
    std::atomic<bool> stop{false};
    std::latch ready(static_cast<std::ptrdiff_t>(workers));
    std::latch go(1);
    Clock::time_point start;  // written before `go` opens
    std::string table = Table(Workload::kParallel);
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        Worker& state = states[w];
        Connection connection(url);
        connection.SetAccessToken(token);
        // Opens this worker's keep-alive connection (and checks the token) off the clock.
        state.failure = Run(connection, "SELECT 1");
        if (state.failure) stop.store(true);
        ready.count_down();
        go.wait();
        Clock::time_point deadline = Deadline(start);
        std::string prefix = "INSERT INTO " + table + " (worker, value) VALUES (" +
                             std::to_string(w) + ", 'w" + std::to_string(w) + "_";
        for (int64_t i = 0;
             !stop.load(std::memory_order_relaxed) && Continue(i, options.per_worker, deadline);
             ++i) {
          std::string sql = prefix + std::to_string(i) + "')";
          state.failure = TimedInsert(connection, sql, 1, state.latency, state.took);
          if (state.failure) {
            stop.store(true);
            break;
          }
          ++state.rows;
          done.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    ready.wait();
    std::optional<Progress> progress;
    if (!stop.load()) {
      progress.emplace("parallel", options.duration_s, options.workers * options.per_worker, done);
    }
    start = Clock::now();
    go.count_down();
    for (std::thread& thread : threads) thread.join();
    m.seconds = SecondsBetween(start, Clock::now());
    if (progress) progress->Stop();
    for (Worker& state : states) {
      if (state.failure) return state.failure;
      m.latency.Merge(state.latency);
      m.took.Merge(state.took);
      m.rows += state.rows;
    }
    return std::nullopt;
  }

  // SELECT COUNT(*) must match what the INSERT answers acknowledged.
  std::optional<Failure> CheckCount(Workload workload, int64_t expected) {
    std::string sql = "SELECT COUNT(*) FROM " + Table(workload);
    SqlResponse response = main.Execute(sql);
    if (!response.ok) return Failure{response.error_code, response.error_message};
    int64_t count = -1;
    if (!response.results.empty() && response.results[0].rows.size() == 1 &&
        response.results[0].rows[0].size() == 1) {
      const std::string& text = response.results[0].rows[0][0].text;
      count = std::strtoll(text.c_str(), nullptr, 10);
    }
    if (count != expected) {
      return Failure{"COUNT_MISMATCH", sql + " gave " + std::to_string(count) + ", expected " +
                                           std::to_string(expected) + " acknowledged rows"};
    }
    return std::nullopt;
  }
};

constexpr char kSingleColumns[] =
    "(id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMP DEFAULT NOW())";
constexpr char kBatchColumns[] = "(id BIGINT PRIMARY KEY, value TEXT NOT NULL, batch_id INT)";
constexpr char kParallelColumns[] =
    "(id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)";

const char* ColumnsOf(Workload workload) {
  switch (workload) {
    case Workload::kSingle:
      return kSingleColumns;
    case Workload::kBatched:
      return kBatchColumns;
    case Workload::kParallel:
      return kParallelColumns;
  }
  return "";
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whether `path` can be written: an existing writable file, or a new one in a writable folder.
bool Writable(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return access(path.c_str(), W_OK) == 0;
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  return access(folder.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

int RunInsertBench(const BenchOptions& options) {
  // Everything that can be checked without the server comes first.
  std::optional<BenchReport> before;
  if (!options.compare_path.empty()) {
    std::optional<std::string> text = ReadWholeFile(options.compare_path);
    std::string error = "cannot read it";
    if (text) before = ReportFromJson(*text, &error);
    if (!before) {
      std::cerr << "kalam bench: --compare " << options.compare_path << ": " << error << std::endl;
      return kExitUsage;
    }
  }
  if (!options.json_path.empty() && !Writable(options.json_path)) {
    std::cerr << "kalam bench: --json " << options.json_path << ": cannot write there" << std::endl;
    return kExitUsage;
  }
  std::optional<ServerUrl> url = ParseServerUrl(options.url);
  if (!url) {
    std::cerr << "kalam bench: --url: cannot use '" << options.url << "'" << std::endl;
    return kExitUsage;
  }

  InterruptGuard interrupt_guard;
  std::string token = options.token;
  if (token.empty()) {
    if (auto failure = LoginForToken(*url, options.user, options.password, &token)) {
      PrintFailure(*failure);
      std::cerr << "kalam bench: login as '" << options.user << "' to " << options.url << " failed"
                << std::endl;
      return kExitFailed;
    }
  }
  Connection main(*url);
  main.SetAccessToken(token);
  Bench bench{options, *url, token, main};

  bool created = false;
  // Drops the namespace (unless --keep) and passes `code` on; a failed drop fails the run.
  auto finish = [&](int code) {
    if (!created) return code;
    if (options.keep) {
      std::cout << "kept namespace " << options.ns << std::endl;
      return code;
    }
    if (auto failure = Run(main, "DROP NAMESPACE IF EXISTS " + options.ns + " CASCADE")) {
      PrintFailure(*failure);
      std::cerr << "kalam bench: could not drop namespace " << options.ns << std::endl;
      return kExitFailed;
    }
    std::cout << "dropped namespace " << options.ns << std::endl;
    return code;
  };
  auto fail = [&](const Failure& failure, const std::string& context) {
    PrintFailure(failure);
    if (!context.empty()) std::cerr << "kalam bench: " << context << std::endl;
    return finish(kExitFailed);
  };
  auto interrupted = [&] {
    std::cout << std::flush;
    std::cerr << "kalam bench: interrupted" << std::endl;
    return finish(kExitInterrupted);
  };

  std::cout << "kalam bench insert: " << options.url << ", user "
            << (options.token.empty() ? options.user : "(token)") << ", namespace " << options.ns;
  if (options.duration_s) {
    std::cout << ", " << *options.duration_s << " s per workload";
  }
  std::cout << std::endl;

  if (auto failure = Run(main, "CREATE NAMESPACE " + options.ns)) {
    return fail(*failure, "cannot create namespace " + options.ns);
  }
  created = true;
  for (Workload workload : options.workloads) {
    std::string sql = "CREATE TABLE " + bench.Table(workload) + " " + ColumnsOf(workload);
    if (auto failure = Run(main, sql)) return fail(*failure, sql);
  }

  BenchReport report;
  report.url = options.url;
  report.timestamp = NowRfc3339();
  report.duration_s = options.duration_s;
  for (Workload workload : options.workloads) {
    if (Interrupted()) return interrupted();
    Measured m;
    std::optional<Failure> failure;
    switch (workload) {
      case Workload::kSingle:
        failure = bench.Single(m);
        break;
      case Workload::kBatched:
        failure = bench.Batched(m);
        break;
      case Workload::kParallel:
        failure = bench.Parallel(m);
        break;
    }
    if (failure) return fail(*failure, std::string(WorkloadName(workload)) + " workload failed");
    if (Interrupted()) return interrupted();
    if (auto count_failure = bench.CheckCount(workload, m.rows)) {
      return fail(*count_failure, "");
    }
    WorkloadResult result = Summarize(WorkloadName(workload), m.rows, m.seconds, m.latency, m.took);
    if (workload == Workload::kBatched) result.batch_size = options.batch_size;
    if (workload == Workload::kParallel) result.workers = options.workers;
    report.workloads.push_back(std::move(result));
  }

  std::cout << '\n' << FormatSummary(report);
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path, std::ios::trunc);
    out << ReportToJson(report);
    out.close();
    if (!out) {
      return fail(Failure{"FILE_WRITE", "cannot write '" + options.json_path + "'"}, "");
    }
    std::cout << "\nsaved " << options.json_path << std::endl;
  }
  if (before) std::cout << '\n' << FormatComparison(*before, report, options.compare_path);
  std::cout << std::endl;
  return finish(0);
}

}  // namespace kalamdb::cli
