// splitter.h: cuts a request's SQL text into statements.
//
// Statements are separated by ';' outside single-quoted strings ('it''s'), double-quoted
// identifiers ("a""b"), `--` line comments, `/* */` block comments (not nested) and
// parentheses: a ';' inside (...) does not split, so `EXECUTE AS USER 'u' (a; b)` stays one
// statement and its parser can say that only one statement is allowed there. A ')' without a
// matching '(' is left for the parser to report.
//
// Each statement comes back without leading or trailing whitespace and comments; a statement
// that is empty after that (";;", "-- note") is skipped.
//
// Thread-safety: a pure function of its input.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/arena.h"
#include "common/status.h"

namespace kalamdb::sql {

struct StatementText {
  std::string_view text;  // borrows the `sql` passed to SplitStatements
  uint32_t offset = 0;    // byte offset of text.front() in that `sql`
};

// Splits `sql` into its statements, in order. The array lives in `arena`, the string_views
// borrow `sql`: both stay valid while `sql`'s bytes and the arena's allocations do.
// Errors (kInvalidSql, message "syntax error at position N: ..."): an unterminated string,
// quoted identifier or block comment, reported at the byte offset of its opening quote or
// "/*"; input of 4 GiB or more. On error, `*error_offset` (when given) receives that offset.
Result<std::span<const StatementText>> SplitStatements(std::string_view sql, Arena& arena,
                                                       uint32_t* error_offset = nullptr);

}  // namespace kalamdb::sql
