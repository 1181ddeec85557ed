#include "sql/ast.h"

#include <cstdio>
#include <cstdlib>

namespace kalamdb::sql {

void AbortBadNodeCast(const char* family, int actual, int wanted) {
  std::fprintf(stderr, "sql::%s::As<T>(): node kind %d is not the requested kind %d\n", family,
               actual, wanted);
  std::abort();
}

namespace {

void AppendQuoted(std::string* out, std::string_view text, char quote) {
  out->push_back(quote);
  for (char c : text) {
    out->push_back(c);
    if (c == quote) out->push_back(quote);
  }
  out->push_back(quote);
}

void AppendIdentifier(std::string* out, const Identifier& id) {
  if (id.quoted) {
    AppendQuoted(out, id.name, '"');
  } else {
    out->append(id.name);
  }
}

void AppendString(std::string* out, std::string_view text) { AppendQuoted(out, text, '\''); }

void AppendTableRef(std::string* out, const TableRef& ref) {
  if (!ref.namespace_name.empty()) {
    AppendIdentifier(out, ref.namespace_name);
    out->push_back('.');
  }
  AppendIdentifier(out, ref.table);
}

void AppendUpper(std::string* out, std::string_view text) {
  for (char c : text) out->push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
}

void AppendType(std::string* out, const TypeName& type) {
  AppendUpper(out, type.name);
  if (type.param_count > 0) {
    out->push_back('(');
    for (int i = 0; i < type.param_count; ++i) {
      if (i > 0) out->append(", ");
      out->append(std::to_string(type.params[i]));
    }
    out->push_back(')');
  }
}

void AppendExprList(std::string* out, std::span<Expr* const> list) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out->append(", ");
    list[i]->AppendTo(out);
  }
}

std::string_view TableTypeWord(TableType type) {
  switch (type) {
    case TableType::kUser:
      return "USER ";
    case TableType::kShared:
      return "SHARED ";
    case TableType::kStream:
      return "STREAM ";
    case TableType::kUnspecified:
      break;
  }
  return "";
}

void AppendSelect(std::string* out, const SelectStmt& select) {
  out->append(select.distinct ? "SELECT DISTINCT " : "SELECT ");
  for (size_t i = 0; i < select.items.size(); ++i) {
    if (i > 0) out->append(", ");
    select.items[i].expr->AppendTo(out);
    if (!select.items[i].alias.empty()) {
      out->append(" AS ");
      AppendIdentifier(out, select.items[i].alias);
    }
  }
  if (select.has_from) {
    out->append(" FROM ");
    AppendTableRef(out, select.from);
    if (!select.from_alias.empty()) {
      out->append(" AS ");
      AppendIdentifier(out, select.from_alias);
    }
  }
  if (select.where != nullptr) {
    out->append(" WHERE ");
    select.where->AppendTo(out);
  }
  if (!select.group_by.empty()) {
    out->append(" GROUP BY ");
    AppendExprList(out, select.group_by);
  }
  if (select.having != nullptr) {
    out->append(" HAVING ");
    select.having->AppendTo(out);
  }
  if (!select.order_by.empty()) {
    out->append(" ORDER BY ");
    for (size_t i = 0; i < select.order_by.size(); ++i) {
      if (i > 0) out->append(", ");
      select.order_by[i].expr->AppendTo(out);
      if (select.order_by[i].descending) out->append(" DESC");
    }
  }
  if (select.limit_expr != nullptr) {
    out->append(" LIMIT ");
    select.limit_expr->AppendTo(out);
  }
  if (select.offset_expr != nullptr) {
    out->append(" OFFSET ");
    select.offset_expr->AppendTo(out);
  }
}

void AppendColumnDef(std::string* out, const ColumnDef& column) {
  AppendIdentifier(out, column.name);
  out->push_back(' ');
  AppendType(out, column.type);
  if (column.nullability == Nullability::kNotNull) out->append(" NOT NULL");
  if (column.nullability == Nullability::kNull) out->append(" NULL");
  if (column.default_value != nullptr) {
    out->append(" DEFAULT ");
    column.default_value->AppendTo(out);
  }
  if (column.primary_key) out->append(" PRIMARY KEY");
  if (column.auto_increment) out->append(" AUTO_INCREMENT");
  if (column.unique) out->append(" UNIQUE");
}

void AppendCreateTable(std::string* out, const CreateTableStmt& create) {
  out->append("CREATE ");
  out->append(TableTypeWord(create.table_type));
  out->append("TABLE ");
  if (create.if_not_exists) out->append("IF NOT EXISTS ");
  AppendTableRef(out, create.table);
  out->append(" (");
  for (size_t i = 0; i < create.columns.size(); ++i) {
    if (i > 0) out->append(", ");
    AppendColumnDef(out, create.columns[i]);
  }
  if (!create.primary_key_columns.empty()) {
    out->append(", ");
    if (!create.primary_key_constraint.empty()) {
      out->append("CONSTRAINT ");
      AppendIdentifier(out, create.primary_key_constraint);
      out->push_back(' ');
    }
    out->append("PRIMARY KEY (");
    for (size_t i = 0; i < create.primary_key_columns.size(); ++i) {
      if (i > 0) out->append(", ");
      AppendIdentifier(out, create.primary_key_columns[i]);
    }
    out->push_back(')');
  }
  out->push_back(')');
  if (!create.options.empty()) {
    out->append(" WITH (");
    for (size_t i = 0; i < create.options.size(); ++i) {
      if (i > 0) out->append(", ");
      AppendIdentifier(out, create.options[i].key);
      out->append(" = ");
      // A signed number prints as -5, not (-5): the option grammar has no parentheses.
      const Expr* value = create.options[i].value;
      if (const auto* sign = value->TryAs<UnaryExpr>()) {
        out->push_back(sign->op == UnaryOp::kMinus ? '-' : '+');
        value = sign->operand;
      }
      value->AppendTo(out);
    }
    out->push_back(')');
  }
}

void AppendInsert(std::string* out, const InsertStmt& insert) {
  out->append("INSERT INTO ");
  AppendTableRef(out, insert.table);
  if (!insert.columns.empty()) {
    out->append(" (");
    for (size_t i = 0; i < insert.columns.size(); ++i) {
      if (i > 0) out->append(", ");
      AppendIdentifier(out, insert.columns[i]);
    }
    out->push_back(')');
  }
  if (insert.select != nullptr) {
    out->push_back(' ');
    AppendSelect(out, *insert.select);
    return;
  }
  out->append(" VALUES ");
  for (size_t i = 0; i < insert.rows.size(); ++i) {
    if (i > 0) out->append(", ");
    out->push_back('(');
    AppendExprList(out, insert.rows[i]);
    out->push_back(')');
  }
}

}  // namespace

std::string_view BinaryOpSpelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "OR";
    case BinaryOp::kAnd:
      return "AND";
    case BinaryOp::kEq:
      return "=";
    case BinaryOp::kNotEq:
      return "<>";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLtEq:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGtEq:
      return ">=";
    case BinaryOp::kConcat:
      return "||";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kModulo:
      return "%";
  }
  return "?";
}

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kCreateNamespace:
      return "CREATE NAMESPACE";
    case StatementKind::kDropNamespace:
      return "DROP NAMESPACE";
    case StatementKind::kShowNamespaces:
      return "SHOW NAMESPACES";
    case StatementKind::kUseNamespace:
      return "USE NAMESPACE";
    case StatementKind::kCreateTable:
      return "CREATE TABLE";
    case StatementKind::kDropTable:
      return "DROP TABLE";
    case StatementKind::kShowTables:
      return "SHOW TABLES";
    case StatementKind::kDescribeTable:
      return "DESCRIBE TABLE";
    case StatementKind::kInsert:
      return "INSERT";
    case StatementKind::kSelect:
      return "SELECT";
    case StatementKind::kUpdate:
      return "UPDATE";
    case StatementKind::kDelete:
      return "DELETE";
    case StatementKind::kCreateUser:
      return "CREATE USER";
    case StatementKind::kAlterUser:
      return "ALTER USER";
    case StatementKind::kDropUser:
      return "DROP USER";
    case StatementKind::kExecuteAsUser:
      return "EXECUTE AS USER";
  }
  return "?";
}

std::string Expr::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void Expr::AppendTo(std::string* out) const {
  switch (kind) {
    case ExprKind::kLiteral: {
      const auto* literal = As<LiteralExpr>();
      switch (literal->literal_kind) {
        case LiteralKind::kInteger:
        case LiteralKind::kDecimal:
          out->append(literal->text);
          break;
        case LiteralKind::kString:
          AppendString(out, literal->text);
          break;
        case LiteralKind::kBoolean:
          out->append(literal->boolean ? "TRUE" : "FALSE");
          break;
        case LiteralKind::kNull:
          out->append("NULL");
          break;
      }
      return;
    }
    case ExprKind::kParameter:
      out->push_back('$');
      out->append(std::to_string(As<ParameterExpr>()->index));
      return;
    case ExprKind::kColumnRef: {
      const auto* ref = As<ColumnRefExpr>();
      if (!ref->table.empty()) {
        AppendIdentifier(out, ref->table);
        out->push_back('.');
      }
      AppendIdentifier(out, ref->column);
      return;
    }
    case ExprKind::kStar: {
      const auto* star = As<StarExpr>();
      if (!star->table.empty()) {
        AppendIdentifier(out, star->table);
        out->push_back('.');
      }
      out->push_back('*');
      return;
    }
    case ExprKind::kUnary: {
      const auto* unary = As<UnaryExpr>();
      out->append(unary->op == UnaryOp::kNot     ? "(NOT "
                  : unary->op == UnaryOp::kMinus ? "(-"
                                                 : "(+");
      unary->operand->AppendTo(out);
      out->push_back(')');
      return;
    }
    case ExprKind::kBinary: {
      const auto* binary = As<BinaryExpr>();
      out->push_back('(');
      binary->left->AppendTo(out);
      out->push_back(' ');
      out->append(BinaryOpSpelling(binary->op));
      out->push_back(' ');
      binary->right->AppendTo(out);
      out->push_back(')');
      return;
    }
    case ExprKind::kLike: {
      const auto* like = As<LikeExpr>();
      out->push_back('(');
      like->value->AppendTo(out);
      if (like->negated) out->append(" NOT");
      out->append(like->case_insensitive ? " ILIKE " : " LIKE ");
      like->pattern->AppendTo(out);
      out->push_back(')');
      return;
    }
    case ExprKind::kInList: {
      const auto* in = As<InListExpr>();
      out->push_back('(');
      in->value->AppendTo(out);
      out->append(in->negated ? " NOT IN (" : " IN (");
      AppendExprList(out, in->list);
      out->append("))");
      return;
    }
    case ExprKind::kBetween: {
      const auto* between = As<BetweenExpr>();
      out->push_back('(');
      between->value->AppendTo(out);
      out->append(between->negated ? " NOT BETWEEN " : " BETWEEN ");
      between->low->AppendTo(out);
      out->append(" AND ");
      between->high->AppendTo(out);
      out->push_back(')');
      return;
    }
    case ExprKind::kIsNull: {
      const auto* is_null = As<IsNullExpr>();
      out->push_back('(');
      is_null->value->AppendTo(out);
      out->append(is_null->negated ? " IS NOT NULL)" : " IS NULL)");
      return;
    }
    case ExprKind::kFunctionCall: {
      const auto* call = As<FunctionCallExpr>();
      AppendIdentifier(out, call->name);
      out->push_back('(');
      if (call->distinct) out->append("DISTINCT ");
      if (call->star) out->push_back('*');
      AppendExprList(out, call->args);
      out->push_back(')');
      return;
    }
    case ExprKind::kCast: {
      const auto* cast = As<CastExpr>();
      out->append("CAST(");
      cast->value->AppendTo(out);
      out->append(" AS ");
      AppendType(out, cast->type);
      out->push_back(')');
      return;
    }
  }
}

std::string Statement::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void Statement::AppendTo(std::string* out) const {
  switch (kind) {
    case StatementKind::kCreateNamespace: {
      const auto* create = As<CreateNamespaceStmt>();
      out->append(create->if_not_exists ? "CREATE NAMESPACE IF NOT EXISTS " : "CREATE NAMESPACE ");
      AppendIdentifier(out, create->name);
      return;
    }
    case StatementKind::kDropNamespace: {
      const auto* drop = As<DropNamespaceStmt>();
      out->append(drop->if_exists ? "DROP NAMESPACE IF EXISTS " : "DROP NAMESPACE ");
      AppendIdentifier(out, drop->name);
      if (drop->cascade) out->append(" CASCADE");
      return;
    }
    case StatementKind::kShowNamespaces:
      out->append("SHOW NAMESPACES");
      return;
    case StatementKind::kUseNamespace:
      out->append("USE NAMESPACE ");
      AppendIdentifier(out, As<UseNamespaceStmt>()->name);
      return;
    case StatementKind::kCreateTable:
      AppendCreateTable(out, *As<CreateTableStmt>());
      return;
    case StatementKind::kDropTable: {
      const auto* drop = As<DropTableStmt>();
      out->append("DROP ");
      out->append(TableTypeWord(drop->table_type));
      out->append(drop->if_exists ? "TABLE IF EXISTS " : "TABLE ");
      AppendTableRef(out, drop->table);
      return;
    }
    case StatementKind::kShowTables: {
      const auto* show = As<ShowTablesStmt>();
      out->append("SHOW TABLES");
      if (!show->namespace_name.empty()) {
        out->append(" IN ");
        AppendIdentifier(out, show->namespace_name);
      }
      return;
    }
    case StatementKind::kDescribeTable: {
      const auto* describe = As<DescribeTableStmt>();
      out->append("DESCRIBE TABLE ");
      AppendTableRef(out, describe->table);
      if (describe->history) out->append(" HISTORY");
      return;
    }
    case StatementKind::kInsert:
      AppendInsert(out, *As<InsertStmt>());
      return;
    case StatementKind::kSelect:
      AppendSelect(out, *As<SelectStmt>());
      return;
    case StatementKind::kUpdate: {
      const auto* update = As<UpdateStmt>();
      out->append("UPDATE ");
      AppendTableRef(out, update->table);
      out->append(" SET ");
      for (size_t i = 0; i < update->assignments.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendIdentifier(out, update->assignments[i].column);
        out->append(" = ");
        update->assignments[i].value->AppendTo(out);
      }
      if (update->where != nullptr) {
        out->append(" WHERE ");
        update->where->AppendTo(out);
      }
      return;
    }
    case StatementKind::kDelete: {
      const auto* del = As<DeleteStmt>();
      out->append("DELETE FROM ");
      AppendTableRef(out, del->table);
      if (del->where != nullptr) {
        out->append(" WHERE ");
        del->where->AppendTo(out);
      }
      return;
    }
    case StatementKind::kCreateUser: {
      const auto* create = As<CreateUserStmt>();
      out->append("CREATE USER ");
      AppendString(out, create->name);
      switch (create->auth) {
        case AuthType::kPassword:
          out->append(" WITH PASSWORD '***'");
          break;
        case AuthType::kOAuth:
          out->append(" WITH OAUTH");
          if (create->has_oauth_json) {
            out->push_back(' ');
            AppendString(out, create->oauth_json);
          }
          break;
        case AuthType::kInternal:
          out->append(" WITH INTERNAL");
          break;
      }
      if (create->has_role) {
        out->append(" ROLE ");
        AppendString(out, create->role);
      }
      if (create->has_email) {
        out->append(" EMAIL ");
        AppendString(out, create->email);
      }
      return;
    }
    case StatementKind::kAlterUser: {
      const auto* alter = As<AlterUserStmt>();
      out->append("ALTER USER ");
      AppendString(out, alter->name);
      switch (alter->action) {
        case AlterUserAction::kSetPassword:
          out->append(" SET PASSWORD '***'");
          return;
        case AlterUserAction::kSetRole:
          out->append(" SET ROLE ");
          break;
        case AlterUserAction::kSetEmail:
          out->append(" SET EMAIL ");
          break;
      }
      AppendString(out, alter->value);
      return;
    }
    case StatementKind::kDropUser: {
      const auto* drop = As<DropUserStmt>();
      out->append(drop->if_exists ? "DROP USER IF EXISTS " : "DROP USER ");
      AppendString(out, drop->name);
      return;
    }
    case StatementKind::kExecuteAsUser: {
      const auto* execute = As<ExecuteAsUserStmt>();
      out->append("EXECUTE AS USER ");
      AppendString(out, execute->user);
      out->append(" (");
      execute->statement->AppendTo(out);
      out->push_back(')');
      return;
    }
  }
}

}  // namespace kalamdb::sql
