// sql.h: all that other subsystems see of src/sql/: SQL text in, results out.
//
// Execute() splits the request into statements, parses each once (sql/parser.h), checks the
// caller's role, and runs them in order against the catalog and storage. The first failing
// statement ends the request; earlier statements stay applied.
//
// Implemented so far: CREATE/DROP/SHOW NAMESPACES, CREATE/DROP TABLE, SHOW TABLES,
// DESCRIBE TABLE, INSERT ... VALUES, and SELECT of constants without FROM (SELECT 1). Every
// other statement parses and then answers kInvalidSql "... is not supported yet".
//
// Thread-safety: Execute may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace kalamdb::storage {
class Store;
}

namespace kalamdb::sql {

struct Column {
  std::string name;
  std::string data_type;           // KalamDataType name: "BigInt", "Text" ...
  std::vector<std::string> flags;  // subset of "pk", "nn", "uq", in that order
};

// One value of the request's `params` array, bound to $1..$n.
struct Param {
  enum class Kind : uint8_t { kNull, kInteger, kFloat, kString, kBoolean };
  Kind kind = Kind::kNull;
  std::string text;  // digits for numbers, the value for strings
  bool boolean = false;
};

// One entry of the response's `results` array.
struct QueryResult {
  // DML results are summed per kind when a request has several statements.
  enum class Dml : uint8_t { kNone, kInsert, kUpdate, kDelete };
  Dml dml = Dml::kNone;
  // Row-returning statements set has_rows (then schema and rows are always written).
  bool has_rows = false;
  std::vector<Column> schema;
  // Cells already encoded as JSON values (BIGINT as strings, TIMESTAMP as integer micros).
  std::vector<std::vector<std::string>> rows;
  int64_t row_count = 0;
  // Set for DDL and other non-DML statements. DML results leave it unset: their message
  // ("Inserted 3 row(s)") follows from dml and row_count (Message(), DmlMessage()), so the
  // response writer formats it without an allocation on the INSERT path.
  std::optional<std::string> message;

  // `message`, or the DML message; nullopt when there is neither.
  std::optional<std::string> Message() const;
  // The effective user when it differs from the caller (EXECUTE AS USER); empty otherwise.
  std::string as_user;
};

// "Inserted 3 row(s)", "Updated 1 row(s)", "Deleted 0 row(s)" into `buffer` (at least 48
// bytes); returns the written text. Empty for Dml::kNone.
std::string_view DmlMessage(QueryResult::Dml dml, int64_t rows, char* buffer);

// Who runs the statements.
struct Session {
  std::string user_id;
  catalog::Role role = catalog::Role::kUser;
  std::string default_namespace = "default";
};

// SELECT row caps (config [limits]).
struct EngineLimits {
  // Rows returned by a SELECT without LIMIT; 0 = no implicit cap. Default: 50.
  int default_query_limit = 50;
  // Rows any SELECT returns at most. Default: 1000.
  int max_query_limit = 1000;
};

// User management as the engine needs it (CREATE/ALTER/DROP USER, system.users). Implemented
// outside src/sql (password hashing belongs to auth); see server/user_directory.cc.
class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  // Errors: kAlreadyExists, kInvalidArgument (bad password or name).
  virtual Status CreateUser(std::string_view user_id, std::string_view password, catalog::Role role,
                            std::optional<std::string> email, std::string_view auth_type) = 0;
  // Errors: kNotFound.
  virtual Status SetPassword(std::string_view user_id, std::string_view password) = 0;
  virtual Status SetRole(std::string_view user_id, catalog::Role role) = 0;
  virtual Status SetEmail(std::string_view user_id, std::string_view email) = 0;
  // Soft delete (deleted_at). Errors: kNotFound.
  virtual Status DropUser(std::string_view user_id) = 0;
  // A snapshot of one user (deleted ones included), or null.
  virtual std::shared_ptr<const catalog::User> Find(std::string_view user_id) const = 0;
  virtual std::vector<std::shared_ptr<const catalog::User>> List() const = 0;
};

class KeyWatermarks;

class Engine {
 public:
  // Borrows all three; they must outlive the engine. `users` may be null (user statements and
  // system.users then fail with kInvalidOperation).
  Engine(catalog::Catalog& catalog, storage::Store& store, EngineLimits limits = {},
         UserDirectory* users = nullptr);
  ~Engine();

  // Runs every statement of `sql` in order, binding `params` to $1..$n.
  // Errors: kEmptySql (no statement), kParamsWithBatch (params with several statements),
  // kInvalidSql (syntax, unsupported statement), kInvalidArgument (EXECUTE AS USER wrapper),
  // kPermissionDenied (role), and execution errors prefixed "Statement N failed: ".
  // On an execution error, `*failed_statement` (when given) receives the failing statement's
  // text, for the error's `details`.
  Result<std::vector<QueryResult>> Execute(const Session& session, std::string_view sql,
                                           std::span<const Param> params = {},
                                           std::string* failed_statement = nullptr);
  // The same into `*results` (cleared first), so that a caller can reuse one vector from
  // request to request (the API does: no allocation for the result list).
  //
  // Group commit: with `awaiting_sync` given and the store's sync_writes on, row writes do not
  // wait for their WAL fsync (storage::DeferSync); `*awaiting_sync` tells whether any happened,
  // and then, success or error, the caller must not answer before WhenDurable() releases it.
  Status ExecuteInto(const Session& session, std::string_view sql, std::span<const Param> params,
                     std::vector<QueryResult>* results, std::string* failed_statement = nullptr,
                     bool* awaiting_sync = nullptr);
  // Calls `done` once every write that returned so far is durable (storage::Store::WhenSynced):
  // on the store's sync thread, shared by every caller waiting at the time; quick hand-offs only.
  void WhenDurable(std::function<void(const Status&)> done);

 private:
  // What ExecuteTraced leaves for ExecuteInto to record once sql.execute has ended.
  struct TraceTail;
  // ExecuteInto() inside its sql.execute span.
  Status ExecuteTraced(const Session& session, std::string_view sql, std::span<const Param> params,
                       std::vector<QueryResult>* results, std::string* failed_statement,
                       TraceTail* tail);

  catalog::Catalog& catalog_;
  storage::Store& store_;
  const EngineLimits limits_;
  UserDirectory* users_;
  std::unique_ptr<KeyWatermarks> watermarks_;  // INSERT's primary-key check (key_watermarks.h)
};

// Deletes STREAM rows older than their table's TTL_SECONDS (at most 10,000 per table per
// call); returns how many were removed. Safe to call from any thread.
Result<int64_t> SweepExpiredStreamRows(catalog::Catalog& catalog, storage::Store& store);

}  // namespace kalamdb::sql
