#include "sql/eval.h"

#include <cmath>

#include "common/clock.h"
#include "common/strings.h"
#include "sql/coerce.h"
#include "sql/encode.h"

namespace kalamdb::sql {
namespace {

bool IsNumeric(const Value& v) {
  Physical p = PhysicalOf(v.type());
  return p == Physical::kInt64 || p == Physical::kDouble || p == Physical::kInt128;
}

double AsDouble(const Value& v) {
  switch (PhysicalOf(v.type())) {
    case Physical::kInt64:
      return static_cast<double>(v.as_int());
    case Physical::kDouble:
      return v.as_double();
    case Physical::kInt128:
      return static_cast<double>(v.as_decimal());
    case Physical::kBool:
      return v.as_bool() ? 1 : 0;
    case Physical::kBytes:
      return 0;
  }
  return 0;
}

Value Bool(bool b) { return Value::Bool(b); }
Value Null() { return Value::Null(DataType::kBoolean); }

// SQL LIKE with % and _; `ci` folds ASCII case.
bool LikeMatch(std::string_view s, std::string_view p, bool ci) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto eq = [ci](char a, char b) { return ci ? AsciiLower(a) == AsciiLower(b) : a == b; };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_s = si;
    } else if (pi < p.size() && (p[pi] == '_' || eq(p[pi], s[si]))) {
      ++pi;
      ++si;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

}  // namespace

int CompareValues(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
  Physical pa = PhysicalOf(a.type()), pb = PhysicalOf(b.type());
  if (pa == Physical::kInt64 && pb == Physical::kInt64) {
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  }
  if (pa == Physical::kInt128 && pb == Physical::kInt128) {
    return a.as_decimal() < b.as_decimal() ? -1 : a.as_decimal() > b.as_decimal() ? 1 : 0;
  }
  if (IsNumeric(a) && IsNumeric(b)) {
    double x = AsDouble(a), y = AsDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (pa == Physical::kBool && pb == Physical::kBool)
    return static_cast<int>(a.as_bool()) - static_cast<int>(b.as_bool());
  if (pa == Physical::kBytes && pb == Physical::kBytes) {
    int c = a.as_bytes().compare(b.as_bytes());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  // Mixed kinds (e.g. a number against text): compare as text.
  int c = ValueText(a).compare(ValueText(b));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool Evaluator::IsAggregate(const FunctionCallExpr& call) {
  std::string_view n = call.name.name;
  return EqualsIgnoreCase(n, "count") || EqualsIgnoreCase(n, "sum") || EqualsIgnoreCase(n, "avg") ||
         EqualsIgnoreCase(n, "min") || EqualsIgnoreCase(n, "max");
}

void Evaluator::CollectAggregates(const Expr& expr, std::vector<const FunctionCallExpr*>* out) {
  switch (expr.kind) {
    case ExprKind::kFunctionCall: {
      const auto& call = *expr.As<FunctionCallExpr>();
      if (IsAggregate(call)) {
        out->push_back(&call);
        return;
      }
      for (const Expr* arg : call.args) CollectAggregates(*arg, out);
      return;
    }
    case ExprKind::kUnary:
      CollectAggregates(*expr.As<UnaryExpr>()->operand, out);
      return;
    case ExprKind::kBinary:
      CollectAggregates(*expr.As<BinaryExpr>()->left, out);
      CollectAggregates(*expr.As<BinaryExpr>()->right, out);
      return;
    case ExprKind::kLike:
      CollectAggregates(*expr.As<LikeExpr>()->value, out);
      CollectAggregates(*expr.As<LikeExpr>()->pattern, out);
      return;
    case ExprKind::kInList:
      CollectAggregates(*expr.As<InListExpr>()->value, out);
      for (const Expr* e : expr.As<InListExpr>()->list) CollectAggregates(*e, out);
      return;
    case ExprKind::kBetween:
      CollectAggregates(*expr.As<BetweenExpr>()->value, out);
      CollectAggregates(*expr.As<BetweenExpr>()->low, out);
      CollectAggregates(*expr.As<BetweenExpr>()->high, out);
      return;
    case ExprKind::kIsNull:
      CollectAggregates(*expr.As<IsNullExpr>()->value, out);
      return;
    case ExprKind::kCast:
      CollectAggregates(*expr.As<CastExpr>()->value, out);
      return;
    default:
      return;
  }
}

std::string Evaluator::DisplayName(const Expr& expr) {
  if (const auto* ref = expr.TryAs<ColumnRefExpr>()) return std::string(ref->column.name);
  if (const auto* call = expr.TryAs<FunctionCallExpr>()) {
    std::string name;
    for (char c : call->name.name) name.push_back(AsciiLower(c));
    name += "(";
    if (call->star) name += "*";
    if (call->distinct) name += "DISTINCT ";
    for (size_t i = 0; i < call->args.size(); ++i) {
      if (i > 0) name += ",";
      name += DisplayName(*call->args[i]);
    }
    return name + ")";
  }
  return expr.ToString();
}

int Evaluator::SlotOf(const ColumnRefExpr& ref) const {
  auto it = slots_.find(&ref);
  return it == slots_.end() ? -1 : it->second;
}

Status Evaluator::Bind(const Expr& expr, bool* uses_deleted) {
  switch (expr.kind) {
    case ExprKind::kColumnRef: {
      const auto& ref = *expr.As<ColumnRefExpr>();
      if (schema_.table == nullptr) {
        return Status(ErrorCode::kInvalidOperation,
                      "No field named '" + std::string(ref.column.name) + "'");
      }
      if (!ref.table.empty() && !EqualsIgnoreCase(ref.table.name, schema_.table->name) &&
          !EqualsIgnoreCase(ref.table.name, schema_.alias)) {
        return Status(ErrorCode::kInvalidOperation,
                      "No table named '" + std::string(ref.table.name) + "'");
      }
      int slot = schema_.table->ColumnIndex(ref.column.name);
      if (EqualsIgnoreCase(ref.column.name, "_seq")) slot = schema_.seq_slot();
      if (EqualsIgnoreCase(ref.column.name, "_deleted")) {
        slot = schema_.deleted_slot();
        if (uses_deleted) *uses_deleted = true;
      }
      if (slot < 0) {
        return Status(ErrorCode::kInvalidOperation,
                      "No field named '" + std::string(ref.column.name) + "' in table " +
                          schema_.table->QualifiedName());
      }
      slots_[&ref] = slot;
      return Status::OK();
    }
    case ExprKind::kLiteral:
    case ExprKind::kParameter:
    case ExprKind::kStar:
      return Status::OK();
    case ExprKind::kUnary:
      return Bind(*expr.As<UnaryExpr>()->operand, uses_deleted);
    case ExprKind::kBinary:
      KALAMDB_RETURN_IF_ERROR(Bind(*expr.As<BinaryExpr>()->left, uses_deleted));
      return Bind(*expr.As<BinaryExpr>()->right, uses_deleted);
    case ExprKind::kLike:
      KALAMDB_RETURN_IF_ERROR(Bind(*expr.As<LikeExpr>()->value, uses_deleted));
      return Bind(*expr.As<LikeExpr>()->pattern, uses_deleted);
    case ExprKind::kInList:
      KALAMDB_RETURN_IF_ERROR(Bind(*expr.As<InListExpr>()->value, uses_deleted));
      for (const Expr* e : expr.As<InListExpr>()->list)
        KALAMDB_RETURN_IF_ERROR(Bind(*e, uses_deleted));
      return Status::OK();
    case ExprKind::kBetween:
      KALAMDB_RETURN_IF_ERROR(Bind(*expr.As<BetweenExpr>()->value, uses_deleted));
      KALAMDB_RETURN_IF_ERROR(Bind(*expr.As<BetweenExpr>()->low, uses_deleted));
      return Bind(*expr.As<BetweenExpr>()->high, uses_deleted);
    case ExprKind::kIsNull:
      return Bind(*expr.As<IsNullExpr>()->value, uses_deleted);
    case ExprKind::kFunctionCall:
      for (const Expr* arg : expr.As<FunctionCallExpr>()->args)
        KALAMDB_RETURN_IF_ERROR(Bind(*arg, uses_deleted));
      return Status::OK();
    case ExprKind::kCast:
      return Status(ErrorCode::kInvalidSql, "CAST is not supported yet");
  }
  return Status::OK();
}

Result<bool> Evaluator::Matches(const Expr& expr, std::span<const Value> row) const {
  auto v = Eval(expr, row);
  if (!v.ok()) return v.status();
  if (v->is_null()) return false;
  if (v->type() != DataType::kBoolean)
    return Status(ErrorCode::kInvalidOperation, "WHERE must be a boolean condition");
  return v->as_bool();
}

Result<Value> Evaluator::Eval(const Expr& expr, std::span<const Value> row,
                              const std::unordered_map<const Expr*, Value>* aggregates) const {
  switch (expr.kind) {
    case ExprKind::kLiteral: {
      const auto& lit = *expr.As<LiteralExpr>();
      switch (lit.literal_kind) {
        case LiteralKind::kNull:
          return Value::Null(DataType::kText);
        case LiteralKind::kBoolean:
          return Value::Bool(lit.boolean);
        case LiteralKind::kString:
          return Value::Bytes(DataType::kText, lit.text);
        case LiteralKind::kInteger: {
          Constant c{Constant::Kind::kInteger, lit.text, false};
          auto v = Coerce(c, ColumnType{DataType::kBigInt, 0, 0, 0}, arena_);
          if (v.ok()) return v;
          return Coerce(c, ColumnType{DataType::kDouble, 0, 0, 0}, arena_);
        }
        case LiteralKind::kDecimal:
          return Coerce(Constant{Constant::Kind::kDecimal, lit.text, false},
                        ColumnType{DataType::kDouble, 0, 0, 0}, arena_);
      }
      break;
    }
    case ExprKind::kParameter: {
      uint32_t index = expr.As<ParameterExpr>()->index;
      if (index == 0 || index > params_.size()) {
        return Status(ErrorCode::kInvalidOperation,
                      "Parameter $" + std::to_string(index) + " was not provided");
      }
      const Param& p = params_[index - 1];
      switch (p.kind) {
        case Param::Kind::kNull:
          return Value::Null(DataType::kText);
        case Param::Kind::kBoolean:
          return Value::Bool(p.boolean);
        case Param::Kind::kString:
          return Value::Bytes(DataType::kText, p.text);
        case Param::Kind::kInteger:
          return Coerce(Constant{Constant::Kind::kInteger, p.text, false},
                        ColumnType{DataType::kBigInt, 0, 0, 0}, arena_);
        case Param::Kind::kFloat:
          return Coerce(Constant{Constant::Kind::kDecimal, p.text, false},
                        ColumnType{DataType::kDouble, 0, 0, 0}, arena_);
      }
      break;
    }
    case ExprKind::kColumnRef: {
      int slot = SlotOf(*expr.As<ColumnRefExpr>());
      if (slot < 0 || static_cast<size_t>(slot) >= row.size()) {
        return Status(ErrorCode::kInternal, "unbound column reference");
      }
      return row[slot];
    }
    case ExprKind::kStar:
      return Status(ErrorCode::kInvalidSql, "'*' is only allowed in the select list");
    case ExprKind::kUnary: {
      const auto& u = *expr.As<UnaryExpr>();
      auto v = Eval(*u.operand, row, aggregates);
      if (!v.ok() || v->is_null()) return v;
      if (u.op == UnaryOp::kNot) {
        if (v->type() != DataType::kBoolean)
          return Status(ErrorCode::kInvalidOperation, "NOT needs a boolean");
        return Bool(!v->as_bool());
      }
      if (u.op == UnaryOp::kPlus) return v;
      if (PhysicalOf(v->type()) == Physical::kInt64) return Value::Int(v->type(), -v->as_int());
      if (PhysicalOf(v->type()) == Physical::kDouble)
        return Value::Double(v->type(), -v->as_double());
      if (PhysicalOf(v->type()) == Physical::kInt128) return Value::Decimal(-v->as_decimal());
      return Status(ErrorCode::kInvalidOperation, "cannot negate a non-number");
    }
    case ExprKind::kBinary: {
      const auto& b = *expr.As<BinaryExpr>();
      auto l = Eval(*b.left, row, aggregates);
      if (!l.ok()) return l;
      if (b.op == BinaryOp::kAnd || b.op == BinaryOp::kOr) {
        auto r = Eval(*b.right, row, aggregates);
        if (!r.ok()) return r;
        auto truth = [](const Value& v) -> int {
          return v.is_null() ? -1 : (v.type() == DataType::kBoolean && v.as_bool()) ? 1 : 0;
        };
        int x = truth(*l), y = truth(*r);
        if (b.op == BinaryOp::kAnd) {
          if (x == 0 || y == 0) return Bool(false);
          if (x == -1 || y == -1) return Null();
          return Bool(true);
        }
        if (x == 1 || y == 1) return Bool(true);
        if (x == -1 || y == -1) return Null();
        return Bool(false);
      }
      auto r = Eval(*b.right, row, aggregates);
      if (!r.ok()) return r;
      if (l->is_null() || r->is_null())
        return b.op == BinaryOp::kConcat ? Value::Null(DataType::kText) : Null();
      switch (b.op) {
        case BinaryOp::kEq:
          return Bool(CompareValues(*l, *r) == 0);
        case BinaryOp::kNotEq:
          return Bool(CompareValues(*l, *r) != 0);
        case BinaryOp::kLt:
          return Bool(CompareValues(*l, *r) < 0);
        case BinaryOp::kLtEq:
          return Bool(CompareValues(*l, *r) <= 0);
        case BinaryOp::kGt:
          return Bool(CompareValues(*l, *r) > 0);
        case BinaryOp::kGtEq:
          return Bool(CompareValues(*l, *r) >= 0);
        case BinaryOp::kConcat:
          return Value::Bytes(DataType::kText, arena_.CopyString(ValueText(*l) + ValueText(*r)));
        default:
          break;
      }
      if (!IsNumeric(*l) || !IsNumeric(*r)) {
        return Status(ErrorCode::kInvalidOperation,
                      "arithmetic needs numbers, got " + std::string(DataTypeName(l->type())) +
                          " and " + std::string(DataTypeName(r->type())));
      }
      bool integers =
          PhysicalOf(l->type()) == Physical::kInt64 && PhysicalOf(r->type()) == Physical::kInt64;
      if (integers) {
        int64_t x = l->as_int(), y = r->as_int(), out = 0;
        switch (b.op) {
          case BinaryOp::kAdd:
            if (__builtin_add_overflow(x, y, &out))
              return Status(ErrorCode::kInvalidOperation, "integer overflow");
            break;
          case BinaryOp::kSubtract:
            if (__builtin_sub_overflow(x, y, &out))
              return Status(ErrorCode::kInvalidOperation, "integer overflow");
            break;
          case BinaryOp::kMultiply:
            if (__builtin_mul_overflow(x, y, &out))
              return Status(ErrorCode::kInvalidOperation, "integer overflow");
            break;
          case BinaryOp::kDivide:
          case BinaryOp::kModulo:
            if (y == 0) return Status(ErrorCode::kInvalidOperation, "Divide by zero error");
            if (x == INT64_MIN && y == -1)
              return Status(ErrorCode::kInvalidOperation, "integer overflow");
            out = b.op == BinaryOp::kDivide ? x / y : x % y;
            break;
          default:
            break;
        }
        return Value::Int(DataType::kBigInt, out);
      }
      double x = AsDouble(*l), y = AsDouble(*r), out = 0;
      switch (b.op) {
        case BinaryOp::kAdd:
          out = x + y;
          break;
        case BinaryOp::kSubtract:
          out = x - y;
          break;
        case BinaryOp::kMultiply:
          out = x * y;
          break;
        case BinaryOp::kDivide:
          if (y == 0) return Status(ErrorCode::kInvalidOperation, "Divide by zero error");
          out = x / y;
          break;
        case BinaryOp::kModulo:
          if (y == 0) return Status(ErrorCode::kInvalidOperation, "Divide by zero error");
          out = std::fmod(x, y);
          break;
        default:
          break;
      }
      return Value::Double(DataType::kDouble, out);
    }
    case ExprKind::kLike: {
      const auto& like = *expr.As<LikeExpr>();
      auto v = Eval(*like.value, row, aggregates);
      if (!v.ok()) return v;
      auto p = Eval(*like.pattern, row, aggregates);
      if (!p.ok()) return p;
      if (v->is_null() || p->is_null()) return Null();
      bool m = LikeMatch(ValueText(*v), ValueText(*p), like.case_insensitive);
      return Bool(m != like.negated);
    }
    case ExprKind::kInList: {
      const auto& in = *expr.As<InListExpr>();
      auto v = Eval(*in.value, row, aggregates);
      if (!v.ok() || v->is_null()) return v.ok() ? Null() : v;
      bool saw_null = false;
      for (const Expr* e : in.list) {
        auto item = Eval(*e, row, aggregates);
        if (!item.ok()) return item;
        if (item->is_null()) {
          saw_null = true;
        } else if (CompareValues(*v, *item) == 0) {
          return Bool(!in.negated);
        }
      }
      return saw_null ? Null() : Bool(in.negated);
    }
    case ExprKind::kBetween: {
      const auto& bt = *expr.As<BetweenExpr>();
      auto v = Eval(*bt.value, row, aggregates);
      auto lo = Eval(*bt.low, row, aggregates);
      auto hi = Eval(*bt.high, row, aggregates);
      if (!v.ok()) return v;
      if (!lo.ok()) return lo;
      if (!hi.ok()) return hi;
      if (v->is_null() || lo->is_null() || hi->is_null()) return Null();
      bool inside = CompareValues(*v, *lo) >= 0 && CompareValues(*v, *hi) <= 0;
      return Bool(inside != bt.negated);
    }
    case ExprKind::kIsNull: {
      const auto& is = *expr.As<IsNullExpr>();
      auto v = Eval(*is.value, row, aggregates);
      if (!v.ok()) return v;
      return Bool(v->is_null() != is.negated);
    }
    case ExprKind::kFunctionCall:
      return Function(*expr.As<FunctionCallExpr>(), row, aggregates);
    case ExprKind::kCast:
      return Status(ErrorCode::kInvalidSql, "CAST is not supported yet");
  }
  return Status(ErrorCode::kInternal, "unknown expression");
}

Result<Value> Evaluator::Function(const FunctionCallExpr& call, std::span<const Value> row,
                                  const std::unordered_map<const Expr*, Value>* aggregates) const {
  if (IsAggregate(call)) {
    if (aggregates != nullptr) {
      auto it = aggregates->find(&call);
      if (it != aggregates->end()) return it->second;
    }
    return Status(ErrorCode::kInvalidOperation,
                  "aggregate " + DisplayName(call) + " is not allowed here");
  }
  std::string_view n = call.name.name;
  std::vector<Value> args;
  for (const Expr* arg : call.args) {
    auto v = Eval(*arg, row, aggregates);
    if (!v.ok()) return v;
    args.push_back(*v);
  }
  auto arity = [&](size_t lo, size_t hi) -> Status {
    if (args.size() < lo || args.size() > hi) {
      return Status(ErrorCode::kInvalidOperation, "wrong number of arguments to " + std::string(n));
    }
    return Status::OK();
  };
  if (EqualsIgnoreCase(n, "lower") || EqualsIgnoreCase(n, "upper")) {
    KALAMDB_RETURN_IF_ERROR(arity(1, 1));
    if (args[0].is_null()) return Value::Null(DataType::kText);
    std::string s = ValueText(args[0]);
    bool up = EqualsIgnoreCase(n, "upper");
    for (char& c : s)
      c = up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : AsciiLower(c);
    return Value::Bytes(DataType::kText, arena_.CopyString(s));
  }
  if (EqualsIgnoreCase(n, "length") || EqualsIgnoreCase(n, "char_length") ||
      EqualsIgnoreCase(n, "character_length")) {
    KALAMDB_RETURN_IF_ERROR(arity(1, 1));
    if (args[0].is_null()) return Value::Null(DataType::kInt);
    std::string s = ValueText(args[0]);
    int64_t chars = 0;
    for (unsigned char c : s) chars += (c & 0xC0) != 0x80;  // UTF-8 code points
    return Value::Int(DataType::kInt, chars);
  }
  if (EqualsIgnoreCase(n, "concat")) {
    std::string s;
    for (const Value& v : args) {
      if (!v.is_null()) s += ValueText(v);
    }
    return Value::Bytes(DataType::kText, arena_.CopyString(s));
  }
  if (EqualsIgnoreCase(n, "substring") || EqualsIgnoreCase(n, "substr")) {
    KALAMDB_RETURN_IF_ERROR(arity(2, 3));
    for (const Value& v : args) {
      if (v.is_null()) return Value::Null(DataType::kText);
    }
    std::string s = ValueText(args[0]);
    int64_t start = static_cast<int64_t>(AsDouble(args[1]));
    int64_t length = args.size() == 3 ? static_cast<int64_t>(AsDouble(args[2])) : INT64_MAX / 2;
    int64_t begin = std::max<int64_t>(start, 1) - 1;
    int64_t end = length < 0 ? begin : std::max<int64_t>(start - 1 + length, begin);
    if (begin >= static_cast<int64_t>(s.size())) return Value::Bytes(DataType::kText, "");
    end = std::min<int64_t>(end, static_cast<int64_t>(s.size()));
    return Value::Bytes(DataType::kText, arena_.CopyString(s.substr(begin, end - begin)));
  }
  if (EqualsIgnoreCase(n, "coalesce")) {
    for (const Value& v : args) {
      if (!v.is_null()) return v;
    }
    return Value::Null(DataType::kText);
  }
  if (EqualsIgnoreCase(n, "abs")) {
    KALAMDB_RETURN_IF_ERROR(arity(1, 1));
    const Value& v = args[0];
    if (v.is_null()) return v;
    if (PhysicalOf(v.type()) == Physical::kInt64)
      return Value::Int(v.type(), v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (PhysicalOf(v.type()) == Physical::kDouble)
      return Value::Double(v.type(), std::fabs(v.as_double()));
    return Status(ErrorCode::kInvalidOperation, "abs needs a number");
  }
  if (EqualsIgnoreCase(n, "now") || EqualsIgnoreCase(n, "current_timestamp")) {
    return Value::Int(DataType::kTimestamp, NowMicros());
  }
  if (EqualsIgnoreCase(n, "current_user")) return Value::Bytes(DataType::kText, session_.user_id);
  return Status(ErrorCode::kInvalidOperation, "Unknown function '" + std::string(n) + "'");
}

}  // namespace kalamdb::sql
