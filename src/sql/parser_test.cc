#include "sql/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace kalamdb::sql {
namespace {

// Parses `sql` and returns the canonical form, or the error message prefixed with "ERROR ".
std::string Canonical(std::string_view sql) {
  Arena arena;
  auto result = Parse(sql, arena);
  if (!result.ok()) return "ERROR " + std::string(result.status().message());
  return (*result)->ToString();
}

// Parses `sql` as a statement `SELECT <expr>` and returns the printed expression.
std::string ExprString(std::string_view expr) {
  Arena arena;
  std::string sql = "SELECT " + std::string(expr);
  auto result = Parse(sql, arena);
  if (!result.ok()) return "ERROR " + std::string(result.status().message());
  const auto* select = (*result)->As<SelectStmt>();
  EXPECT_EQ(select->items.size(), 1u);
  return select->items[0].expr->ToString();
}

struct ParseFailure {
  ErrorCode code;
  std::string message;
  uint32_t offset;
};

ParseFailure Fail(std::string_view sql) {
  Arena arena;
  uint32_t offset = 999999;
  auto result = Parse(sql, arena, &offset);
  EXPECT_FALSE(result.ok()) << sql;
  if (result.ok()) return {ErrorCode::kOk, "", 0};
  return {result.status().code(), std::string(result.status().message()), offset};
}

// Round trips: the canonical form is the input itself.
void ExpectCanonical(std::string_view sql) { EXPECT_EQ(Canonical(sql), sql); }

// ---- Namespaces -----------------------------------------------------------------------------

TEST(ParserTest, Namespaces) {
  ExpectCanonical("CREATE NAMESPACE ns");
  EXPECT_EQ(Canonical("create namespace if not exists app_1;"),
            "CREATE NAMESPACE IF NOT EXISTS app_1");
  ExpectCanonical("DROP NAMESPACE ns");
  ExpectCanonical("DROP NAMESPACE IF EXISTS ns CASCADE");
  ExpectCanonical("SHOW NAMESPACES");
  EXPECT_EQ(Canonical("show namespaces"), "SHOW NAMESPACES");
  EXPECT_EQ(Canonical("USE ns"), "USE NAMESPACE ns");
  EXPECT_EQ(Canonical("USE NAMESPACE ns"), "USE NAMESPACE ns");
  EXPECT_EQ(Canonical("set namespace ns"), "USE NAMESPACE ns");
  // A namespace may itself be called "namespace".
  EXPECT_EQ(Canonical("USE namespace"), "USE NAMESPACE namespace");
  EXPECT_EQ(Canonical("CREATE NAMESPACE \"Odd Name\""), "CREATE NAMESPACE \"Odd Name\"");
}

TEST(ParserTest, NamespaceFields) {
  Arena arena;
  auto result = Parse("DROP NAMESPACE IF EXISTS ns CASCADE", arena);
  ASSERT_TRUE(result.ok());
  const auto* drop = (*result)->As<DropNamespaceStmt>();
  EXPECT_TRUE(drop->if_exists);
  EXPECT_TRUE(drop->cascade);
  EXPECT_EQ(drop->name.name, "ns");
  EXPECT_EQ(drop->name.offset, 25u);
  EXPECT_EQ((*result)->TryAs<SelectStmt>(), nullptr);
  EXPECT_EQ(StatementKindName((*result)->kind), "DROP NAMESPACE");
}

// ---- CREATE TABLE ---------------------------------------------------------------------------

TEST(ParserTest, BenchmarkCreateTables) {
  ExpectCanonical(
      "CREATE TABLE ns.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at "
      "TIMESTAMP DEFAULT NOW())");
  ExpectCanonical(
      "CREATE TABLE ns.parallel (id BIGINT PRIMARY KEY AUTO_INCREMENT, worker INT, value TEXT)");

  Arena arena;
  auto result = Parse(
      "CREATE TABLE ns.single (id BIGINT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMP "
      "DEFAULT NOW())",
      arena);
  ASSERT_TRUE(result.ok());
  const auto* create = (*result)->As<CreateTableStmt>();
  EXPECT_EQ(create->table_type, TableType::kUnspecified);
  EXPECT_FALSE(create->if_not_exists);
  EXPECT_EQ(create->table.namespace_name.name, "ns");
  EXPECT_EQ(create->table.table.name, "single");
  ASSERT_EQ(create->columns.size(), 3u);
  EXPECT_EQ(create->columns[0].name.name, "id");
  EXPECT_EQ(create->columns[0].type.name, "BIGINT");
  EXPECT_TRUE(create->columns[0].primary_key);
  EXPECT_EQ(create->columns[1].nullability, Nullability::kNotNull);
  EXPECT_EQ(create->columns[1].type.name, "TEXT");
  const auto* now = create->columns[2].default_value->As<FunctionCallExpr>();
  EXPECT_EQ(now->name.name, "NOW");
  EXPECT_TRUE(now->args.empty());
  EXPECT_TRUE(create->primary_key_columns.empty());
  EXPECT_TRUE(create->options.empty());
}

TEST(ParserTest, CreateTableFullGrammar) {
  EXPECT_EQ(
      Canonical("create user table if not exists app.messages (id bigint auto increment, "
                "body varchar(255) null unique, price decimal(10,2) default -1.5, v "
                "EMBEDDING(384), d double precision not null, PRIMARY KEY (id)) USING parquet "
                "'x' (a, b) WITH (TTL_SECONDS = 3600, type = 'USER', FLUSH_POLICY = 'rows:100', "
                "USE_USER_STORAGE = true, x = -5, access_level = public, \"k\" = 2.5)"),
      "CREATE USER TABLE IF NOT EXISTS app.messages (id BIGINT AUTO_INCREMENT, body "
      "VARCHAR(255) NULL UNIQUE, price DECIMAL(10, 2) DEFAULT (-1.5), v EMBEDDING(384), d DOUBLE "
      "PRECISION NOT NULL, PRIMARY KEY (id)) WITH (TTL_SECONDS = 3600, type = 'USER', "
      "FLUSH_POLICY = 'rows:100', USE_USER_STORAGE = TRUE, x = -5, access_level = public, "
      "\"k\" = 2.5)");
  ExpectCanonical("CREATE SHARED TABLE t (id INT, CONSTRAINT pk_t PRIMARY KEY (id))");
  ExpectCanonical(
      "CREATE STREAM TABLE s.e (id BIGINT PRIMARY KEY, payload JSON) WITH "
      "(TTL_SECONDS = 10)");
  ExpectCanonical("CREATE TABLE t (id INT NOT NULL DEFAULT 0 PRIMARY KEY AUTO_INCREMENT UNIQUE)");
  // Column constraints print in one canonical order.
  EXPECT_EQ(Canonical("CREATE TABLE t (id INT UNIQUE AUTO_INCREMENT PRIMARY KEY DEFAULT 0 NOT "
                      "NULL)"),
            "CREATE TABLE t (id INT NOT NULL DEFAULT 0 PRIMARY KEY AUTO_INCREMENT UNIQUE)");
  EXPECT_EQ(Canonical("CREATE TABLE t (c TEXT DEFAULT CURRENT_USER, ts TIMESTAMP DEFAULT "
                      "CURRENT_TIMESTAMP) USING anything at all"),
            "CREATE TABLE t (c TEXT DEFAULT CURRENT_USER(), ts TIMESTAMP DEFAULT "
            "CURRENT_TIMESTAMP())");
  ExpectCanonical("CREATE TABLE t (id BIGINT DEFAULT SNOWFLAKE_ID() PRIMARY KEY)");

  Arena arena;
  auto result = Parse("CREATE TABLE t (p DECIMAL(10, 2), e EMBEDDING(384), v VARCHAR(8))", arena);
  ASSERT_TRUE(result.ok());
  const auto* create = (*result)->As<CreateTableStmt>();
  EXPECT_EQ(create->columns[0].type.param_count, 2);
  EXPECT_EQ(create->columns[0].type.params[0], 10);
  EXPECT_EQ(create->columns[0].type.params[1], 2);
  EXPECT_EQ(create->columns[1].type.param_count, 1);
  EXPECT_EQ(create->columns[1].type.params[0], 384);
  EXPECT_EQ(create->columns[2].type.params[0], 8);
}

TEST(ParserTest, CreateTableOptionsKeepTheirValueKinds) {
  Arena arena;
  auto result = Parse(
      "CREATE TABLE t (id INT) WITH (TYPE = 'STREAM', TTL_SECONDS = 60, "
      "USE_USER_STORAGE = FALSE, ACCESS_LEVEL = dba)",
      arena);
  ASSERT_TRUE(result.ok());
  auto options = (*result)->As<CreateTableStmt>()->options;
  ASSERT_EQ(options.size(), 4u);
  EXPECT_EQ(options[0].key.name, "TYPE");
  EXPECT_EQ(options[0].value->As<LiteralExpr>()->literal_kind, LiteralKind::kString);
  EXPECT_EQ(options[0].value->As<LiteralExpr>()->text, "STREAM");
  EXPECT_EQ(options[1].value->As<LiteralExpr>()->literal_kind, LiteralKind::kInteger);
  EXPECT_EQ(options[1].value->As<LiteralExpr>()->text, "60");
  EXPECT_EQ(options[2].value->As<LiteralExpr>()->literal_kind, LiteralKind::kBoolean);
  EXPECT_FALSE(options[2].value->As<LiteralExpr>()->boolean);
  EXPECT_EQ(options[3].value->As<ColumnRefExpr>()->column.name, "dba");
}

TEST(ParserTest, CommonWordsAreUsableAsNames) {
  ExpectCanonical(
      "CREATE TABLE default.t (id BIGINT, value TEXT, key TEXT, type TEXT, user TEXT, role "
      "TEXT, status TEXT, data JSON, timestamp TIMESTAMP, date DATE, time TIME, text TEXT, "
      "name TEXT, seq BIGINT, worker INT, batch_id BIGINT, worker_id INT, created_at TIMESTAMP, "
      "email TEXT, password TEXT, default TEXT, history TEXT, tables INT, primary INT)");
  ExpectCanonical(
      "SELECT key, value, type, user, timestamp, date, time, text, role, status, data FROM "
      "ns.t WHERE (status = 'x') ORDER BY time");
  ExpectCanonical("INSERT INTO user.key (user, key, value) VALUES (1, 2, 3)");
  ExpectCanonical("UPDATE t SET value = 1, status = 'done', role = user");
  // Words that start table elements are still column names when the element is a column.
  ExpectCanonical("CREATE TABLE t (constraint INT PRIMARY KEY, primary TEXT, key INT)");
}

// ---- DROP TABLE, SHOW TABLES, DESCRIBE ----------------------------------------------------

TEST(ParserTest, DropShowDescribe) {
  ExpectCanonical("DROP TABLE ns.t");
  ExpectCanonical("DROP TABLE IF EXISTS ns.t");
  ExpectCanonical("DROP USER TABLE ns.t");
  ExpectCanonical("DROP STREAM TABLE IF EXISTS t");
  ExpectCanonical("DROP SHARED TABLE t");
  ExpectCanonical("SHOW TABLES");
  ExpectCanonical("SHOW TABLES IN ns");
  EXPECT_EQ(Canonical("show tables from ns"), "SHOW TABLES IN ns");
  EXPECT_EQ(Canonical("SHOW TABLES IN NAMESPACE ns"), "SHOW TABLES IN ns");
  ExpectCanonical("DESCRIBE TABLE ns.t");
  EXPECT_EQ(Canonical("DESCRIBE ns.t"), "DESCRIBE TABLE ns.t");
  EXPECT_EQ(Canonical("DESC ns.t"), "DESCRIBE TABLE ns.t");
  EXPECT_EQ(Canonical("desc table t history"), "DESCRIBE TABLE t HISTORY");
}

// ---- INSERT ---------------------------------------------------------------------------------

TEST(ParserTest, Insert) {
  ExpectCanonical("INSERT INTO ns.t (id, value) VALUES (1, 'a'), (2, 'b''c')");
  EXPECT_EQ(Canonical("insert into t values ($1, null, true, -3, 1.5e3, 'x' || 'y')"),
            "INSERT INTO t VALUES ($1, NULL, TRUE, (-3), 1.5e3, ('x' || 'y'))");
  ExpectCanonical("INSERT INTO t (a) SELECT b FROM u WHERE (b > 1)");
  ExpectCanonical("INSERT INTO t (\"Mixed\") VALUES (NOW())");
  // A literal followed by anything but ',' or ')' is the start of an expression (the lone-
  // literal shortcut of VALUES items must not cut it short).
  EXPECT_EQ(Canonical("INSERT INTO t VALUES (1 + 2, 3::TEXT, FALSE, 'a' = 'b', 4.5, NULL)"),
            "INSERT INTO t VALUES ((1 + 2), CAST(3 AS TEXT), FALSE, ('a' = 'b'), 4.5, NULL)");
}

TEST(ParserTest, InsertFields) {
  Arena arena;
  std::string_view sql = "INSERT INTO ns.t (id, v) VALUES (1, 'it''s'), (-2, $1)";
  auto result = Parse(sql, arena);
  ASSERT_TRUE(result.ok());
  const auto* insert = (*result)->As<InsertStmt>();
  ASSERT_EQ(insert->columns.size(), 2u);
  EXPECT_EQ(insert->columns[1].name, "v");
  ASSERT_EQ(insert->rows.size(), 2u);
  const auto* id = insert->rows[0][0]->As<LiteralExpr>();
  EXPECT_EQ(id->literal_kind, LiteralKind::kInteger);
  EXPECT_EQ(id->text, "1");
  EXPECT_EQ(id->offset, 33u);
  EXPECT_EQ(id->text.data(), sql.data() + 33);  // borrowed
  const auto* text = insert->rows[0][1]->As<LiteralExpr>();
  EXPECT_EQ(text->literal_kind, LiteralKind::kString);
  EXPECT_EQ(text->text, "it's");
  const auto* minus = insert->rows[1][0]->As<UnaryExpr>();
  EXPECT_EQ(minus->op, UnaryOp::kMinus);
  EXPECT_EQ(minus->operand->As<LiteralExpr>()->text, "2");
  EXPECT_EQ(insert->rows[1][1]->As<ParameterExpr>()->index, 1u);
  EXPECT_EQ(insert->select, nullptr);
}

// A VALUES row cut short ends in a syntax error, never a read past the tokens.
TEST(ParserTest, TruncatedValuesAreSyntaxErrors) {
  for (std::string_view sql :
       {"INSERT INTO t VALUES (", "INSERT INTO t VALUES (1,", "INSERT INTO t VALUES (1",
        "INSERT INTO t VALUES ('a'", "INSERT INTO t VALUES (TRUE"}) {
    Arena arena;
    auto result = Parse(sql, arena);
    ASSERT_FALSE(result.ok()) << sql;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidSql) << sql;
  }
}

std::string HundredRowInsert() {
  std::string sql = "INSERT INTO ns.t (id, worker, value) VALUES ";
  for (int i = 0; i < 100; ++i) {
    if (i > 0) sql += ", ";
    sql += "(" + std::to_string(i) + ", " + std::to_string(i % 8) + ", 'value " +
           std::to_string(i) + "')";
  }
  return sql;
}

TEST(ParserTest, HundredRowInsert) {
  std::string sql = HundredRowInsert();
  Arena arena;
  auto result = Parse(sql, arena);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const auto* insert = (*result)->As<InsertStmt>();
  ASSERT_EQ(insert->rows.size(), 100u);
  for (size_t i = 0; i < insert->rows.size(); ++i) {
    ASSERT_EQ(insert->rows[i].size(), 3u);
    EXPECT_EQ(insert->rows[i][0]->As<LiteralExpr>()->text, std::to_string(i));
    EXPECT_EQ(insert->rows[i][2]->As<LiteralExpr>()->text, "value " + std::to_string(i));
  }
  EXPECT_EQ((*result)->ToString(), sql);
}

// ---- SELECT ---------------------------------------------------------------------------------

TEST(ParserTest, BenchmarkSelects) {
  ExpectCanonical("SELECT COUNT(*) FROM ns.t");
  EXPECT_EQ(Canonical("SELECT user_id FROM system.users WHERE user_id = 'admin' LIMIT 1"),
            "SELECT user_id FROM system.users WHERE (user_id = 'admin') LIMIT 1");

  Arena arena;
  auto result = Parse("SELECT COUNT(*) FROM ns.t", arena);
  ASSERT_TRUE(result.ok());
  const auto* select = (*result)->As<SelectStmt>();
  const auto* count = select->items[0].expr->As<FunctionCallExpr>();
  EXPECT_EQ(count->name.name, "COUNT");
  EXPECT_TRUE(count->star);
  EXPECT_TRUE(select->has_from);
  EXPECT_EQ(select->from.namespace_name.name, "ns");
}

TEST(ParserTest, SelectClauses) {
  EXPECT_EQ(Canonical("SELECT *, t.*, a AS x, b y FROM ns.t AS t WHERE a > 1 GROUP BY a, b "
                      "HAVING COUNT(*) > 2 ORDER BY a DESC, b ASC, c LIMIT $1 OFFSET 10"),
            "SELECT *, t.*, a AS x, b AS y FROM ns.t AS t WHERE (a > 1) GROUP BY a, b HAVING "
            "(COUNT(*) > 2) ORDER BY a DESC, b, c LIMIT $1 OFFSET 10");
  EXPECT_EQ(Canonical("select distinct a from t u offset 5 limit 2;"),
            "SELECT DISTINCT a FROM t AS u LIMIT 2 OFFSET 5");
  EXPECT_EQ(Canonical("SELECT ALL a FROM t"), "SELECT a FROM t");
  ExpectCanonical("SELECT 1");
  ExpectCanonical("SELECT * FROM t WHERE (_deleted = TRUE)");
  EXPECT_EQ(Canonical("SELECT COUNT(DISTINCT x), CURRENT_TIMESTAMP, CURRENT_USER(), NOW(), "
                      "CAST(a AS BIGINT), b::varchar(10), -c::int, \"A\".\"B\" FROM t"),
            "SELECT COUNT(DISTINCT x), CURRENT_TIMESTAMP(), CURRENT_USER(), NOW(), CAST(a AS "
            "BIGINT), CAST(b AS VARCHAR(10)), (-CAST(c AS INT)), \"A\".\"B\" FROM t");
}

TEST(ParserTest, SelectFields) {
  Arena arena;
  auto result =
      Parse("SELECT a AS x FROM t u WHERE a IS NOT NULL ORDER BY a DESC LIMIT 5 OFFSET $2", arena);
  ASSERT_TRUE(result.ok());
  const auto* select = (*result)->As<SelectStmt>();
  EXPECT_EQ(select->items[0].alias.name, "x");
  EXPECT_EQ(select->from_alias.name, "u");
  EXPECT_TRUE(select->where->As<IsNullExpr>()->negated);
  ASSERT_EQ(select->order_by.size(), 1u);
  EXPECT_TRUE(select->order_by[0].descending);
  EXPECT_EQ(select->limit_expr->As<LiteralExpr>()->text, "5");
  EXPECT_EQ(select->offset_expr->As<ParameterExpr>()->index, 2u);
}

// ---- Expressions ----------------------------------------------------------------------------

TEST(ParserTest, ExpressionPrecedence) {
  EXPECT_EQ(ExprString("a OR b AND c"), "(a OR (b AND c))");
  EXPECT_EQ(ExprString("a AND b OR c"), "((a AND b) OR c)");
  EXPECT_EQ(ExprString("NOT a = b AND c"), "((NOT (a = b)) AND c)");
  EXPECT_EQ(ExprString("a AND NOT b OR NOT NOT c"), "((a AND (NOT b)) OR (NOT (NOT c)))");
  EXPECT_EQ(ExprString("a + b * c - d"), "((a + (b * c)) - d)");
  EXPECT_EQ(ExprString("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(ExprString("a / b % c * d"), "(((a / b) % c) * d)");
  EXPECT_EQ(ExprString("a || b + c"), "(a || (b + c))");
  EXPECT_EQ(ExprString("a || b = c"), "((a || b) = c)");
  EXPECT_EQ(ExprString("-a * b"), "((-a) * b)");
  EXPECT_EQ(ExprString("- - 1"), "(-(-1))");
  EXPECT_EQ(ExprString("+1"), "(+1)");
  EXPECT_EQ(ExprString("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(ExprString("a = 1 OR b <> 2 AND c != 3"), "((a = 1) OR ((b <> 2) AND (c <> 3)))");
  EXPECT_EQ(ExprString("a < 1 AND b <= 2 AND c > 3 AND d >= 4"),
            "((((a < 1) AND (b <= 2)) AND (c > 3)) AND (d >= 4))");
  EXPECT_EQ(ExprString("x::int::text"), "CAST(CAST(x AS INT) AS TEXT)");
  EXPECT_EQ(ExprString("a + b::int"), "(a + CAST(b AS INT))");
}

TEST(ParserTest, ComparisonForms) {
  EXPECT_EQ(ExprString("a LIKE 'x%'"), "(a LIKE 'x%')");
  EXPECT_EQ(ExprString("a NOT LIKE 'x%' AND b ILIKE 'y'"), "((a NOT LIKE 'x%') AND (b ILIKE 'y'))");
  EXPECT_EQ(ExprString("a not ilike b || '%'"), "(a NOT ILIKE (b || '%'))");
  EXPECT_EQ(ExprString("a IN (1, 2, 3)"), "(a IN (1, 2, 3))");
  EXPECT_EQ(ExprString("a NOT IN ('x')"), "(a NOT IN ('x'))");
  EXPECT_EQ(ExprString("a BETWEEN 1 AND 2 AND b"), "((a BETWEEN 1 AND 2) AND b)");
  EXPECT_EQ(ExprString("a NOT BETWEEN 1 + 1 AND 5"), "(a NOT BETWEEN (1 + 1) AND 5)");
  EXPECT_EQ(ExprString("a IS NULL OR b IS NOT NULL"), "((a IS NULL) OR (b IS NOT NULL))");
  EXPECT_EQ(ExprString("NOT a IS NULL"), "(NOT (a IS NULL))");
  EXPECT_EQ(ExprString("a = NULL"), "(a = NULL)");
  EXPECT_EQ(ExprString("TRUE AND FALSE"), "(TRUE AND FALSE)");
}

TEST(ParserTest, PrimaryForms) {
  EXPECT_EQ(ExprString("t.c = $2"), "(t.c = $2)");
  EXPECT_EQ(ExprString("\"Weird Col\" = 'v'"), "(\"Weird Col\" = 'v')");
  EXPECT_EQ(ExprString("\"a\"\"b\""), "\"a\"\"b\"");
  EXPECT_EQ(ExprString("f(a, g(b), 1)"), "f(a, g(b), 1)");
  EXPECT_EQ(ExprString("f()"), "f()");
  EXPECT_EQ(ExprString("COUNT(*)"), "COUNT(*)");
  EXPECT_EQ(ExprString("count(distinct a)"), "count(DISTINCT a)");
  EXPECT_EQ(ExprString("CAST(x AS DECIMAL(10, 2))"), "CAST(x AS DECIMAL(10, 2))");
  EXPECT_EQ(ExprString("'it''s'"), "'it''s'");
  EXPECT_EQ(ExprString("1.5"), "1.5");
  EXPECT_EQ(ExprString(".5e3"), ".5e3");
  EXPECT_EQ(ExprString("current_user"), "CURRENT_USER()");
}

// ---- UPDATE, DELETE -------------------------------------------------------------------------

TEST(ParserTest, UpdateAndDelete) {
  EXPECT_EQ(Canonical("UPDATE ns.t SET value = 'x', n = n + 1 WHERE id = 5"),
            "UPDATE ns.t SET value = 'x', n = (n + 1) WHERE (id = 5)");
  ExpectCanonical("UPDATE t SET a = 1");
  ExpectCanonical("DELETE FROM ns.t WHERE (id IN (1, 2))");
  ExpectCanonical("DELETE FROM t");

  Arena arena;
  auto result = Parse("UPDATE t SET a = $1 WHERE id = $2", arena);
  ASSERT_TRUE(result.ok());
  const auto* update = (*result)->As<UpdateStmt>();
  ASSERT_EQ(update->assignments.size(), 1u);
  EXPECT_EQ(update->assignments[0].column.name, "a");
  EXPECT_EQ(update->where->As<BinaryExpr>()->op, BinaryOp::kEq);
}

// ---- Users ----------------------------------------------------------------------------------

TEST(ParserTest, BenchmarkUserStatements) {
  Arena arena;
  auto result = Parse("CREATE USER admin WITH PASSWORD 'pw' ROLE 'dba'", arena);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const auto* create = (*result)->As<CreateUserStmt>();
  EXPECT_EQ(create->name, "admin");
  EXPECT_EQ(create->auth, AuthType::kPassword);
  EXPECT_EQ(create->password, "pw");
  EXPECT_TRUE(create->has_role);
  EXPECT_EQ(create->role, "dba");
  EXPECT_FALSE(create->has_email);
  // Passwords never appear in the printed form.
  EXPECT_EQ(create->ToString(), "CREATE USER 'admin' WITH PASSWORD '***' ROLE 'dba'");

  result = Parse("ALTER USER admin SET ROLE 'dba'", arena);
  ASSERT_TRUE(result.ok());
  const auto* alter = (*result)->As<AlterUserStmt>();
  EXPECT_EQ(alter->name, "admin");
  EXPECT_EQ(alter->action, AlterUserAction::kSetRole);
  EXPECT_EQ(alter->value, "dba");
  EXPECT_EQ(alter->ToString(), "ALTER USER 'admin' SET ROLE 'dba'");
}

TEST(ParserTest, UserStatements) {
  EXPECT_EQ(Canonical("CREATE USER 'alice' WITH OAUTH '{\"provider\":\"g\",\"subject\":\"s\"}' "
                      "ROLE user EMAIL 'a@x.io'"),
            "CREATE USER 'alice' WITH OAUTH '{\"provider\":\"g\",\"subject\":\"s\"}' ROLE 'user' "
            "EMAIL 'a@x.io'");
  ExpectCanonical("CREATE USER 'svc' WITH OAUTH");
  EXPECT_EQ(Canonical("create user bob with internal role service"),
            "CREATE USER 'bob' WITH INTERNAL ROLE 'service'");
  EXPECT_EQ(Canonical("CREATE USER bob WITH PASSWORD 'p''w' EMAIL 'b@x' ROLE dba"),
            "CREATE USER 'bob' WITH PASSWORD '***' ROLE 'dba' EMAIL 'b@x'");
  EXPECT_EQ(Canonical("ALTER USER admin SET PASSWORD 'new'"),
            "ALTER USER 'admin' SET PASSWORD '***'");
  EXPECT_EQ(Canonical("alter user 'a' set email 'e@x'"), "ALTER USER 'a' SET EMAIL 'e@x'");
  EXPECT_EQ(Canonical("DROP USER IF EXISTS bob"), "DROP USER IF EXISTS 'bob'");
  ExpectCanonical("DROP USER 'bob'");

  Arena arena;
  auto result = Parse("CREATE USER bob WITH PASSWORD 'p''w'", arena);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)->As<CreateUserStmt>()->password, "p'w");
  EXPECT_FALSE((*result)->As<CreateUserStmt>()->has_role);
}

TEST(ParserTest, ExecuteAsUser) {
  ExpectCanonical("EXECUTE AS USER 'alice' (SELECT * FROM app.messages)");
  EXPECT_EQ(Canonical("execute as user alice(INSERT INTO app.t (id) VALUES (1);)"),
            "EXECUTE AS USER 'alice' (INSERT INTO app.t (id) VALUES (1))");
  EXPECT_EQ(Canonical("EXECUTE AS USER 'bob' (CREATE TABLE t (id INT) USING x y)"),
            "EXECUTE AS USER 'bob' (CREATE TABLE t (id INT))");

  Arena arena;
  auto result = Parse("EXECUTE AS USER 'u1' (DELETE FROM app.t WHERE id = 1)", arena);
  ASSERT_TRUE(result.ok());
  const auto* execute = (*result)->As<ExecuteAsUserStmt>();
  EXPECT_EQ(execute->user, "u1");
  EXPECT_EQ(execute->statement->kind, StatementKind::kDelete);
  EXPECT_EQ(execute->statement->offset, 22u);
}

TEST(ParserTest, ExecuteAsUserRejectsSeveralStatementsAndNesting) {
  ParseFailure failure = Fail("EXECUTE AS USER 'a' (SELECT 1; SELECT 2)");
  EXPECT_EQ(failure.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(failure.message, "EXECUTE AS USER accepts only a single SQL statement");
  EXPECT_EQ(failure.offset, 31u);

  failure = Fail("EXECUTE AS USER 'a' (EXECUTE AS USER 'b' (SELECT 1))");
  EXPECT_EQ(failure.code, ErrorCode::kInvalidSql);
  EXPECT_EQ(failure.message, "syntax error at position 21: EXECUTE AS USER cannot be nested");

  failure = Fail("EXECUTE AS USER 'a' SELECT 1");
  EXPECT_EQ(failure.message, "syntax error at position 20: expected '(' but found 'SELECT'");
}

// ---- Errors ---------------------------------------------------------------------------------

TEST(ParserTest, SyntaxErrorsCarryExactOffsets) {
  struct Case {
    std::string_view sql;
    uint32_t offset;
    std::string_view message;
  };
  const Case cases[] = {
      {"SELECT (a + b FROM t", 14, "expected ')' but found 'FROM'"},
      {"SELECT a FROM", 13, "expected table name but found end of input"},
      {"INSERT INTO t (id, value VALUES (1)", 25, "expected ')' but found 'VALUES'"},
      {"INSERT INTO t (id) (1)", 19, "expected VALUES or SELECT but found '('"},
      {"INSERT INTO t VALUES (1", 23, "expected ')' but found end of input"},
      {"INSERT INTO t VALUES ()", 22, "expected expression but found ')'"},
      {"SELECT 1 2", 9, "expected end of statement but found '2'"},
      {"SELECT 1; SELECT 2", 10, "expected end of statement but found 'SELECT'"},
      {"CREATE TABLE t ()", 16, "expected column name but found ')'"},
      {"CREATE TABLE t (id)", 18, "expected type name but found ')'"},
      {"CREATE TABLE t (id INT NOT 5)", 27, "expected NULL but found '5'"},
      {"CREATE TABLE t (id INT NOT NULL NULL)", 32, "conflicting NULL/NOT NULL declarations"},
      {"CREATE TABLE t (id INT, PRIMARY KEY (id), PRIMARY KEY (id))", 42,
       "multiple PRIMARY KEY clauses"},
      {"CREATE TABLE t (v VARCHAR(99999999999))", 26, "type parameter out of range"},
      {"CREATE TABLE t (id INT) WITH (a 1)", 32, "expected '=' but found '1'"},
      {"CREATE SHARED x", 14, "expected TABLE but found 'x'"},
      {"CREATE 1", 7, "expected NAMESPACE, TABLE or USER but found '1'"},
      {"SELECT * FROM t WHERE", 21, "expected expression but found end of input"},
      {"SELECT FROM t", 7, "expected expression but found 'FROM'"},
      {"SELECT a FROM t WHERE a NOT 5", 24, "expected end of statement but found 'NOT'"},
      {"SELECT a FROM select", 14, "expected table name but found 'select'"},
      {"SELECT a FROM t LIMIT 'x'", 22, "expected integer or parameter but found ''x''"},
      {"SELECT a BETWEEN 1 OR 2", 19, "expected AND but found 'OR'"},
      {"SELECT a IS 5", 12, "expected NULL but found '5'"},
      {"SELECT a IN 5", 12, "expected '(' but found '5'"},
      {"SELECT CAST(a, b)", 13, "expected AS but found ','"},
      {"SELECT a::", 10, "expected type name but found end of input"},
      {"SELECT t.", 9, "expected column name but found end of input"},
      {"SELECT $0", 7, "parameter index must be between $1 and $65535"},
      {"SELECT $70000", 7, "parameter index must be between $1 and $65535"},
      {"SELECT a AS FROM t", 12, "expected alias but found 'FROM'"},
      {"UPDATE t SET a 1", 15, "expected '=' but found '1'"},
      {"UPDATE t WHERE a = 1", 9, "expected SET but found 'WHERE'"},
      {"DELETE t", 7, "expected FROM but found 't'"},
      {"DROP NAMESPACE", 14, "expected namespace name but found end of input"},
      {"CREATE USER bob WITH ROLE dba", 21,
       "expected PASSWORD, OAUTH or INTERNAL but found 'ROLE'"},
      {"CREATE USER bob WITH PASSWORD pw", 30, "expected password string but found 'pw'"},
      {"ALTER USER bob SET NAME 'x'", 19, "expected PASSWORD, ROLE or EMAIL but found 'NAME'"},
      {"SHOW 1", 5, "expected NAMESPACES or TABLES but found '1'"},
      {"SELECT 'abc", 7, "unterminated quoted string"},
      {"", 0, "expected statement but found end of input"},
      {"(SELECT 1)", 0, "expected statement but found '('"},
  };
  for (const Case& c : cases) {
    ParseFailure failure = Fail(c.sql);
    EXPECT_EQ(failure.code, ErrorCode::kInvalidSql) << c.sql;
    EXPECT_EQ(failure.message, "syntax error at position " + std::to_string(c.offset) + ": " +
                                   std::string(c.message))
        << c.sql;
    EXPECT_EQ(failure.offset, c.offset) << c.sql;
  }
}

TEST(ParserTest, LongTokensAreShortenedInMessages) {
  ParseFailure failure =
      Fail("SELECT 1 'a very long string literal that goes on and on and on and on'");
  EXPECT_EQ(failure.message,
            "syntax error at position 9: expected end of statement but found ''a very long "
            "string literal that goes on...'");
}

TEST(ParserTest, UnsupportedStatements) {
  struct Case {
    std::string_view sql;
    std::string_view message;
  };
  const Case cases[] = {
      {"FOO BAR", "Unsupported statement type: FOO"},
      {"begin", "Unsupported statement type: BEGIN"},
      {"ALTER TABLE t ADD COLUMN x INT", "Unsupported statement type: ALTER TABLE"},
      {"alter namespace ns set description 'x'", "Unsupported statement type: ALTER NAMESPACE"},
      {"CREATE VIEW v AS SELECT 1", "Unsupported statement type: CREATE VIEW"},
      {"DROP STORAGE s", "Unsupported statement type: DROP STORAGE"},
      {"SHOW STORAGES", "Unsupported statement type: SHOW STORAGES"},
      {"SET x = 1", "Unsupported statement type: SET X"},
      {"STORAGE FLUSH ALL", "Unsupported statement type: STORAGE"},
  };
  for (const Case& c : cases) {
    ParseFailure failure = Fail(c.sql);
    EXPECT_EQ(failure.code, ErrorCode::kInvalidSql) << c.sql;
    EXPECT_EQ(failure.message, c.message) << c.sql;
    EXPECT_EQ(failure.offset, 0u) << c.sql;
  }
}

// ---- Limits ---------------------------------------------------------------------------------

TEST(ParserTest, ModerateNestingIsAccepted) {
  std::string sql = "SELECT " + std::string(150, '(') + "1" + std::string(150, ')');
  EXPECT_EQ(Canonical(sql), "SELECT 1");
  std::string chain = "SELECT 1";
  for (int i = 0; i < 500; ++i) chain += " + 1";
  Arena arena;
  auto result = Parse(chain, arena);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)->As<SelectStmt>()->items[0].expr->height, 501);
}

TEST(ParserTest, DeepNestingFailsCleanly) {
  const std::string inputs[] = {
      "SELECT " + std::string(100000, '(') + "1" + std::string(100000, ')'),
      "SELECT " + std::string(100000, '(') + "1",
      [] {
        std::string s = "SELECT ";
        for (int i = 0; i < 100000; ++i) s += "- ";
        return s + "1";
      }(),
      [] {
        std::string s = "SELECT ";
        for (int i = 0; i < 100000; ++i) s += "NOT ";
        return s + "TRUE";
      }(),
      [] {
        std::string s = "SELECT ";
        for (int i = 0; i < 100000; ++i) s += "f(";
        return s;
      }(),
  };
  for (const std::string& sql : inputs) {
    ParseFailure failure = Fail(sql);
    EXPECT_EQ(failure.code, ErrorCode::kInvalidSql);
    EXPECT_NE(failure.message.find("nested too deeply (limit 200)"), std::string::npos)
        << failure.message;
  }
}

TEST(ParserTest, LongOperatorChainsHitTheHeightLimit) {
  std::string sql = "SELECT a";
  for (int i = 0; i < 100000; ++i) sql += " AND a";
  std::string casts = "SELECT 1";
  for (int i = 0; i < 100000; ++i) casts += "::int";
  for (const std::string& input : {sql, casts}) {
    ParseFailure failure = Fail(input);
    EXPECT_EQ(failure.code, ErrorCode::kInvalidSql);
    EXPECT_NE(failure.message.find("expression too complex (limit 1000 levels)"), std::string::npos)
        << failure.message;
  }
  // A long IN list is wide, not deep.
  std::string in = "SELECT a IN (0";
  for (int i = 1; i < 100000; ++i) in += ", " + std::to_string(i);
  Arena arena;
  EXPECT_TRUE(Parse(in + ")", arena).ok());
}

TEST(ParserTest, ParseTokensReusesALexedStatement) {
  Arena arena;
  std::string_view sql = "SELECT a FROM t";
  auto tokens = Tokenize(sql, arena);
  ASSERT_TRUE(tokens.ok());
  auto result = ParseTokens(*tokens, arena);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)->ToString(), "SELECT a FROM t");
  EXPECT_EQ(ParseTokens({}, arena).status().code(), ErrorCode::kInternal);
}

TEST(ParserTest, SteadyStateParsingReusesTheArena) {
  Arena arena;
  std::string sql = HundredRowInsert();
  ASSERT_TRUE(Parse(sql, arena).ok());
  arena.Reset();
  size_t reserved = arena.BytesReserved();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Parse(sql, arena).ok());
    EXPECT_EQ(arena.BlockCount(), 1u);
    arena.Reset();
  }
  EXPECT_EQ(arena.BytesReserved(), reserved);
}

}  // namespace
}  // namespace kalamdb::sql
