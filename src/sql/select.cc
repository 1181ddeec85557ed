// select.cc: SELECT. So far only SELECT of constants without FROM (SELECT 1, SELECT 'a' AS x),
// named the way KalamDB's engine names such columns: Int64(1), Utf8("a"), Boolean(true).
#include <charconv>
#include <cmath>
#include <string>

#include "common/json_writer.h"
#include "sql/encode.h"
#include "sql/eval.h"
#include "sql/executor.h"

namespace kalamdb::sql {
namespace {

struct ConstantColumn {
  std::string name;       // the column name when there is no alias
  std::string data_type;  // KalamDataType
  std::string json;       // the cell
};

Result<ConstantColumn> EvaluateConstant(const Expr& expr, bool negate = false) {
  if (const auto* unary = expr.TryAs<UnaryExpr>()) {
    if (unary->op == UnaryOp::kMinus || unary->op == UnaryOp::kPlus) {
      return EvaluateConstant(*unary->operand, negate != (unary->op == UnaryOp::kMinus));
    }
  }
  const auto* literal = expr.TryAs<LiteralExpr>();
  if (literal == nullptr) {
    return Status(ErrorCode::kInvalidSql,
                  "SELECT of expressions other than constants is not supported yet");
  }
  ConstantColumn c;
  std::string sign = negate ? "-" : "";
  switch (literal->literal_kind) {
    case LiteralKind::kInteger: {
      std::string text = sign + std::string(literal->text);
      int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return Status(ErrorCode::kInvalidSql, "integer literal out of range: " + text);
      }
      c.name = "Int64(" + std::to_string(value) + ")";
      c.data_type = "BigInt";
      c.json = "\"" + std::to_string(value) + "\"";
      return c;
    }
    case LiteralKind::kDecimal: {
      std::string text = sign + std::string(literal->text);
      double value = std::strtod(text.c_str(), nullptr);
      if (!std::isfinite(value))
        return Status(ErrorCode::kInvalidSql, "numeric literal out of range: " + text);
      c.name = "Float64(" + text + ")";
      c.data_type = "Double";
      JsonWriter(c.json).Double(value, 15);
      return c;
    }
    case LiteralKind::kString:
      if (negate) return Status(ErrorCode::kInvalidSql, "cannot negate a string");
      c.name = "Utf8(\"" + std::string(literal->text) + "\")";
      c.data_type = "Text";
      AppendJsonString(c.json, literal->text);
      return c;
    case LiteralKind::kBoolean:
      if (negate) return Status(ErrorCode::kInvalidSql, "cannot negate a boolean");
      c.name = literal->boolean ? "Boolean(true)" : "Boolean(false)";
      c.data_type = "Boolean";
      c.json = literal->boolean ? "true" : "false";
      return c;
    case LiteralKind::kNull:
      c.name = "NULL";
      c.data_type = "Text";
      c.json = "null";
      return c;
  }
  return Status(ErrorCode::kInternal, "unknown literal kind");
}

Status SelectConstants(ExecContext& context, const SelectStmt& statement,
                       std::vector<QueryResult>* results) {
  if (statement.where != nullptr || !statement.group_by.empty() || statement.having != nullptr ||
      !statement.order_by.empty() || statement.limit_expr != nullptr ||
      statement.offset_expr != nullptr) {
    return Status(ErrorCode::kInvalidSql,
                  "SELECT without FROM supports only a list of expressions");
  }
  RowSchema schema;  // no table: column references fail to bind
  Evaluator ev(schema, context.params, context.session, context.arena);
  QueryResult result;
  result.has_rows = true;
  std::vector<std::string> row;
  for (const SelectItem& item : statement.items) {
    // Plain (signed) literals are named the way KalamDB's engine names them: Int64(1) ...
    auto constant = EvaluateConstant(*item.expr);
    if (constant.ok()) {
      std::string name = item.alias.empty() ? constant->name : std::string(item.alias.name);
      result.schema.push_back(Column{std::move(name), constant->data_type, {}});
      row.push_back(std::move(constant->json));
      continue;
    }
    // Anything else (1 + 2, lower('A'), NOW()) is evaluated once.
    KALAMDB_RETURN_IF_ERROR(ev.Bind(*item.expr));
    auto value = ev.Eval(*item.expr, {});
    if (!value.ok()) return value.status();
    std::string name =
        item.alias.empty() ? Evaluator::DisplayName(*item.expr) : std::string(item.alias.name);
    result.schema.push_back(Column{std::move(name), std::string(DataTypeName(value->type())), {}});
    std::string cell;
    AppendJsonCell(cell, *value);
    row.push_back(std::move(cell));
  }
  result.rows.push_back(std::move(row));
  result.row_count = 1;
  results->push_back(std::move(result));
  return Status::OK();
}

}  // namespace

Status ExecuteSelect(ExecContext& context, const SelectStmt& statement,
                     std::vector<QueryResult>* results) {
  if (!statement.has_from) return SelectConstants(context, statement, results);
  return SelectFromTable(context, statement, results);
}

}  // namespace kalamdb::sql
