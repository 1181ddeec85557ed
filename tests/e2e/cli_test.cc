// cli_test.cc: the real `kalam` binary against the real server: -c, --format, -f, scripted
// stdin, errors and a failed login.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

constexpr char kSetup[] =
    "CREATE NAMESPACE x; CREATE TABLE x.t (id BIGINT PRIMARY KEY, v TEXT); "
    "INSERT INTO x.t (id, v) VALUES (1, 'a'); SELECT * FROM x.t";

class CliE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  ServerProcess server_{RootServerOptions()};
};

TEST_F(CliE2E, CommandPrintsMessagesAndTable) {
  RunResult run = RunKalam(server_, {"-c", kSetup});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_NE(run.out.find("Inserted 1 row(s)\n"), std::string::npos) << run.out;
  // The table: header, separator, the row, then the count and the server's time.
  size_t table = run.out.find("id | v");
  ASSERT_NE(table, std::string::npos) << run.out;
  std::string rest = run.out.substr(table);
  EXPECT_TRUE(rest.starts_with("id | v")) << rest;
  std::istringstream lines(rest);
  std::string header, separator, row, count;
  std::getline(lines, header);
  std::getline(lines, separator);
  std::getline(lines, row);
  std::getline(lines, count);
  EXPECT_TRUE(separator.starts_with("---+--")) << rest;
  EXPECT_TRUE(row.starts_with("1  | a")) << rest;
  EXPECT_TRUE(count.starts_with("(1 row) in ")) << rest;
  EXPECT_TRUE(count.ends_with(" ms")) << rest;
  EXPECT_EQ(run.out.find("kalam>"), std::string::npos);
}

TEST_F(CliE2E, JsonAndCsvFormats) {
  ASSERT_EQ(RunKalam(server_, {"-c", kSetup}).exit_code, 0);
  RunResult json = RunKalam(server_, {"--format", "json", "-c", "SELECT id, v FROM x.t"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  JsonDoc doc(json.out);
  ASSERT_TRUE(doc.ok()) << json.out;
  EXPECT_EQ(doc.Size(""), 1) << json.out;
  EXPECT_EQ(doc.Str("/0/v"), "a") << json.out;
  EXPECT_TRUE(json.out.find("\"id\":") != std::string::npos) << json.out;

  RunResult csv = RunKalam(server_, {"--format", "csv", "-c", "SELECT id, v FROM x.t"});
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "id,v\n1,a\n");
}

TEST_F(CliE2E, FileRunsStatementsInOrder) {
  TempDir dir;
  std::string path = dir.path() + "/script.sql";
  std::ofstream(path) << "-- a script; with comments\n"
                         "CREATE NAMESPACE x;\n"
                         "CREATE TABLE x.t (id BIGINT PRIMARY KEY,\n  v TEXT);\n"
                         "INSERT INTO x.t (id, v) VALUES (1, 'a;b'), (2, NULL);\n"
                         "SELECT v FROM x.t ORDER BY id;\n";
  RunResult run = RunKalam(server_, {"--format", "csv", "-f", path});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Inserted 2 row(s)\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("v\na;b\n\n"), std::string::npos) << run.out;

  RunResult missing = RunKalam(server_, {"-f", dir.path() + "/nope.sql"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("ERROR "), std::string::npos);
}

TEST_F(CliE2E, ScriptedStdinHasNoPrompts) {
  RunResult run = RunKalam(server_, {},
                           "CREATE NAMESPACE x;\n"
                           "CREATE TABLE x.t (id BIGINT PRIMARY KEY, v TEXT);\n"
                           "INSERT INTO x.t (id, v)\n  VALUES (7, 'seven');\n"
                           "\\format csv\n"
                           "\\timing\n"
                           "SELECT id, v\nFROM x.t;\n"
                           "\\q\n"
                           "SELECT 'not run';\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out.find("kalam>"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("...>"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("id,v\n7,seven\nTime: "), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("not run"), std::string::npos) << run.out;
}

TEST_F(CliE2E, ErrorExitsOneWithCodeAndStops) {
  RunResult run = RunKalam(server_, {"-c", "SELEC 1; SELECT 'after'"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.err.starts_with("ERROR ")) << run.err;
  EXPECT_NE(run.err.find("INVALID_SQL"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("after"), std::string::npos) << run.out;

  RunResult piped = RunKalam(server_, {}, "SELECT * FROM nope.missing;\nSELECT 'after';\n");
  EXPECT_EQ(piped.exit_code, 1);
  EXPECT_NE(piped.err.find("ERROR SQL_EXECUTION_ERROR: "), std::string::npos) << piped.err;
  EXPECT_EQ(piped.out.find("after"), std::string::npos) << piped.out;
}

TEST_F(CliE2E, WrongPasswordFailsClearly) {
  RunResult run = RunKalam(server_, {"-c", "SELECT 1"}, "", "wrong-password");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("ERROR unauthorized: Invalid credentials"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST_F(CliE2E, TokenInsteadOfPassword) {
  std::string token = LoginToken(server_.Port(), "root", kRootPassword);
  ASSERT_FALSE(token.empty());
  RunResult run =
      RunKalam(server_, {"--token", token, "--format", "csv", "-c", "SELECT 41 + 1 AS n"}, "",
               "wrong-password");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "n\n42\n");

  RunResult bad = RunKalam(server_, {"--token", "not-a-jwt", "-c", "SELECT 1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("ERROR INVALID_CREDENTIALS: "), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kalamdb::test
