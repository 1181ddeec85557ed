// executor.h (internal to src/sql): runs one parsed statement. One file per statement family:
// namespace_ddl.cc, select.cc; dispatch in executor.cc.
#pragma once

#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "sql/ast.h"
#include "sql/sql.h"

namespace kalamdb::storage {
class Store;
}

namespace kalamdb::sql {

struct ExecContext {
  const Session& session;
  catalog::Catalog& catalog;
  storage::Store& store;
};

// Appends the statement's results to `results`. Errors carry their ErrorCode and the bare
// reason; the engine adds "Statement N failed: ".
Status ExecuteStatement(ExecContext& context, const Statement& statement,
                        std::vector<QueryResult>* results);

Status ExecuteCreateNamespace(ExecContext& context, const CreateNamespaceStmt& statement,
                              std::vector<QueryResult>* results);
Status ExecuteDropNamespace(ExecContext& context, const DropNamespaceStmt& statement,
                            std::vector<QueryResult>* results);
Status ExecuteShowNamespaces(ExecContext& context, std::vector<QueryResult>* results);
Status ExecuteSelect(ExecContext& context, const SelectStmt& statement,
                     std::vector<QueryResult>* results);

// Checks a namespace, table or column name (reference §4.1): [A-Za-z0-9_]+, not starting with
// '_' or a digit, at most 64 characters. Returns the name folded to lower case.
// Errors: kInvalidOperation naming `what` ("namespace", "table", "column").
Result<std::string> NormalizeName(const Identifier& name, std::string_view what);

}  // namespace kalamdb::sql
