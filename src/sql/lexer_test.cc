#include "sql/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalamdb::sql {
namespace {

std::vector<Token> Lex(std::string_view sql) {
  Arena arena;
  auto result = Tokenize(sql, arena);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return {};
  return {result->begin(), result->end()};
}

std::vector<TokenKind> Kinds(std::string_view sql) {
  std::vector<TokenKind> kinds;
  for (const Token& token : Lex(sql)) kinds.push_back(token.kind);
  return kinds;
}

std::vector<std::string> Texts(std::string_view sql) {
  std::vector<std::string> texts;
  for (const Token& token : Lex(sql)) {
    if (token.kind != TokenKind::kEnd) texts.emplace_back(token.text);
  }
  return texts;
}

using K = TokenKind;
using Strings = std::vector<std::string>;

TEST(LexerTest, KeywordsAreCaseInsensitiveAndFound) {
  EXPECT_EQ(LookupKeyword("select"), Keyword::kSelect);
  EXPECT_EQ(LookupKeyword("SeLeCt"), Keyword::kSelect);
  EXPECT_EQ(LookupKeyword("SELECT"), Keyword::kSelect);
  EXPECT_EQ(LookupKeyword("current_timestamp"), Keyword::kCurrentTimestamp);
  EXPECT_EQ(LookupKeyword("auto_increment"), Keyword::kAutoIncrement);
  EXPECT_EQ(LookupKeyword("selectx"), Keyword::kNone);
  EXPECT_EQ(LookupKeyword("selec"), Keyword::kNone);
  EXPECT_EQ(LookupKeyword("x"), Keyword::kNone);
  EXPECT_EQ(LookupKeyword(""), Keyword::kNone);
  EXPECT_EQ(KeywordSpelling(Keyword::kNamespace), "NAMESPACE");
}

TEST(LexerTest, EveryKeywordRoundTripsThroughTheTable) {
#define KALAMDB_CHECK_KEYWORD(name, spelling, reserved)          \
  EXPECT_EQ(LookupKeyword(spelling), Keyword::name) << spelling; \
  EXPECT_EQ(KeywordSpelling(Keyword::name), spelling);           \
  EXPECT_EQ(IsReserved(Keyword::name), reserved) << spelling;
  KALAMDB_SQL_KEYWORDS(KALAMDB_CHECK_KEYWORD)
#undef KALAMDB_CHECK_KEYWORD
}

TEST(LexerTest, CommonColumnNamesAreNotReserved) {
  for (std::string_view name :
       {"id",      "value",  "created_at", "batch_id", "worker_id", "seq",      "worker",
        "name",    "type",   "role",       "status",   "data",      "key",      "timestamp",
        "date",    "time",   "user",       "text",     "email",     "password", "default",
        "history", "tables", "namespace",  "set",      "values",    "primary"}) {
    EXPECT_FALSE(IsReserved(LookupKeyword(name))) << name;
  }
  for (std::string_view word : {"select", "from", "where", "and", "or", "not", "null", "true",
                                "false", "limit", "order", "group", "as", "in", "is", "like"}) {
    EXPECT_TRUE(IsReserved(LookupKeyword(word))) << word;
  }
}

TEST(LexerTest, IdentifiersAndKeywords) {
  auto tokens = Lex("SELECT user_id FROM system.users");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[0].kind, K::kIdentifier);
  EXPECT_EQ(tokens[0].keyword, Keyword::kSelect);
  EXPECT_EQ(tokens[1].text, "user_id");
  EXPECT_EQ(tokens[1].keyword, Keyword::kNone);
  EXPECT_EQ(tokens[1].offset, 7u);
  EXPECT_EQ(tokens[2].keyword, Keyword::kFrom);
  EXPECT_EQ(tokens[4].kind, K::kDot);
  EXPECT_EQ(tokens[5].text, "users");
  EXPECT_EQ(tokens[6].kind, K::kEnd);
  EXPECT_EQ(tokens[6].offset, 32u);
}

TEST(LexerTest, QuotedIdentifiersAreNeverKeywords) {
  Arena arena;
  auto tokens = Tokenize("\"select\" \"a\"\"b\" \"Mixed Case\"", arena);
  ASSERT_TRUE(tokens.ok());
  const Token& select = (*tokens)[0];
  EXPECT_EQ(select.kind, K::kQuotedIdentifier);
  EXPECT_EQ(select.keyword, Keyword::kNone);
  EXPECT_EQ(select.text, "\"select\"");
  EXPECT_FALSE(select.has_escape);
  EXPECT_EQ(Unquote(select, arena), "select");
  const Token& escaped = (*tokens)[1];
  EXPECT_TRUE(escaped.has_escape);
  EXPECT_EQ(Unquote(escaped, arena), "a\"b");
  EXPECT_EQ(Unquote((*tokens)[2], arena), "Mixed Case");
}

TEST(LexerTest, StringsBorrowUnlessEscaped) {
  Arena arena;
  std::string_view sql = "'hello' 'it''s' '' ''''";
  auto tokens = Tokenize(sql, arena);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 5u);
  const Token& plain = (*tokens)[0];
  EXPECT_EQ(plain.kind, K::kString);
  EXPECT_FALSE(plain.has_escape);
  std::string_view body = Unquote(plain, arena);
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(body.data(), sql.data() + 1);  // zero-copy
  EXPECT_TRUE((*tokens)[1].has_escape);
  EXPECT_EQ(Unquote((*tokens)[1], arena), "it's");
  EXPECT_EQ(Unquote((*tokens)[2], arena), "");
  EXPECT_EQ(Unquote((*tokens)[3], arena), "'");
}

TEST(LexerTest, Numbers) {
  EXPECT_EQ(Kinds("1 123 1.5 .5 1. 1e3 1.5E-3 2e+10"),
            (std::vector<K>{K::kInteger, K::kInteger, K::kDecimal, K::kDecimal, K::kDecimal,
                            K::kDecimal, K::kDecimal, K::kDecimal, K::kEnd}));
  EXPECT_EQ(Texts("1.5E-3"), Strings{"1.5E-3"});
  EXPECT_EQ(Texts("99999999999999999999999"), Strings{"99999999999999999999999"});
}

TEST(LexerTest, Parameters) {
  auto tokens = Lex("$1 $23");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].kind, K::kParameter);
  EXPECT_EQ(tokens[0].text, "$1");
  EXPECT_EQ(tokens[1].text, "$23");
}

TEST(LexerTest, Operators) {
  EXPECT_EQ(Kinds("= <> != < <= > >= + - * / % || ( ) , . ; ::"),
            (std::vector<K>{K::kEq,    K::kNotEq,   K::kNotEq,     K::kLt,          K::kLtEq,
                            K::kGt,    K::kGtEq,    K::kPlus,      K::kMinus,       K::kStar,
                            K::kSlash, K::kPercent, K::kConcat,    K::kLParen,      K::kRParen,
                            K::kComma, K::kDot,     K::kSemicolon, K::kDoubleColon, K::kEnd}));
  EXPECT_EQ(Texts("a<=b<>c||d::int"), (Strings{"a", "<=", "b", "<>", "c", "||", "d", "::", "int"}));
  EXPECT_EQ(Texts("x-1"), (Strings{"x", "-", "1"}));
}

TEST(LexerTest, CommentsAndWhitespaceSeparateTokens) {
  EXPECT_EQ(Texts("SELECT--c\n1/*x*/+/**/2\t\r\n"), (Strings{"SELECT", "1", "+", "2"}));
  EXPECT_EQ(Texts("a -- to the end"), Strings{"a"});
}

TEST(LexerTest, Utf8InIdentifiersAndStrings) {
  EXPECT_EQ(Texts("SELECT caf\xc3\xa9 FROM t WHERE x = 'na\xc3\xafve'"),
            (Strings{"SELECT", "caf\xc3\xa9", "FROM", "t", "WHERE", "x", "=", "'na\xc3\xafve'"}));
}

TEST(LexerTest, ErrorsCarryTheOffset) {
  struct Case {
    std::string_view sql;
    uint32_t offset;
    std::string_view message;
  };
  const Case cases[] = {
      {"SELECT 'abc", 7, "syntax error at position 7: unterminated quoted string"},
      {"SELECT \"abc", 7, "syntax error at position 7: unterminated quoted identifier"},
      {"SELECT \"\"", 7, "syntax error at position 7: zero-length quoted identifier"},
      {"SELECT 1 /* x", 9, "syntax error at position 9: unterminated /* comment"},
      {"SELECT 1e", 7, "syntax error at position 7: malformed number"},
      {"SELECT 12abc", 7, "syntax error at position 7: malformed number"},
      {"SELECT 1.2.3", 7, "syntax error at position 7: malformed number"},
      {"SELECT $", 7, "syntax error at position 7: expected digits after '$'"},
      {"SELECT $1a", 7, "syntax error at position 7: malformed parameter"},
      {"SELECT #", 7, "syntax error at position 7: unexpected character '#'"},
      {"SELECT a ! b", 9, "syntax error at position 9: unexpected character '!'"},
      {"SELECT a | b", 9, "syntax error at position 9: unexpected character '|'"},
      {"SELECT a : b", 9, "syntax error at position 9: unexpected character ':'"},
      {"SELECT \x01", 7, "syntax error at position 7: unexpected character 0x01"},
  };
  for (const Case& c : cases) {
    Arena arena;
    uint32_t offset = 12345;
    auto result = Tokenize(c.sql, arena, &offset);
    ASSERT_FALSE(result.ok()) << c.sql;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidSql);
    EXPECT_EQ(result.status().message(), c.message) << c.sql;
    EXPECT_EQ(offset, c.offset) << c.sql;
  }
}

TEST(LexerTest, PullLexerRepeatsEnd) {
  Lexer lexer("a");
  Token token;
  ASSERT_TRUE(lexer.Next(&token));
  EXPECT_EQ(token.text, "a");
  ASSERT_TRUE(lexer.Next(&token));
  EXPECT_EQ(token.kind, K::kEnd);
  ASSERT_TRUE(lexer.Next(&token));
  EXPECT_EQ(token.kind, K::kEnd);
  EXPECT_EQ(token.offset, 1u);
}

}  // namespace
}  // namespace kalamdb::sql
