#include "sql/shape.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalamdb::sql {
namespace {

Shape ShapeOfText(std::string_view sql, Arena& arena) {
  auto tokens = Tokenize(sql, arena);
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  if (!tokens.ok()) return {};
  return ShapeOf(*tokens);
}

std::vector<std::string> LiteralTexts(const Shape& shape) {
  std::vector<std::string> texts;
  for (const Token& token : shape.literals) texts.emplace_back(token.text);
  return texts;
}

using Strings = std::vector<std::string>;

TEST(ShapeTest, SameStatementWithOtherLiteralsSharesTheShape) {
  Arena arena;
  Shape a = ShapeOfText("INSERT INTO a.t (id, v) VALUES (1, 'x')", arena);
  Shape b = ShapeOfText("insert into a.t (id,v) values (2,'y')", arena);
  Shape c = ShapeOfText("INSERT  INTO a.t(id , v)\n VALUES(3 , /* c */ 'it''s') -- done", arena);
  EXPECT_EQ(a.text, "INSERT INTO a.t (id, v) VALUES (?, ?)");
  EXPECT_EQ(b.text, a.text);
  EXPECT_EQ(c.text, a.text);
  EXPECT_EQ(LiteralTexts(a), (Strings{"1", "'x'"}));
  EXPECT_EQ(LiteralTexts(b), (Strings{"2", "'y'"}));
  EXPECT_EQ(LiteralTexts(c), (Strings{"3", "'it''s'"}));
  EXPECT_EQ(a.literals[0].kind, TokenKind::kInteger);
  EXPECT_EQ(a.literals[1].kind, TokenKind::kString);
}

TEST(ShapeTest, DifferentStructureGivesDifferentShapes) {
  Arena arena;
  std::string base = ShapeOfText("INSERT INTO a.t (id, v) VALUES (1, 'x')", arena).text;
  EXPECT_NE(ShapeOfText("INSERT INTO a.t (id, v) VALUES (1, 'x'), (2, 'y')", arena).text, base);
  EXPECT_NE(ShapeOfText("INSERT INTO a.u (id, v) VALUES (1, 'x')", arena).text, base);
  EXPECT_NE(ShapeOfText("INSERT INTO a.t (v, id) VALUES (1, 'x')", arena).text, base);
  EXPECT_NE(ShapeOfText("INSERT INTO a.t (id, v) VALUES (-1, 'x')", arena).text, base);
  EXPECT_NE(ShapeOfText("INSERT INTO a.t (id, v) VALUES ($1, 'x')", arena).text, base);
  // Quoted identifiers keep their quotes: "select" is a name, not the keyword.
  EXPECT_EQ(ShapeOfText("SELECT \"select\" FROM t", arena).text, "SELECT \"select\" FROM t");
}

TEST(ShapeTest, KeywordLiteralsAndParameters) {
  Arena arena;
  Shape shape = ShapeOfText(
      "select * from t where a = true and b is null and c is not null and d <> NULL "
      "and e = $1 and f = 1.5e3 limit 10",
      arena);
  EXPECT_EQ(shape.text,
            "SELECT * FROM t WHERE a = ? AND b IS NULL AND c IS NOT NULL AND d <> ? AND e = $1 "
            "AND f = ? LIMIT ?");
  EXPECT_EQ(LiteralTexts(shape), (Strings{"true", "NULL", "1.5e3", "10"}));
}

TEST(ShapeTest, PunctuationSpacing) {
  Arena arena;
  EXPECT_EQ(ShapeOfText("SELECT COUNT(*), x::int, t.c FROM ns.t;", arena).text,
            "SELECT COUNT (*), x::int, t.c FROM ns.t;");
}

TEST(ShapeTest, ReusesItsBuffers) {
  Arena arena;
  Shape shape;
  auto first = Tokenize("INSERT INTO t (a) VALUES (1)", arena);
  ASSERT_TRUE(first.ok());
  ShapeOf(*first, &shape);
  EXPECT_EQ(shape.text, "INSERT INTO t (a) VALUES (?)");
  auto second = Tokenize("SELECT 2", arena);
  ASSERT_TRUE(second.ok());
  ShapeOf(*second, &shape);
  EXPECT_EQ(shape.text, "SELECT ?");
  ASSERT_EQ(shape.literals.size(), 1u);
  EXPECT_EQ(shape.literals[0].text, "2");
}

}  // namespace
}  // namespace kalamdb::sql
