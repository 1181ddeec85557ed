#include "sql/executor.h"

#include <cctype>
#include <string>

namespace kalamdb::sql {

Result<std::string> NormalizeName(const Identifier& name, std::string_view what) {
  std::string_view text = name.name;
  auto invalid = [&](std::string_view why) {
    return Status(ErrorCode::kInvalidOperation, "Invalid " + std::string(what) + " name '" +
                                                    std::string(text) + "': " + std::string(why));
  };
  if (text.empty()) return invalid("must not be empty");
  if (text.size() > 64) return invalid("must be at most 64 characters");
  if (text.front() == '_' || std::isdigit(static_cast<unsigned char>(text.front()))) {
    return invalid("must not start with '_' or a digit");
  }
  std::string folded;
  folded.reserve(text.size());
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return invalid("only letters, digits and '_' are allowed");
    }
    folded.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return folded;
}

Status ExecuteStatement(ExecContext& context, const Statement& statement,
                        std::vector<QueryResult>* results) {
  switch (statement.kind) {
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
