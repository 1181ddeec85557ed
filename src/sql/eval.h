// eval.h (internal to src/sql): evaluates expressions over one row.
//
// Values are typed (common/value.h): literals become BigInt, Double, Text or Boolean; column
// references take the column's type; computed strings live in the request arena. NULL follows
// SQL's three-valued logic. Column references are bound once (Bind) before rows are read, so a
// misspelt column fails before any scan.
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "common/arena.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/ast.h"
#include "sql/sql.h"

namespace kalamdb::sql {

// Column slots of a row: the table's columns in order, then _seq, then _deleted.
struct RowSchema {
  const catalog::TableDef* table = nullptr;  // null for SELECT without FROM
  std::string_view alias;                    // FROM t AS alias
  int seq_slot() const { return table ? static_cast<int>(table->columns.size()) : -1; }
  int deleted_slot() const { return seq_slot() + 1; }
};

class Evaluator {
 public:
  Evaluator(const RowSchema& schema, std::span<const Param> params, const Session& session,
            Arena& arena)
      : schema_(schema), params_(params), session_(session), arena_(arena) {}

  // Resolves every column reference under `expr`. Errors: kInvalidOperation (unknown column),
  // kInvalidSql (unsupported construct). Sets *uses_deleted when `_deleted` is referenced.
  Status Bind(const Expr& expr, bool* uses_deleted = nullptr);
  // Evaluates `expr` over `row` (one Value per slot). `aggregates`, when given, supplies the
  // value of each aggregate call (keyed by node).
  Result<Value> Eval(const Expr& expr, std::span<const Value> row,
                     const std::unordered_map<const Expr*, Value>* aggregates = nullptr) const;
  // WHERE semantics: true only for a non-NULL true.
  Result<bool> Matches(const Expr& expr, std::span<const Value> row) const;
  // Slot of a bound column reference.
  int SlotOf(const ColumnRefExpr& ref) const;

  // True for COUNT, SUM, AVG, MIN, MAX.
  static bool IsAggregate(const FunctionCallExpr& call);
  // Collects aggregate calls under `expr` (not nested inside other aggregates).
  static void CollectAggregates(const Expr& expr, std::vector<const FunctionCallExpr*>* out);
  // The DataFusion-style display name of an expression: "count(*)", "lower(value)", "id" ...
  static std::string DisplayName(const Expr& expr);

  Arena& arena() const { return arena_; }

 private:
  Result<Value> Function(const FunctionCallExpr& call, std::span<const Value> row,
                         const std::unordered_map<const Expr*, Value>* aggregates) const;
  const RowSchema& schema_;
  std::span<const Param> params_;
  const Session& session_;
  Arena& arena_;
  std::unordered_map<const Expr*, int> slots_;
};

// Orders two values for ORDER BY and MIN/MAX: NULLs first, numbers numerically across types,
// text bytewise. Returns <0, 0, >0.
int CompareValues(const Value& a, const Value& b);

}  // namespace kalamdb::sql
