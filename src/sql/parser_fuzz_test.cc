// A deterministic random-input test of the whole front end (splitter, lexer, shape, parser,
// ToString): no input may crash, hang or trip a sanitizer, every error must point inside the
// input, and the canonical form of every parsed statement must parse back to itself.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sql/parser.h"
#include "sql/shape.h"
#include "sql/splitter.h"

namespace kalamdb::sql {
namespace {

const std::vector<std::string>& Vocabulary() {
  static const std::vector<std::string> words = {"SELECT",
                                                 "INSERT",
                                                 "INTO",
                                                 "VALUES",
                                                 "CREATE",
                                                 "TABLE",
                                                 "USER",
                                                 "NAMESPACE",
                                                 "DROP",
                                                 "IF",
                                                 "NOT",
                                                 "EXISTS",
                                                 "CASCADE",
                                                 "FROM",
                                                 "WHERE",
                                                 "AND",
                                                 "OR",
                                                 "LIKE",
                                                 "ILIKE",
                                                 "IN",
                                                 "BETWEEN",
                                                 "IS",
                                                 "NULL",
                                                 "TRUE",
                                                 "FALSE",
                                                 "CAST",
                                                 "AS",
                                                 "COUNT",
                                                 "DISTINCT",
                                                 "GROUP",
                                                 "BY",
                                                 "ORDER",
                                                 "HAVING",
                                                 "LIMIT",
                                                 "OFFSET",
                                                 "DESC",
                                                 "ASC",
                                                 "UPDATE",
                                                 "SET",
                                                 "DELETE",
                                                 "SHOW",
                                                 "TABLES",
                                                 "NAMESPACES",
                                                 "USE",
                                                 "DESCRIBE",
                                                 "EXECUTE",
                                                 "PASSWORD",
                                                 "ROLE",
                                                 "EMAIL",
                                                 "WITH",
                                                 "OAUTH",
                                                 "INTERNAL",
                                                 "PRIMARY",
                                                 "KEY",
                                                 "DEFAULT",
                                                 "AUTO_INCREMENT",
                                                 "AUTO",
                                                 "INCREMENT",
                                                 "UNIQUE",
                                                 "CONSTRAINT",
                                                 "USING",
                                                 "SHARED",
                                                 "STREAM",
                                                 "ALTER",
                                                 "HISTORY",
                                                 "CURRENT_TIMESTAMP",
                                                 "CURRENT_USER",
                                                 "NOW",
                                                 "BIGINT",
                                                 "TEXT",
                                                 "VARCHAR",
                                                 "DECIMAL",
                                                 "DOUBLE",
                                                 "PRECISION",
                                                 "id",
                                                 "value",
                                                 "t",
                                                 "ns",
                                                 "a",
                                                 "b",
                                                 "system",
                                                 "users",
                                                 "\"q\"",
                                                 "\"x\"\"y\"",
                                                 "'s'",
                                                 "'it''s'",
                                                 "''",
                                                 "'{\"k\":1}'",
                                                 "1",
                                                 "0",
                                                 "42",
                                                 "1.5",
                                                 ".5",
                                                 "1e3",
                                                 "99999999999999999999",
                                                 "$1",
                                                 "$2",
                                                 "$0",
                                                 "=",
                                                 "<>",
                                                 "!=",
                                                 "<",
                                                 "<=",
                                                 ">",
                                                 ">=",
                                                 "+",
                                                 "-",
                                                 "*",
                                                 "/",
                                                 "%",
                                                 "||",
                                                 "(",
                                                 ")",
                                                 "(",
                                                 ")",
                                                 "(",
                                                 ")",
                                                 ",",
                                                 ",",
                                                 ".",
                                                 ";",
                                                 "::",
                                                 "--c\n",
                                                 "/*c*/",
                                                 "'",
                                                 "\"",
                                                 "/*",
                                                 "$",
                                                 "!",
                                                 "|",
                                                 ":",
                                                 "#",
                                                 "\\",
                                                 "\xc3\xa9",
                                                 std::string("\0", 1),
                                                 "\xff"};
  return words;
}

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      "CREATE TABLE ns.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMP "
      "DEFAULT NOW())",
      "CREATE TABLE ns.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)",
      "INSERT INTO ns.t (id, worker, value) VALUES (1, 2, 'a'), (3, 4, 'b''c')",
      "DROP NAMESPACE IF EXISTS ns CASCADE",
      "SELECT COUNT(*) FROM ns.t",
      "SELECT user_id FROM system.users WHERE user_id = 'admin' LIMIT 1",
      "CREATE USER admin WITH PASSWORD 'pw' ROLE 'dba'",
      "ALTER USER admin SET ROLE 'dba'",
      "SELECT a, b AS c, t.* FROM ns.t x WHERE a NOT IN (1, 2) AND b BETWEEN 1 AND 5 OR c IS "
      "NOT NULL GROUP BY a HAVING COUNT(DISTINCT b) > 1 ORDER BY a DESC LIMIT $1 OFFSET 2",
      "UPDATE ns.t SET v = v || 'x', n = -n * 2 WHERE id = CAST('5' AS BIGINT)",
      "DELETE FROM ns.t WHERE name ILIKE 'a%' AND x::int % 2 = 0",
      "EXECUTE AS USER 'alice' (INSERT INTO app.t (id) VALUES (1))",
      "CREATE USER TABLE IF NOT EXISTS app.m (id BIGINT, p DECIMAL(10, 2) DEFAULT 0, PRIMARY KEY "
      "(id)) USING x WITH (TTL_SECONDS = -5, TYPE = USER)",
      "SHOW TABLES IN ns; DESCRIBE TABLE ns.t HISTORY; USE ns; SHOW NAMESPACES",
  };
  return seeds;
}

void CheckStatement(std::string_view sql) {
  Arena arena;
  uint32_t offset = 0;
  auto tokens = Tokenize(sql, arena, &offset);
  if (!tokens.ok()) {
    EXPECT_EQ(tokens.status().code(), ErrorCode::kInvalidSql);
    EXPECT_LE(offset, sql.size());
    return;
  }
  Shape shape;
  ShapeOf(*tokens, &shape);
  auto result = ParseTokens(*tokens, arena, &offset);
  if (!result.ok()) {
    EXPECT_TRUE(result.status().code() == ErrorCode::kInvalidSql ||
                result.status().code() == ErrorCode::kInvalidArgument);
    EXPECT_FALSE(result.status().message().empty());
    EXPECT_LE(offset, sql.size());
    return;
  }
  std::string printed = (*result)->ToString();
  Arena again_arena;
  auto again = Parse(printed, again_arena);
  if (again.ok()) {
    EXPECT_EQ((*again)->ToString(), printed) << "input: " << sql;
  } else {
    // Printing adds parentheses, which count against the nesting limit.
    EXPECT_NE(again.status().message().find("nested too deeply"), std::string_view::npos)
        << "input: " << sql << "\nprinted: " << printed << "\n"
        << again.status().ToString();
  }
}

void Exercise(std::string_view input) {
  Arena arena;
  auto statements = SplitStatements(input, arena);
  if (statements.ok()) {
    for (const StatementText& statement : *statements) {
      ASSERT_LE(statement.offset + statement.text.size(), input.size());
      CheckStatement(statement.text);
    }
  }
  CheckStatement(input);
}

TEST(ParserFuzzTest, RandomInputsNeverCrash) {
  std::mt19937 rng(20240601);
  const auto& words = Vocabulary();
  const auto& seeds = Seeds();
  const char* separators[] = {" ", " ", " ", "", "\n", "\t"};
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    switch (i % 3) {
      case 0: {  // SQL-ish token soup
        size_t count = 1 + pick(60);
        for (size_t j = 0; j < count; ++j) {
          input += words[pick(words.size())];
          input += separators[pick(std::size(separators))];
        }
        break;
      }
      case 1: {  // a valid statement with a few byte edits
        input = seeds[pick(seeds.size())];
        size_t edits = 1 + pick(4);
        for (size_t j = 0; j < edits && !input.empty(); ++j) {
          size_t at = pick(input.size());
          switch (pick(4)) {
            case 0:
              input[at] = static_cast<char>(pick(256));
              break;
            case 1:
              input.erase(at, 1 + pick(8));
              break;
            case 2:
              input.insert(at, words[pick(words.size())]);
              break;
            default:
              input.insert(at, 1, " ();,'\"-*"[pick(9)]);
              break;
          }
        }
        break;
      }
      default: {  // random bytes
        size_t length = pick(200);
        for (size_t j = 0; j < length; ++j) input.push_back(static_cast<char>(pick(256)));
        break;
      }
    }
    Exercise(input);
    Arena arena;
    if (Parse(input, arena).ok()) ++parsed;
    if (HasFatalFailure()) return;
  }
  // The mutated seeds keep some inputs valid, so the success paths are exercised too.
  EXPECT_GT(parsed, 100);
}

TEST(ParserFuzzTest, EverySeedRoundTrips) {
  for (const std::string& seed : Seeds()) Exercise(seed);
}

}  // namespace
}  // namespace kalamdb::sql
