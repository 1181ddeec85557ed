// user_ddl.cc: CREATE USER, ALTER USER, DROP USER (reference §4.11); dba/system only.
#include <string>

#include "sql/executor.h"

namespace kalamdb::sql {
namespace {

Status RequireUserAdmin(const ExecContext& context, std::string_view what) {
  if (!catalog::IsAdmin(context.session.role)) {
    return Status(ErrorCode::kPermissionDenied,
                  "Admin privileges (DBA or System role) required for " + std::string(what));
  }
  if (context.users == nullptr)
    return Status(ErrorCode::kInvalidOperation, "user management is not available");
  return Status::OK();
}

Result<catalog::Role> ParseGrantedRole(const ExecContext& context, std::string_view text) {
  catalog::Role role;
  if (!catalog::ParseRole(text, &role) || role == catalog::Role::kAnonymous) {
    return Status(ErrorCode::kInvalidOperation, "Invalid role '" + std::string(text) + "'");
  }
  if (role == catalog::Role::kSystem && context.session.role != catalog::Role::kSystem) {
    return Status(ErrorCode::kPermissionDenied, "Only system users can grant the system role");
  }
  return role;
}

}  // namespace

Status ExecuteCreateUser(ExecContext& context, const CreateUserStmt& statement,
                         std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireUserAdmin(context, "CREATE USER"));
  catalog::Role role = catalog::Role::kUser;
  if (statement.has_role) {
    auto parsed = ParseGrantedRole(context, statement.role);
    if (!parsed.ok()) return parsed.status();
    role = *parsed;
  }
  std::string_view auth_type = statement.auth == AuthType::kPassword ? "password"
                               : statement.auth == AuthType::kOAuth  ? "oauth"
                                                                     : "internal";
  std::optional<std::string> email;
  if (statement.has_email) email = std::string(statement.email);
  KALAMDB_RETURN_IF_ERROR(
      context.users->CreateUser(statement.name, statement.password, role, email, auth_type));
  results->push_back(MessageResult("User '" + std::string(statement.name) + "' created"));
  return Status::OK();
}

Status ExecuteAlterUser(ExecContext& context, const AlterUserStmt& statement,
                        std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireUserAdmin(context, "ALTER USER"));
  switch (statement.action) {
    case AlterUserAction::kSetPassword:
      KALAMDB_RETURN_IF_ERROR(context.users->SetPassword(statement.name, statement.value));
      break;
    case AlterUserAction::kSetRole: {
      auto role = ParseGrantedRole(context, statement.value);
      if (!role.ok()) return role.status();
      KALAMDB_RETURN_IF_ERROR(context.users->SetRole(statement.name, *role));
      break;
    }
    case AlterUserAction::kSetEmail:
      KALAMDB_RETURN_IF_ERROR(context.users->SetEmail(statement.name, statement.value));
      break;
  }
  results->push_back(MessageResult("User '" + std::string(statement.name) + "' updated"));
  return Status::OK();
}

Status ExecuteDropUser(ExecContext& context, const DropUserStmt& statement,
                       std::vector<QueryResult>* results) {
  KALAMDB_RETURN_IF_ERROR(RequireUserAdmin(context, "DROP USER"));
  if (statement.name == "root")
    return Status(ErrorCode::kInvalidOperation, "The root user cannot be dropped");
  if (statement.name == context.session.user_id)
    return Status(ErrorCode::kInvalidOperation, "You cannot drop yourself");
  Status st = context.users->DropUser(statement.name);
  if (st.code() == ErrorCode::kNotFound && statement.if_exists) {
    results->push_back(
        MessageResult("User '" + std::string(statement.name) + "' does not exist (skipped)"));
    return Status::OK();
  }
  KALAMDB_RETURN_IF_ERROR(st);
  results->push_back(
      MessageResult("User '" + std::string(statement.name) + "' dropped (soft delete)"));
  return Status::OK();
}

}  // namespace kalamdb::sql
