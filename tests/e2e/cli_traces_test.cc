// cli_traces_test.cc: `kalam traces` against the real server: 50 INSERTs, then the analyzer's
// JSON summary is checked against the raw traces of /v1/api/traces, the human report's
// headlines, --save/--load, --token and a rejected password.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/e2e_helpers.h"
#include "support/temp_dir.h"

#ifndef KALAM_BIN
#error "KALAM_BIN must be defined to the path of the kalam binary"
#endif

namespace kalamdb::test {
namespace {

constexpr int kInserts = 50;
constexpr char kBatchPath[] =
    "POST /v1/api/sql > sql.execute > sql.statement > store.write > rocksdb.batch";
constexpr char kStorePath[] = "POST /v1/api/sql > sql.execute > sql.statement > store.write";

// Runs `kalam traces <args>`.
RunResult RunTraces(const ServerProcess& server, const std::vector<std::string>& args,
                    const std::string& password = kRootPassword) {
  std::vector<std::string> all{"traces"};
  all.insert(all.end(), args.begin(), args.end());
  return RunKalam(server, all, "", password);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (rank - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

// From the raw Jaeger JSON (precision=ns): per trace, the durations (ns) of the spans at the
// ends of the chain root > sql.execute > sql.statement > store.write > rocksdb.batch.
struct RawFigures {
  size_t traces = 0;
  std::vector<double> batch_ns;
  std::vector<double> store_self_ns;  // store.write minus its rocksdb.batch
};

RawFigures FromRaw(const std::string& body) {
  RawFigures out;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << body.substr(0, 300);
    return out;
  }
  simdjson::dom::array data;
  if (doc["data"].get_array().get(data) != simdjson::SUCCESS) {
    ADD_FAILURE() << body.substr(0, 300);
    return out;
  }
  for (simdjson::dom::element trace : data) {
    ++out.traces;
    struct Info {
      std::string name, parent;
      int64_t start = 0, duration = 0;
    };
    std::map<std::string, Info> spans;
    simdjson::dom::array list = trace["spans"].get_array().value();
    for (simdjson::dom::element span : list) {
      Info info;
      info.name = std::string(span["operationName"].get_string().value());
      simdjson::dom::array refs = span["references"].get_array().value();
      for (simdjson::dom::element ref : refs) {
        info.parent = std::string(ref["spanID"].get_string().value());
      }
      info.start = span["startTimeUnixNano"].get_int64().value();
      info.duration = span["durationNanos"].get_int64().value();
      spans[std::string(span["spanID"].get_string().value())] = info;
    }
    for (const auto& [id, s] : spans) {
      if (s.name != "rocksdb.batch") continue;
      std::vector<std::string> chain = {s.name};
      const Info* store = nullptr;
      for (std::string p = s.parent; spans.count(p) > 0; p = spans[p].parent) {
        if (store == nullptr) store = &spans[p];
        chain.insert(chain.begin(), spans[p].name);
      }
      std::string path;
      for (const auto& name : chain) path += (path.empty() ? "" : " > ") + name;
      if (path != kBatchPath) continue;
      out.batch_ns.push_back(static_cast<double>(s.duration));
      // rocksdb.batch lies within store.write (checked by tracing_test): self = the rest.
      out.store_self_ns.push_back(static_cast<double>(store->duration - s.duration));
    }
  }
  return out;
}

// The path object named `path` in the JSON summary's "paths" array.
std::optional<simdjson::dom::element> PathEntry(simdjson::dom::element doc, std::string_view path) {
  simdjson::dom::array paths;
  if (doc["paths"].get_array().get(paths) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element p : paths) {
    if (p["path"].get_string().value() == path) return p;
  }
  return std::nullopt;
}

class CliTracesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    client_ = std::make_unique<http::Client>("127.0.0.1", server_.Port());
    auth_ = {{"Authorization", BasicAuth("root", kRootPassword)}};
    ASSERT_EQ(
        Sql("CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)").status,
        200);
    for (int i = 0; i < kInserts; ++i) {
      ASSERT_EQ(Sql("INSERT INTO app.t (id, v) VALUES (" + std::to_string(i) + ", 'v')").status,
                200);
    }
    // The collector publishes finished traces every 20 ms: wait for all 51 (the CREATE too).
    for (int attempt = 0; attempt < 200; ++attempt) {
      ClientResponse r =
          Get("/v1/api/traces?service=kalamdb-server&operation=sql.execute&limit=100&precision=ns");
      ASSERT_EQ(r.status, 200) << r.body;
      if (FromRaw(r.body).traces >= static_cast<size_t>(kInserts + 1)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the trace store did not receive the traces of " << kInserts << " INSERTs";
  }

  ClientResponse Sql(std::string_view sql) {
    return Call(*client_, "POST", "/v1/api/sql", "{\"sql\":" + Quoted(sql) + "}", auth_);
  }
  ClientResponse Get(std::string_view target) { return Call(*client_, "GET", target, {}, auth_); }

  ServerProcess server_{RootServerOptions()};
  std::unique_ptr<http::Client> client_;
  Headers auth_;
};

TEST_F(CliTracesE2E, TracesJsonMatchesTheRawTraces) {
  RunResult run = RunTraces(server_, {"--last", std::to_string(kInserts), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const RawFigures raw = FromRaw(
      Get("/v1/api/traces?service=kalamdb-server&operation=sql.execute&limit=50&precision=ns")
          .body);
  ASSERT_EQ(raw.traces, static_cast<size_t>(kInserts));
  ASSERT_EQ(raw.batch_ns.size(), static_cast<size_t>(kInserts));

  simdjson::dom::parser parser;
  simdjson::padded_string padded(run.out);
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << run.out;
  EXPECT_EQ(doc["traces"].get_int64().value(), kInserts);
  EXPECT_EQ(std::string(doc["precision"].get_string().value()), "ns");
  for (const char* key : {"paths", "gaps", "critical_path", "warnings"}) {
    EXPECT_TRUE(doc[key].is_array()) << key;
  }
  auto batch = PathEntry(doc, kBatchPath);
  ASSERT_TRUE(batch.has_value()) << run.out;
  EXPECT_EQ((*batch)["count"].get_int64().value(), kInserts);
  // Microseconds with 3 decimals: within half a nanosecond of the raw figures (a tie such as
  // 137.5 ns -> "0.138" sits exactly at the bound, hence the slack).
  constexpr double kHalfNs = 0.000501;
  auto us = [](simdjson::dom::element e, const char* key) { return e[key].get_double().value(); };
  EXPECT_NEAR(us(*batch, "p50_us"), Percentile(raw.batch_ns, 0.5) / 1000, kHalfNs);
  EXPECT_NEAR(us(*batch, "p95_us"), Percentile(raw.batch_ns, 0.95) / 1000, kHalfNs);
  EXPECT_NEAR(us(*batch, "max_us"), Percentile(raw.batch_ns, 1) / 1000, kHalfNs);
  EXPECT_NEAR(us(*batch, "self_p50_us"), us(*batch, "p50_us"), kHalfNs);  // a leaf
  auto store = PathEntry(doc, kStorePath);
  ASSERT_TRUE(store.has_value());
  EXPECT_NEAR(us(*store, "self_p50_us"), Percentile(raw.store_self_ns, 0.5) / 1000, kHalfNs);
  const double share = us(*batch, "share_of_root");
  EXPECT_GT(share, 0);
  EXPECT_LT(share, 1);
  // Fetching exactly --last traces may have cut older ones off: said so.
  bool truncated = false;
  simdjson::dom::array warnings = doc["warnings"].get_array().value();
  for (simdjson::dom::element w : warnings) {
    truncated |= std::string_view(w.get_string().value()).starts_with("truncated:");
  }
  EXPECT_TRUE(truncated) << run.out;
  // The critical path covers the roots: its shares add up to 1.
  double shares = 0;
  simdjson::dom::array critical = doc["critical_path"].get_array().value();
  for (simdjson::dom::element c : critical) {
    shares += c["share"].get_double().value();
  }
  EXPECT_NEAR(shares, 1.0, 0.01);
}

TEST_F(CliTracesE2E, HumanReportSaveLoadAndToken) {
  RunResult human = RunTraces(server_, {"--last", std::to_string(kInserts)});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  // The report ends with the two headline lines.
  std::vector<std::string> lines;
  std::istringstream in(human.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(lines[lines.size() - 2].starts_with("span with most self time: POST /v1/api/sql"))
      << human.out;
  EXPECT_TRUE(lines.back().starts_with("largest unaccounted gap: ")) << human.out;
  EXPECT_NE(lines.back().find(" µs mean over "), std::string::npos) << lines.back();
  EXPECT_NE(human.out.find("== waterfall: slowest trace"), std::string::npos);
  EXPECT_NE(human.out.find("rocksdb.batch  op_count=1"), std::string::npos) << human.out;

  TempDir dir;
  const std::string saved = dir.path() + "/run.json";
  RunResult first =
      RunTraces(server_, {"--last", std::to_string(kInserts), "--json", "--save", saved});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("saved 50 traces"), std::string::npos) << first.err;
  RunResult again = RunTraces(server_, {"--load", saved, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, first.out);
  EXPECT_NE(ReadFile(saved).find("\"durationNanos\":"), std::string::npos);
  RunResult diff = RunTraces(server_, {"--diff", saved, saved});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("+0.000"), std::string::npos) << diff.out;

  const std::string token = LoginToken(server_.Port(), "root", kRootPassword);
  RunResult with_token =
      RunTraces(server_, {"--last", std::to_string(kInserts), "--json", "--token", token}, "");
  ASSERT_EQ(with_token.exit_code, 0) << with_token.err;
  EXPECT_EQ(with_token.out, first.out);

  RunResult rejected = RunTraces(server_, {"--last", "5"}, "wrong-password");
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_NE(rejected.err.find("HTTP 401"), std::string::npos) << rejected.err;
}

}  // namespace
}  // namespace kalamdb::test
