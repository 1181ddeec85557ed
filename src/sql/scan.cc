// scan.cc: SELECT ... FROM one table: scan (or primary-key point lookup), filter, group and
// aggregate, sort, offset/limit, project (reference §4.8).
//
// USER and STREAM tables read only the caller's key range (owner prefix), so isolation is a
// property of the scan, not a filter. Without ORDER BY the scan order is the primary-key order.
// Soft-deleted rows are skipped unless the query mentions _deleted.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/snowflake.h"
#include "common/strings.h"
#include "sql/encode.h"
#include "sql/eval.h"
#include "sql/executor.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/storage.h"
#include "trace/trace.h"

namespace kalamdb::sql {
namespace {

struct OutputColumn {
  const Expr* expr = nullptr;  // null: a plain slot (from '*')
  int slot = -1;
  std::string name;
  std::string data_type;  // empty: decided by the first non-null value
  std::vector<std::string> flags;
  int scale = 0;
};

struct Accumulator {
  int64_t count = 0;
  bool any = false;
  bool integer = true;
  int64_t int_sum = 0;
  double double_sum = 0;
  Value extreme;  // MIN/MAX
};

struct Group {
  std::vector<Value> representative;  // the first row of the group (copied)
  std::vector<Accumulator> accumulators;
};

struct OutputRow {
  std::vector<Value> cells;
  std::vector<Value> sort_keys;
};

// Copies the bytes a Value borrows into the arena, so it outlives the scanned row.
Value Keep(const Value& v, Arena& arena) {
  if (v.is_null() || PhysicalOf(v.type()) != Physical::kBytes) return v;
  return Value::Bytes(v.type(), arena.CopyString(v.as_bytes()));
}

bool CanRead(const ExecContext& context, const catalog::TableDef& table) {
  if (table.type != catalog::TableType::kShared) return true;  // own rows only, by key range
  const catalog::Role role = context.session.role;
  switch (table.access_level) {
    case catalog::AccessLevel::kPublic:
      return true;
    case catalog::AccessLevel::kDba:
      return catalog::IsAdmin(role);
    default:
      return catalog::IsAdmin(role) || role == catalog::Role::kService;
  }
}

Result<int64_t> LimitValue(const Evaluator& ev, const Expr* expr, std::string_view what) {
  auto v = ev.Eval(*expr, {});
  if (!v.ok()) return v.status();
  if (v->is_null() || PhysicalOf(v->type()) != Physical::kInt64 || v->as_int() < 0) {
    return Status(ErrorCode::kInvalidOperation,
                  std::string(what) + " must be a non-negative integer");
  }
  return v->as_int();
}

void Accumulate(const FunctionCallExpr& call, Accumulator& acc, const Value& arg) {
  std::string_view n = call.name.name;
  if (call.star) {
    ++acc.count;
    return;
  }
  if (arg.is_null()) return;
  ++acc.count;
  if (EqualsIgnoreCase(n, "min") || EqualsIgnoreCase(n, "max")) {
    bool is_min = EqualsIgnoreCase(n, "min");
    if (!acc.any ||
        (is_min ? CompareValues(arg, acc.extreme) < 0 : CompareValues(arg, acc.extreme) > 0)) {
      acc.extreme = arg;
    }
  } else if (PhysicalOf(arg.type()) == Physical::kInt64 && acc.integer) {
    if (__builtin_add_overflow(acc.int_sum, arg.as_int(), &acc.int_sum)) {
      acc.integer = false;
      acc.double_sum = static_cast<double>(acc.int_sum) + static_cast<double>(arg.as_int());
    }
  } else {
    if (acc.integer) {
      acc.double_sum = static_cast<double>(acc.int_sum);
      acc.integer = false;
    }
    acc.double_sum += PhysicalOf(arg.type()) == Physical::kInt64 ? static_cast<double>(arg.as_int())
                      : PhysicalOf(arg.type()) == Physical::kDouble
                          ? arg.as_double()
                          : static_cast<double>(arg.as_decimal());
  }
  acc.any = true;
}

Value Finish(const FunctionCallExpr& call, const Accumulator& acc) {
  std::string_view n = call.name.name;
  if (EqualsIgnoreCase(n, "count")) return Value::Int(DataType::kBigInt, acc.count);
  if (!acc.any)
    return Value::Null(EqualsIgnoreCase(n, "avg") ? DataType::kDouble : DataType::kBigInt);
  if (EqualsIgnoreCase(n, "min") || EqualsIgnoreCase(n, "max")) return acc.extreme;
  double total = acc.integer ? static_cast<double>(acc.int_sum) : acc.double_sum;
  if (EqualsIgnoreCase(n, "avg"))
    return Value::Double(DataType::kDouble, total / static_cast<double>(acc.count));
  if (acc.integer) return Value::Int(DataType::kBigInt, acc.int_sum);
  return Value::Double(DataType::kDouble, total);
}

// A type-tagged text key for GROUP BY.
void AppendGroupKey(std::string* key, const Value& v) {
  key->push_back(v.is_null() ? 'n'
                             : static_cast<char>('a' + static_cast<int>(PhysicalOf(v.type()))));
  std::string text = v.is_null() ? "" : ValueText(v);
  key->append(std::to_string(text.size())).push_back(':');
  key->append(text);
}

}  // namespace

Status ScanMatching(ExecContext& context, const catalog::TableDef& table, const Evaluator& ev,
                    const Expr* where, bool include_deleted, const RowVisitor& visit) {
  trace::Span span("scan");
  int64_t scanned = 0, matched = 0;
  struct Figures {  // attributes recorded on every way out
    trace::Span& span;
    const int64_t& scanned;
    const int64_t& matched;
    ~Figures() {
      span.SetAttribute("rows_scanned", scanned);
      span.SetAttribute("rows_matched", matched);
    }
  } figures{span, scanned, matched};
  std::vector<ColumnType> types;
  types.reserve(table.columns.size());
  for (const auto& c : table.columns) types.push_back(c.type);
  const bool owned = table.type != catalog::TableType::kShared;
  const std::string_view owner =
      owned ? std::string_view(context.session.user_id) : std::string_view();
  RowSchema schema{&table, {}};
  std::vector<Value> slots(table.columns.size() + 2);
  storage::RowView view;
  Status failure;
  const int64_t ttl_micros =
      table.type == catalog::TableType::kStream ? table.ttl_seconds * 1000000 : 0;
  const int64_t now_micros = ttl_micros > 0 ? NowMicros() : 0;
  auto visit_row = [&](std::string_view key, std::string_view bytes) -> bool {
    ++scanned;
    failure = storage::DecodeRow(bytes, types, &view);
    if (!failure.ok()) return false;
    if (view.deleted && !include_deleted) return true;
    // STREAM rows live for ttl_seconds after they were written (_seq carries the time).
    if (ttl_micros > 0 && SnowflakeMillis(view.seq) * 1000 + ttl_micros < now_micros) return true;
    std::copy(view.values.begin(), view.values.end(), slots.begin());
    slots[schema.seq_slot()] = Value::Int(DataType::kBigInt, view.seq);
    slots[schema.deleted_slot()] = Value::Bool(view.deleted);
    if (where != nullptr) {
      auto match = ev.Matches(*where, slots);
      if (!match.ok()) {
        failure = match.status();
        return false;
      }
      if (!*match) return true;
    }
    ++matched;
    auto keep_going = visit(key, bytes, slots);
    if (!keep_going.ok()) {
      failure = keep_going.status();
      return false;
    }
    return *keep_going;
  };

  if (auto it = context.virtual_rows.find(&table); it != context.virtual_rows.end()) {
    span.SetAttribute("index", "virtual");
    for (const std::string& bytes : it->second) {
      if (!visit_row({}, bytes)) break;
    }
    return failure;
  }
  // A primary-key equality in WHERE reads one key instead of scanning.
  const BinaryExpr* point = where ? where->TryAs<BinaryExpr>() : nullptr;
  const Expr* pk_value = nullptr;
  if (point && point->op == BinaryOp::kEq && table.primary_key >= 0) {
    for (auto [a, b] :
         {std::pair{point->left, point->right}, std::pair{point->right, point->left}}) {
      const auto* ref = a->TryAs<ColumnRefExpr>();
      if (ref && ev.SlotOf(*ref) == table.primary_key &&
          (b->kind == ExprKind::kLiteral || b->kind == ExprKind::kParameter ||
           b->kind == ExprKind::kUnary)) {
        pk_value = b;
      }
    }
  }
  if (pk_value != nullptr) {
    auto constant = ExprConstant(context, *pk_value);
    if (constant.ok()) {
      auto pk = Coerce(*constant, table.columns[table.primary_key].type, context.arena);
      if (pk.ok() && !pk->is_null()) {
        span.SetAttribute("index", "primary_key");
        std::string key;
        KALAMDB_RETURN_IF_ERROR(storage::AppendRowKey(&key, table.id, owner, *pk));
        auto stored = context.store.Get(storage::Family::kRows, key);
        if (!stored.ok()) return stored.status();
        if (stored->has_value()) visit_row(key, **stored);
        return failure;
      }
    }
  }
  span.SetAttribute("index", owned ? "owner_prefix" : "table_prefix");
  const std::string prefix =
      owned ? storage::OwnerPrefix(table.id, owner) : storage::TablePrefix(table.id);
  KALAMDB_RETURN_IF_ERROR(context.store.ScanPrefix(storage::Family::kRows, prefix, visit_row));
  return failure;
}

Status SelectFromTable(ExecContext& context, const SelectStmt& statement,
                       std::vector<QueryResult>* results) {
  std::optional<trace::Span> plan(std::in_place, "sql.plan");
  auto resolved = ResolveTable(context, statement.from);
  if (!resolved.ok()) return resolved.status();
  const catalog::TableDef& table = **resolved;
  if (!CanRead(context, table)) {
    return Status(ErrorCode::kPermissionDenied,
                  "Insufficient privileges to read table '" + table.QualifiedName() + "'");
  }
  if (statement.distinct)
    return Status(ErrorCode::kInvalidSql, "SELECT DISTINCT is not supported yet");
  Arena& arena = context.arena;
  RowSchema schema{&table, statement.from_alias.name};
  Evaluator ev(schema, context.params, context.session, arena);
  bool uses_deleted = false;

  // 1. Output columns and binding.
  std::vector<OutputColumn> columns;
  for (const SelectItem& item : statement.items) {
    if (item.expr->kind == ExprKind::kStar) {
      for (size_t i = 0; i < table.columns.size(); ++i) {
        const auto& c = table.columns[i];
        columns.push_back({nullptr, static_cast<int>(i), c.name, SchemaTypeName(c.type),
                           ColumnFlags(c), c.type.scale});
      }
      columns.push_back({nullptr, schema.seq_slot(), "_seq", "BigInt", {"nn"}, 0});
      columns.push_back({nullptr, schema.deleted_slot(), "_deleted", "Boolean", {"nn"}, 0});
      continue;
    }
    KALAMDB_RETURN_IF_ERROR(ev.Bind(*item.expr, &uses_deleted));
    OutputColumn out;
    out.expr = item.expr;
    out.name =
        item.alias.empty() ? Evaluator::DisplayName(*item.expr) : std::string(item.alias.name);
    if (const auto* ref = item.expr->TryAs<ColumnRefExpr>()) {
      int slot = ev.SlotOf(*ref);
      if (slot < static_cast<int>(table.columns.size())) {
        const auto& c = table.columns[slot];
        out.data_type = SchemaTypeName(c.type);
        out.flags = ColumnFlags(c);
        out.scale = c.type.scale;
      } else {
        out.data_type = slot == schema.seq_slot() ? "BigInt" : "Boolean";
        out.flags = {"nn"};
      }
    } else if (const auto* call = item.expr->TryAs<FunctionCallExpr>();
               call && EqualsIgnoreCase(call->name.name, "count")) {
      out.data_type = "BigInt";
    }
    columns.push_back(std::move(out));
  }
  if (statement.where) KALAMDB_RETURN_IF_ERROR(ev.Bind(*statement.where, &uses_deleted));
  for (const Expr* e : statement.group_by) KALAMDB_RETURN_IF_ERROR(ev.Bind(*e, &uses_deleted));
  if (statement.having) KALAMDB_RETURN_IF_ERROR(ev.Bind(*statement.having, &uses_deleted));
  // ORDER BY may name an output column by its alias.
  std::vector<int> order_alias(statement.order_by.size(), -1);
  for (size_t k = 0; k < statement.order_by.size(); ++k) {
    const Expr* e = statement.order_by[k].expr;
    if (const auto* ref = e->TryAs<ColumnRefExpr>(); ref && ref->table.empty()) {
      for (size_t c = 0; c < columns.size(); ++c) {
        if (columns[c].expr != nullptr && columns[c].name == ref->column.name &&
            !statement.items.empty()) {
          order_alias[k] = static_cast<int>(c);
        }
      }
    }
    if (order_alias[k] < 0) KALAMDB_RETURN_IF_ERROR(ev.Bind(*e, &uses_deleted));
  }
  std::vector<const FunctionCallExpr*> aggregates;
  for (const OutputColumn& c : columns) {
    if (c.expr) Evaluator::CollectAggregates(*c.expr, &aggregates);
  }
  if (statement.having) Evaluator::CollectAggregates(*statement.having, &aggregates);
  for (size_t k = 0; k < statement.order_by.size(); ++k) {
    if (order_alias[k] < 0) Evaluator::CollectAggregates(*statement.order_by[k].expr, &aggregates);
  }
  if (statement.where) {
    std::vector<const FunctionCallExpr*> in_where;
    Evaluator::CollectAggregates(*statement.where, &in_where);
    if (!in_where.empty())
      return Status(ErrorCode::kInvalidOperation, "aggregates are not allowed in WHERE");
  }
  const bool grouped = !aggregates.empty() || !statement.group_by.empty();
  if (statement.having && !grouped)
    return Status(ErrorCode::kInvalidOperation, "HAVING needs GROUP BY or an aggregate");

  // 2. Limits: no LIMIT means default_query_limit; every query is capped at max_query_limit.
  int64_t limit =
      context.limits.default_query_limit > 0 ? context.limits.default_query_limit : INT64_MAX;
  if (statement.limit_expr) {
    auto v = LimitValue(ev, statement.limit_expr, "LIMIT");
    if (!v.ok()) return v.status();
    limit = *v;
  }
  limit = std::min<int64_t>(limit, context.limits.max_query_limit);
  int64_t offset = 0;
  if (statement.offset_expr) {
    auto v = LimitValue(ev, statement.offset_expr, "OFFSET");
    if (!v.ok()) return v.status();
    offset = *v;
  }

  plan.reset();
  context.traced_table = &table;

  // 3. Scan.
  std::vector<OutputRow> out_rows;
  std::map<std::string, Group> groups;  // ordered: deterministic group order
  const bool stream_out = !grouped && statement.order_by.empty();
  int64_t skipped = 0;
  const size_t slot_count = table.columns.size() + 2;

  auto visit = [&](std::string_view, std::string_view,
                   std::span<const Value> slots) -> Result<bool> {
    if (grouped) {
      std::string key;
      for (const Expr* e : statement.group_by) {
        auto v = ev.Eval(*e, slots);
        if (!v.ok()) return v.status();
        AppendGroupKey(&key, *v);
      }
      auto [it, inserted] = groups.try_emplace(key);
      Group& group = it->second;
      if (inserted) {
        for (const Value& v : slots) group.representative.push_back(Keep(v, arena));
        group.accumulators.resize(aggregates.size());
      }
      for (size_t a = 0; a < aggregates.size(); ++a) {
        Value arg;
        if (!aggregates[a]->star) {
          if (aggregates[a]->args.size() != 1) {
            return Status(ErrorCode::kInvalidOperation,
                          Evaluator::DisplayName(*aggregates[a]) + " takes one argument");
          }
          auto v = ev.Eval(*aggregates[a]->args[0], slots);
          if (!v.ok()) return v.status();
          arg = Keep(*v, arena);
        }
        Accumulate(*aggregates[a], group.accumulators[a], arg);
      }
      return true;
    }
    if (stream_out && skipped < offset) {
      ++skipped;
      return true;
    }
    OutputRow row;
    for (const OutputColumn& c : columns) {
      if (c.expr == nullptr) {
        row.cells.push_back(Keep(slots[c.slot], arena));
        continue;
      }
      auto v = ev.Eval(*c.expr, slots);
      if (!v.ok()) return v.status();
      row.cells.push_back(Keep(*v, arena));
    }
    for (size_t k = 0; k < statement.order_by.size(); ++k) {
      if (order_alias[k] >= 0) {
        row.sort_keys.push_back(row.cells[order_alias[k]]);
        continue;
      }
      auto v = ev.Eval(*statement.order_by[k].expr, slots);
      if (!v.ok()) return v.status();
      row.sort_keys.push_back(Keep(*v, arena));
    }
    out_rows.push_back(std::move(row));
    return !(stream_out && static_cast<int64_t>(out_rows.size()) >= limit);
  };
  KALAMDB_RETURN_IF_ERROR(ScanMatching(context, table, ev, statement.where, uses_deleted, visit));

  // 4. Groups become rows.
  if (grouped) {
    trace::Span aggregate("aggregate");
    aggregate.SetAttribute("groups", groups.size());
    if (groups.empty() && statement.group_by.empty()) {
      Group empty;  // an aggregate over no rows still yields one row
      empty.representative.assign(slot_count, Value());
      empty.accumulators.resize(aggregates.size());
      groups.emplace("", std::move(empty));
    }
    std::unordered_map<const Expr*, Value> finished;
    for (auto& [key, group] : groups) {
      finished.clear();
      for (size_t a = 0; a < aggregates.size(); ++a)
        finished[aggregates[a]] = Finish(*aggregates[a], group.accumulators[a]);
      if (statement.having) {
        auto keep = ev.Eval(*statement.having, group.representative, &finished);
        if (!keep.ok()) return keep.status();
        if (keep->is_null() || keep->type() != DataType::kBoolean || !keep->as_bool()) continue;
      }
      OutputRow row;
      for (const OutputColumn& c : columns) {
        if (c.expr == nullptr) {
          row.cells.push_back(group.representative[c.slot]);
          continue;
        }
        auto v = ev.Eval(*c.expr, group.representative, &finished);
        if (!v.ok()) return v.status();
        row.cells.push_back(*v);
      }
      for (size_t k = 0; k < statement.order_by.size(); ++k) {
        if (order_alias[k] >= 0) {
          row.sort_keys.push_back(row.cells[order_alias[k]]);
          continue;
        }
        auto v = ev.Eval(*statement.order_by[k].expr, group.representative, &finished);
        if (!v.ok()) return v.status();
        row.sort_keys.push_back(*v);
      }
      out_rows.push_back(std::move(row));
    }
  }

  // 5. Sort, offset, limit.
  if (!statement.order_by.empty()) {
    trace::Span sort("sort");
    sort.SetAttribute("rows", out_rows.size());
    std::stable_sort(out_rows.begin(), out_rows.end(), [&](const OutputRow& a, const OutputRow& b) {
      for (size_t k = 0; k < statement.order_by.size(); ++k) {
        int c = CompareValues(a.sort_keys[k], b.sort_keys[k]);
        if (c != 0) return statement.order_by[k].descending ? c > 0 : c < 0;
      }
      return false;
    });
  }
  if (!stream_out) {
    size_t begin = std::min<size_t>(static_cast<size_t>(offset), out_rows.size());
    size_t end = std::min<size_t>(out_rows.size(), begin + static_cast<size_t>(limit));
    out_rows = std::vector<OutputRow>(std::make_move_iterator(out_rows.begin() + begin),
                                      std::make_move_iterator(out_rows.begin() + end));
  }

  // 6. Result.
  trace::Span encode("json.encode");
  QueryResult result;
  result.has_rows = true;
  for (size_t c = 0; c < columns.size(); ++c) {
    std::string type = columns[c].data_type;
    if (type.empty()) {
      type = "Text";
      for (const OutputRow& row : out_rows) {
        if (!row.cells[c].is_null()) {
          type = DataTypeName(row.cells[c].type());
          break;
        }
      }
    }
    result.schema.push_back(Column{columns[c].name, type, columns[c].flags});
  }
  for (const OutputRow& row : out_rows) {
    std::vector<std::string> cells;
    cells.reserve(row.cells.size());
    for (size_t c = 0; c < row.cells.size(); ++c) {
      std::string cell;
      AppendJsonCell(cell, row.cells[c], columns[c].scale);
      cells.push_back(std::move(cell));
    }
    result.rows.push_back(std::move(cells));
  }
  result.row_count = static_cast<int64_t>(result.rows.size());
  encode.SetAttribute("rows", result.row_count);
  results->push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalamdb::sql
