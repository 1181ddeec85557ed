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
Status ExecuteCreateTable(ExecContext& context, const CreateTableStmt& statement,
                          std::vector<QueryResult>* results);
Status ExecuteDropTable(ExecContext& context, const DropTableStmt& statement,
                        std::vector<QueryResult>* results);
Status ExecuteShowTables(ExecContext& context, const ShowTablesStmt& statement,
                         std::vector<QueryResult>* results);
Status ExecuteDescribeTable(ExecContext& context, const DescribeTableStmt& statement,
                            std::vector<QueryResult>* results);

// Deletes every stored row of `table`, all owners included (one range delete).
Status DeleteTableRows(storage::Store& store, const catalog::TableDef& table);
// The schema flags of a column: "pk", "nn", "uq" in that order.
std::vector<std::string> ColumnFlags(const catalog::ColumnDef& column);
// True for SERIAL, BIGSERIAL, SMALLSERIAL (any case).
bool EndsWithSerial(std::string_view type_name);

// Checks a namespace, table or column name (reference §4.1): [A-Za-z0-9_]+, not starting with
// '_' or a digit, at most 64 characters. Returns the name folded to lower case.
// Errors: kInvalidOperation naming `what` ("namespace", "table", "column").
Result<std::string> NormalizeName(const Identifier& name, std::string_view what);

}  // namespace kalamdb::sql
