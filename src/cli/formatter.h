// formatter.h: renders query results as an aligned table, JSON or CSV.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/sql_response.h"

namespace kalamdb::cli {

enum class Format { kTable, kJson, kCsv };

// "table" | "json" | "csv" -> Format; nullopt otherwise.
std::optional<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format format);

// Renders one result, ending with a newline.
// Row results:
//   table: header, separator, rows (columns left-aligned and padded, " | " between them; NULL
//          as NULL; newlines and tabs in values shown as \n and \t), then "(N rows) in T ms"
//          where T is `took_ms` (the server's `took`);
//   json:  one line, an array of objects {"column": value, ...} with the values' JSON;
//   csv:   header line then one line per row (RFC 4180 quoting, NULL as an empty field).
// Other results: the message verbatim (or "OK, N row(s)" when there is none); json format
// wraps it as {"message":..,"row_count":N}.
std::string FormatResult(const QueryResult& result, Format format, double took_ms);

// Number of terminal columns `text` takes (UTF-8 code points).
size_t DisplayWidth(std::string_view text);

}  // namespace kalamdb::cli
