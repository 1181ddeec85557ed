#include "sql/splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalamdb::sql {
namespace {

std::vector<std::string> Split(std::string_view sql) {
  Arena arena;
  auto result = SplitStatements(sql, arena);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> out;
  if (!result.ok()) return out;
  for (const StatementText& statement : *result) {
    EXPECT_EQ(sql.substr(statement.offset, statement.text.size()), statement.text);
    out.emplace_back(statement.text);
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(SplitterTest, SingleStatementWithAndWithoutSemicolon) {
  EXPECT_EQ(Split("SELECT 1"), Strings{"SELECT 1"});
  EXPECT_EQ(Split("SELECT 1;"), Strings{"SELECT 1"});
  EXPECT_EQ(Split("  \n\tSELECT 1 ;  \n"), Strings{"SELECT 1"});
}

TEST(SplitterTest, SeveralStatementsWithOffsets) {
  Arena arena;
  std::string_view sql = "CREATE NAMESPACE a;  INSERT INTO a.t VALUES (1);\nSELECT * FROM a.t";
  auto result = SplitStatements(sql, arena);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->size(), 3u);
  EXPECT_EQ((*result)[0].text, "CREATE NAMESPACE a");
  EXPECT_EQ((*result)[0].offset, 0u);
  EXPECT_EQ((*result)[1].text, "INSERT INTO a.t VALUES (1)");
  EXPECT_EQ((*result)[1].offset, 21u);
  EXPECT_EQ((*result)[2].text, "SELECT * FROM a.t");
  EXPECT_EQ((*result)[2].offset, 49u);
}

TEST(SplitterTest, SkipsEmptyStatements) {
  EXPECT_EQ(Split(""), Strings{});
  EXPECT_EQ(Split(";;; ;\n;"), Strings{});
  EXPECT_EQ(Split(";SELECT 1;;SELECT 2;"), (Strings{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(Split("-- only a comment"), Strings{});
  EXPECT_EQ(Split("/* a */ ; -- b\n ;"), Strings{});
}

TEST(SplitterTest, SemicolonInsideStringsDoesNotSplit) {
  EXPECT_EQ(Split("INSERT INTO t VALUES ('a;b'); SELECT 1"),
            (Strings{"INSERT INTO t VALUES ('a;b')", "SELECT 1"}));
  EXPECT_EQ(Split("SELECT 'it''s; fine'; SELECT 2"), (Strings{"SELECT 'it''s; fine'", "SELECT 2"}));
  EXPECT_EQ(Split("SELECT ''';'''"), Strings{"SELECT ''';'''"});
  EXPECT_EQ(Split("SELECT ''; SELECT ''"), (Strings{"SELECT ''", "SELECT ''"}));
}

TEST(SplitterTest, SemicolonInsideQuotedIdentifiersDoesNotSplit) {
  EXPECT_EQ(Split("SELECT \"a;b\" FROM t; SELECT \"x\"\";\"\"\""),
            (Strings{"SELECT \"a;b\" FROM t", "SELECT \"x\"\";\"\"\""}));
  // A single quote inside a quoted identifier is an ordinary character.
  EXPECT_EQ(Split("SELECT \"it's\"; SELECT 1"), (Strings{"SELECT \"it's\"", "SELECT 1"}));
}

TEST(SplitterTest, CommentsAreSkippedAndTrimmed) {
  EXPECT_EQ(Split("-- hello; world\nSELECT 1; -- trailing; comment"), Strings{"SELECT 1"});
  EXPECT_EQ(Split("/* a; b */ SELECT /* c; d */ 1 /* e */; SELECT 2"),
            (Strings{"SELECT /* c; d */ 1", "SELECT 2"}));
  EXPECT_EQ(Split("SELECT 1 -- comment without newline"), Strings{"SELECT 1"});
  // A quote inside a comment does not open a string.
  EXPECT_EQ(Split("SELECT 1 -- it's\n; SELECT 2"), (Strings{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(Split("SELECT 1 /* it's */; SELECT 2"), (Strings{"SELECT 1", "SELECT 2"}));
  // Comment markers inside strings are text.
  EXPECT_EQ(Split("SELECT '--;'; SELECT '/*'"), (Strings{"SELECT '--;'", "SELECT '/*'"}));
}

TEST(SplitterTest, SemicolonInsideParenthesesDoesNotSplit) {
  EXPECT_EQ(Split("EXECUTE AS USER 'u' (SELECT 1; SELECT 2); SELECT 3"),
            (Strings{"EXECUTE AS USER 'u' (SELECT 1; SELECT 2)", "SELECT 3"}));
  // An unmatched ')' does not make the depth negative.
  EXPECT_EQ(Split("SELECT 1); SELECT 2"), (Strings{"SELECT 1)", "SELECT 2"}));
}

TEST(SplitterTest, UnterminatedQuotesAndCommentsAreErrors) {
  struct Case {
    std::string_view sql;
    uint32_t offset;
    std::string_view message;
  };
  const Case cases[] = {
      {"SELECT 'abc", 7, "syntax error at position 7: unterminated quoted string"},
      {"SELECT 1; SELECT 'it''s", 17, "syntax error at position 17: unterminated quoted string"},
      {"SELECT \"abc", 7, "syntax error at position 7: unterminated quoted identifier"},
      {"SELECT 1 /* never closed", 9, "syntax error at position 9: unterminated /* comment"},
      {"'", 0, "syntax error at position 0: unterminated quoted string"},
  };
  for (const Case& c : cases) {
    Arena arena;
    uint32_t offset = 12345;
    auto result = SplitStatements(c.sql, arena, &offset);
    ASSERT_FALSE(result.ok()) << c.sql;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidSql);
    EXPECT_EQ(result.status().message(), c.message);
    EXPECT_EQ(offset, c.offset) << c.sql;
  }
}

}  // namespace
}  // namespace kalamdb::sql
