// table_ddl.cc: CREATE TABLE, DROP TABLE, SHOW TABLES, DESCRIBE TABLE (reference §4.3, 4.6, 4.9).
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "common/json_writer.h"
#include "common/strings.h"
#include "sql/executor.h"
#include "storage/key_codec.h"
#include "storage/storage.h"

namespace kalamdb::sql {
namespace {

using catalog::AccessLevel;
using catalog::DefaultValue;
using catalog::Role;

struct TypeAlias {
  std::string_view name;
  DataType type;
};
constexpr TypeAlias kTypeAliases[] = {
    {"BOOLEAN", DataType::kBoolean},
    {"BOOL", DataType::kBoolean},
    {"SMALLINT", DataType::kSmallInt},
    {"INT2", DataType::kSmallInt},
    {"INT", DataType::kInt},
    {"INTEGER", DataType::kInt},
    {"INT4", DataType::kInt},
    {"MEDIUMINT", DataType::kInt},
    {"BIGINT", DataType::kBigInt},
    {"INT8", DataType::kBigInt},
    {"FLOAT", DataType::kFloat},
    {"REAL", DataType::kFloat},
    {"FLOAT4", DataType::kFloat},
    {"DOUBLE", DataType::kDouble},
    {"DOUBLE PRECISION", DataType::kDouble},
    {"FLOAT8", DataType::kDouble},
    {"FLOAT64", DataType::kDouble},
    {"DECIMAL", DataType::kDecimal},
    {"NUMERIC", DataType::kDecimal},
    {"TEXT", DataType::kText},
    {"VARCHAR", DataType::kText},
    {"CHAR", DataType::kText},
    {"STRING", DataType::kText},
    {"NVARCHAR", DataType::kText},
    {"BYTES", DataType::kBytes},
    {"BINARY", DataType::kBytes},
    {"VARBINARY", DataType::kBytes},
    {"BLOB", DataType::kBytes},
    {"BYTEA", DataType::kBytes},
    {"JSON", DataType::kJson},
    {"JSONB", DataType::kJson},
    {"TIMESTAMP", DataType::kTimestamp},
    {"DATETIME", DataType::kDateTime},
    {"DATE", DataType::kDate},
    {"TIME", DataType::kTime},
    {"UUID", DataType::kUuid},
    {"SERIAL", DataType::kBigInt},
    {"BIGSERIAL", DataType::kBigInt},
    {"SMALLSERIAL", DataType::kBigInt},
};

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidOperation, std::move(message));
}

// Resolves a written type; sets *serial for the SERIAL family (implies AUTO_INCREMENT).
Result<ColumnType> BindType(const TypeName& written, bool* serial) {
  for (const TypeAlias& alias : kTypeAliases) {
    if (!EqualsIgnoreCase(written.name, alias.name)) continue;
    ColumnType type;
    type.type = alias.type;
    *serial = EndsWithSerial(written.name);
    if (alias.type == DataType::kDecimal) {
      type.precision = written.param_count >= 1 ? static_cast<uint8_t>(written.params[0]) : 38;
      type.scale = written.param_count >= 2   ? static_cast<uint8_t>(written.params[1])
                   : written.param_count == 1 ? 0
                                              : 10;
      if (written.param_count >= 1 && (written.params[0] < 1 || written.params[0] > 38)) {
        return Invalid("DECIMAL precision must be between 1 and 38");
      }
      if (written.param_count >= 2 &&
          (written.params[1] < 0 || written.params[1] > written.params[0])) {
        return Invalid("DECIMAL scale must be between 0 and the precision");
      }
    } else if (alias.type == DataType::kText && written.param_count >= 1) {
      if (written.params[0] < 1) return Invalid("VARCHAR length must be positive");
      type.max_length = static_cast<uint32_t>(written.params[0]);
    }
    return type;
  }
  return Invalid("Unsupported data type '" + std::string(written.name) + "'");
}

// The default of a column, from its DEFAULT expression.
Result<DefaultValue> BindDefault(const Expr& expr) {
  DefaultValue value;
  if (const auto* call = expr.TryAs<FunctionCallExpr>()) {
    value.kind = FunctionDefaultKind(call->name.name);
    if (value.kind != DefaultValue::Kind::kNone && call->args.empty()) return value;
    return Invalid("Unsupported DEFAULT function '" + std::string(call->name.name) + "'");
  }
  const Expr* inner = &expr;
  std::string sign;
  if (const auto* unary = expr.TryAs<UnaryExpr>(); unary && unary->op == UnaryOp::kMinus) {
    sign = "-";
    inner = unary->operand;
  }
  if (const auto* literal = inner->TryAs<LiteralExpr>()) {
    value.kind = DefaultValue::Kind::kLiteral;
    switch (literal->literal_kind) {
      case LiteralKind::kInteger:
      case LiteralKind::kDecimal:
        value.literal = sign + std::string(literal->text);
        break;
      case LiteralKind::kString:
        if (!sign.empty()) return Invalid("Cannot negate a string DEFAULT");
        value.literal = "'" + std::string(literal->text) + "'";
        break;
      case LiteralKind::kBoolean:
        value.literal = literal->boolean ? "TRUE" : "FALSE";
        break;
      case LiteralKind::kNull:
        value.literal = "NULL";
        break;
    }
    return value;
  }
  return Invalid(
      "DEFAULT must be a literal or one of NOW(), SNOWFLAKE_ID(), UUID_V7(), ULID(), "
      "CURRENT_USER()");
}

// Text of an option value: a literal or a bare word.
std::string OptionText(const Expr* value) {
  if (value == nullptr) return {};
  if (const auto* literal = value->TryAs<LiteralExpr>()) {
    if (literal->literal_kind == LiteralKind::kBoolean) return literal->boolean ? "TRUE" : "FALSE";
    return std::string(literal->text);
  }
  if (const auto* column = value->TryAs<ColumnRefExpr>()) return std::string(column->column.name);
  return value->ToString();
}

catalog::TableType FromAst(TableType type) {
  switch (type) {
    case TableType::kUser:
      return catalog::TableType::kUser;
    case TableType::kStream:
      return catalog::TableType::kStream;
    default:
      return catalog::TableType::kShared;
  }
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

}  // namespace

bool EndsWithSerial(std::string_view type_name) {
  return type_name.size() >= 6 &&
         EqualsIgnoreCase(type_name.substr(type_name.size() - 6), "SERIAL");
}

Status DeleteTableRows(storage::Store& store, const catalog::TableDef& table) {
  const std::string begin = storage::TablePrefix(table.id);
  std::string end = storage::PrefixSuccessor(begin);
  if (end.empty()) end = std::string(begin.size() + 1, '\xff');  // table id 0xFFFFFFFF
  return store.DeleteRange(storage::Family::kRows, begin, end);
}

std::vector<std::string> ColumnFlags(const catalog::ColumnDef& column) {
  std::vector<std::string> flags;
  if (column.primary_key) flags.push_back("pk");
  if (column.primary_key || !column.nullable) flags.push_back("nn");
  if (column.primary_key || column.unique) flags.push_back("uq");
  return flags;
}

Status ExecuteCreateTable(ExecContext& context, const CreateTableStmt& statement,
                          std::vector<QueryResult>* results) {
  std::string ns, name;
  KALAMDB_RETURN_IF_ERROR(ResolveTableName(context, statement.table, &ns, &name));
  if (ns == "system") return Invalid("Cannot create tables in namespace 'system'");

  catalog::TableDef table;
  table.namespace_id = ns;
  table.name = name;
  bool type_given = statement.table_type != TableType::kUnspecified;
  table.type = FromAst(statement.table_type);
  bool ttl_given = false;
  for (const TableOption& option : statement.options) {
    std::string key = Upper(option.key.name);
    std::string value = OptionText(option.value);
    if (key == "TYPE") {
      std::string upper = Upper(value);
      std::optional<catalog::TableType> from_option;
      if (upper == "USER") from_option = catalog::TableType::kUser;
      if (upper == "SHARED") from_option = catalog::TableType::kShared;
      if (upper == "STREAM") from_option = catalog::TableType::kStream;
      if (!from_option) return Invalid("Invalid table TYPE '" + value + "'");
      if (type_given && *from_option != table.type) {
        return Invalid("TYPE option '" + upper + "' does not match the CREATE " +
                       Upper(catalog::TableTypeName(table.type)) + " TABLE statement");
      }
      table.type = *from_option;
      type_given = true;
    } else if (key == "TTL_SECONDS") {
      int64_t ttl = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ttl);
      if (ec != std::errc() || end != value.data() + value.size() || ttl <= 0) {
        return Invalid("TTL_SECONDS must be a positive integer");
      }
      table.ttl_seconds = ttl;
      ttl_given = true;
    } else if (key == "ACCESS_LEVEL") {
      std::string upper = Upper(value);
      if (upper == "PUBLIC")
        table.access_level = AccessLevel::kPublic;
      else if (upper == "PRIVATE")
        table.access_level = AccessLevel::kPrivate;
      else if (upper == "RESTRICTED")
        table.access_level = AccessLevel::kRestricted;
      else if (upper == "DBA")
        table.access_level = AccessLevel::kDba;
      else
        return Invalid("Invalid ACCESS_LEVEL '" + value + "'");
    } else if (key == "STORAGE_ID") {
      if (value != "local") return Invalid("Storage '" + value + "' does not exist");
    } else if (key != "USE_USER_STORAGE" && key != "FLUSH_POLICY" &&
               key != "DELETED_RETENTION_HOURS") {
      return Invalid("Unknown table option '" + std::string(option.key.name) + "'");
    }
  }
  // A user or service creating a SHARED table in the namespace named after itself gets a
  // USER table (reference §3.7).
  const Role role = context.session.role;
  if (table.type == catalog::TableType::kShared && !type_given &&
      (role == Role::kUser || role == Role::kService) && ns == context.session.user_id) {
    table.type = catalog::TableType::kUser;
  }
  if (table.type == catalog::TableType::kShared && role == Role::kUser) {
    return Status(ErrorCode::kPermissionDenied, "Role 'user' cannot create SHARED tables");
  }
  if (table.type == catalog::TableType::kStream && !ttl_given) {
    return Invalid("STREAM tables require TTL_SECONDS");
  }
  if (table.type != catalog::TableType::kStream && ttl_given) {
    return Invalid("TTL_SECONDS applies only to STREAM tables");
  }
  if (table.type != catalog::TableType::kShared && table.access_level != AccessLevel::kPrivate) {
    return Invalid("ACCESS_LEVEL applies only to SHARED tables");
  }

  for (const ColumnDef& written : statement.columns) {
    auto column_name = NormalizeName(written.name, "column");
    if (!column_name.ok()) return column_name.status();
    if (table.ColumnIndex(*column_name) >= 0)
      return Invalid("Duplicate column '" + *column_name + "'");
    catalog::ColumnDef column;
    column.name = std::move(column_name).value();
    bool serial = false;
    auto type = BindType(written.type, &serial);
    if (!type.ok()) return type.status();
    column.type = *type;
    column.nullable = written.nullability != Nullability::kNotNull;
    column.primary_key = written.primary_key;
    column.unique = written.unique;
    column.auto_increment = written.auto_increment || serial;
    if (written.default_value != nullptr) {
      auto value = BindDefault(*written.default_value);
      if (!value.ok()) return value.status();
      column.default_value = std::move(value).value();
    }
    if (column.auto_increment) {
      if (column.type.type != DataType::kBigInt) {
        return Invalid("AUTO_INCREMENT column '" + column.name +
                       "' must be BIGINT (ids are 64-bit snowflakes)");
      }
      if (column.default_value.kind == DefaultValue::Kind::kNone) {
        column.default_value.kind = DefaultValue::Kind::kSnowflakeId;
      }
    }
    table.columns.push_back(std::move(column));
  }
  for (const Identifier& pk : statement.primary_key_columns) {
    auto pk_name = NormalizeName(pk, "column");
    if (!pk_name.ok()) return pk_name.status();
    int index = table.ColumnIndex(*pk_name);
    if (index < 0)
      return Invalid("PRIMARY KEY column '" + *pk_name + "' is not a column of the table");
    table.columns[index].primary_key = true;
  }
  int pk_count = 0;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (!table.columns[i].primary_key) continue;
    ++pk_count;
    table.primary_key = static_cast<int>(i);
    table.columns[i].nullable = false;
  }
  if (pk_count > 1) return Invalid("Composite primary keys are not supported");
  if (pk_count == 0 && table.type != catalog::TableType::kStream) {
    return Invalid(std::string(table.type == catalog::TableType::kUser ? "User" : "Shared") +
                   " tables require a PRIMARY KEY column");
  }

  auto snapshot = context.catalog.Snapshot();
  if (snapshot->FindNamespace(ns) == nullptr) {
    return Invalid("Namespace '" + ns + "' does not exist. Create it first with CREATE NAMESPACE " +
                   ns);
  }
  auto created = context.catalog.CreateTable(std::move(table));
  if (!created.ok()) {
    if (created.status().code() == ErrorCode::kAlreadyExists && statement.if_not_exists) {
      results->push_back(MessageResult("Table " + ns + "." + name + " already exists"));
      return Status::OK();
    }
    return created.status();
  }
  results->push_back(MessageResult(std::string(catalog::TableTypeName((*created)->type)) +
                                   " table " + ns + "." + name + " created successfully"));
  return Status::OK();
}

Status ExecuteDropTable(ExecContext& context, const DropTableStmt& statement,
                        std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireAdmin(context, "DROP TABLE"));
  std::string ns, name;
  KALAMDB_RETURN_IF_ERROR(ResolveTableName(context, statement.table, &ns, &name));
  auto dropped = context.catalog.DropTable(ns, name);
  if (!dropped.ok()) {
    if (dropped.status().code() == ErrorCode::kNotFound) {
      if (statement.if_exists) {
        results->push_back(MessageResult("Table " + ns + "." + name + " does not exist (skipped)"));
        return Status::OK();
      }
      return Status(ErrorCode::kNotFound,
                    "Table '" + name + "' not found in namespace '" + ns + "'");
    }
    return dropped.status();
  }
  KALAMDB_RETURN_IF_ERROR(DeleteTableRows(context.store, **dropped));
  results->push_back(MessageResult("Table " + ns + "." + name + " dropped successfully"));
  return Status::OK();
}

Status ExecuteShowTables(ExecContext& context, const ShowTablesStmt& statement,
                         std::vector<QueryResult>* results) {
  std::string ns;
  if (!statement.namespace_name.empty()) {
    auto folded = NormalizeName(statement.namespace_name, "namespace");
    if (!folded.ok()) return folded.status();
    ns = std::move(folded).value();
  }
  auto snapshot = context.catalog.Snapshot();
  QueryResult result;
  result.has_rows = true;
  result.schema = {{"table_id", "Text", {}},        {"table_name", "Text", {}},
                   {"namespace_id", "Text", {}},    {"table_type", "Text", {}},
                   {"created_at", "Timestamp", {}}, {"schema_version", "Int", {}},
                   {"columns", "Json", {}},         {"table_comment", "Text", {}},
                   {"updated_at", "Timestamp", {}}, {"options", "Json", {}},
                   {"access_level", "Text", {}},    {"is_latest", "Boolean", {}},
                   {"storage_id", "Text", {}},      {"use_user_storage", "Boolean", {}}};
  for (const catalog::TableDef* table : snapshot->Tables(ns)) {
    std::string columns;
    JsonWriter w(columns);
    w.BeginArray();
    for (const auto& column : table->columns) w.String(column.name);
    w.EndArray();
    result.rows.push_back({Quoted(table->QualifiedName()), Quoted(table->name),
                           Quoted(table->namespace_id), Quoted(catalog::TableTypeName(table->type)),
                           std::to_string(table->created_at), std::to_string(table->version),
                           Quoted(columns), "null", std::to_string(table->updated_at), "\"{}\"",
                           table->type == catalog::TableType::kShared
                               ? Quoted(catalog::AccessLevelName(table->access_level))
                               : "null",
                           "true", "\"local\"", "false"});
  }
  result.row_count = static_cast<int64_t>(result.rows.size());
  results->push_back(std::move(result));
  return Status::OK();
}

Status ExecuteDescribeTable(ExecContext& context, const DescribeTableStmt& statement,
                            std::vector<QueryResult>* results) {
  std::string ns, name;
  KALAMDB_RETURN_IF_ERROR(ResolveTableName(context, statement.table, &ns, &name));
  auto snapshot = context.catalog.Snapshot();
  const catalog::TableDef* table = snapshot->FindTable(ns, name);
  if (table == nullptr) {
    return Status(ErrorCode::kNotFound, "Table '" + name + "' not found in namespace '" + ns + "'");
  }
  QueryResult result;
  result.has_rows = true;
  result.schema = {{"column_name", "Text", {}},    {"ordinal_position", "Int", {}},
                   {"column_id", "Int", {}},       {"data_type", "Text", {}},
                   {"is_nullable", "Boolean", {}}, {"is_primary_key", "Boolean", {}},
                   {"column_default", "Text", {}}, {"column_comment", "Text", {}},
                   {"schema_version", "Int", {}}};
  auto add = [&](std::string_view column_name, int ordinal, std::string_view type, bool nullable,
                 bool pk, std::string default_text) {
    result.rows.push_back({Quoted(column_name), std::to_string(ordinal), std::to_string(ordinal),
                           Quoted(type), nullable ? "true" : "false", pk ? "true" : "false",
                           default_text.empty() ? "null" : Quoted(default_text), "null",
                           std::to_string(table->version)});
  };
  int ordinal = 1;
  for (const auto& column : table->columns) {
    std::string default_text;
    switch (column.default_value.kind) {
      case DefaultValue::Kind::kNone:
        break;
      case DefaultValue::Kind::kLiteral:
        default_text = column.default_value.literal;
        break;
      case DefaultValue::Kind::kNow:
        default_text = "NOW()";
        break;
      case DefaultValue::Kind::kSnowflakeId:
        default_text = "SNOWFLAKE_ID()";
        break;
      case DefaultValue::Kind::kUuidV7:
        default_text = "UUID_V7()";
        break;
      case DefaultValue::Kind::kUlid:
        default_text = "ULID()";
        break;
      case DefaultValue::Kind::kCurrentUser:
        default_text = "CURRENT_USER()";
        break;
    }
    add(column.name, ordinal++, DataTypeName(column.type.type), column.nullable, column.primary_key,
        default_text);
  }
  add("_seq", ordinal++, "BigInt", false, false, "");
  add("_deleted", ordinal++, "Boolean", false, false, "false");
  result.row_count = static_cast<int64_t>(result.rows.size());
  results->push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalamdb::sql
