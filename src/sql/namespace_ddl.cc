// namespace_ddl.cc: CREATE NAMESPACE, DROP NAMESPACE, SHOW NAMESPACES (reference §4.2).
#include <array>
#include <string>

#include "common/json_writer.h"
#include "sql/executor.h"
#include "storage/storage.h"

namespace kalamdb::sql {
namespace {

constexpr std::array<std::string_view, 13> kReservedNamespaces = {"system",
                                                                  "sys",
                                                                  "root",
                                                                  "kalamdb",
                                                                  "kalam",
                                                                  "main",
                                                                  "default",
                                                                  "sql",
                                                                  "admin",
                                                                  "internal",
                                                                  "information_schema",
                                                                  "pg_catalog",
                                                                  "datafusion"};

bool IsReservedNamespace(std::string_view name) {
  for (std::string_view reserved : kReservedNamespaces) {
    if (name == reserved) return true;
  }
  return false;
}

}  // namespace

Status ExecuteCreateNamespace(ExecContext& context, const CreateNamespaceStmt& statement,
                              std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireAdmin(context, "CREATE NAMESPACE"));
  auto name = NormalizeName(statement.name, "namespace");
  if (!name.ok()) return name.status();
  if (IsReservedNamespace(*name)) {
    return Status(ErrorCode::kInvalidOperation, "Namespace name '" + *name + "' is reserved");
  }
  Status st = context.catalog.CreateNamespace(*name);
  if (st.code() == ErrorCode::kAlreadyExists && statement.if_not_exists) {
    results->push_back(MessageResult("Namespace '" + *name + "' already exists"));
    return Status::OK();
  }
  KALAMDB_RETURN_IF_ERROR(st);
  results->push_back(MessageResult("Namespace '" + *name + "' created successfully"));
  return Status::OK();
}

Status ExecuteDropNamespace(ExecContext& context, const DropNamespaceStmt& statement,
                            std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireAdmin(context, "DROP NAMESPACE"));
  auto name = NormalizeName(statement.name, "namespace");
  if (!name.ok()) return name.status();
  if (IsReservedNamespace(*name)) {
    return Status(ErrorCode::kInvalidOperation,
                  "Namespace '" + *name + "' is reserved and cannot be dropped");
  }
  // KalamDB drops the namespace's tables with or without CASCADE.
  auto dropped = context.catalog.DropNamespace(*name);
  if (!dropped.ok()) {
    if (dropped.status().code() == ErrorCode::kNotFound && statement.if_exists) {
      results->push_back(MessageResult("Namespace '" + *name + "' does not exist"));
      return Status::OK();
    }
    return dropped.status();
  }
  for (const auto& table : *dropped)
    KALAMDB_RETURN_IF_ERROR(DeleteTableRows(context.store, *table));
  results->push_back(MessageResult("Namespace '" + *name + "' dropped successfully"));
  return Status::OK();
}

Status ExecuteShowNamespaces(ExecContext& context, std::vector<QueryResult>* results) {
  auto snapshot = context.catalog.Snapshot();
  QueryResult result;
  result.has_rows = true;
  result.schema = {{"namespace_id", "Text", {}},
                   {"name", "Text", {}},
                   {"created_at", "Timestamp", {}},
                   {"options", "Json", {}},
                   {"table_count", "Int", {}}};
  for (const catalog::NamespaceDef* ns : snapshot->Namespaces()) {
    std::vector<std::string> row;
    std::string quoted;
    AppendJsonString(quoted, ns->name);
    row.push_back(quoted);
    row.push_back(quoted);
    row.push_back(std::to_string(ns->created_at));
    row.push_back("\"{}\"");
    row.push_back(std::to_string(snapshot->Tables(ns->name).size()));
    result.rows.push_back(std::move(row));
  }
  result.row_count = static_cast<int64_t>(result.rows.size());
  results->push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalamdb::sql
