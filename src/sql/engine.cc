// engine.cc: the statement loop: split, parse, authorise, dispatch, and error wording.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "common/arena.h"
#include "sql/ast.h"
#include "sql/executor.h"
#include "sql/key_watermarks.h"
#include "sql/parser.h"
#include "sql/splitter.h"
#include "sql/sql.h"
#include "storage/storage.h"
#include "trace/trace.h"

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

// The `kind` attribute of a sql.statement span.
const char* StatementTraceKind(StatementKind kind) {
  switch (kind) {
    case StatementKind::kInsert:
      return "insert";
    case StatementKind::kSelect:
      return "select";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kDelete:
      return "delete";
    case StatementKind::kShowNamespaces:
    case StatementKind::kShowTables:
    case StatementKind::kDescribeTable:
      return "show";
    case StatementKind::kExecuteAsUser:
      return "execute_as_user";
    default:
      return "ddl";
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
  for (size_t kind = 1; kind < 4; ++kind) {
    if (!present[kind] || totals[kind] == 0) continue;
    QueryResult sum;
    sum.dml = static_cast<QueryResult::Dml>(kind);
    sum.row_count = totals[kind];
    kept.push_back(std::move(sum));
  }
  *results = std::move(kept);
}

}  // namespace

std::string_view DmlMessage(QueryResult::Dml dml, int64_t rows, char* buffer) {
  static constexpr std::string_view kVerbs[4] = {"", "Inserted ", "Updated ", "Deleted "};
  const std::string_view verb = kVerbs[static_cast<size_t>(dml)];
  if (verb.empty()) return {};
  char* p = std::copy(verb.begin(), verb.end(), buffer);
  p = std::to_chars(p, buffer + 40, rows).ptr;
  constexpr std::string_view kTail = " row(s)";
  p = std::copy(kTail.begin(), kTail.end(), p);
  return {buffer, static_cast<size_t>(p - buffer)};
}

std::optional<std::string> QueryResult::Message() const {
  if (message) return message;
  char buffer[48];
  std::string_view text = DmlMessage(dml, row_count, buffer);
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

Engine::Engine(catalog::Catalog& catalog, storage::Store& store, EngineLimits limits,
               UserDirectory* users)
    : catalog_(catalog),
      store_(store),
      limits_(limits),
      users_(users),
      watermarks_(std::make_unique<KeyWatermarks>(store)) {}

Engine::~Engine() = default;

Result<std::vector<QueryResult>> Engine::Execute(const Session& session, std::string_view sql,
                                                 std::span<const Param> params,
                                                 std::string* failed_statement) {
  std::vector<QueryResult> results;
  KALAMDB_RETURN_IF_ERROR(ExecuteInto(session, sql, params, &results, failed_statement));
  return results;
}

// The attributes of sql.execute and of a single statement's sql.statement are set after
// sql.execute has ended: their cost is bookkeeping, and inside the spans it would count as time
// no leaf accounts for (docs/tracing.md).
struct Engine::TraceTail {
  size_t statement_count = 0;  // 0: splitting failed
  // The single statement's span (several statements record theirs as they go).
  std::optional<trace::Span> statement;
  const char* kind = nullptr;
  // "namespace.table" (a per-thread buffer: system tables die with the statement's context).
  std::string_view table;
  int64_t rows = 0;
  Status status;

  // Sets kind, table, rows and status on `span` (a statement that ran).
  void Record(trace::Span& span) const {
    if (!span.recording() || kind == nullptr) return;
    span.SetAttribute("kind", kind);
    if (!table.empty()) span.SetAttribute("table", table);
    span.SetAttribute("rows", rows);
    span.SetStatus(status);
  }
};

Status Engine::ExecuteInto(const Session& session, std::string_view sql,
                           std::span<const Param> params, std::vector<QueryResult>* results,
                           std::string* failed_statement, bool* awaiting_sync) {
  trace::Span execute("sql.execute");
  results->clear();
  std::optional<storage::DeferSync> deferred;
  if (awaiting_sync != nullptr) deferred.emplace();
  TraceTail tail;
  Status st = ExecuteTraced(session, sql, params, results, failed_statement, &tail);
  // Spans end innermost first: a parse error returns with the statement's span still open.
  // Nothing of note runs between the two ends: sql.execute ends where its statement did.
  const int64_t statement_end = tail.statement ? tail.statement->End() : 0;
  if (statement_end != 0) {
    execute.EndAt(statement_end);
  } else {
    execute.End();
  }
  if (awaiting_sync != nullptr) *awaiting_sync = deferred->pending();
  if (execute.recording()) {
    if (tail.statement) tail.Record(*tail.statement);
    if (tail.statement_count > 0) execute.SetAttribute("statement_count", tail.statement_count);
    execute.SetAttribute("user_id", session.user_id);
    execute.SetAttribute("namespace", session.default_namespace);
    if (st.ok()) {
      // A single statement's rows were counted for its span already.
      const bool counted = tail.statement && tail.statement->recording();
      int64_t rows = counted ? tail.rows : 0;
      if (!counted) {
        for (const QueryResult& result : *results) rows += result.row_count;
      }
      execute.SetAttribute("rows", rows);
    }
    execute.SetStatus(st);
  }
  return st;
}

void Engine::WhenDurable(std::function<void(const Status&)> done) {
  store_.WhenSynced(std::move(done));
}

Status Engine::ExecuteTraced(const Session& session, std::string_view sql,
                             std::span<const Param> params, std::vector<QueryResult>* out,
                             std::string* failed_statement, TraceTail* tail) {
  thread_local Arena arena;
  // Opened right after sql.execute (ExecuteInto): it starts where sql.execute did.
  trace::Span split("sql.split", trace::SpanKind::kInternal, trace::CurrentSpanStart());
  arena.Reset();
  auto statements = SplitStatements(sql, arena);
  split.SetStatus(statements.status());
  const int64_t split_end = split.End();
  if (!statements.ok()) return statements.status();
  tail->statement_count = statements->size();
  if (statements->empty()) return Status(ErrorCode::kEmptySql, "No SQL statements provided");
  if (!params.empty() && statements->size() > 1) {
    return Status(ErrorCode::kParamsWithBatch,
                  "Parameters not supported with multi-statement batches");
  }
  // A single statement (the common case) is one sql.statement span holding its sql.parse.
  // Several are all parsed first, so that a syntax error anywhere runs nothing: their
  // sql.parse spans precede the sql.statement spans.
  const bool single = statements->size() == 1;
  // The statement starts where the split ended, and its parse where it starts: one clock read
  // for the three boundaries.
  if (single) tail->statement.emplace("sql.statement", trace::SpanKind::kInternal, split_end);
  ArenaVector<const Statement*> parsed(arena);
  parsed.reserve(statements->size());
  for (const StatementText& text : *statements) {
    trace::Span parse("sql.parse", trace::SpanKind::kInternal, single ? split_end : 0);
    parse.SetAttribute("cache.hit", false);
    parse.SetAttribute("sql.length", text.text.size());
    auto statement = Parse(text.text, arena);
    if (!statement.ok()) {
      parse.SetStatus(statement.status());
      return statement.status();
    }
    parsed.push_back(*statement);
  }
  ExecContext context{session, catalog_, store_, params, limits_, arena, users_, nullptr, {}, {}};
  context.watermarks = watermarks_.get();
  std::vector<QueryResult>& results = *out;
  for (size_t i = 0; i < parsed.size(); ++i) {
    std::optional<trace::Span> multi_span;
    if (!single) multi_span.emplace("sql.statement");
    trace::Span& span = single ? *tail->statement : *multi_span;
    const size_t before = results.size();
    context.traced_table = nullptr;
    Status st = ExecuteStatement(context, *parsed[i], &results);
    span.End();
    if (span.recording()) {
      tail->kind = StatementTraceKind(parsed[i]->kind);
      tail->table = {};
      if (context.traced_table != nullptr) {
        thread_local std::string qualified;  // reused: no allocation per statement
        qualified.assign(context.traced_table->namespace_id)
            .append(".")
            .append(context.traced_table->name);
        tail->table = qualified;
      }
      tail->rows = 0;
      for (size_t r = before; r < results.size(); ++r) tail->rows += results[r].row_count;
      tail->status = st;
      if (!single) tail->Record(span);
    }
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
  return Status::OK();
}

}  // namespace kalamdb::sql
