// ast.h: the parse tree of one SQL statement.
//
// Ownership and lifetime: every node, list and string lives in the Arena the statement was
// parsed into, or borrows the statement's text; both must outlive the tree. Nodes are never
// destroyed (all are trivially destructible) and are freed by resetting the arena.
//
// Names keep their spelling as written (no case folding: the binder folds bare names) and
// remember whether they were "quoted". String literals and quoted names are already unescaped.
// Numbers keep their text; converting them is the binder's job, against the column type.
//
// Every node has an `offset`: the byte offset in the statement text of the token that starts
// it (for an operator expression such as a + b, a LIKE b, x::t: the operator), for error
// messages. Expr and Statement carry a kind tag; As<T>() is a checked downcast
// (a wrong kind aborts, in every build) and TryAs<T>() returns null instead.
//
// ToString() prints a canonical SQL form for tests and logs: keywords upper-case, one space
// between words, every binary, LIKE, IN, BETWEEN and IS expression and every unary operator in
// parentheses, CAST(x AS T) for both cast spellings, `USE NAMESPACE` for every USE form, user
// names and roles as 'strings' and passwords redacted to '***'.
//
// Thread-safety: a finished tree is immutable and may be read from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kalamdb::sql {

// [[noreturn]] reporter for a failed As<T>(); prints both kinds and aborts.
[[noreturn]] void AbortBadNodeCast(const char* family, int actual, int wanted);

struct Identifier {
  std::string_view name;  // unescaped; empty when absent
  uint32_t offset = 0;
  bool quoted = false;  // written as "name": case-sensitive, may be a keyword

  bool empty() const { return name.empty(); }
};

// [namespace.]table
struct TableRef {
  Identifier namespace_name;  // empty when the statement did not name one
  Identifier table;
};

// A column type as written: name plus up to two integer parameters, as in VARCHAR(10),
// DECIMAL(10, 2), EMBEDDING(384). `name` borrows the text, except for the two-word DOUBLE
// PRECISION, which is the static string "DOUBLE PRECISION".
struct TypeName {
  std::string_view name;
  uint32_t offset = 0;
  uint8_t param_count = 0;
  int32_t params[2] = {0, 0};
};

// ---- Expressions --------------------------------------------------------------------------

enum class ExprKind : uint8_t {
  kLiteral,
  kParameter,
  kColumnRef,
  kStar,
  kUnary,
  kBinary,
  kLike,
  kInList,
  kBetween,
  kIsNull,
  kFunctionCall,
  kCast,
};

struct Expr {
  ExprKind kind;
  // Height of this subtree: 1 for a leaf. The parser keeps it at most kMaxExpressionHeight
  // (parser.h), so recursive walks over a tree are bounded.
  uint16_t height = 1;
  uint32_t offset;

  template <typename T>
  T* As() {
    if (kind != T::kKind)
      AbortBadNodeCast("Expr", static_cast<int>(kind), static_cast<int>(T::kKind));
    return static_cast<T*>(this);
  }
  template <typename T>
  const T* As() const {
    if (kind != T::kKind)
      AbortBadNodeCast("Expr", static_cast<int>(kind), static_cast<int>(T::kKind));
    return static_cast<const T*>(this);
  }
  template <typename T>
  const T* TryAs() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

  std::string ToString() const;
  void AppendTo(std::string* out) const;

 protected:
  Expr(ExprKind k, uint32_t off) : kind(k), offset(off) {}
};

enum class LiteralKind : uint8_t { kInteger, kDecimal, kString, kBoolean, kNull };

struct LiteralExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kLiteral;
  explicit LiteralExpr(uint32_t off) : Expr(kKind, off) {}

  LiteralKind literal_kind = LiteralKind::kNull;
  // kInteger/kDecimal: the digits as written (no sign: -1 is a unary minus). kString: the
  // unescaped value. kBoolean/kNull: empty.
  std::string_view text;
  bool boolean = false;  // kBoolean only
};

// $index
struct ParameterExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kParameter;
  explicit ParameterExpr(uint32_t off) : Expr(kKind, off) {}

  uint32_t index = 0;  // 1-based, 1..65535
};

// [table.]column
struct ColumnRefExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kColumnRef;
  explicit ColumnRefExpr(uint32_t off) : Expr(kKind, off) {}

  Identifier table;  // empty when unqualified
  Identifier column;
};

// `*` or `table.*` in a SELECT list.
struct StarExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStar;
  explicit StarExpr(uint32_t off) : Expr(kKind, off) {}

  Identifier table;  // empty for a bare *
};

enum class UnaryOp : uint8_t { kMinus, kPlus, kNot };

struct UnaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  explicit UnaryExpr(uint32_t off) : Expr(kKind, off) {}

  UnaryOp op = UnaryOp::kMinus;
  Expr* operand = nullptr;
};

enum class BinaryOp : uint8_t {
  kOr,
  kAnd,
  kEq,
  kNotEq,  // both <> and !=
  kLt,
  kLtEq,
  kGt,
  kGtEq,
  kConcat,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
};

// "OR", "=", "<>", "||", "+" ...
std::string_view BinaryOpSpelling(BinaryOp op);

struct BinaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  explicit BinaryExpr(uint32_t off) : Expr(kKind, off) {}

  BinaryOp op = BinaryOp::kEq;
  Expr* left = nullptr;
  Expr* right = nullptr;
};

// value [NOT] LIKE|ILIKE pattern
struct LikeExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kLike;
  explicit LikeExpr(uint32_t off) : Expr(kKind, off) {}

  bool negated = false;
  bool case_insensitive = false;  // ILIKE
  Expr* value = nullptr;
  Expr* pattern = nullptr;
};

// value [NOT] IN (list)
struct InListExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kInList;
  explicit InListExpr(uint32_t off) : Expr(kKind, off) {}

  bool negated = false;
  Expr* value = nullptr;
  std::span<Expr*> list;  // at least one element
};

// value [NOT] BETWEEN low AND high
struct BetweenExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBetween;
  explicit BetweenExpr(uint32_t off) : Expr(kKind, off) {}

  bool negated = false;
  Expr* value = nullptr;
  Expr* low = nullptr;
  Expr* high = nullptr;
};

// value IS [NOT] NULL
struct IsNullExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kIsNull;
  explicit IsNullExpr(uint32_t off) : Expr(kKind, off) {}

  bool negated = false;
  Expr* value = nullptr;
};

// name(args), COUNT(*), COUNT(DISTINCT x). The bare keywords CURRENT_TIMESTAMP and
// CURRENT_USER are calls with no arguments and that upper-case name.
struct FunctionCallExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kFunctionCall;
  explicit FunctionCallExpr(uint32_t off) : Expr(kKind, off) {}

  Identifier name;
  bool star = false;      // f(*): args is empty
  bool distinct = false;  // f(DISTINCT ...)
  std::span<Expr*> args;
};

// CAST(value AS type) or value::type
struct CastExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kCast;
  explicit CastExpr(uint32_t off) : Expr(kKind, off) {}

  Expr* value = nullptr;
  TypeName type;
};

// ---- Statements ---------------------------------------------------------------------------

enum class StatementKind : uint8_t {
  kCreateNamespace,
  kDropNamespace,
  kShowNamespaces,
  kUseNamespace,
  kCreateTable,
  kDropTable,
  kShowTables,
  kDescribeTable,
  kInsert,
  kSelect,
  kUpdate,
  kDelete,
  kCreateUser,
  kAlterUser,
  kDropUser,
  kExecuteAsUser,
};

// "CREATE NAMESPACE", "SELECT" ...: for logs and "not supported here" messages.
std::string_view StatementKindName(StatementKind kind);

struct Statement {
  StatementKind kind;
  uint32_t offset;

  template <typename T>
  T* As() {
    if (kind != T::kKind)
      AbortBadNodeCast("Statement", static_cast<int>(kind), static_cast<int>(T::kKind));
    return static_cast<T*>(this);
  }
  template <typename T>
  const T* As() const {
    if (kind != T::kKind)
      AbortBadNodeCast("Statement", static_cast<int>(kind), static_cast<int>(T::kKind));
    return static_cast<const T*>(this);
  }
  template <typename T>
  const T* TryAs() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

  std::string ToString() const;
  void AppendTo(std::string* out) const;

 protected:
  Statement(StatementKind k, uint32_t off) : kind(k), offset(off) {}
};

struct CreateNamespaceStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kCreateNamespace;
  explicit CreateNamespaceStmt(uint32_t off) : Statement(kKind, off) {}

  bool if_not_exists = false;
  Identifier name;
};

struct DropNamespaceStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDropNamespace;
  explicit DropNamespaceStmt(uint32_t off) : Statement(kKind, off) {}

  bool if_exists = false;
  bool cascade = false;
  Identifier name;
};

struct ShowNamespacesStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kShowNamespaces;
  explicit ShowNamespacesStmt(uint32_t off) : Statement(kKind, off) {}
};

// USE ns | USE NAMESPACE ns | SET NAMESPACE ns
struct UseNamespaceStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kUseNamespace;
  explicit UseNamespaceStmt(uint32_t off) : Statement(kKind, off) {}

  Identifier name;
};

enum class TableType : uint8_t { kUnspecified, kUser, kShared, kStream };

enum class Nullability : uint8_t { kUnspecified, kNotNull, kNull };

struct ColumnDef {
  Identifier name;
  TypeName type;
  Nullability nullability = Nullability::kUnspecified;
  Expr* default_value = nullptr;  // null when there is no DEFAULT
  bool primary_key = false;
  bool auto_increment = false;  // AUTO_INCREMENT or AUTO INCREMENT
  bool unique = false;
};

// WITH (key = value): value is a LiteralExpr, a ColumnRefExpr for a bare word (TYPE = USER),
// or a UnaryExpr minus/plus over a number literal.
struct TableOption {
  Identifier key;
  Expr* value = nullptr;
};

struct CreateTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kCreateTable;
  explicit CreateTableStmt(uint32_t off) : Statement(kKind, off) {}

  TableType table_type = TableType::kUnspecified;
  bool if_not_exists = false;
  TableRef table;
  std::span<ColumnDef> columns;  // at least one
  // Table-level [CONSTRAINT name] PRIMARY KEY (columns); empty when absent.
  Identifier primary_key_constraint;
  std::span<Identifier> primary_key_columns;
  std::span<TableOption> options;  // WITH (...); USING ... is skipped
};

struct DropTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDropTable;
  explicit DropTableStmt(uint32_t off) : Statement(kKind, off) {}

  TableType table_type = TableType::kUnspecified;
  bool if_exists = false;
  TableRef table;
};

// SHOW TABLES [IN|FROM [NAMESPACE] ns]
struct ShowTablesStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kShowTables;
  explicit ShowTablesStmt(uint32_t off) : Statement(kKind, off) {}

  Identifier namespace_name;  // empty when absent
};

// DESCRIBE [TABLE] t [HISTORY] | DESC [TABLE] t [HISTORY]
struct DescribeTableStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDescribeTable;
  explicit DescribeTableStmt(uint32_t off) : Statement(kKind, off) {}

  TableRef table;
  bool history = false;
};

struct SelectItem {
  Expr* expr = nullptr;  // StarExpr for * and t.*
  Identifier alias;      // empty when absent
};

struct OrderItem {
  Expr* expr = nullptr;
  bool descending = false;
};

struct SelectStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kSelect;
  explicit SelectStmt(uint32_t off) : Statement(kKind, off) {}

  bool distinct = false;
  std::span<SelectItem> items;  // at least one
  bool has_from = false;
  TableRef from;
  Identifier from_alias;  // empty when absent
  Expr* where = nullptr;
  std::span<Expr*> group_by;
  Expr* having = nullptr;
  std::span<OrderItem> order_by;
  Expr* limit_expr = nullptr;   // LiteralExpr (integer) or ParameterExpr; null when absent
  Expr* offset_expr = nullptr;  // the same; null when absent
};

struct InsertStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kInsert;
  explicit InsertStmt(uint32_t off) : Statement(kKind, off) {}

  TableRef table;
  std::span<Identifier> columns;  // empty when the statement lists none
  // VALUES rows, each a non-empty list; empty when the source is a SELECT.
  std::span<std::span<Expr*>> rows;
  SelectStmt* select = nullptr;  // INSERT ... SELECT
};

struct Assignment {
  Identifier column;
  Expr* value = nullptr;
};

struct UpdateStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kUpdate;
  explicit UpdateStmt(uint32_t off) : Statement(kKind, off) {}

  TableRef table;
  std::span<Assignment> assignments;  // at least one
  Expr* where = nullptr;
};

struct DeleteStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDelete;
  explicit DeleteStmt(uint32_t off) : Statement(kKind, off) {}

  TableRef table;
  Expr* where = nullptr;
};

enum class AuthType : uint8_t { kPassword, kOAuth, kInternal };

// CREATE USER name WITH PASSWORD 'pw' | WITH OAUTH ['json'] | WITH INTERNAL
//   [ROLE role] [EMAIL 'e']
struct CreateUserStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kCreateUser;
  explicit CreateUserStmt(uint32_t off) : Statement(kKind, off) {}

  std::string_view name;  // bare word or unescaped string
  AuthType auth = AuthType::kPassword;
  std::string_view password;  // kPassword
  bool has_oauth_json = false;
  std::string_view oauth_json;  // kOAuth with a payload
  bool has_role = false;
  std::string_view role;
  bool has_email = false;
  std::string_view email;
};

enum class AlterUserAction : uint8_t { kSetPassword, kSetRole, kSetEmail };

struct AlterUserStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kAlterUser;
  explicit AlterUserStmt(uint32_t off) : Statement(kKind, off) {}

  std::string_view name;
  AlterUserAction action = AlterUserAction::kSetPassword;
  std::string_view value;  // the password, role or email
};

struct DropUserStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kDropUser;
  explicit DropUserStmt(uint32_t off) : Statement(kKind, off) {}

  bool if_exists = false;
  std::string_view name;
};

// EXECUTE AS USER 'id' ( statement ): the inner statement is any other kind (no nesting).
struct ExecuteAsUserStmt final : Statement {
  static constexpr StatementKind kKind = StatementKind::kExecuteAsUser;
  explicit ExecuteAsUserStmt(uint32_t off) : Statement(kKind, off) {}

  std::string_view user;
  Statement* statement = nullptr;
};

}  // namespace kalamdb::sql
