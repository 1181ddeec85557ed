// parser.h: one statement's text (or tokens) to its parse tree (ast.h).
//
// A hand-written recursive-descent parser over the Tokenize() output. The grammar is the
// KalamDB subset described in ast.h; see parser.cc for the productions. Expression precedence,
// loosest first: OR, AND, NOT, comparisons (= <> < <= > >= [NOT] LIKE/ILIKE/IN/BETWEEN,
// IS [NOT] NULL), ||, + -, * / %, unary + -, postfix ::type.
//
// Errors (Status code kInvalidSql unless noted), with byte offsets into the statement:
//   "syntax error at position N: expected ')' but found 'FROM'"   (or "... found end of input")
//   "syntax error at position N: expression nested too deeply (limit 200)"
//   "syntax error at position N: expression too complex (limit 1000 levels)"
//   "syntax error at position N: <lexer error>"                    (see lexer.h)
//   "Unsupported statement type: ALTER TABLE"                      (N = the first word)
//   kInvalidArgument "EXECUTE AS USER accepts only a single SQL statement"
// The two limits bound the parser's recursion and the tree's height, so no input can overflow
// the stack here or in a later walk over the tree.
//
// Lifetimes: the tree lives in `arena` and borrows the statement text; both must outlive it.
// Thread-safety: pure functions of their input; use one arena per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/arena.h"
#include "common/status.h"
#include "sql/ast.h"
#include "sql/lexer.h"

namespace kalamdb::sql {

// Nesting limit for expressions, parentheses and unary operators while parsing.
inline constexpr int kMaxExpressionDepth = 200;
// Limit on the height of an expression tree (Expr::height), which also bounds long operator
// chains such as a AND b AND c ..., so later recursive walks cannot overflow the stack.
inline constexpr int kMaxExpressionHeight = 1000;

// Parses exactly one statement (an optional trailing ';' is allowed). The statement usually
// comes from SplitStatements; offsets in errors and nodes are relative to `statement`.
// On error, `*error_offset` (when given) receives the offset N of the message.
Result<Statement*> Parse(std::string_view statement, Arena& arena,
                         uint32_t* error_offset = nullptr);

// The same over tokens already produced by Tokenize() (e.g. after computing the statement's
// shape). REQUIRES: `tokens` is a Tokenize() result, ending with its kEnd token.
Result<Statement*> ParseTokens(std::span<const Token> tokens, Arena& arena,
                               uint32_t* error_offset = nullptr);

}  // namespace kalamdb::sql
