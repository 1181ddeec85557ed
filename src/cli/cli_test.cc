// cli_test.cc: unit tests of the kalam client's statement splitter, response parser,
// formatter and URL parsing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/connection.h"
#include "cli/formatter.h"
#include "cli/sql_response.h"
#include "cli/statement_splitter.h"

namespace kalamdb::cli {
namespace {

using Strings = std::vector<std::string>;

TEST(StatementSplitterTest, SplitsOnSemicolons) {
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT 2;\nSELECT 3"),
            (Strings{"SELECT 1", "SELECT 2", "SELECT 3"}));
  EXPECT_EQ(SplitStatements(" ; ;\n"), Strings{});
  EXPECT_EQ(SplitStatements(""), Strings{});
}

TEST(StatementSplitterTest, IgnoresSemicolonsInQuotes) {
  EXPECT_EQ(SplitStatements("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT \"x;y\" FROM t"),
            (Strings{"INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT \"x;y\" FROM t"}));
}

TEST(StatementSplitterTest, IgnoresSemicolonsInComments) {
  EXPECT_EQ(SplitStatements("SELECT 1 -- one; two\n; /* a; b */ SELECT 2;"),
            (Strings{"SELECT 1 -- one; two", "/* a; b */ SELECT 2"}));
  // Comment-only pieces are not statements.
  EXPECT_EQ(SplitStatements("-- just a comment;\n/* ; */;"), Strings{});
  EXPECT_EQ(SplitStatements("SELECT 5 - 2; SELECT 4 / 2"),
            (Strings{"SELECT 5 - 2", "SELECT 4 / 2"}));
}

TEST(StatementSplitterTest, KeepsStateAcrossFeeds) {
  StatementSplitter splitter;
  EXPECT_TRUE(splitter.Feed("SELECT 'a\n").empty());
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_TRUE(splitter.Feed("b;c'\n").empty());
  Strings done = splitter.Feed("FROM t; SELECT -");
  EXPECT_EQ(done, (Strings{"SELECT 'a\nb;c'\nFROM t"}));
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("- c\n1;"), (Strings{"SELECT -- c\n1"}));
  EXPECT_FALSE(splitter.HasPending());
  EXPECT_TRUE(splitter.Feed("-- only a comment\n").empty());
  EXPECT_FALSE(splitter.HasPending());
  EXPECT_TRUE(splitter.Feed("/* open").empty());
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.TakeRest(), "");
  EXPECT_TRUE(splitter.Feed("SELECT 9").empty());
  EXPECT_EQ(splitter.TakeRest(), "SELECT 9");
  EXPECT_FALSE(splitter.HasPending());
}

constexpr char kRowsBody[] =
    R"({"status":"success","results":[{"schema":[{"name":"v","data_type":"Text","index":1},)"
    R"({"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]}],)"
    R"("rows":[["1","abc"],["22",null],[3,"x,\"y\""]],"row_count":3,"as_user":"root"}],)"
    R"("took":2.417,"error":null})";

TEST(SqlResponseTest, ParsesRowsInSchemaIndexOrder) {
  SqlResponse response = ParseSqlResponse(200, kRowsBody);
  ASSERT_TRUE(response.ok) << response.error_message;
  EXPECT_DOUBLE_EQ(response.took_ms, 2.417);
  ASSERT_EQ(response.results.size(), 1u);
  const QueryResult& result = response.results[0];
  EXPECT_TRUE(result.has_rows);
  EXPECT_EQ(result.columns, (Strings{"id", "v"}));
  ASSERT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.rows[0][0].text, "1");
  EXPECT_EQ(result.rows[0][0].json, "\"1\"");
  EXPECT_TRUE(result.rows[1][1].is_null);
  EXPECT_EQ(result.rows[1][1].text, "NULL");
  EXPECT_EQ(result.rows[2][0].text, "3");
  EXPECT_EQ(result.rows[2][1].text, "x,\"y\"");
}

TEST(SqlResponseTest, ParsesMessagesAndErrors) {
  SqlResponse dml = ParseSqlResponse(
      200, R"j({"status":"success","results":[{"row_count":2,"message":"Inserted 2 row(s)",)j"
           R"("as_user":"root"}],"took":0.5})");
  ASSERT_TRUE(dml.ok);
  ASSERT_EQ(dml.results.size(), 1u);
  EXPECT_FALSE(dml.results[0].has_rows);
  EXPECT_EQ(dml.results[0].message, "Inserted 2 row(s)");
  EXPECT_EQ(dml.results[0].row_count, 2);

  SqlResponse error = ParseSqlResponse(
      400, R"({"status":"error","results":[],"took":0.9,"error":{"code":"INVALID_SQL",)"
           R"("message":"bad","details":"SELEC"}})");
  EXPECT_FALSE(error.ok);
  EXPECT_EQ(error.error_code, "INVALID_SQL");
  EXPECT_EQ(error.error_message, "bad");

  SqlResponse garbage = ParseSqlResponse(502, "<html>");
  EXPECT_FALSE(garbage.ok);
  EXPECT_EQ(garbage.error_code, "INVALID_RESPONSE");
}

TEST(FormatterTest, AlignedTable) {
  SqlResponse response = ParseSqlResponse(200, kRowsBody);
  ASSERT_TRUE(response.ok);
  EXPECT_EQ(FormatResult(response.results[0], Format::kTable, response.took_ms),
            "id | v\n"
            "---+------\n"
            "1  | abc\n"
            "22 | NULL\n"
            "3  | x,\"y\"\n"
            "(3 rows) in 2.417 ms\n");
}

TEST(FormatterTest, TableEdgeCases) {
  QueryResult result;
  result.has_rows = true;
  result.columns = {"name", "n"};
  EXPECT_EQ(FormatResult(result, Format::kTable, 1), "name | n\n-----+--\n(0 rows) in 1.000 ms\n");
  Cell wide{false, "h\u00e9llo\nx", "\"h\u00e9llo\\nx\""};
  Cell one{false, "1", "1"};
  result.rows = {{wide, one}};
  EXPECT_EQ(FormatResult(result, Format::kTable, 0.25),
            "name     | n\n---------+--\nh\u00e9llo\\nx | 1\n(1 row) in 0.250 ms\n");
  EXPECT_EQ(DisplayWidth("h\u00e9llo"), 5u);
}

TEST(FormatterTest, JsonAndCsv) {
  SqlResponse response = ParseSqlResponse(200, kRowsBody);
  ASSERT_TRUE(response.ok);
  const QueryResult& result = response.results[0];
  EXPECT_EQ(FormatResult(result, Format::kJson, 0),
            R"([{"id":"1","v":"abc"},{"id":"22","v":null},{"id":3,"v":"x,\"y\""}])"
            "\n");
  EXPECT_EQ(FormatResult(result, Format::kCsv, 0), "id,v\n1,abc\n22,\n3,\"x,\"\"y\"\"\"\n");
}

TEST(FormatterTest, Messages) {
  QueryResult result;
  result.message = "Namespace 'x' created successfully";
  EXPECT_EQ(FormatResult(result, Format::kTable, 1), "Namespace 'x' created successfully\n");
  EXPECT_EQ(FormatResult(result, Format::kCsv, 1), "Namespace 'x' created successfully\n");
  EXPECT_EQ(FormatResult(result, Format::kJson, 1),
            R"({"message":"Namespace 'x' created successfully","row_count":0})"
            "\n");
  result.message.clear();
  result.row_count = 4;
  EXPECT_EQ(FormatResult(result, Format::kTable, 1), "OK, 4 row(s)\n");
}

TEST(FormatterTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("table"), Format::kTable);
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("csv"), Format::kCsv);
  EXPECT_FALSE(ParseFormat("xml").has_value());
}

TEST(ServerUrlTest, Parses) {
  auto url = ParseServerUrl("http://127.0.0.1:8080/");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  url = ParseServerUrl("localhost");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 8080);
  EXPECT_FALSE(ParseServerUrl("https://x:1").has_value());
  EXPECT_FALSE(ParseServerUrl("http://x:99999").has_value());
  EXPECT_FALSE(ParseServerUrl("http://x:1/path").has_value());
  EXPECT_FALSE(ParseServerUrl("http://").has_value());
}

}  // namespace
}  // namespace kalamdb::cli
