// insert.cc: INSERT INTO t [(cols)] VALUES (...), ... (reference §4.7).
//
// Per statement: resolve the table, map the listed columns, then per row build one Value per
// column (from the literal, the $n parameter, the column default, or NULL), check NOT NULL,
// build the row key (table id, owner for USER tables, encoded primary key), reject primary
// keys repeated within the statement or already stored, encode the row with a fresh _seq, and
// write all rows in one WriteBatch: the statement is atomic.
#include <random>
#include <string>
#include <unordered_set>

#include "common/clock.h"
#include "common/snowflake.h"
#include "sql/coerce.h"
#include "sql/encode.h"
#include "sql/executor.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/storage.h"

namespace kalamdb::sql {
namespace {

using catalog::DefaultValue;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidOperation, std::move(message));
}

// 16 random bytes (per-thread generator seeded from the OS).
void RandomBytes(char* out, size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(r >> (8 * k));
  }
}

// UUID v7 (RFC 9562): 48-bit Unix ms, version 7, variant 10, random rest.
std::string_view NewUuidV7(Arena& arena) {
  char* b = static_cast<char*>(arena.Allocate(16, 1));
  RandomBytes(b, 16);
  uint64_t ms = static_cast<uint64_t>(NowMicros() / 1000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>(ms >> (40 - 8 * i));
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);
  return {b, 16};
}

// ULID: 48-bit ms + 80 random bits in Crockford base32 (26 characters).
std::string_view NewUlid(Arena& arena) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  unsigned char raw[16];
  RandomBytes(reinterpret_cast<char*>(raw), 16);
  uint64_t ms = static_cast<uint64_t>(NowMicros() / 1000);
  for (int i = 0; i < 6; ++i) raw[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  uint128_t v = 0;
  for (unsigned char c : raw) v = (v << 8) | c;
  char* out = static_cast<char*>(arena.Allocate(26, 1));
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<int>(v & 31)];
    v >>= 5;
  }
  return {out, 26};
}

Result<Value> Generated(DefaultValue::Kind kind, const catalog::ColumnDef& column,
                        const ExecContext& context, int64_t now_micros) {
  const DataType t = column.type.type;
  auto mismatch = [&](std::string_view what) {
    return Status(ErrorCode::kConstraintViolation, std::string(what) + " cannot fill column '" +
                                                       column.name + "' of type " +
                                                       std::string(DataTypeName(t)));
  };
  switch (kind) {
    case DefaultValue::Kind::kNow:
      if (t == DataType::kTimestamp || t == DataType::kDateTime) return Value::Int(t, now_micros);
      if (t == DataType::kDate) return Value::Int(t, now_micros / 86400000000LL);
      if (t == DataType::kTime) return Value::Int(t, now_micros % 86400000000LL);
      if (t == DataType::kBigInt) return Value::Int(t, now_micros);
      return mismatch("NOW()");
    case DefaultValue::Kind::kSnowflakeId:
      if (t == DataType::kBigInt) return Value::Int(t, NextSnowflakeId());
      return mismatch("SNOWFLAKE_ID()");
    case DefaultValue::Kind::kUuidV7: {
      std::string_view bytes = NewUuidV7(context.arena);
      if (t == DataType::kUuid) return Value::Bytes(t, bytes);
      if (t == DataType::kText) return Value::Bytes(t, context.arena.CopyString(FormatUuid(bytes)));
      return mismatch("UUID_V7()");
    }
    case DefaultValue::Kind::kUlid:
      if (t == DataType::kText) return Value::Bytes(t, NewUlid(context.arena));
      return mismatch("ULID()");
    case DefaultValue::Kind::kCurrentUser:
      if (t == DataType::kText) return Value::Bytes(t, context.session.user_id);
      return mismatch("CURRENT_USER()");
    case DefaultValue::Kind::kNone:
    case DefaultValue::Kind::kLiteral:
      break;
  }
  return Value::Null(t);
}

// A DEFAULT literal as stored by CREATE TABLE ("42", "-1.5", "'text'", "TRUE", "NULL").
Constant DefaultConstant(std::string_view literal) {
  Constant c;
  if (literal == "NULL") return c;
  if (literal == "TRUE" || literal == "FALSE") {
    c.kind = Constant::Kind::kBoolean;
    c.boolean = literal == "TRUE";
    return c;
  }
  if (literal.size() >= 2 && literal.front() == '\'' && literal.back() == '\'') {
    c.kind = Constant::Kind::kString;
    c.text = literal.substr(1, literal.size() - 2);
    return c;
  }
  c.kind = literal.find_first_of(".eE") == std::string_view::npos ? Constant::Kind::kInteger
                                                                  : Constant::Kind::kDecimal;
  c.text = literal;
  return c;
}

}  // namespace

Result<Constant> ExprConstant(const ExecContext& context, const Expr& expr) {
  if (const auto* literal = expr.TryAs<LiteralExpr>()) {
    Constant c;
    switch (literal->literal_kind) {
      case LiteralKind::kInteger:
        c.kind = Constant::Kind::kInteger;
        break;
      case LiteralKind::kDecimal:
        c.kind = Constant::Kind::kDecimal;
        break;
      case LiteralKind::kString:
        c.kind = Constant::Kind::kString;
        break;
      case LiteralKind::kBoolean:
        c.kind = Constant::Kind::kBoolean;
        break;
      case LiteralKind::kNull:
        c.kind = Constant::Kind::kNull;
        break;
    }
    c.text = literal->text;
    c.boolean = literal->boolean;
    return c;
  }
  if (const auto* unary = expr.TryAs<UnaryExpr>(); unary && unary->op != UnaryOp::kNot) {
    auto inner = ExprConstant(context, *unary->operand);
    if (!inner.ok()) return inner;
    if (inner->kind != Constant::Kind::kInteger && inner->kind != Constant::Kind::kDecimal) {
      return Status(ErrorCode::kInvalidSql, "a sign applies only to numbers");
    }
    if (unary->op == UnaryOp::kMinus) {
      std::string negated = inner->text.front() == '-' ? std::string(inner->text.substr(1))
                                                       : "-" + std::string(inner->text);
      inner->text = context.arena.CopyString(negated);
    }
    return inner;
  }
  if (const auto* parameter = expr.TryAs<ParameterExpr>()) {
    if (parameter->index == 0 || parameter->index > context.params.size()) {
      return Status(ErrorCode::kInvalidOperation,
                    "Parameter $" + std::to_string(parameter->index) + " was not provided (" +
                        std::to_string(context.params.size()) + " given)");
    }
    const Param& p = context.params[parameter->index - 1];
    Constant c;
    switch (p.kind) {
      case Param::Kind::kNull:
        c.kind = Constant::Kind::kNull;
        break;
      case Param::Kind::kInteger:
        c.kind = Constant::Kind::kInteger;
        break;
      case Param::Kind::kFloat:
        c.kind = Constant::Kind::kDecimal;
        break;
      case Param::Kind::kString:
        c.kind = Constant::Kind::kString;
        break;
      case Param::Kind::kBoolean:
        c.kind = Constant::Kind::kBoolean;
        break;
    }
    c.text = p.text;
    c.boolean = p.boolean;
    return c;
  }
  return Status(ErrorCode::kInvalidSql, "expected a constant, a $n parameter or a function call");
}

Status ExecuteInsert(ExecContext& context, const InsertStmt& statement,
                     std::vector<QueryResult>* results) {
  if (statement.select != nullptr)
    return Status(ErrorCode::kInvalidSql, "INSERT ... SELECT is not supported yet");
  auto resolved = ResolveTable(context, statement.table);
  if (!resolved.ok()) return resolved.status();
  const catalog::TableDef& table = **resolved;
  KALAMDB_RETURN_IF_ERROR(CheckWriteAccess(context, table, "insert into"));

  // Which table column each written position fills.
  const size_t column_count = table.columns.size();
  std::vector<int> targets;
  if (statement.columns.empty()) {
    for (size_t i = 0; i < column_count; ++i) targets.push_back(static_cast<int>(i));
  } else {
    std::vector<bool> seen(column_count, false);
    for (const Identifier& name : statement.columns) {
      if (name.name == "_seq" || name.name == "_deleted") {
        return Invalid("Cannot insert into system column '" + std::string(name.name) + "'");
      }
      int index = table.ColumnIndex(name.name);
      if (index < 0) {
        return Invalid("No field named '" + std::string(name.name) + "' in table " +
                       table.QualifiedName());
      }
      if (seen[index]) return Invalid("Column '" + table.columns[index].name + "' is listed twice");
      seen[index] = true;
      targets.push_back(index);
    }
  }

  std::vector<ColumnType> types;
  types.reserve(column_count);
  for (const auto& column : table.columns) types.push_back(column.type);
  const bool owned = table.type != catalog::TableType::kShared;
  const std::string_view owner =
      owned ? std::string_view(context.session.user_id) : std::string_view();
  const int64_t now = NowMicros();

  storage::WriteBatch batch;
  std::unordered_set<std::string> keys;
  std::vector<Value> values(column_count);
  std::string key, row;
  size_t row_number = 0;
  for (std::span<Expr*> tuple : statement.rows) {
    ++row_number;
    if (tuple.size() != targets.size()) {
      return Invalid("Row " + std::to_string(row_number) + " has " + std::to_string(tuple.size()) +
                     " values but " + std::to_string(targets.size()) + " columns are listed");
    }
    std::vector<bool> given(column_count, false);
    for (size_t k = 0; k < tuple.size(); ++k) {
      const int index = targets[k];
      const catalog::ColumnDef& column = table.columns[index];
      given[index] = true;
      if (const auto* call = tuple[k]->TryAs<FunctionCallExpr>()) {
        DefaultValue::Kind kind = FunctionDefaultKind(call->name.name);
        if (kind == DefaultValue::Kind::kNone || !call->args.empty()) {
          return Status(ErrorCode::kInvalidSql,
                        "Unsupported function in VALUES: " + std::string(call->name.name));
        }
        auto value = Generated(kind, column, context, now);
        if (!value.ok()) return value.status();
        values[index] = *value;
        continue;
      }
      auto constant = ExprConstant(context, *tuple[k]);
      if (!constant.ok()) return constant.status();
      auto value = Coerce(*constant, column.type, context.arena);
      if (!value.ok()) {
        return Status(ErrorCode::kConstraintViolation,
                      "Unable to cast value " + ConstantText(*constant) + " for column '" +
                          column.name + "' (row " + std::to_string(row_number) +
                          "): " + std::string(value.status().message()));
      }
      values[index] = *value;
    }
    for (size_t index = 0; index < column_count; ++index) {
      const catalog::ColumnDef& column = table.columns[index];
      if (!given[index]) {
        const DefaultValue& def = column.default_value;
        if (def.kind == DefaultValue::Kind::kLiteral) {
          auto value = Coerce(DefaultConstant(def.literal), column.type, context.arena);
          if (!value.ok()) return value.status();
          values[index] = *value;
        } else if (def.kind == DefaultValue::Kind::kNone) {
          values[index] = Value::Null(column.type.type);
        } else {
          auto value = Generated(def.kind, column, context, now);
          if (!value.ok()) return value.status();
          values[index] = *value;
        }
      }
      if (values[index].is_null() && !column.nullable) {
        return Status(ErrorCode::kConstraintViolation, "NOT NULL constraint violation: column '" +
                                                           column.name + "' cannot be NULL (row " +
                                                           std::to_string(row_number) + ")");
      }
    }

    const int64_t seq = NextSnowflakeId();
    key.clear();
    if (table.primary_key >= 0) {
      const Value& pk = values[table.primary_key];
      KALAMDB_RETURN_IF_ERROR(storage::AppendRowKey(&key, table.id, owner, pk));
      const std::string& pk_name = table.columns[table.primary_key].name;
      if (!keys.insert(key).second) {
        return Status(ErrorCode::kAlreadyExists,
                      "Primary key violation: value '" +
                          ValueText(pk, table.columns[table.primary_key].type.scale) +
                          "' appears multiple times in column '" + pk_name + "'");
      }
      auto stored = context.store.Get(storage::Family::kRows, key);
      if (!stored.ok()) return stored.status();
      if (stored->has_value()) {
        auto deleted = storage::PeekDeleted(**stored);
        if (!deleted.ok() || !*deleted) {
          return Status(ErrorCode::kAlreadyExists,
                        "Primary key violation: value '" +
                            ValueText(pk, table.columns[table.primary_key].type.scale) +
                            "' already exists in column '" + pk_name + "'");
        }
      }
    } else {
      storage::AppendStreamKey(&key, table.id, owner, static_cast<uint64_t>(seq));
    }
    row.clear();
    KALAMDB_RETURN_IF_ERROR(storage::EncodeRow(types, values, seq, false, &row));
    batch.Put(storage::Family::kRows, key, row);
  }
  KALAMDB_RETURN_IF_ERROR(context.store.Write(batch));
  QueryResult result;
  result.row_count = static_cast<int64_t>(row_number);
  result.message = "Inserted " + std::to_string(row_number) + " row(s)";
  result.dml = QueryResult::Dml::kInsert;
  results->push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalamdb::sql
