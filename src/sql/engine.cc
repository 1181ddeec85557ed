#include <cctype>

#include "sql/sql.h"

namespace kalamdb::sql {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return s;
}

// True when `sql` is SELECT 1 in any letter case and spacing.
bool IsSelectOne(std::string_view sql) {
  std::string_view s = Trim(sql);
  if (s.size() < 8) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != "select"[i]) return false;
  }
  s.remove_prefix(6);
  if (s.empty() || !std::isspace(static_cast<unsigned char>(s.front()))) return false;
  return Trim(s) == "1";
}

}  // namespace

Result<std::vector<QueryResult>> Engine::Execute(const Session& /*session*/, std::string_view sql) {
  if (!IsSelectOne(sql)) {
    return Status(ErrorCode::kInvalidSql,
                  "Unsupported statement: this server build only answers SELECT 1 "
                  "(the SQL engine is not available yet)");
  }
  QueryResult result;
  result.has_rows = true;
  result.schema.push_back(Column{"Int64(1)", "BigInt", {}});
  result.rows.push_back({"\"1\""});
  result.row_count = 1;
  std::vector<QueryResult> results;
  results.push_back(std::move(result));
  return results;
}

}  // namespace kalamdb::sql
