// sql_engine_test.cc: the SQL engine end to end, over HTTP on the real binary: the insert
// workload of spec/benchmarks.md, durability across kill -9 and restarts, USER-table isolation
// between two callers, the HTTP error mapping of engine errors, the multi-statement result rules
// and DROP NAMESPACE ... CASCADE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json_writer.h"
#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

using ::testing::HasSubstr;

// The repo's generous limits (server.toml), so that the workload is never throttled.
constexpr char kHighLimits[] =
    "[rate_limit]\n"
    "max_queries_per_sec = 100000\n"
    "max_auth_requests_per_ip_per_sec = 10000\n"
    "max_connections_per_ip = 20000\n"
    "max_requests_per_ip_per_sec = 200000\n";

// The three tables of the insert-throughput workload, exactly as spec/benchmarks.md has them.
constexpr char kCreateSingle[] =
    "CREATE TABLE ns.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMP "
    "DEFAULT NOW())";
constexpr char kCreateBatch[] =
    "CREATE TABLE ns.batch (id BIGINT PRIMARY KEY, value TEXT NOT NULL, batch_id INT)";
constexpr char kCreateParallel[] =
    "CREATE TABLE ns.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)";

// Snowflake epoch (2024-01-01T00:00:00Z) in Unix milliseconds; `_seq >> 22` counts from it.
constexpr int64_t kSnowflakeEpochMs = 1704067200000;

// A server with a root password (RootServerOptions) or, without one, waiting for setup.
ServerOptions EngineServerOptions(bool with_root_password = true) {
  ServerOptions options = with_root_password ? RootServerOptions() : ServerOptions{};
  options.config_toml = kHighLimits;
  return options;
}

// `text` with every "ns." replaced by `ns` + "." (the workload statements for another namespace).
std::string InNamespace(std::string_view text, std::string_view ns) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "ns.") == 0) {
      out.append(ns).append(".");
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// {"sql":..} or {"sql":..,"params":<params_json>}.
std::string SqlBody(std::string_view sql, std::optional<std::string_view> params_json) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("sql").String(sql);
  if (params_json) w.Key("params").Raw(*params_json);
  w.EndObject();
  return body;
}

// One caller on one keep-alive connection. Not thread-safe: one per thread.
class SqlSession {
 public:
  SqlSession(int port, std::string authorization)
      : client_("127.0.0.1", port), headers_{{"Authorization", std::move(authorization)}} {}

  ClientResponse Run(std::string_view sql) {
    return Call(client_, "POST", "/v1/api/sql", SqlBody(sql, std::nullopt), headers_);
  }
  ClientResponse RunWithParams(std::string_view sql, std::string_view params_json) {
    return Call(client_, "POST", "/v1/api/sql", SqlBody(sql, params_json), headers_);
  }
  bool connected() const { return client_.connected(); }

 private:
  http::Client client_;
  Headers headers_;
};

// True for a 200 whose only result is {"row_count":n,"message":"Inserted n row(s)",..}.
bool IsInserted(const ClientResponse& response, int64_t n) {
  if (response.status != 200) return false;
  JsonDoc doc(response.body);
  return doc.ok() && doc.Str("/status") == "success" && doc.Size("/results") == 1 &&
         doc.Str("/results/0/message") == "Inserted " + std::to_string(n) + " row(s)" &&
         doc.Int("/results/0/row_count") == n;
}

// A 200 with one message result (DDL or DML): the message (checked against `fragment`),
// `row_count`, `as_user`, no schema and no rows.
void ExpectMessage(const ClientResponse& response, std::string_view fragment, int64_t row_count,
                   std::string_view as_user = "root") {
  ASSERT_EQ(response.status, 200) << response.body;
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(doc.Str("/status"), "success") << response.body;
  ASSERT_EQ(doc.Size("/results"), 1) << response.body;
  EXPECT_THAT(doc.Str("/results/0/message").value_or("<none>"), HasSubstr(fragment));
  EXPECT_EQ(doc.Int("/results/0/row_count"), row_count) << response.body;
  EXPECT_EQ(doc.Str("/results/0/as_user"), as_user) << response.body;
  EXPECT_FALSE(doc.Has("/results/0/schema")) << response.body;
  EXPECT_FALSE(doc.Has("/results/0/rows")) << response.body;
  EXPECT_FALSE(doc.Has("/error")) << response.body;
}

void ExpectInserted(const ClientResponse& response, int64_t n, std::string_view as_user = "root") {
  ExpectMessage(response, "Inserted " + std::to_string(n) + " row(s)", n, as_user);
  EXPECT_EQ(JsonDoc(response.body).Str("/results/0/message"),
            "Inserted " + std::to_string(n) + " row(s)");
}

// Checks the SQL error envelope {"status":"error","results":[],"took":..,"error":{"code":..,
// "message":..}} with HTTP `status` and `code`; returns the message. The reference adds
// "details" (the statement) for admin callers: tolerated, but it must then be a string.
std::string SqlError(const ClientResponse& response, int status, std::string_view code) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), std::string_view("application/json"));
  JsonDoc doc(response.body);
  EXPECT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"error", "results", "status", "took"}))
      << response.body;
  EXPECT_EQ(doc.Str("/status"), "error") << response.body;
  EXPECT_EQ(doc.Str("/error/code"), code) << response.body;
  if (doc.Has("/error/details")) {
    EXPECT_TRUE(doc.IsString("/error/details")) << response.body;
  }
  EXPECT_EQ(doc.Size("/results"), 0) << response.body;
  EXPECT_TRUE(doc.IsNumber("/took")) << response.body;
  std::string message = doc.Str("/error/message").value_or("");
  EXPECT_FALSE(message.empty()) << response.body;
  return message;
}

// The rows of the first result of a successful request as compact JSON, or a description of
// the failure (so that a comparison against the expected rows shows it).
std::string RowsJson(const ClientResponse& response) {
  JsonDoc doc(response.body);
  if (response.status != 200 || !doc.ok()) {
    return "HTTP " + std::to_string(response.status) + ": " + response.body;
  }
  return doc.Minified("/results/0/rows").value_or("no rows: " + response.body);
}

// A BIGINT cell (a JSON string) as a number; nullopt when it is not one.
std::optional<int64_t> BigIntCell(const JsonDoc& doc, const std::string& pointer) {
  auto text = doc.Str(pointer);
  if (!text || text->empty()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t value = std::stoll(*text, &used);
    if (used != text->size()) return std::nullopt;
    return value;
  } catch (...) {
    return std::nullopt;
  }
}

// SELECT COUNT(*) FROM <table> [WHERE ..]: the count, or -1 (with a failure recorded).
int64_t Count(SqlSession& session, std::string_view table, std::string_view where = "") {
  std::string sql = "SELECT COUNT(*) FROM " + std::string(table);
  if (!where.empty()) sql += " WHERE " + std::string(where);
  ClientResponse response = session.Run(sql);
  JsonDoc doc(response.body);
  auto count = BigIntCell(doc, "/results/0/rows/0/0");
  EXPECT_TRUE(response.status == 200 && count.has_value()) << sql << ": " << response.body;
  EXPECT_EQ(doc.Str("/results/0/schema/0/name"), "count(*)") << response.body;
  return count.value_or(-1);
}

// Column 0 of every row of the first result, read as BIGINT cells.
std::vector<int64_t> BigIntColumn(const ClientResponse& response) {
  std::vector<int64_t> values;
  JsonDoc doc(response.body);
  EXPECT_EQ(response.status, 200) << response.body;
  const int64_t n = doc.Size("/results/0/rows");
  for (int64_t i = 0; i < n; ++i) {
    auto value = BigIntCell(doc, "/results/0/rows/" + std::to_string(i) + "/0");
    EXPECT_TRUE(value.has_value()) << "row " << i << ": " << response.body.substr(0, 500);
    if (value) values.push_back(*value);
  }
  return values;
}

// Every id of `table` (BIGINT primary key), in order, paging with WHERE id > last.
std::vector<int64_t> AllIds(SqlSession& session, std::string_view table) {
  std::vector<int64_t> ids;
  for (int page = 0; page < 100; ++page) {
    std::string sql = "SELECT id FROM " + std::string(table);
    if (!ids.empty()) sql += " WHERE id > " + std::to_string(ids.back());
    sql += " ORDER BY id LIMIT 1000";
    std::vector<int64_t> chunk = BigIntColumn(session.Run(sql));
    ids.insert(ids.end(), chunk.begin(), chunk.end());
    if (chunk.size() < 1000) break;
  }
  return ids;
}

std::string SingleInsert(std::string_view table, int64_t id) {
  return "INSERT INTO " + std::string(table) + " (id, value) VALUES (" + std::to_string(id) +
         ", 'v" + std::to_string(id) + "')";
}

// One INSERT of 100 tuples (id, 'batch_value_<id>', batch) with ids batch*100 .. batch*100+99.
std::string BatchInsert(std::string_view table, int batch) {
  std::string sql = "INSERT INTO " + std::string(table) + " (id, value, batch_id) VALUES ";
  for (int k = 0; k < 100; ++k) {
    const int id = batch * 100 + k;
    if (k > 0) sql += ", ";
    sql += "(" + std::to_string(id) + ", 'batch_value_" + std::to_string(id) + "', " +
           std::to_string(batch) + ")";
  }
  return sql;
}

// ------------------------------------------------------------------------------------------
// The insert workload of spec/benchmarks.md.

TEST(SqlEngineWorkload, InsertWorkloadEndToEnd) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  const int port = server.Port();
  const std::string token = LoginToken(port, "root", kRootPassword);
  ASSERT_FALSE(token.empty());
  SqlSession bearer(port, "Bearer " + token);
  SqlSession basic(port, BasicAuth("root", kRootPassword));
  const int64_t started_us = NowMicros();

  ExpectMessage(basic.Run("CREATE NAMESPACE IF NOT EXISTS ns"),
                "Namespace 'ns' created successfully", 0);
  ExpectMessage(basic.Run(kCreateSingle), "shared table ns.single created successfully", 0);
  ExpectMessage(bearer.Run(kCreateBatch), "shared table ns.batch created successfully", 0);
  ExpectMessage(bearer.Run(kCreateParallel), "shared table ns.parallel created successfully", 0);

  // Single-row part: 200 sequential requests on one keep-alive connection (Bearer).
  for (int64_t i = 0; i < 200; ++i) {
    ClientResponse response = bearer.Run(SingleInsert("ns.single", i));
    ASSERT_TRUE(IsInserted(response, 1)) << "insert " << i << ": " << response.body;
    ASSERT_NE(response.Header("Connection"), std::string_view("close"));
  }
  EXPECT_TRUE(bearer.connected());
  ExpectInserted(bearer.Run(SingleInsert("ns.single", 1000)), 1);  // the full shape once

  // Batched part: 20 requests of 100 tuples (Basic).
  for (int batch = 0; batch < 20; ++batch) {
    ClientResponse response = basic.Run(BatchInsert("ns.batch", batch));
    ASSERT_TRUE(IsInserted(response, 100)) << "batch " << batch << ": " << response.body;
  }
  EXPECT_TRUE(basic.connected());

  // Parallel part: 10 workers, each on its own connection, 100 inserts without `id`.
  constexpr int kWorkers = 10;
  constexpr int kPerWorker = 100;
  std::vector<int> ok(kWorkers, 0);
  std::vector<std::string> first_failure(kWorkers);
  std::vector<std::thread> workers;
  for (int t = 0; t < kWorkers; ++t) {
    workers.emplace_back([&, t] {
      SqlSession session(port, t % 2 == 0 ? "Bearer " + token : BasicAuth("root", kRootPassword));
      for (int i = 0; i < kPerWorker; ++i) {
        ClientResponse response =
            session.Run("INSERT INTO ns.parallel (worker, value) VALUES (" + std::to_string(t) +
                        ", 'w" + std::to_string(t) + "_" + std::to_string(i) + "')");
        if (IsInserted(response, 1)) {
          ++ok[static_cast<size_t>(t)];
        } else if (first_failure[static_cast<size_t>(t)].empty()) {
          first_failure[static_cast<size_t>(t)] =
              "HTTP " + std::to_string(response.status) + ": " + response.body;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (int t = 0; t < kWorkers; ++t) {
    EXPECT_EQ(ok[static_cast<size_t>(t)], kPerWorker)
        << "worker " << t << ": " << first_failure[static_cast<size_t>(t)];
  }

  // The counts.
  EXPECT_EQ(Count(basic, "ns.single"), 201);
  EXPECT_EQ(Count(basic, "ns.single", "id < 200"), 200);
  EXPECT_EQ(Count(basic, "ns.batch"), 2000);
  EXPECT_EQ(Count(bearer, "ns.parallel"), 1000);

  // AUTO_INCREMENT ids are distinct positive snowflakes, 100 per worker.
  std::vector<int64_t> ids = BigIntColumn(basic.Run("SELECT id FROM ns.parallel LIMIT 1000"));
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 1000u);
  for (int64_t id : ids) {
    ASSERT_GT(id, 0);
    const int64_t ms = (id >> 22) + kSnowflakeEpochMs;
    ASSERT_NEAR(static_cast<double>(ms), static_cast<double>(NowMicros() / 1000), 600000.0)
        << "snowflake " << id;
  }
  std::string per_worker = "[";
  for (int t = 0; t < kWorkers; ++t) {
    per_worker += (t > 0 ? ",[" : "[") + std::to_string(t) + ",\"100\"]";
  }
  per_worker += "]";
  EXPECT_EQ(RowsJson(basic.Run(
                "SELECT worker, COUNT(*) AS c FROM ns.parallel GROUP BY worker ORDER BY worker")),
            per_worker);
  EXPECT_EQ(Count(basic, "ns.parallel", "worker = 3 AND value = 'w3_99'"), 1);

  // A SELECT * row of ns.single: cell shapes and schema flags.
  ClientResponse star = bearer.Run("SELECT * FROM ns.single WHERE id = 7");
  ASSERT_EQ(star.status, 200) << star.body;
  JsonDoc doc(star.body);
  ASSERT_TRUE(doc.ok()) << star.body;
  EXPECT_EQ(doc.Str("/status"), "success");
  EXPECT_TRUE(doc.IsNull("/error")) << star.body;
  ASSERT_EQ(doc.Size("/results"), 1) << star.body;
  ASSERT_EQ(doc.Size("/results/0/schema"), 5) << star.body;
  const std::vector<std::pair<std::string, std::string>> columns = {{"id", "BigInt"},
                                                                    {"value", "Text"},
                                                                    {"created_at", "Timestamp"},
                                                                    {"_seq", "BigInt"},
                                                                    {"_deleted", "Boolean"}};
  const std::vector<std::optional<std::string>> flags = {R"(["pk","nn","uq"])", R"(["nn"])",
                                                         std::nullopt, R"(["nn"])", R"(["nn"])"};
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string column = "/results/0/schema/" + std::to_string(i);
    EXPECT_EQ(doc.Str(column + "/name"), columns[i].first) << star.body;
    EXPECT_EQ(doc.Str(column + "/data_type"), columns[i].second) << star.body;
    EXPECT_EQ(doc.Int(column + "/index"), static_cast<int64_t>(i)) << star.body;
    EXPECT_EQ(doc.Minified(column + "/flags"), flags[i]) << columns[i].first << ": " << star.body;
  }
  ASSERT_EQ(doc.Size("/results/0/rows"), 1) << star.body;
  EXPECT_EQ(doc.Str("/results/0/rows/0/0"), "7") << star.body;
  EXPECT_EQ(doc.Str("/results/0/rows/0/1"), "v7") << star.body;
  auto created_at = doc.Int("/results/0/rows/0/2");
  ASSERT_TRUE(created_at.has_value()) << "created_at is not an integer: " << star.body;
  EXPECT_GE(*created_at, started_us - 5'000'000) << star.body;  // microseconds, near now
  EXPECT_LE(*created_at, NowMicros() + 5'000'000) << star.body;
  auto seq = BigIntCell(doc, "/results/0/rows/0/3");
  ASSERT_TRUE(seq.has_value()) << "_seq is not a BIGINT string: " << star.body;
  EXPECT_NEAR(static_cast<double>((*seq >> 22) + kSnowflakeEpochMs),
              static_cast<double>(NowMicros() / 1000), 600000.0)
      << star.body;
  EXPECT_EQ(doc.Bool("/results/0/rows/0/4"), false) << star.body;
  EXPECT_EQ(doc.Int("/results/0/row_count"), 1);
  EXPECT_EQ(doc.Str("/results/0/as_user"), "root");
  EXPECT_FALSE(doc.Has("/results/0/message")) << star.body;

  // _seq grows with insertion order.
  auto seq_of = [&](int id) {
    JsonDoc cell(basic.Run("SELECT _seq FROM ns.single WHERE id = " + std::to_string(id)).body);
    return BigIntCell(cell, "/results/0/rows/0/0").value_or(-1);
  };
  EXPECT_LT(seq_of(0), seq_of(100));
  EXPECT_LT(seq_of(100), seq_of(199));

  // A parallel row: server-generated id as a string, INT as a number.
  ClientResponse parallel_row =
      basic.Run("SELECT id, worker, value FROM ns.parallel WHERE value = 'w4_2'");
  JsonDoc parallel_doc(parallel_row.body);
  EXPECT_TRUE(BigIntCell(parallel_doc, "/results/0/rows/0/0").has_value()) << parallel_row.body;
  EXPECT_EQ(parallel_doc.Int("/results/0/rows/0/1"), 4) << parallel_row.body;
  EXPECT_EQ(parallel_doc.Str("/results/0/schema/0/data_type"), "BigInt");
  EXPECT_EQ(parallel_doc.Minified("/results/0/schema/0/flags"), R"(["pk","nn","uq"])");
  EXPECT_EQ(parallel_doc.Str("/results/0/schema/1/data_type"), "Int");
  EXPECT_FALSE(parallel_doc.Has("/results/0/schema/1/flags")) << parallel_row.body;

  // Ordering, paging, aggregates and the row caps over the workload's tables.
  EXPECT_EQ(RowsJson(basic.Run("SELECT id FROM ns.single ORDER BY id DESC LIMIT 3")),
            R"([["1000"],["199"],["198"]])");
  EXPECT_EQ(RowsJson(basic.Run("SELECT id, value FROM ns.single LIMIT 2 OFFSET 10")),
            R"([["10","v10"],["11","v11"]])");
  EXPECT_EQ(RowsJson(basic.Run("SELECT batch_id, COUNT(*), MIN(id), MAX(id) FROM ns.batch GROUP "
                               "BY batch_id HAVING MIN(id) >= 1800 ORDER BY batch_id")),
            R"([[18,"100","1800","1899"],[19,"100","1900","1999"]])");
  EXPECT_EQ(RowsJson(basic.Run("SELECT SUM(batch_id), AVG(batch_id) FROM ns.batch")),
            R"([["19000",9.5]])");
  EXPECT_EQ(RowsJson(basic.Run("SELECT value FROM ns.batch WHERE id = 1234")),
            R"([["batch_value_1234"]])");
  EXPECT_EQ(JsonDoc(basic.Run("SELECT id FROM ns.batch").body).Int("/results/0/row_count"), 50);
  EXPECT_EQ(
      JsonDoc(basic.Run("SELECT id FROM ns.batch LIMIT 5000").body).Int("/results/0/row_count"),
      1000);

  // Cleanup as the harness does it.
  ExpectMessage(basic.Run("DROP NAMESPACE IF EXISTS ns CASCADE"), "Namespace 'ns' dropped", 0);
}

// ------------------------------------------------------------------------------------------
// Durability.

// The figure `name` of GET /metrics (loopback needs no credentials), or -1.
int64_t MetricValue(int port, std::string_view name) {
  ClientResponse metrics = Call(port, "GET", "/metrics", "", {});
  const std::string needle = "\n" + std::string(name) + " ";
  const size_t at = metrics.body.find(needle);
  if (metrics.status != 200 || at == std::string::npos) return -1;
  return std::stoll(metrics.body.substr(at + needle.size()));
}

// Rows acknowledged before a kill -9 are all there after the restart; `sync` runs it with
// sync_writes = true, where the acknowledgements come from group commit's shared WAL syncs.
void ExpectAcknowledgedInsertsSurviveKill9(bool sync) {
  ServerOptions options = EngineServerOptions();
  if (sync) options.config_toml += "[storage.rocksdb]\nsync_writes = true\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  const int port = server.Port();
  const std::string auth = BasicAuth("root", kRootPassword);
  {
    SqlSession root(port, auth);
    ASSERT_EQ(
        root.Run("CREATE NAMESPACE dur; " + InNamespace(kCreateSingle, "dur") + "; " +
                 InNamespace(kCreateBatch, "dur") + "; " + InNamespace(kCreateParallel, "dur"))
            .status,
        200);
    for (int batch = 0; batch < 5; ++batch)
      ASSERT_TRUE(IsInserted(root.Run(BatchInsert("dur.batch", batch)), 100));
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(
          IsInserted(root.Run("INSERT INTO dur.parallel (worker, value) VALUES (1, 'x')"), 1));
    }
  }

  // Writers keep inserting, each on its own connection and id range; once writer 0 has 500
  // acknowledged single-row inserts the server is SIGKILLed under all of them. Every
  // acknowledged row must be there after the restart.
  constexpr int kWriters = 4;
  constexpr int64_t kRange = 10'000'000;  // writer w uses ids w * kRange + 1, + 2, ...
  std::vector<std::vector<int64_t>> acked(kWriters);
  std::atomic<bool> enough{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      SqlSession session(port, auth);
      std::vector<int64_t>& mine = acked[static_cast<size_t>(w)];
      for (int64_t n = 1; n <= 200000; ++n) {
        const int64_t id = w * kRange + n;
        if (!IsInserted(session.Run(SingleInsert("dur.single", id)), 1)) break;
        mine.push_back(id);
        if (w == 0 && mine.size() == 500) enough = true;
      }
      if (w == 0) enough = true;
    });
  }
  while (!enough) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (sync) {
    // Every acknowledged statement went through a shared sync (the setup's DDL does not).
    EXPECT_GT(MetricValue(port, "kalamdb_wal_syncs_total"), 0);
    EXPECT_GE(MetricValue(port, "kalamdb_wal_sync_waiters_total"), 500 + 5 + 50);
  } else {
    EXPECT_EQ(MetricValue(port, "kalamdb_wal_syncs_total"), 0);
  }
  EXPECT_EQ(server.Kill9(), 128 + SIGKILL);
  for (auto& writer : writers) writer.join();
  ASSERT_GE(acked[0].size(), 500u);
  size_t total_acked = 0;
  for (const auto& mine : acked) total_acked += mine.size();

  ASSERT_TRUE(server.Start());
  SqlSession root(port, auth);
  // At most the in-flight, unacknowledged insert of each writer may also have landed.
  const int64_t count = Count(root, "dur.single");
  EXPECT_GE(count, static_cast<int64_t>(total_acked));
  EXPECT_LE(count, static_cast<int64_t>(total_acked) + kWriters);
  std::vector<int64_t> ids = AllIds(root, "dur.single");
  std::set<int64_t> stored(ids.begin(), ids.end());
  for (int w = 0; w < kWriters; ++w) {
    const std::vector<int64_t>& mine = acked[static_cast<size_t>(w)];
    size_t missing = 0;
    for (int64_t id : mine) missing += stored.count(id) == 0 ? 1 : 0;
    EXPECT_EQ(missing, 0u) << "writer " << w << ": of " << mine.size() << " acknowledged rows";
  }
  for (int64_t id : {int64_t{1}, int64_t{250}, int64_t{500}, acked[0].back()}) {
    EXPECT_EQ(
        RowsJson(root.Run("SELECT id, value FROM dur.single WHERE id = " + std::to_string(id))),
        "[[\"" + std::to_string(id) + "\",\"v" + std::to_string(id) + "\"]]");
  }
  EXPECT_EQ(Count(root, "dur.batch"), 500);
  EXPECT_EQ(Count(root, "dur.parallel"), 50);

  // The primary-key check sees the recovered rows; new writes work, AUTO_INCREMENT included.
  EXPECT_THAT(SqlError(root.Run(SingleInsert("dur.single", 250)), 400, "SQL_EXECUTION_ERROR"),
              HasSubstr("Primary key violation: value '250' already exists in column 'id'"));
  ExpectInserted(root.Run(SingleInsert("dur.single", 1000000)), 1);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        IsInserted(root.Run("INSERT INTO dur.parallel (worker, value) VALUES (2, 'y')"), 1));
  }
  std::vector<int64_t> auto_ids = BigIntColumn(root.Run("SELECT id FROM dur.parallel"));
  EXPECT_EQ(auto_ids.size(), 50u);  // the default LIMIT
  EXPECT_EQ(Count(root, "dur.parallel"), 70);
  std::vector<int64_t> all_auto = AllIds(root, "dur.parallel");
  EXPECT_EQ(std::set<int64_t>(all_auto.begin(), all_auto.end()).size(), 70u);
}

TEST(SqlEngineDurability, AcknowledgedInsertsSurviveKill9) {
  ExpectAcknowledgedInsertsSurviveKill9(false);
}

TEST(SqlEngineDurability, GroupCommittedInsertsSurviveKill9) {
  ExpectAcknowledgedInsertsSurviveKill9(true);
}

TEST(SqlEngineDurability, TableMetadataSurvivesRestart) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  const std::string auth = BasicAuth("root", kRootPassword);
  std::string show_before, describe_before[4];
  const char* tables[4] = {"meta.single", "meta.batch", "meta.parallel", "meta.notes"};
  {
    SqlSession root(server.Port(), auth);
    ClientResponse created =
        root.Run("CREATE NAMESPACE meta; " + InNamespace(kCreateSingle, "meta") + "; " +
                 InNamespace(kCreateBatch, "meta") + "; " + InNamespace(kCreateParallel, "meta") +
                 "; CREATE USER TABLE meta.notes (id BIGINT PRIMARY KEY, body TEXT DEFAULT 'none', "
                 "who TEXT DEFAULT CURRENT_USER(), score DOUBLE NOT NULL DEFAULT 1.5); "
                 "CREATE STREAM TABLE meta.events (id BIGINT, body TEXT) WITH (TTL_SECONDS = 60)");
    ASSERT_EQ(created.status, 200) << created.body;
    EXPECT_EQ(JsonDoc(created.body).Size("/results"), 6) << created.body;
    ClientResponse show = root.Run("SHOW TABLES IN meta");
    ASSERT_EQ(show.status, 200) << show.body;
    EXPECT_EQ(JsonDoc(show.body).Int("/results/0/row_count"), 5) << show.body;
    show_before = RowsJson(show);
    for (int i = 0; i < 4; ++i) {
      describe_before[i] = RowsJson(root.Run("DESCRIBE TABLE " + std::string(tables[i])));
    }
    EXPECT_EQ(describe_before[0], R"([["id",1,1,"BigInt",false,true,null,null,1],)"
                                  R"(["value",2,2,"Text",false,false,null,null,1],)"
                                  R"x(["created_at",3,3,"Timestamp",true,false,"NOW()",null,1],)x"
                                  R"(["_seq",4,4,"BigInt",false,false,null,null,1],)"
                                  R"(["_deleted",5,5,"Boolean",false,false,"false",null,1]])");
    EXPECT_THAT(describe_before[2],
                HasSubstr(R"x(["id",1,1,"BigInt",false,true,"SNOWFLAKE_ID()")x"));
    ExpectInserted(root.Run(SingleInsert("meta.single", 1)), 1);
    ExpectInserted(root.Run("INSERT INTO meta.notes (id) VALUES (1)"), 1);
  }

  ASSERT_TRUE(server.Restart());  // SIGTERM, then start on the same data dir
  SqlSession root(server.Port(), auth);
  ClientResponse namespaces = root.Run("SHOW NAMESPACES");
  EXPECT_THAT(RowsJson(namespaces), HasSubstr(R"(["meta",)"));
  EXPECT_EQ(RowsJson(root.Run("SHOW TABLES IN meta")), show_before);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(RowsJson(root.Run("DESCRIBE TABLE " + std::string(tables[i]))), describe_before[i])
        << tables[i];
  }
  // The rows and the column rules came back with the tables.
  EXPECT_EQ(RowsJson(root.Run("SELECT id, value FROM meta.single")), R"([["1","v1"]])");
  EXPECT_EQ(RowsJson(root.Run("SELECT id, body, who, score FROM meta.notes")),
            R"([["1","none","root",1.5]])");
  ExpectInserted(root.Run("INSERT INTO meta.single (id, value) VALUES (2, 'after')"), 1);
  ClientResponse defaulted = root.Run("SELECT created_at FROM meta.single WHERE id = 2");
  auto created_at = JsonDoc(defaulted.body).Int("/results/0/rows/0/0");
  ASSERT_TRUE(created_at.has_value()) << defaulted.body;
  EXPECT_NEAR(static_cast<double>(*created_at), static_cast<double>(NowMicros()), 60e6);
  EXPECT_THAT(
      SqlError(root.Run("INSERT INTO meta.single (id) VALUES (3)"), 400, "SQL_EXECUTION_ERROR"),
      HasSubstr("NOT NULL constraint violation: column 'value'"));
  EXPECT_THAT(SqlError(root.Run(SingleInsert("meta.single", 1)), 400, "SQL_EXECUTION_ERROR"),
              HasSubstr("Primary key violation"));
  ExpectInserted(root.Run("INSERT INTO meta.parallel (worker) VALUES (1), (2)"), 2);
  EXPECT_EQ(BigIntColumn(root.Run("SELECT id FROM meta.parallel")).size(), 2u);
  ExpectInserted(root.Run(BatchInsert("meta.batch", 3)), 100);
  EXPECT_EQ(Count(root, "meta.batch", "batch_id = 3"), 100);
}

// ------------------------------------------------------------------------------------------
// USER tables: each owner sees only its own rows.

TEST(SqlEngineUserTables, RootAndDbaSeeOnlyTheirOwnRows) {
  ServerProcess server(EngineServerOptions(/*with_root_password=*/false));
  ASSERT_TRUE(server.Start());
  const int port = server.Port();
  const std::string admin_password = "AdminPass-e2e-456";
  ClientResponse setup =
      Call(port, "POST", "/v1/api/auth/setup",
           "{\"user\":\"admin\",\"password\":" + Quoted(admin_password) +
               ",\"root_password\":" + Quoted(kRootPassword) + ",\"email\":null}");
  ASSERT_EQ(setup.status, 200) << setup.body;
  ASSERT_EQ(JsonDoc(setup.body).Str("/user/role"), "dba") << setup.body;

  SqlSession root(port, BasicAuth("root", kRootPassword));
  const std::string admin_token = LoginToken(port, "admin", admin_password);
  ASSERT_FALSE(admin_token.empty());
  SqlSession admin(port, "Bearer " + admin_token);

  ASSERT_EQ(root.Run("CREATE NAMESPACE iso; CREATE USER TABLE iso.notes (id BIGINT PRIMARY KEY, "
                     "body TEXT NOT NULL, who TEXT DEFAULT CURRENT_USER())")
                .status,
            200);
  // Overlapping primary keys: 2 and 3 belong to both owners.
  ExpectInserted(
      root.Run("INSERT INTO iso.notes (id, body) VALUES (1, 'r1'), (2, 'r2'), (3, 'r3')"), 3,
      "root");
  ExpectInserted(
      admin.Run("INSERT INTO iso.notes (id, body) VALUES (2, 'a2'), (3, 'a3'), (4, 'a4')"), 3,
      "admin");

  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(RowsJson(root.Run("SELECT id, body, who FROM iso.notes")),
              R"([["1","r1","root"],["2","r2","root"],["3","r3","root"]])");
    EXPECT_EQ(RowsJson(admin.Run("SELECT id, body, who FROM iso.notes")),
              R"([["2","a2","admin"],["3","a3","admin"],["4","a4","admin"]])");
    ClientResponse star = admin.Run("SELECT * FROM iso.notes");
    JsonDoc doc(star.body);
    EXPECT_EQ(doc.Int("/results/0/row_count"), 3) << star.body;
    EXPECT_EQ(doc.Str("/results/0/as_user"), "admin") << star.body;
    EXPECT_EQ(doc.Size("/results/0/schema"), 5) << star.body;  // no owner column
    EXPECT_EQ(Count(root, "iso.notes"), 3);
    EXPECT_EQ(Count(admin, "iso.notes"), 3);
    // Point lookups of the other owner's ids find nothing.
    EXPECT_EQ(RowsJson(root.Run("SELECT * FROM iso.notes WHERE id = 4")), "[]");
    EXPECT_EQ(RowsJson(admin.Run("SELECT * FROM iso.notes WHERE id = 1")), "[]");
    EXPECT_EQ(RowsJson(root.Run("SELECT body FROM iso.notes WHERE id = 2")), R"([["r2"]])");
    EXPECT_EQ(RowsJson(admin.Run("SELECT body FROM iso.notes WHERE id = 2")), R"([["a2"]])");
    EXPECT_EQ(Count(admin, "iso.notes", "body LIKE 'r%'"), 0);
  };
  check("before restart");

  // Primary keys are unique per owner.
  EXPECT_THAT(SqlError(admin.Run("INSERT INTO iso.notes (id, body) VALUES (2, 'again')"), 400,
                       "SQL_EXECUTION_ERROR"),
              HasSubstr("Primary key violation: value '2' already exists in column 'id'"));
  ExpectInserted(root.Run("INSERT INTO iso.notes (id, body) VALUES (5, 'r5')"), 1);
  ExpectInserted(admin.Run("INSERT INTO iso.notes (id, body) VALUES (5, 'a5')"), 1, "admin");
  EXPECT_EQ(RowsJson(admin.Run("SELECT body FROM iso.notes WHERE id = 5")), R"([["a5"]])");

  ASSERT_TRUE(server.Restart());
  SqlSession root_after(port, BasicAuth("root", kRootPassword));
  SqlSession admin_after(port, "Bearer " + admin_token);
  EXPECT_EQ(RowsJson(root_after.Run("SELECT id FROM iso.notes")), R"([["1"],["2"],["3"],["5"]])");
  EXPECT_EQ(RowsJson(admin_after.Run("SELECT id FROM iso.notes")), R"([["2"],["3"],["4"],["5"]])");
  EXPECT_EQ(RowsJson(admin_after.Run("SELECT body FROM iso.notes WHERE id = 3")), R"([["a3"]])");
}

// ------------------------------------------------------------------------------------------
// Errors over HTTP, and parameters.

class SqlEngineErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    root_.emplace(server_.Port(), BasicAuth("root", kRootPassword));
    ASSERT_EQ(root_
                  ->Run("CREATE NAMESPACE e; CREATE TABLE e.t (id BIGINT PRIMARY KEY, value "
                        "TEXT NOT NULL, n INT)")
                  .status,
              200);
  }
  ClientResponse Run(std::string_view sql) { return root_->Run(sql); }
  std::string Error(std::string_view sql, std::string_view code = "SQL_EXECUTION_ERROR") {
    return SqlError(Run(sql), 400, code);
  }

  ServerProcess server_{EngineServerOptions()};
  std::optional<SqlSession> root_;
};

TEST_F(SqlEngineErrors, ConstraintViolations) {
  ExpectInserted(Run("INSERT INTO e.t (id, value) VALUES (5, 'a')"), 1);
  // Duplicate primary key against a stored row, and within one statement.
  EXPECT_EQ(Error("INSERT INTO e.t (id, value) VALUES (5, 'b')"),
            "Statement 1 failed: Already exists: Primary key violation: value '5' already exists "
            "in column 'id'");
  EXPECT_EQ(Error("INSERT INTO e.t (id, value) VALUES (6, 'a'), (6, 'b')"),
            "Statement 1 failed: Already exists: Primary key violation: value '6' appears "
            "multiple times in column 'id'");
  EXPECT_THAT(Error("INSERT INTO e.t (id, value) VALUES (7, 'a'), (5, 'c')"),
              HasSubstr("Primary key violation: value '5' already exists in column 'id'"));
  // NOT NULL: a missing column, an explicit NULL, a NULL primary key.
  EXPECT_EQ(
      Error("INSERT INTO e.t (id) VALUES (7)"),
      "Statement 1 failed: NOT NULL constraint violation: column 'value' cannot be NULL (row 1)");
  EXPECT_THAT(Error("INSERT INTO e.t (id, value) VALUES (8, 'ok'), (9, NULL)"),
              HasSubstr("NOT NULL constraint violation: column 'value'"));
  EXPECT_THAT(Error("INSERT INTO e.t (id, value) VALUES (NULL, 'x')"),
              HasSubstr("NOT NULL constraint violation: column 'id'"));
  // A failed statement writes nothing, not even its valid rows.
  EXPECT_EQ(RowsJson(Run("SELECT id, value FROM e.t")), R"([["5","a"]])");
}

TEST_F(SqlEngineErrors, TypeAndNameErrors) {
  EXPECT_THAT(Error("INSERT INTO e.t (id, value, n) VALUES (10, 'a', 'abc')"),
              HasSubstr("Unable to cast value"));
  EXPECT_EQ(Error("INSERT INTO e.t (id, value, n) VALUES (8, 'a', 99999999999)"),
            "Statement 1 failed: Unable to cast value 99999999999 for column 'n' (row 1): cannot "
            "cast 99999999999 to Int (out of range)");
  EXPECT_THAT(Error("INSERT INTO e.t (id, value) VALUES ('not a number', 'a')"),
              HasSubstr("column 'id'"));
  // Unknown table (and namespace).
  EXPECT_EQ(Error("INSERT INTO e.missing (id) VALUES (1)"),
            "Statement 1 failed: Not found: Table 'e.missing' not found");
  EXPECT_EQ(Error("SELECT * FROM e.missing"),
            "Statement 1 failed: Not found: Table 'e.missing' not found");
  EXPECT_THAT(Error("SELECT COUNT(*) FROM nowhere.t"), HasSubstr("not found"));
  // Unknown column, in INSERT and SELECT.
  EXPECT_EQ(Error("INSERT INTO e.t (id, nope) VALUES (9, 'a')"),
            "Statement 1 failed: Invalid operation: No field named 'nope' in table e.t");
  EXPECT_EQ(Error("SELECT nope FROM e.t"),
            "Statement 1 failed: Invalid operation: No field named 'nope' in table e.t");
  EXPECT_THAT(Error("SELECT id FROM e.t WHERE nope = 1"), HasSubstr("No field named 'nope'"));
  // System columns cannot be written.
  EXPECT_THAT(Error("INSERT INTO e.t (id, value, _seq) VALUES (11, 'x', 1)"),
              HasSubstr("system column '_seq'"));
  // Syntax errors are INVALID_SQL.
  Error("INSERT INTO e.t (id value) VALUES (1)", "INVALID_SQL");
  Error("SELEC * FROM e.t", "INVALID_SQL");
  Error("INSERT INTO e.t (id, value) VALUES", "INVALID_SQL");
  Error("SELECT id FROM e.t WHERE", "INVALID_SQL");
  Error("CREATE TABLE e.u (id BIGINT PRIMARY KEY", "INVALID_SQL");
  EXPECT_EQ(Count(*root_, "e.t"), 0);
}

TEST_F(SqlEngineErrors, Parameters) {
  ExpectInserted(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2)", R"([7,"x"])"),
                 1);
  EXPECT_EQ(RowsJson(Run("SELECT id, value, n FROM e.t WHERE id = 7")), R"([["7","x",null]])");
  ExpectInserted(root_->RunWithParams("INSERT INTO e.t (n, value, id) VALUES ($3, $2, $1)",
                                      R"([8,"it's",42])"),
                 1);
  EXPECT_EQ(RowsJson(Run("SELECT id, value, n FROM e.t WHERE id = 8")), R"([["8","it's",42]])");
  // A parameter is a value, never SQL.
  ExpectInserted(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2)",
                                      R"([9,"'); DROP TABLE e.t; --"])"),
                 1);
  EXPECT_EQ(RowsJson(Run("SELECT value FROM e.t WHERE id = 9")), R"([["'); DROP TABLE e.t; --"]])");
  // Constraints apply to parameters too.
  EXPECT_THAT(
      SqlError(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2)", R"([10,null])"),
               400, "SQL_EXECUTION_ERROR"),
      HasSubstr("NOT NULL constraint violation: column 'value'"));
  EXPECT_THAT(
      SqlError(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2)", R"([7,"dup"])"),
               400, "SQL_EXECUTION_ERROR"),
      HasSubstr("Primary key violation: value '7' already exists"));
  // A placeholder without a value is an execution error: reference §2.1 maps parameter errors
  // to 400 SQL_EXECUTION_ERROR (INVALID_INPUT is for a malformed request body).
  EXPECT_THAT(SqlError(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2)", "[11]"),
                       400, "SQL_EXECUTION_ERROR"),
              HasSubstr("$2"));
  // params with more than one statement.
  EXPECT_EQ(SqlError(root_->RunWithParams("INSERT INTO e.t (id, value) VALUES ($1, $2); SELECT 1",
                                          R"([12,"x"])"),
                     400, "PARAMS_WITH_BATCH"),
            "Parameters not supported with multi-statement batches");
  EXPECT_EQ(Count(*root_, "e.t"), 3);
}

// ------------------------------------------------------------------------------------------
// Multi-statement requests.

TEST(SqlEngineBatches, ResultRules) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  SqlSession root(server.Port(), BasicAuth("root", kRootPassword));

  // DDL results are listed in order.
  ClientResponse ddl =
      root.Run("CREATE NAMESPACE m; CREATE TABLE m.t (id BIGINT PRIMARY KEY, v TEXT);");
  ASSERT_EQ(ddl.status, 200) << ddl.body;
  JsonDoc ddl_doc(ddl.body);
  ASSERT_EQ(ddl_doc.Size("/results"), 2) << ddl.body;
  EXPECT_EQ(ddl_doc.Str("/results/0/message"), "Namespace 'm' created successfully");
  EXPECT_THAT(ddl_doc.Str("/results/1/message").value_or(""),
              HasSubstr("table m.t created successfully"));

  // INSERT; SELECT; INSERT: the SELECT result, then one summed INSERT entry.
  ClientResponse mixed = root.Run(
      "INSERT INTO m.t (id, v) VALUES (1, 'a'); SELECT id, v FROM m.t ORDER BY id; "
      "INSERT INTO m.t (id, v) VALUES (2, 'b'), (3, 'c')");
  ASSERT_EQ(mixed.status, 200) << mixed.body;
  JsonDoc doc(mixed.body);
  EXPECT_EQ(doc.Str("/status"), "success");
  ASSERT_EQ(doc.Size("/results"), 2) << mixed.body;
  EXPECT_EQ(doc.Str("/results/0/schema/0/name"), "id");
  EXPECT_EQ(doc.Minified("/results/0/schema/0/flags"), R"(["pk","nn","uq"])");
  EXPECT_EQ(doc.Str("/results/0/schema/1/name"), "v");
  EXPECT_EQ(doc.Minified("/results/0/rows"), R"([["1","a"]])");  // sees the first INSERT only
  EXPECT_EQ(doc.Int("/results/0/row_count"), 1);
  EXPECT_EQ(doc.Str("/results/0/as_user"), "root");
  EXPECT_FALSE(doc.Has("/results/0/message")) << mixed.body;
  EXPECT_EQ(doc.Str("/results/1/message"), "Inserted 3 row(s)");
  EXPECT_EQ(doc.Int("/results/1/row_count"), 3);
  EXPECT_EQ(doc.Str("/results/1/as_user"), "root");
  EXPECT_FALSE(doc.Has("/results/1/schema")) << mixed.body;
  EXPECT_FALSE(doc.Has("/results/1/rows")) << mixed.body;
  EXPECT_FALSE(doc.Has("/error")) << "only a single row result carries \"error\":null";

  // Only INSERTs: one summed entry.
  ExpectInserted(root.Run("INSERT INTO m.t (id, v) VALUES (4, 'd'); INSERT INTO m.t (id, v) "
                          "VALUES (5, 'e'), (6, 'f');"),
                 3);

  // Several row results stay in order; the INSERT count goes last.
  ClientResponse counts = root.Run(
      "SELECT COUNT(*) FROM m.t; INSERT INTO m.t (id, v) VALUES (7, 'g'); SELECT COUNT(*) AS n "
      "FROM m.t");
  ASSERT_EQ(counts.status, 200) << counts.body;
  JsonDoc counts_doc(counts.body);
  ASSERT_EQ(counts_doc.Size("/results"), 3) << counts.body;
  EXPECT_EQ(counts_doc.Minified("/results/0/rows"), R"([["6"]])");
  EXPECT_EQ(counts_doc.Str("/results/1/schema/0/name"), "n");
  EXPECT_EQ(counts_doc.Minified("/results/1/rows"), R"([["7"]])");
  EXPECT_EQ(counts_doc.Str("/results/2/message"), "Inserted 1 row(s)");

  // A semicolon inside a string literal does not split the request.
  ExpectInserted(root.Run("INSERT INTO m.t (id, v) VALUES (8, 'x;y')"), 1);
  EXPECT_EQ(RowsJson(root.Run("SELECT v FROM m.t WHERE id = 8;")), R"([["x;y"]])");

  // The first failure stops the request; earlier statements stay applied.
  EXPECT_EQ(SqlError(root.Run("INSERT INTO m.t (id, v) VALUES (9, 'h'); INSERT INTO m.t (id, v) "
                              "VALUES (1, 'dup'); INSERT INTO m.t (id, v) VALUES (10, 'i')"),
                     400, "SQL_EXECUTION_ERROR"),
            "Statement 2 failed: Already exists: Primary key violation: value '1' already exists "
            "in column 'id'");
  EXPECT_EQ(Count(root, "m.t", "id = 9"), 1);
  EXPECT_EQ(Count(root, "m.t", "id = 10"), 0);
  EXPECT_EQ(RowsJson(root.Run("SELECT v FROM m.t WHERE id = 1")), R"([["a"]])");
}

// ------------------------------------------------------------------------------------------
// Column types: the data_type names of the schema and the JSON encoding of cells (reference
// §4.4).

TEST(SqlEngineTypes, SchemaTypesAndCellEncoding) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  SqlSession root(server.Port(), BasicAuth("root", kRootPassword));
  ClientResponse created = root.Run(
      "CREATE NAMESPACE ty; CREATE TABLE ty.t (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i "
      "INT, d DOUBLE, f FLOAT, dec DECIMAL(10,2), txt VARCHAR(5), j JSON, ts TIMESTAMP, dt DATE, "
      "tm TIME, dtt DATETIME, u UUID)");
  ASSERT_EQ(created.status, 200) << created.body;
  ExpectInserted(root.Run("INSERT INTO ty.t (id, b, s, i, d, f, dec, txt, j, ts, dt, tm, dtt, u) "
                          "VALUES (1, true, 7, -5, 1.25, 2.5, 200.75, 'abcde', '{\"a\":1}', "
                          "'2024-01-02T03:04:05Z', '2024-03-01', '12:34:56', "
                          "'2024-01-02T03:04:05Z', '0190A5B4-7C3E-7D2A-9F1E-123456789ABC'), "
                          "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1704164645000000, "
                          "NULL, NULL, NULL, NULL), "
                          "(-9223372036854775808, false, -32768, 2147483647, -0.5, 0, -1.5, '', "
                          "'[]', NULL, NULL, NULL, NULL, NULL), "
                          "(9223372036854775807, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                          "NULL, NULL, NULL, NULL, NULL)"),
                 4);
  ClientResponse star = root.Run("SELECT * FROM ty.t");
  ASSERT_EQ(star.status, 200) << star.body;
  JsonDoc doc(star.body);
  const std::vector<std::string> types = {R"("BigInt")",
                                          R"("Boolean")",
                                          R"("SmallInt")",
                                          R"("Int")",
                                          R"("Double")",
                                          R"("Float")",
                                          R"({"Decimal":{"precision":10,"scale":2}})",
                                          R"("Text")",
                                          R"("Json")",
                                          R"("Timestamp")",
                                          R"("Date")",
                                          R"("Time")",
                                          R"("DateTime")",
                                          R"("Uuid")",
                                          R"("BigInt")",
                                          R"("Boolean")"};
  ASSERT_EQ(doc.Size("/results/0/schema"), static_cast<int64_t>(types.size())) << star.body;
  for (size_t c = 0; c < types.size(); ++c) {
    const std::string column = "/results/0/schema/" + std::to_string(c);
    EXPECT_EQ(doc.Minified(column + "/data_type"), types[c])
        << doc.Str(column + "/name").value_or("?") << ": " << star.body;
  }
  // Rows come in primary-key order; _seq and _deleted are left out of the comparison.
  auto cells = [&](int row) {
    std::string out = "[";
    for (size_t c = 0; c < 14; ++c) {
      out += (c > 0 ? "," : "") +
             doc.Minified("/results/0/rows/" + std::to_string(row) + "/" + std::to_string(c))
                 .value_or("<missing>");
    }
    return out + "]";
  };
  EXPECT_EQ(cells(0),
            R"(["-9223372036854775808",false,-32768,2147483647,-0.5,0,"-1.50","","[]",null,)"
            R"(null,null,null,null])");
  EXPECT_EQ(cells(1),
            R"(["1",true,7,-5,1.25,2.5,"200.75","abcde","{\"a\":1}",1704164645000000,19783,)"
            R"(45296000000,1704164645000000,"0190a5b4-7c3e-7d2a-9f1e-123456789abc"])");
  EXPECT_EQ(cells(2),
            R"(["2",null,null,null,null,null,null,null,null,1704164645000000,null,null,null,)"
            R"(null])");
  EXPECT_EQ(cells(3), R"(["9223372036854775807",null,null,null,null,null,null,null,null,null,)"
                      R"(null,null,null,null])");
  // Out-of-range and malformed values are rejected.
  EXPECT_THAT(
      SqlError(root.Run("INSERT INTO ty.t (id, s) VALUES (5, 40000)"), 400, "SQL_EXECUTION_ERROR"),
      HasSubstr("Unable to cast value 40000 for column 's'"));
  EXPECT_THAT(SqlError(root.Run("INSERT INTO ty.t (id, txt) VALUES (5, 'abcdef')"), 400,
                       "SQL_EXECUTION_ERROR"),
              HasSubstr("column 'txt'"));
  SqlError(root.Run("INSERT INTO ty.t (id, u) VALUES (5, 'not-a-uuid')"), 400,
           "SQL_EXECUTION_ERROR");
  SqlError(root.Run("INSERT INTO ty.t (id, ts) VALUES (5, 'yesterday')"), 400,
           "SQL_EXECUTION_ERROR");
  SqlError(root.Run("INSERT INTO ty.t (id) VALUES (9223372036854775808)"), 400,
           "SQL_EXECUTION_ERROR");
  EXPECT_EQ(Count(root, "ty.t"), 4);
}

// ------------------------------------------------------------------------------------------
// Concurrent writers racing for the same primary keys.

TEST(SqlEngineConcurrency, OneWinnerPerPrimaryKey) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  const int port = server.Port();
  const std::string auth = BasicAuth("root", kRootPassword);
  {
    SqlSession root(port, auth);
    ASSERT_EQ(root.Run("CREATE NAMESPACE c; CREATE TABLE c.one (id BIGINT PRIMARY KEY, writer "
                       "INT); CREATE TABLE c.many (id BIGINT PRIMARY KEY, writer INT)")
                  .status,
              200);
  }
  // 8 clients insert the same 100 single rows and the same 20 batches of 10, in the same order.
  constexpr int kClients = 8;
  std::vector<int> single_wins(kClients, 0), batch_wins(kClients, 0), other(kClients, 0);
  std::vector<std::string> first_other(kClients);
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      SqlSession session(port, auth);
      const size_t me = static_cast<size_t>(t);
      auto record = [&](const ClientResponse& response, int64_t n, int& wins) {
        if (IsInserted(response, n)) {
          ++wins;
        } else if (response.status != 400 ||
                   response.body.find("Primary key violation") == std::string::npos) {
          ++other[me];
          if (first_other[me].empty()) first_other[me] = response.body;
        }
      };
      for (int id = 0; id < 100; ++id) {
        record(session.Run("INSERT INTO c.one (id, writer) VALUES (" + std::to_string(id) + ", " +
                           std::to_string(t) + ")"),
               1, single_wins[me]);
        if (id % 5 == 0) {
          const int batch = id / 5;
          std::string sql = "INSERT INTO c.many (id, writer) VALUES ";
          for (int k = 0; k < 10; ++k) {
            sql += (k > 0 ? ", (" : "(") + std::to_string(batch * 10 + k) + ", " +
                   std::to_string(t) + ")";
          }
          record(session.Run(sql), 10, batch_wins[me]);
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  int singles = 0, batches = 0;
  for (int t = 0; t < kClients; ++t) {
    singles += single_wins[static_cast<size_t>(t)];
    batches += batch_wins[static_cast<size_t>(t)];
    EXPECT_EQ(other[static_cast<size_t>(t)], 0) << first_other[static_cast<size_t>(t)];
  }
  EXPECT_EQ(singles, 100) << "acknowledged inserts of 100 distinct keys";
  EXPECT_EQ(batches, 20) << "acknowledged batches of 20 distinct key ranges";

  SqlSession root(port, auth);
  EXPECT_EQ(Count(root, "c.one"), 100);
  EXPECT_EQ(Count(root, "c.many"), 200);
  // Each batch is all-or-nothing: its 10 rows carry one writer.
  ClientResponse groups = root.Run("SELECT writer, COUNT(*) AS n FROM c.many GROUP BY writer");
  JsonDoc doc(groups.body);
  ASSERT_EQ(groups.status, 200) << groups.body;
  for (int64_t g = 0; g < doc.Size("/results/0/rows"); ++g) {
    auto n = BigIntCell(doc, "/results/0/rows/" + std::to_string(g) + "/1");
    ASSERT_TRUE(n.has_value()) << groups.body;
    EXPECT_EQ(*n % 10, 0) << groups.body;
  }
  std::vector<int64_t> ids = AllIds(root, "c.many");
  ASSERT_EQ(ids.size(), 200u);
  for (int64_t b = 0; b < 20; ++b) {
    ClientResponse writers =
        root.Run("SELECT MIN(writer), MAX(writer), COUNT(*) FROM c.many WHERE id >= " +
                 std::to_string(b * 10) + " AND id < " + std::to_string(b * 10 + 10));
    JsonDoc w(writers.body);
    EXPECT_EQ(w.Int("/results/0/rows/0/0"), w.Int("/results/0/rows/0/1")) << writers.body;
    EXPECT_EQ(w.Str("/results/0/rows/0/2"), "10") << writers.body;
  }
}

// ------------------------------------------------------------------------------------------
// DROP NAMESPACE ... CASCADE and DROP TABLE.

TEST(SqlEngineDrop, RecreatedTablesStartEmpty) {
  ServerProcess server(EngineServerOptions());
  ASSERT_TRUE(server.Start());
  const std::string auth = BasicAuth("root", kRootPassword);
  const std::string create = "CREATE NAMESPACE dn; " + InNamespace(kCreateSingle, "dn") + "; " +
                             InNamespace(kCreateBatch, "dn") + "; " +
                             InNamespace(kCreateParallel, "dn");
  {
    SqlSession root(server.Port(), auth);
    ASSERT_EQ(root.Run(create).status, 200);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(IsInserted(root.Run(SingleInsert("dn.single", i)), 1));
    ASSERT_TRUE(IsInserted(root.Run(BatchInsert("dn.batch", 0)), 100));
    ASSERT_TRUE(IsInserted(root.Run("INSERT INTO dn.parallel (worker) VALUES (1), (2), (3)"), 3));

    ExpectMessage(root.Run("DROP NAMESPACE dn CASCADE"), "Namespace 'dn' dropped successfully", 0);
    EXPECT_EQ(SqlError(root.Run("SELECT COUNT(*) FROM dn.single"), 400, "SQL_EXECUTION_ERROR"),
              "Statement 1 failed: Not found: Table 'dn.single' not found");
    EXPECT_THAT(RowsJson(root.Run("SHOW NAMESPACES")), ::testing::Not(HasSubstr("\"dn\"")));
    ExpectMessage(root.Run("DROP NAMESPACE IF EXISTS dn CASCADE"), "Namespace 'dn' does not exist",
                  0);

    // The same names again: empty tables, and the old keys are free.
    ASSERT_EQ(root.Run(create).status, 200);
    EXPECT_EQ(Count(root, "dn.single"), 0);
    EXPECT_EQ(Count(root, "dn.batch"), 0);
    EXPECT_EQ(Count(root, "dn.parallel"), 0);
    EXPECT_EQ(RowsJson(root.Run("SELECT * FROM dn.single WHERE id = 3")), "[]");
    ExpectInserted(root.Run(SingleInsert("dn.single", 3)), 1);
    ExpectInserted(root.Run(BatchInsert("dn.batch", 0)), 100);

    // DROP TABLE alone does the same for one table.
    ExpectMessage(root.Run("DROP TABLE dn.batch"), "Table dn.batch dropped successfully", 0);
    ASSERT_EQ(root.Run(InNamespace(kCreateBatch, "dn")).status, 200);
    EXPECT_EQ(Count(root, "dn.batch"), 0);
    ExpectInserted(root.Run("INSERT INTO dn.batch (id, value) VALUES (42, 'again')"), 1);
  }

  // Dropped rows do not come back after a restart.
  ASSERT_TRUE(server.Restart());
  SqlSession root(server.Port(), auth);
  EXPECT_EQ(RowsJson(root.Run("SELECT id FROM dn.single")), R"([["3"]])");
  EXPECT_EQ(RowsJson(root.Run("SELECT id, value FROM dn.batch")), R"([["42","again"]])");
  EXPECT_EQ(Count(root, "dn.parallel"), 0);
}

}  // namespace
}  // namespace kalamdb::test
