// engine.cc: the statement loop: split, parse, authorise, dispatch, and error wording.
#include <string>

#include "common/arena.h"
#include "sql/ast.h"
#include "sql/executor.h"
#include "sql/parser.h"
#include "sql/splitter.h"
#include "sql/sql.h"

namespace kalamdb::sql {
namespace {

// The prefix KalamDB puts before an execution error's own text.
std::string_view KindPrefix(ErrorCode code) {
  switch (code) {
    case ErrorCode::kAlreadyExists:
      return "Already exists: ";
    case ErrorCode::kNotFound:
      return "Not found: ";
    case ErrorCode::kInvalidOperation:
      return "Invalid operation: ";
    default:
      return "";
  }
}

// Errors raised before a statement runs keep their text; execution errors are numbered.
bool IsExecutionError(ErrorCode code) {
  return code != ErrorCode::kInvalidSql && code != ErrorCode::kInvalidArgument &&
         code != ErrorCode::kPermissionDenied;
}

// In a batch, INSERT/UPDATE/DELETE results are not listed one by one: their counts are summed
// per kind and appended after the other results (reference §2.1).
void SumDmlResults(std::vector<QueryResult>* results) {
  int64_t totals[4] = {0, 0, 0, 0};
  bool present[4] = {false, false, false, false};
  std::vector<QueryResult> kept;
  for (QueryResult& result : *results) {
    auto kind = static_cast<size_t>(result.dml);
    if (result.dml == QueryResult::Dml::kNone) {
      kept.push_back(std::move(result));
    } else {
      totals[kind] += result.row_count;
      present[kind] = true;
    }
  }
  static constexpr const char* kVerbs[4] = {"", "Inserted", "Updated", "Deleted"};
  for (size_t kind = 1; kind < 4; ++kind) {
    if (!present[kind] || totals[kind] == 0) continue;
    QueryResult sum;
    sum.dml = static_cast<QueryResult::Dml>(kind);
    sum.row_count = totals[kind];
    sum.message = std::string(kVerbs[kind]) + " " + std::to_string(totals[kind]) + " row(s)";
    kept.push_back(std::move(sum));
  }
  *results = std::move(kept);
}

}  // namespace

Engine::Engine(catalog::Catalog& catalog, storage::Store& store, EngineLimits limits,
               UserDirectory* users)
    : catalog_(catalog), store_(store), limits_(limits), users_(users) {}

Result<std::vector<QueryResult>> Engine::Execute(const Session& session, std::string_view sql,
                                                 std::span<const Param> params,
                                                 std::string* failed_statement) {
  thread_local Arena arena;
  arena.Reset();
  auto statements = SplitStatements(sql, arena);
  if (!statements.ok()) return statements.status();
  if (statements->empty()) return Status(ErrorCode::kEmptySql, "No SQL statements provided");
  if (!params.empty() && statements->size() > 1) {
    return Status(ErrorCode::kParamsWithBatch,
                  "Parameters not supported with multi-statement batches");
  }
  // Parse everything first: a syntax error anywhere runs nothing.
  std::vector<const Statement*> parsed;
  parsed.reserve(statements->size());
  for (const StatementText& text : *statements) {
    auto statement = Parse(text.text, arena);
    if (!statement.ok()) return statement.status();
    parsed.push_back(*statement);
  }
  ExecContext context{session, catalog_, store_, params, limits_, arena, users_, nullptr, {}, {}};
  std::vector<QueryResult> results;
  for (size_t i = 0; i < parsed.size(); ++i) {
    Status st = ExecuteStatement(context, *parsed[i], &results);
    if (!st.ok()) {
      if (!IsExecutionError(st.code())) return st;
      if (failed_statement != nullptr) failed_statement->assign((*statements)[i].text);
      std::string message = "Statement " + std::to_string(i + 1) + " failed: ";
      message += KindPrefix(st.code());
      message += st.message();
      return Status(st.code(), std::move(message));
    }
  }
  if (parsed.size() > 1) SumDmlResults(&results);
  return results;
}

}  // namespace kalamdb::sql
