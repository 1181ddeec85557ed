// cli_bench_test.cc: `kalam bench insert` (the real binary) against the real server: the table,
// the saved JSON, the comparison, duration mode, failures, and that nothing is left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/e2e_helpers.h"
#include "support/temp_dir.h"

#ifndef KALAM_BIN
#error "KALAM_BIN must be defined to the path of the kalam binary"
#endif

namespace kalamdb::test {
namespace {

using BenchRun = RunResult;

// Runs `kalam bench insert <args>` (stdin and stdout are files: no progress line).
BenchRun RunBench(const ServerProcess& server, const std::vector<std::string>& args,
                  const std::string& password = kRootPassword) {
  std::vector<std::string> all{"bench", "insert"};
  all.insert(all.end(), args.begin(), args.end());
  return RunKalam(server, all, "", password);
}

// The small counts of the tests: 20 single rows, 3 batches of 10, 3 workers x 5.
const std::vector<std::string> kTiny{"--single",  "20", "--batches",    "3", "--batch-size", "10",
                                     "--workers", "3",  "--per-worker", "5"};

std::vector<std::string> Args(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) lines.push_back(line);
  }
  return lines;
}

class CliBenchE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  // Runs `sql` as root (Basic auth) and returns the response body.
  std::string Sql(const std::string& sql) {
    ClientResponse response =
        Call(server_.Port(), "POST", "/v1/api/sql", "{\"sql\":" + Quoted(sql) + "}",
             {{"Authorization", BasicAuth("root", kRootPassword)},
              {"Content-Type", "application/json"}});
    EXPECT_EQ(response.status, 200) << sql << " -> " << response.body;
    return response.body;
  }

  // SELECT COUNT(*) FROM `table`, or -1.
  int64_t Count(const std::string& table) {
    JsonDoc doc(Sql("SELECT COUNT(*) FROM " + table));
    std::optional<std::string> text = doc.Str("/results/0/rows/0/0");
    if (text) return std::stoll(*text);
    return doc.Int("/results/0/rows/0/0").value_or(-1);
  }

  // Whether the server still knows namespace `ns` or any table in it.
  void ExpectGone(const std::string& ns) {
    JsonDoc namespaces(Sql("SHOW NAMESPACES"));
    ASSERT_TRUE(namespaces.ok());
    for (int64_t i = 0; i < namespaces.Size("/results/0/rows"); ++i) {
      EXPECT_NE(namespaces.Str("/results/0/rows/" + std::to_string(i) + "/0"), ns);
    }
    std::string tables = Sql("SELECT namespace_id, table_name FROM system.tables");
    EXPECT_EQ(tables.find("\"" + ns + "\""), std::string::npos) << tables;
    // The same names again start empty: the drop took the rows with it.
    Sql("CREATE NAMESPACE " + ns);
    Sql("CREATE TABLE " + ns + ".single (id BIGINT PRIMARY KEY, value TEXT NOT NULL)");
    Sql("CREATE TABLE " + ns + ".batch (id BIGINT PRIMARY KEY, value TEXT NOT NULL)");
    Sql("CREATE TABLE " + ns + ".parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, value TEXT)");
    for (const char* table : {".single", ".batch", ".parallel"}) {
      EXPECT_EQ(Count(ns + table), 0) << table;
    }
    Sql("DROP NAMESPACE " + ns + " CASCADE");
  }

  ServerProcess server_{RootServerOptions()};
};

TEST_F(CliBenchE2E, BenchTinyRunPrintsTableSavesJsonAndCleansUp) {
  TempDir dir;
  std::string json_path = dir.path() + "/run.json";
  BenchRun run = RunBench(server_, Args({"--namespace", "bench_e2e", "--json", json_path}, kTiny));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.err, "");
  ASSERT_EQ(LinesStartingWith(run.out, "workload ").size(), 1u) << run.out;
  for (const char* workload : {"single ", "batched ", "parallel "}) {
    EXPECT_EQ(LinesStartingWith(run.out, workload).size(), 1u) << workload << "\n" << run.out;
  }
  EXPECT_EQ(LinesStartingWith(run.out, "batched/single ").size(), 1u) << run.out;
  EXPECT_EQ(LinesStartingWith(run.out, "parallel/single ").size(), 1u) << run.out;
  EXPECT_NE(run.out.find("dropped namespace bench_e2e\n"), std::string::npos) << run.out;

  JsonDoc doc(ReadFile(json_path));
  ASSERT_TRUE(doc.ok()) << ReadFile(json_path);
  EXPECT_EQ(doc.Str("/url"), "http://127.0.0.1:" + std::to_string(server_.Port()));
  EXPECT_TRUE(doc.Str("/timestamp").has_value());
  const std::pair<const char*, int64_t> kExpected[] = {
      {"single", 20}, {"batched", 30}, {"parallel", 15}};
  const std::pair<const char*, int64_t> kRequests[] = {
      {"single", 20}, {"batched", 3}, {"parallel", 15}};
  for (size_t i = 0; i < 3; ++i) {
    std::string w = std::string("/") + kExpected[i].first;
    SCOPED_TRACE(w);
    EXPECT_EQ(doc.Int(w + "/rows"), kExpected[i].second);
    EXPECT_EQ(doc.Int(w + "/requests"), kRequests[i].second);
    double seconds = doc.Number(w + "/seconds").value_or(-1);
    double rate = doc.Number(w + "/rows_per_sec").value_or(-1);
    ASSERT_GT(seconds, 0);
    EXPECT_NEAR(rate, static_cast<double>(kExpected[i].second) / seconds, rate * 0.01);
    double p50 = doc.Number(w + "/p50_us").value_or(-1);
    double p95 = doc.Number(w + "/p95_us").value_or(-1);
    double p99 = doc.Number(w + "/p99_us").value_or(-1);
    double max = doc.Number(w + "/max_us").value_or(-1);
    EXPECT_GT(p50, 0);
    EXPECT_LE(p50, p95);
    EXPECT_LE(p95, p99);
    EXPECT_LE(p99, max);
    // Requests cannot take longer than the whole workload.
    EXPECT_LE(max, seconds * 1e6 * 1.01);
    double server_p50 = doc.Number(w + "/server_took_p50_us").value_or(-1);
    EXPECT_GT(server_p50, 0);
    EXPECT_LE(server_p50, max);
  }
  EXPECT_EQ(doc.Int("/batched/batch_size"), 10);
  EXPECT_EQ(doc.Int("/parallel/workers"), 3);

  ExpectGone("bench_e2e");
}

TEST_F(CliBenchE2E, BenchKeepLeavesTheAcknowledgedRows) {
  BenchRun run = RunBench(server_, Args({"--namespace", "bench_kept", "--keep"}, kTiny));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("kept namespace bench_kept\n"), std::string::npos) << run.out;
  EXPECT_EQ(Count("bench_kept.single"), 20);
  EXPECT_EQ(Count("bench_kept.batch"), 30);
  EXPECT_EQ(Count("bench_kept.parallel"), 15);
  JsonDoc rows(
      Sql("SELECT worker, value FROM bench_kept.parallel WHERE worker = 2 ORDER BY value"));
  EXPECT_EQ(rows.Size("/results/0/rows"), 5);
  EXPECT_EQ(rows.Str("/results/0/rows/0/1"), "w2_0");
}

TEST_F(CliBenchE2E, BenchCompareWithSavedRunPrintsDeltas) {
  TempDir dir;
  std::string saved = dir.path() + "/before.json";
  ASSERT_EQ(RunBench(server_, Args({"--json", saved}, kTiny)).exit_code, 0);
  BenchRun run = RunBench(server_, Args({"--compare", saved}, kTiny));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("compared with " + saved + " ("), std::string::npos) << run.out;
  for (const char* workload : {"single ", "batched ", "parallel "}) {
    // The table line plus one line per compared metric.
    std::vector<std::string> lines = LinesStartingWith(run.out, workload);
    ASSERT_GE(lines.size(), 6u) << workload << "\n" << run.out;
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_NE(lines[i].find(" → "), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find('%'), std::string::npos) << lines[i];
    }
  }
  std::vector<std::string> rate = LinesStartingWith(run.out, "single    rows/s");
  ASSERT_EQ(rate.size(), 1u) << run.out;

  BenchRun missing = RunBench(server_, Args({"--compare", dir.path() + "/nope.json"}, kTiny));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--compare"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.out, "");
}

TEST_F(CliBenchE2E, BenchWrongPasswordExitsOne) {
  BenchRun run = RunBench(server_, Args({"--namespace", "bench_denied"}, kTiny), "wrong-password");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("ERROR unauthorized: Invalid credentials"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("workload"), std::string::npos) << run.out;
  EXPECT_EQ(Sql("SHOW NAMESPACES").find("bench_denied"), std::string::npos);
}

TEST_F(CliBenchE2E, BenchExistingNamespaceIsRefusedAndLeftAlone) {
  Sql("CREATE NAMESPACE taken");
  Sql("CREATE TABLE taken.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL)");
  Sql("INSERT INTO taken.single (id, value) VALUES (1, 'mine')");
  BenchRun run = RunBench(server_, Args({"--namespace", "taken"}, kTiny));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.err.starts_with("ERROR ")) << run.err;
  EXPECT_NE(run.err.find("already exists"), std::string::npos) << run.err;
  EXPECT_EQ(Count("taken.single"), 1);
}

TEST_F(CliBenchE2E, BenchBadTokenFailsBeforeCreatingAnything) {
  BenchRun run =
      RunBench(server_, Args({"--token", "not-a-jwt", "--namespace", "bench_bad"}, kTiny));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.err.starts_with("ERROR INVALID_CREDENTIALS: ")) << run.err;
  EXPECT_EQ(Sql("SHOW NAMESPACES").find("bench_bad"), std::string::npos);
}

// A request the server refuses in the middle of a run: the run stops, says why, drops the
// namespace and exits 1.
TEST(CliBenchFailureE2E, BenchFailedInsertStopsAndDropsTheNamespace) {
  ServerOptions options = RootServerOptions();
  options.config_toml = "[security]\nmax_request_body_size = 4096\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  // 5 single rows pass; a batch of 1000 tuples is about 30 KB, over the limit.
  BenchRun run = RunBench(server, {"--single", "5", "--batches", "2", "--batch-size", "1000",
                                   "--namespace", "bench_fail", "--json", "/dev/null"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_TRUE(run.err.starts_with("ERROR ")) << run.err;
  EXPECT_NE(run.err.find("batched workload failed"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("dropped namespace bench_fail\n"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("workload "), std::string::npos) << "no table after a failure";
  ClientResponse response = Call(
      server.Port(), "POST", "/v1/api/sql", R"({"sql":"SHOW NAMESPACES"})",
      {{"Authorization", BasicAuth("root", kRootPassword)}, {"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.find("bench_fail"), std::string::npos) << response.body;
}

TEST_F(CliBenchE2E, BenchDurationModeRunsEachWorkloadThatLong) {
  TempDir dir;
  std::string json_path = dir.path() + "/duration.json";
  auto start = std::chrono::steady_clock::now();
  BenchRun run = RunBench(server_, {"--duration", "1", "--only", "single", "--json", json_path,
                                    "--namespace", "bench_dur"});
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(LinesStartingWith(run.out, "single ").size(), 1u) << run.out;
  EXPECT_TRUE(LinesStartingWith(run.out, "batched").empty()) << run.out;
  EXPECT_TRUE(LinesStartingWith(run.out, "parallel").empty()) << run.out;
  EXPECT_LT(wall, 5.0);
  JsonDoc doc(ReadFile(json_path));
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc.Has("/batched"));
  EXPECT_FALSE(doc.Has("/parallel"));
  EXPECT_EQ(doc.Number("/duration_s"), 1.0);
  double seconds = doc.Number("/single/seconds").value_or(0);
  EXPECT_GE(seconds, 1.0);
  EXPECT_LT(seconds, 2.0);
  int64_t rows = doc.Int("/single/rows").value_or(0);
  EXPECT_GT(rows, 50);  // well under 20 ms per INSERT on any machine this runs on
  EXPECT_EQ(doc.Int("/single/requests"), rows);
  ExpectGone("bench_dur");
}

}  // namespace
}  // namespace kalamdb::test
