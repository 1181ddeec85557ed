// insert.cc: INSERT INTO t [(cols)] VALUES (...), ... (reference §4.7).
//
// Per statement, in phases that are each one span (docs/tracing.md): sql.plan resolves the
// table and maps the listed columns; coerce_rows builds one Value per column and row (from the
// literal, the $n parameter, the column default, or NULL) and checks NOT NULL; pk_check builds
// the row keys (table id, owner for USER tables, encoded primary key) and rejects primary keys
// repeated within the statement or already stored; row.encode encodes each row with a fresh
// _seq into one WriteBatch; store.write applies it: the statement is atomic.
#include <algorithm>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "common/arena.h"
#include "common/clock.h"
#include "common/snowflake.h"
#include "sql/coerce.h"
#include "sql/encode.h"
#include "sql/executor.h"
#include "sql/key_watermarks.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/storage.h"
#include "trace/trace.h"

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

  // Plan: the table, and which table column each written position fills.
  // One span object walks the phases (Span::Next): sql.plan, coerce_rows, pk_check, row.encode,
  // store.write, each starting where the previous ended; the first where the statement's
  // sql.parse ended.
  trace::Span phase("sql.plan", trace::SpanKind::kInternal, trace::PreviousSiblingEnd());
  auto resolved = ResolveTable(context, statement.table);
  if (!resolved.ok()) return resolved.status();
  const catalog::TableDef& table = **resolved;
  KALAMDB_RETURN_IF_ERROR(CheckWriteAccess(context, table, "insert into"));
  const size_t column_count = table.columns.size();
  // Per-statement arrays live in the request arena: nothing to free on the way out.
  Arena& arena = context.arena;
  ArenaVector<int> targets(arena);
  if (statement.columns.empty()) {
    targets.reserve(column_count);
    for (size_t i = 0; i < column_count; ++i) targets.push_back(static_cast<int>(i));
  } else {
    bool* seen = arena.AllocateArray<bool>(column_count);
    std::fill_n(seen, column_count, false);
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
  ColumnType* type_array = arena.AllocateArray<ColumnType>(column_count);
  for (size_t i = 0; i < column_count; ++i) type_array[i] = table.columns[i].type;
  const std::span<const ColumnType> types(type_array, column_count);
  const bool owned = table.type != catalog::TableType::kShared;
  const std::string_view owner =
      owned ? std::string_view(context.session.user_id) : std::string_view();
  const int64_t now = NowMicros();
  const size_t row_count = statement.rows.size();
  context.traced_table = &table;

  // 1. Coerce: one typed Value per column and row (literals, $n, defaults), NOT NULL checked.
  Value* values = nullptr;
  {
    phase.Next("coerce_rows");
    values = arena.AllocateArray<Value>(row_count * column_count);
    std::uninitialized_default_construct_n(values, row_count * column_count);
    phase.SetAttribute("rows", row_count);
    phase.SetAttribute("columns", column_count);
    bool* given = arena.AllocateArray<bool>(column_count);
    for (size_t r = 0; r < row_count; ++r) {
      const size_t row_number = r + 1;
      std::span<Expr*> tuple = statement.rows[r];
      Value* row_values = values + r * column_count;
      if (tuple.size() != targets.size()) {
        return Invalid("Row " + std::to_string(row_number) + " has " +
                       std::to_string(tuple.size()) + " values but " +
                       std::to_string(targets.size()) + " columns are listed");
      }
      std::fill_n(given, column_count, false);
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
          row_values[index] = *value;
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
        row_values[index] = *value;
      }
      for (size_t index = 0; index < column_count; ++index) {
        const catalog::ColumnDef& column = table.columns[index];
        if (!given[index]) {
          const DefaultValue& def = column.default_value;
          if (def.kind == DefaultValue::Kind::kLiteral) {
            auto value = Coerce(DefaultConstant(def.literal), column.type, context.arena);
            if (!value.ok()) return value.status();
            row_values[index] = *value;
          } else if (def.kind == DefaultValue::Kind::kNone) {
            row_values[index] = Value::Null(column.type.type);
          } else {
            auto value = Generated(def.kind, column, context, now);
            if (!value.ok()) return value.status();
            row_values[index] = *value;
          }
        }
        if (row_values[index].is_null() && !column.nullable) {
          return Status(ErrorCode::kConstraintViolation,
                        "NOT NULL constraint violation: column '" + column.name +
                            "' cannot be NULL (row " + std::to_string(row_number) + ")");
        }
      }
    }
  }

  // 2. Keys: table id, owner, primary key (or a fresh sequence for STREAM tables); primary keys
  // must be unique within the statement and not stored yet (soft-deleted rows may be replaced).
  // Every row's _seq; STREAM keys need them now, other tables take them in row.encode.
  int64_t* seqs = arena.AllocateArray<int64_t>(row_count);
  thread_local std::string key_bytes;  // reused: no allocation in steady state
  key_bytes.clear();
  size_t* key_end = arena.AllocateArray<size_t>(row_count);
  auto key_of = [&](size_t r) {
    const size_t begin = r == 0 ? 0 : key_end[r - 1];
    return std::string_view(key_bytes).substr(begin, key_end[r] - begin);
  };
  std::unique_lock<std::mutex> key_lock;  // KeyWatermarks::LockPrefix, until the write returns
  if (table.primary_key >= 0) {
    phase.Next("pk_check");
    phase.SetAttribute("rows", row_count);
    const catalog::ColumnDef& pk_column = table.columns[table.primary_key];
    for (size_t r = 0; r < row_count; ++r) {
      const Value& pk = values[r * column_count + table.primary_key];
      KALAMDB_RETURN_IF_ERROR(storage::AppendRowKey(&key_bytes, table.id, owner, pk));
      key_end[r] = key_bytes.size();
    }
    // Keys repeated within the statement. Ascending keys (the usual bulk INSERT) take one
    // pass; otherwise the rows are sorted by key (stably) and neighbours compared. The error
    // names the key whose second occurrence comes first, as a set of seen keys would.
    bool ascending = true;
    for (size_t r = 1; r < row_count && ascending; ++r) ascending = key_of(r - 1) < key_of(r);
    std::string_view max_key = key_of(row_count - 1);  // the greatest key, for the watermark
    if (!ascending) {
      size_t* order = arena.AllocateArray<size_t>(row_count);
      std::iota(order, order + row_count, size_t{0});
      std::stable_sort(order, order + row_count,
                       [&](size_t a, size_t b) { return key_of(a) < key_of(b); });
      max_key = key_of(order[row_count - 1]);
      size_t repeat = row_count;  // the earliest row whose key an earlier row has
      for (size_t i = 1; i < row_count; ++i) {
        if (key_of(order[i - 1]) == key_of(order[i])) repeat = std::min(repeat, order[i]);
      }
      if (repeat < row_count) {
        const Value& pk = values[repeat * column_count + table.primary_key];
        return Status(ErrorCode::kAlreadyExists,
                      "Primary key violation: value '" + ValueText(pk, pk_column.type.scale) +
                          "' appears multiple times in column '" + pk_column.name + "'");
      }
    }
    // Keys above the highest key stored under the table's (and owner's) prefix cannot be taken
    // (KeyWatermarks); the others go into one batched lookup, where a stored row blocks the
    // INSERT unless soft-deleted.
    thread_local std::string watermark;  // "" (below every key) when nothing is stored
    const bool watermarked = context.watermarks != nullptr;
    if (watermarked) {
      const std::string_view prefix = max_key.substr(0, storage::RowKeyPrefixSize(owner));
      // From here until the write: no other INSERT into this prefix checks or writes keys.
      // Not needed when this statement's keys are fresh SNOWFLAKE_ID() values (the column is
      // not listed, so every row takes its generated default: no other statement has them),
      // which keeps concurrent AUTO_INCREMENT inserts from queueing behind each other's write.
      const std::span<int> listed = targets.view();
      const bool fresh_keys =
          pk_column.default_value.kind == DefaultValue::Kind::kSnowflakeId &&
          std::find(listed.begin(), listed.end(), table.primary_key) == listed.end();
      if (!fresh_keys) key_lock = context.watermarks->LockPrefix(prefix);
      KALAMDB_RETURN_IF_ERROR(context.watermarks->Claim(prefix, max_key, &watermark));
    }
    size_t* lookup_row = arena.AllocateArray<size_t>(row_count);
    std::string_view* lookup = arena.AllocateArray<std::string_view>(row_count);
    size_t lookups = 0;
    for (size_t r = 0; r < row_count; ++r) {
      if (watermarked && key_of(r) > watermark) continue;
      lookup_row[lookups] = r;
      lookup[lookups++] = key_of(r);
    }
    size_t taken = row_count;  // the first row whose key is taken
    if (lookups > 0) {
      KALAMDB_RETURN_IF_ERROR(context.store.MultiGet(
          storage::Family::kRows, std::span<const std::string_view>(lookup, lookups),
          [&](size_t i, const std::string_view* stored) {
            const size_t r = lookup_row[i];
            if (stored == nullptr || taken < r) return;
            auto deleted = storage::PeekDeleted(*stored);
            if (!deleted.ok() || !*deleted) taken = r;
          }));
    }
    if (taken < row_count) {
      const Value& pk = values[taken * column_count + table.primary_key];
      return Status(ErrorCode::kAlreadyExists,
                    "Primary key violation: value '" + ValueText(pk, pk_column.type.scale) +
                        "' already exists in column '" + pk_column.name + "'");
    }
    phase.SetAttribute("lookups", lookups);  // keys at or below the watermark
  } else {
    for (size_t r = 0; r < row_count; ++r) {
      seqs[r] = NextSnowflakeId();
      storage::AppendStreamKey(&key_bytes, table.id, owner, static_cast<uint64_t>(seqs[r]));
      key_end[r] = key_bytes.size();
    }
  }

  // 3. Encode every row into one batch: the statement is atomic. The batch and the row buffer
  // are the thread's own, reused from statement to statement.
  thread_local storage::WriteBatch batch;
  batch.Clear();
  {
    phase.Next("row.encode");
    thread_local std::string row;
    if (row.capacity() > (1u << 20)) std::string().swap(row);
    size_t bytes = 0;
    const bool stream = table.primary_key < 0;
    for (size_t r = 0; r < row_count; ++r) {
      if (!stream) seqs[r] = NextSnowflakeId();
      row.clear();
      std::span<const Value> row_values(values + r * column_count, column_count);
      KALAMDB_RETURN_IF_ERROR(storage::EncodeRow(types, row_values, seqs[r], false, &row));
      bytes += row.size();
      batch.Put(storage::Family::kRows, key_of(r), row);
    }
    phase.SetAttribute("rows", row_count);
    phase.SetAttribute("bytes", bytes);
  }

  // 4. Write.
  {
    phase.Next("store.write");
    phase.SetAttribute("rows", row_count);
    Status st = context.store.Write(batch);
    if (key_lock.owns_lock()) key_lock.unlock();
    phase.SetStatus(st);
    phase.EndWithLastChild();  // rocksdb.batch
    // A huge statement's buffers are not worth keeping for the next one.
    if (key_bytes.capacity() > (1u << 20)) {
      std::string().swap(key_bytes);
      batch = storage::WriteBatch();
    }
    KALAMDB_RETURN_IF_ERROR(st);
  }
  QueryResult& result = results->emplace_back();
  result.row_count = static_cast<int64_t>(row_count);
  result.dml = QueryResult::Dml::kInsert;
  return Status::OK();
}

}  // namespace kalamdb::sql
