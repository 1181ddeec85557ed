// lexer.h: turns one statement's text into tokens that borrow it.
//
// Tokens: identifiers (bare, or "double-quoted" with "" for a quote), integer and decimal
// numbers (1, 1.5, .5, 1e-3), 'single-quoted' strings ('' for a quote), parameters $1..$n,
// the operators = <> != < <= > >= + - * / % || ( ) , . ; :: and a final kEnd token.
// Whitespace, `--` line comments and `/* */` block comments (not nested) separate tokens.
//
// Keywords are bare identifiers that the keyword table knows (case-insensitively); the token
// stays a kIdentifier and carries the Keyword, so the parser decides from context whether the
// word is a keyword or a name. Only the words that would make the grammar ambiguous are
// *reserved* (IsReserved) and cannot be bare names: clause starters (FROM, WHERE, ...),
// operator words (AND, IN, LIKE, ...), literals (NULL, TRUE, FALSE) and a few more. Names like
// id, value, key, type, user, name, role, status, data, timestamp, date, time, text are not
// reserved.
//
// Lifetimes: every Token::text borrows the input; token arrays from Tokenize live in the arena.
// Thread-safety: a Lexer is used by one thread; Tokenize is a pure function of its input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/arena.h"
#include "common/status.h"

namespace kalamdb::sql {

// X(enumerator, spelling, reserved)
#define KALAMDB_SQL_KEYWORDS(X)                   \
  X(kAll, "ALL", true)                            \
  X(kAlter, "ALTER", false)                       \
  X(kAnd, "AND", true)                            \
  X(kAs, "AS", true)                              \
  X(kAsc, "ASC", true)                            \
  X(kAuto, "AUTO", false)                         \
  X(kAutoIncrement, "AUTO_INCREMENT", false)      \
  X(kBetween, "BETWEEN", true)                    \
  X(kBy, "BY", false)                             \
  X(kCascade, "CASCADE", false)                   \
  X(kCase, "CASE", true)                          \
  X(kCast, "CAST", true)                          \
  X(kConstraint, "CONSTRAINT", false)             \
  X(kCreate, "CREATE", false)                     \
  X(kCross, "CROSS", true)                        \
  X(kCurrentTimestamp, "CURRENT_TIMESTAMP", true) \
  X(kCurrentUser, "CURRENT_USER", true)           \
  X(kDefault, "DEFAULT", false)                   \
  X(kDelete, "DELETE", false)                     \
  X(kDesc, "DESC", true)                          \
  X(kDescribe, "DESCRIBE", false)                 \
  X(kDistinct, "DISTINCT", true)                  \
  X(kDrop, "DROP", false)                         \
  X(kElse, "ELSE", true)                          \
  X(kEmail, "EMAIL", false)                       \
  X(kEnd, "END", true)                            \
  X(kExcept, "EXCEPT", true)                      \
  X(kExecute, "EXECUTE", false)                   \
  X(kExists, "EXISTS", false)                     \
  X(kFalse, "FALSE", true)                        \
  X(kFetch, "FETCH", true)                        \
  X(kFrom, "FROM", true)                          \
  X(kFull, "FULL", true)                          \
  X(kGroup, "GROUP", true)                        \
  X(kHaving, "HAVING", true)                      \
  X(kHistory, "HISTORY", false)                   \
  X(kIf, "IF", false)                             \
  X(kIlike, "ILIKE", true)                        \
  X(kIn, "IN", true)                              \
  X(kIncrement, "INCREMENT", false)               \
  X(kInner, "INNER", true)                        \
  X(kInsert, "INSERT", false)                     \
  X(kInternal, "INTERNAL", false)                 \
  X(kIntersect, "INTERSECT", true)                \
  X(kInto, "INTO", true)                          \
  X(kIs, "IS", true)                              \
  X(kJoin, "JOIN", true)                          \
  X(kKey, "KEY", false)                           \
  X(kLeft, "LEFT", true)                          \
  X(kLike, "LIKE", true)                          \
  X(kLimit, "LIMIT", true)                        \
  X(kNamespace, "NAMESPACE", false)               \
  X(kNamespaces, "NAMESPACES", false)             \
  X(kNot, "NOT", true)                            \
  X(kNull, "NULL", true)                          \
  X(kOauth, "OAUTH", false)                       \
  X(kOffset, "OFFSET", true)                      \
  X(kOn, "ON", true)                              \
  X(kOr, "OR", true)                              \
  X(kOrder, "ORDER", true)                        \
  X(kOuter, "OUTER", true)                        \
  X(kPassword, "PASSWORD", false)                 \
  X(kPrecision, "PRECISION", false)               \
  X(kPrimary, "PRIMARY", false)                   \
  X(kRight, "RIGHT", true)                        \
  X(kRole, "ROLE", false)                         \
  X(kSelect, "SELECT", true)                      \
  X(kSet, "SET", false)                           \
  X(kShared, "SHARED", false)                     \
  X(kShow, "SHOW", false)                         \
  X(kStream, "STREAM", false)                     \
  X(kTable, "TABLE", true)                        \
  X(kTables, "TABLES", false)                     \
  X(kThen, "THEN", true)                          \
  X(kTrue, "TRUE", true)                          \
  X(kUnion, "UNION", true)                        \
  X(kUnique, "UNIQUE", false)                     \
  X(kUpdate, "UPDATE", false)                     \
  X(kUse, "USE", false)                           \
  X(kUser, "USER", false)                         \
  X(kUsing, "USING", true)                        \
  X(kValues, "VALUES", false)                     \
  X(kWhen, "WHEN", true)                          \
  X(kWhere, "WHERE", true)                        \
  X(kWith, "WITH", true)

enum class Keyword : uint8_t {
  kNone = 0,
#define KALAMDB_SQL_KEYWORD_ENUM(name, spelling, reserved) name,
  KALAMDB_SQL_KEYWORDS(KALAMDB_SQL_KEYWORD_ENUM)
#undef KALAMDB_SQL_KEYWORD_ENUM
};

// The keyword spelled by `word` (any case), or kNone. `word` is a bare identifier's text.
Keyword LookupKeyword(std::string_view word);
// True when `keyword` cannot be used as a bare name. False for kNone.
bool IsReserved(Keyword keyword);
// The upper-case spelling; "" for kNone.
std::string_view KeywordSpelling(Keyword keyword);

enum class TokenKind : uint8_t {
  kEnd,               // end of input; text is empty, offset is the input's size
  kIdentifier,        // bare word; keyword set when the word is a keyword
  kQuotedIdentifier,  // "..." (text includes the quotes)
  kInteger,           // 123
  kDecimal,           // 1.5, .5, 1., 1e3, 1.5E-3
  kString,            // '...' (text includes the quotes)
  kParameter,         // $1 (text includes the '$')
  kEq,                // =
  kNotEq,             // <> or !=
  kLt,                // <
  kLtEq,              // <=
  kGt,                // >
  kGtEq,              // >=
  kPlus,              // +
  kMinus,             // -
  kStar,              // *
  kSlash,             // /
  kPercent,           // %
  kConcat,            // ||
  kLParen,            // (
  kRParen,            // )
  kComma,             // ,
  kDot,               // .
  kSemicolon,         // ;
  kDoubleColon,       // ::
};

struct Token {
  // The token's bytes exactly as written, quotes included (empty for kEnd).
  std::string_view text;
  uint32_t offset = 0;  // byte offset of text.front() in the lexed input
  TokenKind kind = TokenKind::kEnd;
  Keyword keyword = Keyword::kNone;  // kIdentifier only
  // kString / kQuotedIdentifier: the body contains a doubled quote, so Unquote must copy.
  bool has_escape = false;

  bool Is(TokenKind k) const { return kind == k; }
  bool Is(Keyword k) const { return keyword == k; }
};

// The body of a kString or kQuotedIdentifier token: the text between the quotes with each
// doubled quote made single. Borrows the input when the token has no escape (the common case);
// otherwise the unescaped copy is made in `arena`.
std::string_view Unquote(const Token& token, Arena& arena);

// Where and why lexing failed.
struct LexError {
  uint32_t offset = 0;
  const char* message = "";  // static text, e.g. "unterminated quoted string"
};

// Produces the tokens of `input` one at a time. REQUIRES: input.size() < 4 GiB.
class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // Stores the next token in `*token` and returns true; at the end of input stores a kEnd
  // token (again on every later call). Returns false on malformed input and fills error().
  bool Next(Token* token);
  const LexError& error() const { return error_; }

 private:
  bool Fail(size_t offset, const char* message);

  std::string_view input_;
  size_t pos_ = 0;
  LexError error_;
};

// All tokens of `input`, ending with one kEnd token, in an array in `arena`.
// Errors: kInvalidSql "syntax error at position N: <why>" for an unterminated string, quoted
// identifier or block comment, an empty quoted identifier, a malformed number (1e, 12abc), a
// '$' without digits, an unexpected character, or input of 4 GiB or more. `*error_offset`
// (when given) receives N.
Result<std::span<const Token>> Tokenize(std::string_view input, Arena& arena,
                                        uint32_t* error_offset = nullptr);

// "syntax error at position <offset>: <detail>" as a kInvalidSql Status.
Status SyntaxError(uint32_t offset, std::string_view detail);

}  // namespace kalamdb::sql
