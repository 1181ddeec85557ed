// update_delete.cc: UPDATE t SET c = expr [WHERE ...] and DELETE FROM t [WHERE ...]
// (reference §4.7). Both bump _seq. DELETE is soft on USER and SHARED tables (the row stays,
// flagged deleted, hidden from reads unless a query mentions _deleted) and hard on STREAM
// tables. Each statement collects its changes in one WriteBatch: all rows or none.
#include <string>

#include "common/snowflake.h"
#include "sql/encode.h"
#include "sql/eval.h"
#include "sql/executor.h"
#include "storage/row_codec.h"
#include "storage/storage.h"
#include "trace/trace.h"

namespace kalamdb::sql {
namespace {

// Converts an evaluated value to a column's type, through the same rules as INSERT literals.
Result<Value> ToColumnType(const Value& v, const ColumnType& type, Arena& arena) {
  if (v.is_null()) return Value::Null(type.type);
  if (v.type() == type.type && type.max_length == 0) return v;
  Constant c;
  switch (PhysicalOf(v.type())) {
    case Physical::kBool:
      c.kind = Constant::Kind::kBoolean;
      c.boolean = v.as_bool();
      break;
    case Physical::kInt64:
      c.kind = Constant::Kind::kInteger;
      c.text = arena.CopyString(std::to_string(v.as_int()));
      break;
    case Physical::kDouble:
    case Physical::kInt128:
      c.kind = Constant::Kind::kDecimal;
      c.text = arena.CopyString(ValueText(v));
      break;
    case Physical::kBytes:
      c.kind = Constant::Kind::kString;
      c.text = arena.CopyString(ValueText(v));
      break;
  }
  return Coerce(c, type, arena);
}

QueryResult DmlResult(QueryResult::Dml kind, int64_t count) {
  QueryResult result;
  result.dml = kind;
  result.row_count = count;
  return result;
}

}  // namespace

Status ExecuteUpdate(ExecContext& context, const UpdateStmt& statement,
                     std::vector<QueryResult>* results) {
  auto resolved = ResolveTable(context, statement.table);
  if (!resolved.ok()) return resolved.status();
  const catalog::TableDef& table = **resolved;
  KALAMDB_RETURN_IF_ERROR(CheckWriteAccess(context, table, "update"));
  RowSchema schema{&table, {}};
  Evaluator ev(schema, context.params, context.session, context.arena);
  bool uses_deleted = false;
  std::vector<int> targets;
  for (const Assignment& assignment : statement.assignments) {
    if (assignment.column.name == "_seq" || assignment.column.name == "_deleted") {
      return Status(ErrorCode::kInvalidOperation,
                    "Cannot update system column '" + std::string(assignment.column.name) + "'");
    }
    int index = table.ColumnIndex(assignment.column.name);
    if (index < 0) {
      return Status(ErrorCode::kInvalidOperation, "No field named '" +
                                                      std::string(assignment.column.name) +
                                                      "' in table " + table.QualifiedName());
    }
    if (index == table.primary_key) {
      return Status(ErrorCode::kInvalidOperation, "Cannot update primary key column '" +
                                                      table.columns[index].name +
                                                      "'; delete and insert instead");
    }
    KALAMDB_RETURN_IF_ERROR(ev.Bind(*assignment.value, &uses_deleted));
    targets.push_back(index);
  }
  if (statement.where) KALAMDB_RETURN_IF_ERROR(ev.Bind(*statement.where, &uses_deleted));

  std::vector<ColumnType> types;
  for (const auto& c : table.columns) types.push_back(c.type);
  storage::WriteBatch batch;
  std::vector<Value> values(table.columns.size());
  std::string row;
  int64_t updated = 0;
  Status st = ScanMatching(
      context, table, ev, statement.where, uses_deleted,
      [&](std::string_view key, std::string_view, std::span<const Value> slots) -> Result<bool> {
        std::copy(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(values.size()),
                  values.begin());
        for (size_t k = 0; k < targets.size(); ++k) {
          const catalog::ColumnDef& column = table.columns[targets[k]];
          auto v = ev.Eval(*statement.assignments[k].value, slots);
          if (!v.ok()) return v.status();
          auto converted = ToColumnType(*v, column.type, context.arena);
          if (!converted.ok()) {
            return Status(ErrorCode::kConstraintViolation,
                          "Unable to cast value for column '" + column.name +
                              "': " + std::string(converted.status().message()));
          }
          if (converted->is_null() && !column.nullable) {
            return Status(
                ErrorCode::kConstraintViolation,
                "NOT NULL constraint violation: column '" + column.name + "' cannot be NULL");
          }
          values[targets[k]] = *converted;
        }
        row.clear();
        KALAMDB_RETURN_IF_ERROR(storage::EncodeRow(types, values, NextSnowflakeId(), false, &row));
        batch.Put(storage::Family::kRows, key, row);
        ++updated;
        return true;
      });
  KALAMDB_RETURN_IF_ERROR(st);
  if (batch.size() > 0) {
    trace::Span write("store.write");
    write.SetAttribute("rows", batch.size());
    KALAMDB_RETURN_IF_ERROR(context.store.Write(batch));
  }
  results->push_back(DmlResult(QueryResult::Dml::kUpdate, updated));
  return Status::OK();
}

Status ExecuteDelete(ExecContext& context, const DeleteStmt& statement,
                     std::vector<QueryResult>* results) {
  auto resolved = ResolveTable(context, statement.table);
  if (!resolved.ok()) return resolved.status();
  const catalog::TableDef& table = **resolved;
  KALAMDB_RETURN_IF_ERROR(CheckWriteAccess(context, table, "delete from"));
  RowSchema schema{&table, {}};
  Evaluator ev(schema, context.params, context.session, context.arena);
  bool uses_deleted = false;
  if (statement.where) KALAMDB_RETURN_IF_ERROR(ev.Bind(*statement.where, &uses_deleted));
  const bool hard = table.type == catalog::TableType::kStream;
  storage::WriteBatch batch;
  std::string row;
  int64_t deleted = 0;
  // Rows already deleted are never deleted again, even when the WHERE names _deleted.
  Status st =
      ScanMatching(context, table, ev, statement.where, uses_deleted,
                   [&](std::string_view key, std::string_view bytes,
                       std::span<const Value> slots) -> Result<bool> {
                     if (slots[schema.deleted_slot()].as_bool()) return true;
                     if (hard) {
                       batch.Delete(storage::Family::kRows, key);
                     } else {
                       row.assign(bytes);
                       KALAMDB_RETURN_IF_ERROR(storage::RestampRow(&row, NextSnowflakeId(), true));
                       batch.Put(storage::Family::kRows, key, row);
                     }
                     ++deleted;
                     return true;
                   });
  KALAMDB_RETURN_IF_ERROR(st);
  if (batch.size() > 0) {
    trace::Span write("store.write");
    write.SetAttribute("rows", batch.size());
    KALAMDB_RETURN_IF_ERROR(context.store.Write(batch));
  }
  results->push_back(DmlResult(QueryResult::Dml::kDelete, deleted));
  return Status::OK();
}

}  // namespace kalamdb::sql
