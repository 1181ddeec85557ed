// sql.h: all that other subsystems see of src/sql/: SQL text in, results out.
//
// Foundation stage: the engine answers `SELECT 1` and rejects everything else with
// kInvalidSql. The full engine (parser, planner, executor over storage) replaces the inside of
// Engine::Execute without changing this face's shape.
//
// Thread-safety: Engine::Execute may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalamdb::sql {

struct Column {
  std::string name;
  std::string data_type;           // KalamDataType name: "BigInt", "Text" ...
  std::vector<std::string> flags;  // subset of "pk", "nn", "uq", in that order
};

// One entry of the response's `results` array.
struct QueryResult {
  // Row-returning statements set has_rows (then schema and rows are always written).
  bool has_rows = false;
  std::vector<Column> schema;
  // Cells already encoded as JSON values (BIGINT as strings, TIMESTAMP as integer micros).
  std::vector<std::vector<std::string>> rows;
  int64_t row_count = 0;
  std::optional<std::string> message;
};

// Who runs the statements.
struct Session {
  std::string user_id;
  bool is_admin = false;
  std::string default_namespace = "default";
};

class Engine {
 public:
  // Runs every statement of `sql` in order. Errors: kInvalidSql for unsupported statements.
  Result<std::vector<QueryResult>> Execute(const Session& session, std::string_view sql);
};

}  // namespace kalamdb::sql
