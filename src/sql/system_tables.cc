// system_tables.cc: system.users, system.namespaces, system.tables, system.columns
// (reference §3.1, §4.10): built per request from the catalog and the user directory, encoded
// like stored rows, and read through the same scan as every other table. dba/system only;
// password hashes are always masked.
#include <string>

#include "sql/executor.h"
#include "storage/row_codec.h"

namespace kalamdb::sql {
namespace {

catalog::ColumnDef Col(std::string name, DataType type, bool pk = false) {
  catalog::ColumnDef c;
  c.name = std::move(name);
  c.type.type = type;
  c.primary_key = pk;
  c.nullable = !pk;
  return c;
}

Value Text(Arena& arena, std::string_view s) {
  return Value::Bytes(DataType::kText, arena.CopyString(s));
}
Value OptText(Arena& arena, const std::optional<std::string>& s) {
  return s ? Text(arena, *s) : Value::Null(DataType::kText);
}
Value Micros(int64_t v) { return Value::Int(DataType::kTimestamp, v); }
Value OptMicros(const std::optional<int64_t>& v) {
  return v ? Micros(*v) : Value::Null(DataType::kTimestamp);
}

}  // namespace

Result<const catalog::TableDef*> ResolveSystemTable(ExecContext& context, std::string_view name) {
  if (!catalog::IsAdmin(context.session.role)) {
    return Status(ErrorCode::kPermissionDenied,
                  "system." + std::string(name) + " is readable by dba and system roles only");
  }
  catalog::TableDef table;
  table.namespace_id = "system";
  table.name = std::string(name);
  std::vector<std::vector<Value>> rows;
  Arena& arena = context.arena;
  if (context.snapshot == nullptr) context.snapshot = context.catalog.ThreadSnapshot();
  auto snapshot = context.snapshot;
  if (name == "users") {
    if (context.users == nullptr)
      return Status(ErrorCode::kInvalidOperation, "user management is not available");
    table.columns = {Col("user_id", DataType::kText, true),
                     Col("password_hash", DataType::kText),
                     Col("role", DataType::kText),
                     Col("email", DataType::kText),
                     Col("auth_type", DataType::kText),
                     Col("auth_data", DataType::kJson),
                     Col("storage_mode", DataType::kText),
                     Col("storage_id", DataType::kText),
                     Col("failed_login_attempts", DataType::kInt),
                     Col("locked_until", DataType::kTimestamp),
                     Col("last_login_at", DataType::kTimestamp),
                     Col("created_at", DataType::kTimestamp),
                     Col("updated_at", DataType::kTimestamp),
                     Col("last_seen", DataType::kTimestamp),
                     Col("deleted_at", DataType::kTimestamp)};
    for (const auto& user : context.users->List()) {
      rows.push_back(
          {Text(arena, user->user_id), Text(arena, user->password_hash.empty() ? "" : "***"),
           Text(arena, catalog::RoleName(user->role)), OptText(arena, user->email),
           Text(arena, user->auth_type), Value::Null(DataType::kJson),
           Text(arena, user->storage_mode), OptText(arena, user->storage_id),
           Value::Int(DataType::kInt, user->failed_login_attempts), OptMicros(user->locked_until),
           OptMicros(user->last_login_at), Micros(user->created_at), Micros(user->updated_at),
           OptMicros(user->last_seen), OptMicros(user->deleted_at)});
    }
  } else if (name == "namespaces") {
    table.columns = {Col("namespace_id", DataType::kText, true), Col("name", DataType::kText),
                     Col("created_at", DataType::kTimestamp), Col("options", DataType::kJson),
                     Col("table_count", DataType::kInt)};
    for (const catalog::NamespaceDef* ns : snapshot->Namespaces()) {
      rows.push_back(
          {Text(arena, ns->name), Text(arena, ns->name), Micros(ns->created_at),
           Value::Bytes(DataType::kJson, "{}"),
           Value::Int(DataType::kInt, static_cast<int64_t>(snapshot->Tables(ns->name).size()))});
    }
  } else if (name == "tables") {
    table.columns = {
        Col("namespace_id", DataType::kText),   Col("table_name", DataType::kText),
        Col("table_type", DataType::kText),     Col("storage_id", DataType::kText),
        Col("version", DataType::kBigInt),      Col("options", DataType::kJson),
        Col("comment", DataType::kText),        Col("updated_at", DataType::kTimestamp),
        Col("created_at", DataType::kTimestamp)};
    for (const catalog::TableDef* t : snapshot->Tables()) {
      rows.push_back({Text(arena, t->namespace_id), Text(arena, t->name),
                      Text(arena, catalog::TableTypeName(t->type)), Text(arena, "local"),
                      Value::Int(DataType::kBigInt, t->version),
                      Value::Bytes(DataType::kJson, "{}"), Value::Null(DataType::kText),
                      Micros(t->updated_at), Micros(t->created_at)});
    }
  } else if (name == "columns") {
    table.columns = {
        Col("namespace_id", DataType::kText),   Col("table_name", DataType::kText),
        Col("version", DataType::kBigInt),      Col("column_id", DataType::kInt),
        Col("column_name", DataType::kText),    Col("comment", DataType::kText),
        Col("data_type", DataType::kText),      Col("default_value", DataType::kText),
        Col("ordinal", DataType::kInt),         Col("nullable", DataType::kBoolean),
        Col("primary_key", DataType::kBoolean), Col("primary_key_pos", DataType::kInt)};
    for (const catalog::TableDef* t : snapshot->Tables()) {
      for (size_t i = 0; i < t->columns.size(); ++i) {
        const auto& c = t->columns[i];
        rows.push_back(
            {Text(arena, t->namespace_id), Text(arena, t->name),
             Value::Int(DataType::kBigInt, t->version),
             Value::Int(DataType::kInt, static_cast<int64_t>(i + 1)), Text(arena, c.name),
             Value::Null(DataType::kText), Text(arena, DataTypeName(c.type.type)),
             c.default_value.kind == catalog::DefaultValue::Kind::kLiteral
                 ? Text(arena, c.default_value.literal)
                 : Value::Null(DataType::kText),
             Value::Int(DataType::kInt, static_cast<int64_t>(i + 1)), Value::Bool(c.nullable),
             Value::Bool(c.primary_key),
             c.primary_key ? Value::Int(DataType::kInt, 1) : Value::Null(DataType::kInt)});
      }
    }
  } else {
    return Status(ErrorCode::kNotFound, "Table 'system." + std::string(name) + "' not found");
  }
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].primary_key) table.primary_key = static_cast<int>(i);
  }
  std::vector<ColumnType> types;
  for (const auto& c : table.columns) types.push_back(c.type);
  const catalog::TableDef* def =
      context.system_tables.emplace_back(std::make_unique<catalog::TableDef>(std::move(table)))
          .get();
  std::vector<std::string>& encoded = context.virtual_rows[def];
  for (const auto& row : rows) {
    std::string bytes;
    KALAMDB_RETURN_IF_ERROR(storage::EncodeRow(types, row, 0, false, &bytes));
    encoded.push_back(std::move(bytes));
  }
  return def;
}

}  // namespace kalamdb::sql
