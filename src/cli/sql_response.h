// sql_response.h: the parsed answer of POST /v1/api/sql, and its parser (simdjson).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kalamdb::cli {

// One value of a row.
struct Cell {
  bool is_null = false;
  std::string text;  // display text: strings raw, other values as their JSON text
  std::string json;  // the value's JSON text
};

// One element of `results`.
struct QueryResult {
  bool has_rows = false;             // a row result (schema + rows), even if empty
  std::vector<std::string> columns;  // in schema index order
  std::vector<std::vector<Cell>> rows;
  int64_t row_count = 0;
  std::string message;  // DML/DDL text; empty when absent
};

struct SqlResponse {
  bool ok = false;
  int http_status = 0;
  std::string error_code;  // on failure: the server's code (or a client-side one)
  std::string error_message;
  double took_ms = 0;
  std::vector<QueryResult> results;
};

// Parses the JSON body of a /v1/api/sql answer. A body that is not the documented envelope
// yields ok=false with code INVALID_RESPONSE.
SqlResponse ParseSqlResponse(int http_status, std::string_view body);

}  // namespace kalamdb::cli
