#include "sql/executor.h"

#include <string>

#include "common/strings.h"

namespace kalamdb::sql {

namespace {

constexpr size_t kMaxNameLength = 64;

// NormalizeName's rules, folding into `out` (kMaxNameLength bytes) without allocating: ASCII
// letters, digits and '_' (not first: '_' or a digit), lower-cased. Returns the length.
Result<size_t> FoldName(std::string_view text, std::string_view what, char* out) {
  auto invalid = [&](std::string_view why) {
    return Status(ErrorCode::kInvalidOperation, "Invalid " + std::string(what) + " name '" +
                                                    std::string(text) + "': " + std::string(why));
  };
  if (text.empty()) return invalid("must not be empty");
  if (text.size() > kMaxNameLength) return invalid("must be at most 64 characters");
  if (text.front() == '_' || (text.front() >= '0' && text.front() <= '9')) {
    return invalid("must not start with '_' or a digit");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char lower = AsciiLower(c);
    if (!((lower >= 'a' && lower <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return invalid("only letters, digits and '_' are allowed");
    }
    out[i] = lower;
  }
  return text.size();
}

}  // namespace

Result<std::string> NormalizeName(const Identifier& name, std::string_view what) {
  char folded[kMaxNameLength];
  auto n = FoldName(name.name, what, folded);
  if (!n.ok()) return n.status();
  return std::string(folded, *n);
}

QueryResult MessageResult(std::string text) {
  QueryResult result;
  result.message = std::move(text);
  return result;
}

Status RequireAdmin(const ExecContext& context, std::string_view what) {
  if (catalog::IsAdmin(context.session.role)) return Status::OK();
  return Status(ErrorCode::kPermissionDenied,
                "Admin privileges (DBA or System role) required for " + std::string(what));
}

namespace {

// A table reference's namespace (the session's default when absent) and name, checked and
// folded into its own buffers: no allocation.
struct FoldedTableName {
  char ns_buffer[kMaxNameLength];
  char name_buffer[kMaxNameLength];
  std::string_view ns;
  std::string_view name;
};

Status FoldTableName(const ExecContext& context, const TableRef& ref, FoldedTableName* out) {
  out->ns = context.session.default_namespace;
  if (!ref.namespace_name.empty()) {
    auto n = FoldName(ref.namespace_name.name, "namespace", out->ns_buffer);
    if (!n.ok()) return n.status();
    out->ns = std::string_view(out->ns_buffer, *n);
  }
  auto n = FoldName(ref.table.name, "table", out->name_buffer);
  if (!n.ok()) return n.status();
  out->name = std::string_view(out->name_buffer, *n);
  return Status::OK();
}

}  // namespace

Status ResolveTableName(const ExecContext& context, const TableRef& ref, std::string* ns,
                        std::string* table) {
  FoldedTableName folded;
  KALAMDB_RETURN_IF_ERROR(FoldTableName(context, ref, &folded));
  *ns = folded.ns;
  *table = folded.name;
  return Status::OK();
}

Result<const catalog::TableDef*> ResolveTable(ExecContext& context, const TableRef& ref) {
  FoldedTableName
      folded;  // on the stack: resolving a table (every DML statement) allocates nothing
  KALAMDB_RETURN_IF_ERROR(FoldTableName(context, ref, &folded));
  const std::string_view ns = folded.ns;
  const std::string_view name = folded.name;
  if (ns == "system") return ResolveSystemTable(context, name);
  if (context.snapshot == nullptr) context.snapshot = context.catalog.ThreadSnapshot();
  const catalog::TableDef* table = context.snapshot->FindTable(ns, name);
  if (table == nullptr) {
    return Status(ErrorCode::kNotFound,
                  "Table '" + std::string(ns) + "." + std::string(name) + "' not found");
  }
  return table;
}

Status CheckWriteAccess(const ExecContext& context, const catalog::TableDef& table,
                        std::string_view verb) {
  if (table.namespace_id == "system") {
    return Status(ErrorCode::kPermissionDenied,
                  "Cannot " + std::string(verb) + " system table '" + table.QualifiedName() + "'");
  }
  if (table.type == catalog::TableType::kShared) {
    const catalog::Role role = context.session.role;
    bool allowed =
        role == catalog::Role::kSystem || role == catalog::Role::kDba ||
        (role == catalog::Role::kService && table.access_level != catalog::AccessLevel::kDba);
    if (!allowed) {
      return Status(ErrorCode::kPermissionDenied, "Insufficient privileges to " +
                                                      std::string(verb) + " shared table '" +
                                                      table.QualifiedName() + "'");
    }
  }
  return Status::OK();
}

catalog::DefaultValue::Kind FunctionDefaultKind(std::string_view name) {
  using Kind = catalog::DefaultValue::Kind;
  struct Named {
    std::string_view name;
    Kind kind;
  };
  static constexpr Named kFunctions[] = {
      {"NOW", Kind::kNow},
      {"CURRENT_TIMESTAMP", Kind::kNow},
      {"SNOWFLAKE_ID", Kind::kSnowflakeId},
      {"UUID_V7", Kind::kUuidV7},
      {"ULID", Kind::kUlid},
      {"CURRENT_USER", Kind::kCurrentUser},
  };
  for (const Named& named : kFunctions) {
    if (EqualsIgnoreCase(name, named.name)) return named.kind;
  }
  return Kind::kNone;
}

namespace {

// The table an impersonated statement touches, if any.
const TableRef* TargetTable(const Statement& statement) {
  switch (statement.kind) {
    case StatementKind::kInsert:
      return &statement.As<InsertStmt>()->table;
    case StatementKind::kUpdate:
      return &statement.As<UpdateStmt>()->table;
    case StatementKind::kDelete:
      return &statement.As<DeleteStmt>()->table;
    case StatementKind::kSelect: {
      const auto* select = statement.As<SelectStmt>();
      return select->has_from ? &select->from : nullptr;
    }
    default:
      return nullptr;
  }
}

// EXECUTE AS USER 'id' (statement), reference §3.8: system may act as anyone, dba as dba,
// service or user, service as service or user, user only as itself. The statement runs as the
// target with role user; results report the target in as_user.
Status ExecuteAsUser(ExecContext& context, const ExecuteAsUserStmt& statement,
                     std::vector<QueryResult>* results) {
  const std::string target(statement.user);
  catalog::Role target_role = catalog::Role::kUser;  // unknown ids count as user
  if (context.users != nullptr) {
    if (auto user = context.users->Find(target); user && !user->deleted()) target_role = user->role;
  }
  const catalog::Role caller = context.session.role;
  bool allowed = false;
  switch (caller) {
    case catalog::Role::kSystem:
      allowed = true;
      break;
    case catalog::Role::kDba:
      allowed = target_role != catalog::Role::kSystem;
      break;
    case catalog::Role::kService:
      allowed = target_role == catalog::Role::kService || target_role == catalog::Role::kUser;
      break;
    default:
      allowed = target == context.session.user_id;
      break;
  }
  if (!allowed) {
    return Status(ErrorCode::kPermissionDenied, "Role '" + std::string(catalog::RoleName(caller)) +
                                                    "' may not execute as user '" + target + "'");
  }
  if (const TableRef* ref = TargetTable(*statement.statement)) {
    auto table = ResolveTable(context, *ref);
    if (table.ok() && (*table)->type == catalog::TableType::kShared) {
      return Status(ErrorCode::kInvalidOperation,
                    "EXECUTE AS USER is not allowed on SHARED tables (table '" +
                        (*table)->QualifiedName() +
                        "'). AS USER impersonation is only supported for USER and STREAM tables.");
    }
  }
  Session as{target, catalog::Role::kUser, context.session.default_namespace};
  ExecContext inner{as,
                    context.catalog,
                    context.store,
                    context.params,
                    context.limits,
                    context.arena,
                    context.users,
                    nullptr,
                    {},
                    {}};
  size_t first = results->size();
  KALAMDB_RETURN_IF_ERROR(ExecuteStatement(inner, *statement.statement, results));
  for (size_t i = first; i < results->size(); ++i) (*results)[i].as_user = target;
  return Status::OK();
}

}  // namespace

Status ExecuteStatement(ExecContext& context, const Statement& statement,
                        std::vector<QueryResult>* results) {
  // Each statement sees the catalog as it is when it first resolves a table (ResolveTable).
  context.snapshot = nullptr;
  switch (statement.kind) {
    case StatementKind::kInsert:
      return ExecuteInsert(context, *statement.As<InsertStmt>(), results);
    case StatementKind::kCreateUser:
      return ExecuteCreateUser(context, *statement.As<CreateUserStmt>(), results);
    case StatementKind::kAlterUser:
      return ExecuteAlterUser(context, *statement.As<AlterUserStmt>(), results);
    case StatementKind::kDropUser:
      return ExecuteDropUser(context, *statement.As<DropUserStmt>(), results);
    case StatementKind::kExecuteAsUser:
      return ExecuteAsUser(context, *statement.As<ExecuteAsUserStmt>(), results);
    case StatementKind::kUpdate:
      return ExecuteUpdate(context, *statement.As<UpdateStmt>(), results);
    case StatementKind::kDelete:
      return ExecuteDelete(context, *statement.As<DeleteStmt>(), results);
    case StatementKind::kCreateNamespace:
      return ExecuteCreateNamespace(context, *statement.As<CreateNamespaceStmt>(), results);
    case StatementKind::kDropNamespace:
      return ExecuteDropNamespace(context, *statement.As<DropNamespaceStmt>(), results);
    case StatementKind::kShowNamespaces:
      return ExecuteShowNamespaces(context, results);
    case StatementKind::kSelect:
      return ExecuteSelect(context, *statement.As<SelectStmt>(), results);
    case StatementKind::kCreateTable:
      return ExecuteCreateTable(context, *statement.As<CreateTableStmt>(), results);
    case StatementKind::kDropTable:
      return ExecuteDropTable(context, *statement.As<DropTableStmt>(), results);
    case StatementKind::kShowTables:
      return ExecuteShowTables(context, *statement.As<ShowTablesStmt>(), results);
    case StatementKind::kDescribeTable:
      return ExecuteDescribeTable(context, *statement.As<DescribeTableStmt>(), results);
    default:
      return Status(ErrorCode::kInvalidSql,
                    std::string(StatementKindName(statement.kind)) + " is not supported yet");
  }
}

}  // namespace kalamdb::sql
