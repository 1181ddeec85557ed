// Grammar (keywords case-insensitive; [x] optional, {x} repeated, a | b alternatives):
//
//   statement   := create | drop | show | use | describe | insert | select | update | delete
//                | alter_user | execute_as
//   create      := CREATE NAMESPACE [IF NOT EXISTS] name
//                | CREATE [USER|SHARED|STREAM] TABLE [IF NOT EXISTS] table_ref
//                    '(' element {',' element} ')' [USING <tokens up to WITH>]
//                    [WITH '(' option {',' option} ')']
//                | CREATE USER user WITH (PASSWORD string | OAUTH [string] | INTERNAL)
//                    {ROLE user | EMAIL string}
//   element     := name type {NOT NULL | NULL | DEFAULT expr | PRIMARY KEY | AUTO_INCREMENT
//                    | AUTO INCREMENT | UNIQUE}
//                | [CONSTRAINT name] PRIMARY KEY '(' name {',' name} ')'
//   type        := word ['(' integer [',' integer] ')'] | DOUBLE PRECISION
//   option      := word '=' (literal | ['+'|'-'] number | word)
//   drop        := DROP NAMESPACE [IF EXISTS] name [CASCADE]
//                | DROP [USER|SHARED|STREAM] TABLE [IF EXISTS] table_ref
//                | DROP USER [IF EXISTS] user
//   show        := SHOW NAMESPACES | SHOW TABLES [(IN|FROM) [NAMESPACE] name]
//   use         := USE [NAMESPACE] name | SET NAMESPACE name
//   describe    := (DESCRIBE|DESC) [TABLE] table_ref [HISTORY]
//   insert      := INSERT INTO table_ref ['(' name {',' name} ')']
//                    (VALUES row {',' row} | select)
//   row         := '(' expr {',' expr} ')'
//   select      := SELECT [DISTINCT|ALL] item {',' item} [FROM table_ref [[AS] name]]
//                    [WHERE expr] [GROUP BY expr {',' expr}] [HAVING expr]
//                    [ORDER BY expr [ASC|DESC] {',' ...}] {LIMIT count | OFFSET count}
//   item        := '*' | name '.' '*' | expr [[AS] name]
//   count       := integer | parameter
//   update      := UPDATE table_ref SET name '=' expr {',' name '=' expr} [WHERE expr]
//   delete      := DELETE FROM table_ref [WHERE expr]
//   alter_user  := ALTER USER user SET (PASSWORD string | ROLE user | EMAIL string)
//   execute_as  := EXECUTE AS USER user '(' statement [';'] ')'
//   user        := string | name
//   table_ref   := name ['.' name]
//   name        := bare identifier that is not reserved | "quoted identifier"
//
//   expr        := precedence climbing over OR < AND < NOT < comparison < || < +- < */% ;
//   unary       := ('-'|'+') unary | postfix
//   postfix     := primary {'::' type}
//   primary     := number | string | TRUE | FALSE | NULL | parameter | '(' expr ')'
//                | CAST '(' expr AS type ')' | CURRENT_TIMESTAMP ['(' ')']
//                | CURRENT_USER ['(' ')'] | name '(' ['*' | [DISTINCT] expr {',' expr}] ')'
//                | name ['.' name]

#include "sql/parser.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

namespace kalamdb::sql {
namespace {

enum Precedence : int {
  kPrecOr = 1,
  kPrecAnd = 2,
  kPrecNot = 3,
  kPrecCompare = 4,
  kPrecConcat = 5,
  kPrecAdditive = 6,
  kPrecMultiplicative = 7,
};

// The binary operator `token` spells, with its precedence; false when it is none.
bool BinaryOperatorOf(const Token& token, BinaryOp* op, int* precedence) {
  switch (token.kind) {
    case TokenKind::kEq:
      *op = BinaryOp::kEq;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kNotEq:
      *op = BinaryOp::kNotEq;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kLt:
      *op = BinaryOp::kLt;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kLtEq:
      *op = BinaryOp::kLtEq;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kGt:
      *op = BinaryOp::kGt;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kGtEq:
      *op = BinaryOp::kGtEq;
      *precedence = kPrecCompare;
      return true;
    case TokenKind::kConcat:
      *op = BinaryOp::kConcat;
      *precedence = kPrecConcat;
      return true;
    case TokenKind::kPlus:
      *op = BinaryOp::kAdd;
      *precedence = kPrecAdditive;
      return true;
    case TokenKind::kMinus:
      *op = BinaryOp::kSubtract;
      *precedence = kPrecAdditive;
      return true;
    case TokenKind::kStar:
      *op = BinaryOp::kMultiply;
      *precedence = kPrecMultiplicative;
      return true;
    case TokenKind::kSlash:
      *op = BinaryOp::kDivide;
      *precedence = kPrecMultiplicative;
      return true;
    case TokenKind::kPercent:
      *op = BinaryOp::kModulo;
      *precedence = kPrecMultiplicative;
      return true;
    case TokenKind::kIdentifier:
      if (token.keyword == Keyword::kAnd) {
        *op = BinaryOp::kAnd;
        *precedence = kPrecAnd;
        return true;
      }
      if (token.keyword == Keyword::kOr) {
        *op = BinaryOp::kOr;
        *precedence = kPrecOr;
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool IsWord(const Token& token) { return token.kind == TokenKind::kIdentifier; }

// A token usable as a bare name: an identifier that is not a reserved keyword, or quoted.
bool IsName(const Token& token) {
  return (token.kind == TokenKind::kIdentifier && !IsReserved(token.keyword)) ||
         token.kind == TokenKind::kQuotedIdentifier;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::span<const Token> tokens, Arena& arena) : tokens_(tokens), arena_(arena) {}

  // statement [';'] end
  Statement* ParseTop() {
    Statement* statement = ParseStatement(/*nested=*/false);
    if (statement == nullptr || failed_) return nullptr;
    Accept(TokenKind::kSemicolon);
    if (!Cur().Is(TokenKind::kEnd)) return Fail("end of statement");
    return statement;
  }

  Status TakeError(uint32_t* error_offset) {
    if (error_offset != nullptr) *error_offset = error_offset_;
    if (error_message_.empty()) error_message_ = "syntax error";  // not expected to happen
    return Status(error_code_, std::move(error_message_));
  }

 private:
  // Counts one level of expression nesting for as long as it lives.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* parser) : parser_(parser) {
      ok_ = ++parser_->depth_ <= kMaxExpressionDepth;
      if (!ok_) {
        parser_->Error(parser_->Cur().offset, "expression nested too deeply (limit " +
                                                  std::to_string(kMaxExpressionDepth) + ")");
      }
    }
    ~DepthGuard() { --parser_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    bool ok() const { return ok_; }

   private:
    Parser* parser_;
    bool ok_;
  };

  // ---- Token access ---------------------------------------------------------------------

  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Peek(size_t ahead) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  // Moves to the next token; never past the final kEnd.
  void Advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool Accept(TokenKind kind) {
    if (!Cur().Is(kind)) return false;
    Advance();
    return true;
  }
  bool Accept(Keyword keyword) {
    if (!Cur().Is(keyword)) return false;
    Advance();
    return true;
  }
  bool Expect(TokenKind kind, const char* what) { return Accept(kind) || Fail(what); }
  bool Expect(Keyword keyword) { return Accept(keyword) || Fail(KeywordSpelling(keyword)); }

  // ---- Errors ---------------------------------------------------------------------------
  // The first error wins; every parse function returns null/false once one is recorded.

  // What the error helpers return: converts to false or to a null node pointer, so that
  // `return Fail(...)` fits every parse function.
  struct Failure {
    template <typename T>
    operator T*() const {  // NOLINT(google-explicit-constructor)
      return nullptr;
    }
    operator bool() const { return false; }  // NOLINT(google-explicit-constructor)
  };

  Failure Error(uint32_t offset, std::string detail, ErrorCode code = ErrorCode::kInvalidSql,
                bool syntax = true) {
    if (failed_) return {};
    failed_ = true;
    error_offset_ = offset;
    error_code_ = code;
    if (syntax) {
      error_message_ = "syntax error at position " + std::to_string(offset) + ": ";
      error_message_ += detail;
    } else {
      error_message_ = std::move(detail);
    }
    return {};
  }

  // "expected <what> but found '<current token>'" at the current token.
  Failure Fail(std::string_view what) {
    const Token& found = Cur();
    std::string detail = "expected ";
    detail += what;
    detail += " but found ";
    if (found.Is(TokenKind::kEnd)) {
      detail += "end of input";
    } else {
      constexpr size_t kMaxShown = 40;
      detail += '\'';
      detail += found.text.substr(0, kMaxShown);
      if (found.text.size() > kMaxShown) detail += "...";
      detail += '\'';
    }
    return Error(found.offset, std::move(detail));
  }

  Failure Unsupported(const Token& first, const Token* second) {
    std::string detail = "Unsupported statement type: " + Upper(first.text);
    if (second != nullptr && IsWord(*second)) detail += " " + Upper(second->text);
    return Error(first.offset, std::move(detail), ErrorCode::kInvalidSql, /*syntax=*/false);
  }

  // ---- Names, literals, types --------------------------------------------------------------

  bool ParseName(Identifier* out, const char* what) {
    const Token& token = Cur();
    if (token.kind == TokenKind::kIdentifier && !IsReserved(token.keyword)) {
      *out = Identifier{token.text, token.offset, false};
    } else if (token.kind == TokenKind::kQuotedIdentifier) {
      *out = Identifier{Unquote(token, arena_), token.offset, true};
    } else {
      return Fail(what);
    }
    Advance();
    return true;
  }

  bool ParseTableRef(TableRef* out) {
    Identifier first;
    if (!ParseName(&first, "table name")) return false;
    if (Accept(TokenKind::kDot)) {
      out->namespace_name = first;
      return ParseName(&out->table, "table name");
    }
    out->table = first;
    return true;
  }

  bool ParseString(std::string_view* out, const char* what) {
    if (!Cur().Is(TokenKind::kString)) return Fail(what);
    *out = Unquote(Cur(), arena_);
    Advance();
    return true;
  }

  // A user name or role: 'string', bare name or "quoted name".
  bool ParseUserName(std::string_view* out, const char* what) {
    if (Cur().Is(TokenKind::kString)) return ParseString(out, what);
    if (!IsName(Cur())) return Fail(what);
    Identifier name;
    if (!ParseName(&name, what)) return false;
    *out = name.name;
    return true;
  }

  bool ParseTypeParam(int32_t* out) {
    const Token& token = Cur();
    if (!token.Is(TokenKind::kInteger)) return Fail("integer");
    const char* end = token.text.data() + token.text.size();
    auto [ptr, ec] = std::from_chars(token.text.data(), end, *out);
    if (ec != std::errc() || ptr != end) {
      return Error(token.offset, "type parameter out of range");
    }
    Advance();
    return true;
  }

  bool ParseType(TypeName* out) {
    const Token& token = Cur();
    if (token.kind != TokenKind::kIdentifier || IsReserved(token.keyword)) {
      return Fail("type name");
    }
    out->name = token.text;
    out->offset = token.offset;
    Advance();
    if (Cur().Is(Keyword::kPrecision) && EqualsIgnoreCase(out->name, "DOUBLE")) {
      out->name = "DOUBLE PRECISION";
      Advance();
    }
    if (Accept(TokenKind::kLParen)) {
      if (!ParseTypeParam(&out->params[0])) return false;
      out->param_count = 1;
      if (Accept(TokenKind::kComma)) {
        if (!ParseTypeParam(&out->params[1])) return false;
        out->param_count = 2;
      }
      if (!Expect(TokenKind::kRParen, "')'")) return false;
    }
    return true;
  }

  LiteralExpr* MakeLiteral(const Token& token, LiteralKind kind) {
    auto* literal = arena_.New<LiteralExpr>(token.offset);
    literal->literal_kind = kind;
    switch (kind) {
      case LiteralKind::kInteger:
      case LiteralKind::kDecimal:
        literal->text = token.text;
        break;
      case LiteralKind::kString:
        literal->text = Unquote(token, arena_);
        break;
      case LiteralKind::kBoolean:
        literal->boolean = token.Is(Keyword::kTrue);
        break;
      case LiteralKind::kNull:
        break;
    }
    return literal;
  }

  ParameterExpr* ParseParameter() {
    const Token& token = Cur();
    uint32_t index = 0;
    std::string_view digits = token.text.substr(1);
    const char* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, index);
    if (ec != std::errc() || ptr != end || index == 0 || index > 65535) {
      return Error(token.offset, "parameter index must be between $1 and $65535");
    }
    auto* parameter = arena_.New<ParameterExpr>(token.offset);
    parameter->index = index;
    Advance();
    return parameter;
  }

  // ---- Expressions ---------------------------------------------------------------------------

  // Sets `node`'s height to one more than its tallest child; fails beyond the limit.
  bool SetHeight(Expr* node, int child_height) {
    if (child_height >= kMaxExpressionHeight) {
      return Error(node->offset, "expression too complex (limit " +
                                     std::to_string(kMaxExpressionHeight) + " levels)");
    }
    node->height = static_cast<uint16_t>(child_height + 1);
    return true;
  }

  static int MaxHeight(std::span<Expr* const> list) {
    int height = 0;
    for (const Expr* expr : list) height = expr->height > height ? expr->height : height;
    return height;
  }

  Expr* ParseExpr(int min_precedence = kPrecOr) {
    DepthGuard guard(this);
    if (!guard.ok()) return nullptr;
    Expr* left;
    if (Cur().Is(Keyword::kNot) && min_precedence <= kPrecNot) {
      uint32_t offset = Cur().offset;
      Advance();
      Expr* operand = ParseExpr(kPrecNot);
      if (operand == nullptr) return nullptr;
      left = MakeUnary(UnaryOp::kNot, operand, offset);
      if (left == nullptr) return nullptr;
    } else {
      left = ParseUnary();
      if (left == nullptr) return nullptr;
    }
    for (;;) {
      const Token& token = Cur();
      BinaryOp op;
      int precedence;
      if (BinaryOperatorOf(token, &op, &precedence)) {
        if (precedence < min_precedence) break;
        Advance();
        Expr* right = ParseExpr(precedence + 1);
        if (right == nullptr) return nullptr;
        auto* binary = arena_.New<BinaryExpr>(token.offset);
        binary->op = op;
        binary->left = left;
        binary->right = right;
        if (!SetHeight(binary, std::max(left->height, right->height))) return nullptr;
        left = binary;
        continue;
      }
      // The comparison-level keyword operators, optionally negated by a leading NOT.
      bool negated = token.Is(Keyword::kNot);
      const Token& word = negated ? Peek(1) : token;
      if (!word.Is(Keyword::kLike) && !word.Is(Keyword::kIlike) && !word.Is(Keyword::kIn) &&
          !word.Is(Keyword::kBetween) && (negated || !word.Is(Keyword::kIs))) {
        break;
      }
      if (kPrecCompare < min_precedence) break;
      if (negated) Advance();
      Advance();
      if (word.Is(Keyword::kLike) || word.Is(Keyword::kIlike)) {
        Expr* pattern = ParseExpr(kPrecCompare + 1);
        if (pattern == nullptr) return nullptr;
        auto* like = arena_.New<LikeExpr>(token.offset);
        like->negated = negated;
        like->case_insensitive = word.Is(Keyword::kIlike);
        like->value = left;
        like->pattern = pattern;
        if (!SetHeight(like, std::max(left->height, pattern->height))) return nullptr;
        left = like;
      } else if (word.Is(Keyword::kIn)) {
        if (!Expect(TokenKind::kLParen, "'('")) return nullptr;
        ArenaVector<Expr*> list(arena_);
        do {
          Expr* item = ParseExpr();
          if (item == nullptr) return nullptr;
          list.push_back(item);
        } while (Accept(TokenKind::kComma));
        if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
        auto* in = arena_.New<InListExpr>(token.offset);
        in->negated = negated;
        in->value = left;
        in->list = list.view();
        if (!SetHeight(in, std::max<int>(left->height, MaxHeight(in->list)))) return nullptr;
        left = in;
      } else if (word.Is(Keyword::kBetween)) {
        Expr* low = ParseExpr(kPrecCompare + 1);
        if (low == nullptr || !Expect(Keyword::kAnd)) return nullptr;
        Expr* high = ParseExpr(kPrecCompare + 1);
        if (high == nullptr) return nullptr;
        auto* between = arena_.New<BetweenExpr>(token.offset);
        between->negated = negated;
        between->value = left;
        between->low = low;
        between->high = high;
        int child_height = std::max({left->height, low->height, high->height});
        if (!SetHeight(between, child_height)) return nullptr;
        left = between;
      } else {  // IS [NOT] NULL
        bool is_not = Accept(Keyword::kNot);
        if (!Expect(Keyword::kNull)) return nullptr;
        auto* is_null = arena_.New<IsNullExpr>(token.offset);
        is_null->negated = is_not;
        is_null->value = left;
        if (!SetHeight(is_null, left->height)) return nullptr;
        left = is_null;
      }
    }
    return left;
  }

  UnaryExpr* MakeUnary(UnaryOp op, Expr* operand, uint32_t offset) {
    auto* unary = arena_.New<UnaryExpr>(offset);
    unary->op = op;
    unary->operand = operand;
    if (!SetHeight(unary, operand->height)) return nullptr;
    return unary;
  }

  Expr* ParseUnary() {
    const Token& token = Cur();
    if (token.Is(TokenKind::kMinus) || token.Is(TokenKind::kPlus)) {
      DepthGuard guard(this);
      if (!guard.ok()) return nullptr;
      Advance();
      Expr* operand = ParseUnary();
      if (operand == nullptr) return nullptr;
      return MakeUnary(token.Is(TokenKind::kMinus) ? UnaryOp::kMinus : UnaryOp::kPlus, operand,
                       token.offset);
    }
    Expr* expr = ParsePrimary();
    while (expr != nullptr && Cur().Is(TokenKind::kDoubleColon)) {
      auto* cast = arena_.New<CastExpr>(Cur().offset);
      Advance();
      if (!ParseType(&cast->type)) return nullptr;
      cast->value = expr;
      if (!SetHeight(cast, expr->height)) return nullptr;
      expr = cast;
    }
    return expr;
  }

  // The literal a token is on its own (a number, a string, TRUE, FALSE, NULL), if any.
  static std::optional<LiteralKind> LiteralKindOf(const Token& token) {
    switch (token.kind) {
      case TokenKind::kInteger:
        return LiteralKind::kInteger;
      case TokenKind::kDecimal:
        return LiteralKind::kDecimal;
      case TokenKind::kString:
        return LiteralKind::kString;
      case TokenKind::kIdentifier:
        if (token.keyword == Keyword::kTrue || token.keyword == Keyword::kFalse)
          return LiteralKind::kBoolean;
        if (token.keyword == Keyword::kNull) return LiteralKind::kNull;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  Expr* ParsePrimary() {
    const Token& token = Cur();
    if (const std::optional<LiteralKind> kind = LiteralKindOf(token)) {
      Advance();
      return MakeLiteral(token, *kind);
    }
    switch (token.kind) {
      case TokenKind::kParameter:
        return ParseParameter();
      case TokenKind::kLParen: {
        Advance();
        Expr* inner = ParseExpr();
        if (inner == nullptr || !Expect(TokenKind::kRParen, "')'")) return nullptr;
        return inner;
      }
      case TokenKind::kQuotedIdentifier:
        return ParseNameExpr();
      case TokenKind::kIdentifier:
        break;
      default:
        return Fail("expression");
    }
    switch (token.keyword) {
      case Keyword::kCast: {
        Advance();
        if (!Expect(TokenKind::kLParen, "'('")) return nullptr;
        Expr* value = ParseExpr();
        if (value == nullptr || !Expect(Keyword::kAs)) return nullptr;
        auto* cast = arena_.New<CastExpr>(token.offset);
        cast->value = value;
        if (!ParseType(&cast->type) || !Expect(TokenKind::kRParen, "')'") ||
            !SetHeight(cast, value->height)) {
          return nullptr;
        }
        return cast;
      }
      case Keyword::kCurrentTimestamp:
      case Keyword::kCurrentUser: {
        Advance();
        if (Cur().Is(TokenKind::kLParen) && Peek(1).Is(TokenKind::kRParen)) {
          Advance();
          Advance();
        }
        auto* call = arena_.New<FunctionCallExpr>(token.offset);
        call->name = Identifier{KeywordSpelling(token.keyword), token.offset, false};
        return call;
      }
      default:
        if (IsReserved(token.keyword)) return Fail("expression");
        return ParseNameExpr();
    }
  }

  // name '(' args ')' | name ['.' name]
  Expr* ParseNameExpr() {
    const Token& token = Cur();
    Identifier first;
    if (!ParseName(&first, "expression")) return nullptr;
    if (Cur().Is(TokenKind::kLParen)) {
      Advance();
      auto* call = arena_.New<FunctionCallExpr>(token.offset);
      call->name = first;
      if (Accept(TokenKind::kStar)) {
        call->star = true;
      } else if (!Cur().Is(TokenKind::kRParen)) {
        call->distinct = Accept(Keyword::kDistinct);
        ArenaVector<Expr*> args(arena_);
        do {
          Expr* arg = ParseExpr();
          if (arg == nullptr) return nullptr;
          args.push_back(arg);
        } while (Accept(TokenKind::kComma));
        call->args = args.view();
        if (!SetHeight(call, MaxHeight(call->args))) return nullptr;
      }
      if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
      return call;
    }
    auto* ref = arena_.New<ColumnRefExpr>(token.offset);
    if (Accept(TokenKind::kDot)) {
      ref->table = first;
      if (!ParseName(&ref->column, "column name")) return nullptr;
    } else {
      ref->column = first;
    }
    return ref;
  }

  // ---- Statements ---------------------------------------------------------------------------

  Statement* ParseStatement(bool nested) {
    const Token& first = Cur();
    if (!IsWord(first)) return Fail("statement");
    switch (first.keyword) {
      case Keyword::kSelect:
        return ParseSelect();
      case Keyword::kInsert:
        return ParseInsert();
      case Keyword::kUpdate:
        return ParseUpdate();
      case Keyword::kDelete:
        return ParseDelete();
      case Keyword::kCreate:
        return ParseCreate();
      case Keyword::kDrop:
        return ParseDrop();
      case Keyword::kShow:
        return ParseShow();
      case Keyword::kUse:
        return ParseUse();
      case Keyword::kSet:
        if (Peek(1).Is(Keyword::kNamespace)) return ParseUse();
        return Unsupported(first, &Peek(1));
      case Keyword::kDescribe:
      case Keyword::kDesc:
        return ParseDescribe();
      case Keyword::kAlter:
        if (Peek(1).Is(Keyword::kUser)) return ParseAlterUser();
        return Unsupported(first, &Peek(1));
      case Keyword::kExecute:
        if (nested) {
          return Error(first.offset, "EXECUTE AS USER cannot be nested");
        }
        return ParseExecuteAsUser();
      default:
        return Unsupported(first, nullptr);
    }
  }

  // IF NOT EXISTS, when present.
  bool ParseIfNotExists(bool* out) {
    if (!Cur().Is(Keyword::kIf) || !Peek(1).Is(Keyword::kNot)) return true;
    Advance();
    Advance();
    *out = true;
    return Expect(Keyword::kExists);
  }

  // IF EXISTS, when present.
  void ParseIfExists(bool* out) {
    if (Cur().Is(Keyword::kIf) && Peek(1).Is(Keyword::kExists)) {
      Advance();
      Advance();
      *out = true;
    }
  }

  Statement* ParseCreate() {
    const Token& create = Cur();
    Advance();
    const Token& what = Cur();
    if (what.Is(Keyword::kNamespace)) {
      Advance();
      auto* stmt = arena_.New<CreateNamespaceStmt>(create.offset);
      if (!ParseIfNotExists(&stmt->if_not_exists) || !ParseName(&stmt->name, "namespace name")) {
        return nullptr;
      }
      return stmt;
    }
    TableType type = TableType::kUnspecified;
    if (what.Is(Keyword::kUser)) {
      if (!Peek(1).Is(Keyword::kTable)) return ParseCreateUser(create.offset);
      type = TableType::kUser;
    } else if (what.Is(Keyword::kShared)) {
      type = TableType::kShared;
    } else if (what.Is(Keyword::kStream)) {
      type = TableType::kStream;
    }
    if (type != TableType::kUnspecified) Advance();
    if (Cur().Is(Keyword::kTable)) return ParseCreateTable(create.offset, type);
    if (type != TableType::kUnspecified) return Fail("TABLE");
    if (IsWord(what)) return Unsupported(create, &what);
    return Fail("NAMESPACE, TABLE or USER");
  }

  Statement* ParseCreateTable(uint32_t offset, TableType type) {
    Advance();  // TABLE
    auto* stmt = arena_.New<CreateTableStmt>(offset);
    stmt->table_type = type;
    if (!ParseIfNotExists(&stmt->if_not_exists) || !ParseTableRef(&stmt->table) ||
        !Expect(TokenKind::kLParen, "'('")) {
      return nullptr;
    }
    ArenaVector<ColumnDef> columns(arena_);
    columns.reserve(8);
    do {
      const Token& token = Cur();
      // CONSTRAINT c PRIMARY KEY (...), told apart from a column named "constraint".
      bool constraint = token.Is(Keyword::kConstraint) && IsName(Peek(1)) &&
                        Peek(2).Is(Keyword::kPrimary) && Peek(3).Is(Keyword::kKey) &&
                        Peek(4).Is(TokenKind::kLParen);
      if (constraint || (token.Is(Keyword::kPrimary) && Peek(1).Is(Keyword::kKey))) {
        if (!stmt->primary_key_columns.empty()) {
          return Error(token.offset, "multiple PRIMARY KEY clauses");
        }
        if (constraint) {
          Advance();
          if (!ParseName(&stmt->primary_key_constraint, "constraint name")) return nullptr;
        }
        if (!Expect(Keyword::kPrimary) || !Expect(Keyword::kKey) ||
            !Expect(TokenKind::kLParen, "'('")) {
          return nullptr;
        }
        ArenaVector<Identifier> key_columns(arena_);
        do {
          Identifier column;
          if (!ParseName(&column, "column name")) return nullptr;
          key_columns.push_back(column);
        } while (Accept(TokenKind::kComma));
        if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
        stmt->primary_key_columns = key_columns.view();
        continue;
      }
      ColumnDef column;
      if (!ParseColumnDef(&column)) return nullptr;
      columns.push_back(column);
    } while (Accept(TokenKind::kComma));
    if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
    if (columns.empty()) return Error(Cur().offset, "a table needs at least one column");
    stmt->columns = columns.view();

    if (Accept(Keyword::kUsing)) {
      // USING <anything>: skipped up to WITH, the end, or an unmatched ')' (EXECUTE AS).
      int depth = 0;
      while (!Cur().Is(TokenKind::kEnd) && !Cur().Is(TokenKind::kSemicolon) &&
             !(depth == 0 && (Cur().Is(Keyword::kWith) || Cur().Is(TokenKind::kRParen)))) {
        if (Cur().Is(TokenKind::kLParen)) ++depth;
        if (Cur().Is(TokenKind::kRParen)) --depth;
        Advance();
      }
    }
    if (Accept(Keyword::kWith)) {
      if (!Expect(TokenKind::kLParen, "'('")) return nullptr;
      ArenaVector<TableOption> options(arena_);
      do {
        TableOption option;
        const Token& key = Cur();
        if (key.Is(TokenKind::kIdentifier)) {
          option.key = Identifier{key.text, key.offset, false};
          Advance();
        } else if (!ParseName(&option.key, "option name")) {
          return nullptr;
        }
        if (!Expect(TokenKind::kEq, "'='")) return nullptr;
        option.value = ParseOptionValue();
        if (option.value == nullptr) return nullptr;
        options.push_back(option);
      } while (Accept(TokenKind::kComma));
      if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
      stmt->options = options.view();
    }
    return stmt;
  }

  bool ParseColumnDef(ColumnDef* column) {
    if (!ParseName(&column->name, "column name") || !ParseType(&column->type)) return false;
    for (;;) {
      const Token& token = Cur();
      Nullability nullability = Nullability::kUnspecified;
      if (token.Is(Keyword::kNot)) {
        Advance();
        if (!Expect(Keyword::kNull)) return false;
        nullability = Nullability::kNotNull;
      } else if (token.Is(Keyword::kNull)) {
        Advance();
        nullability = Nullability::kNull;
      } else if (token.Is(Keyword::kDefault)) {
        Advance();
        column->default_value = ParseExpr();
        if (column->default_value == nullptr) return false;
      } else if (token.Is(Keyword::kPrimary)) {
        Advance();
        if (!Expect(Keyword::kKey)) return false;
        column->primary_key = true;
      } else if (token.Is(Keyword::kAutoIncrement)) {
        Advance();
        column->auto_increment = true;
      } else if (token.Is(Keyword::kAuto)) {
        Advance();
        if (!Expect(Keyword::kIncrement)) return false;
        column->auto_increment = true;
      } else if (token.Is(Keyword::kUnique)) {
        Advance();
        column->unique = true;
      } else {
        return true;
      }
      if (nullability != Nullability::kUnspecified) {
        if (column->nullability != Nullability::kUnspecified &&
            column->nullability != nullability) {
          return Error(token.offset, "conflicting NULL/NOT NULL declarations");
        }
        column->nullability = nullability;
      }
    }
  }

  Expr* ParseOptionValue() {
    const Token& token = Cur();
    switch (token.kind) {
      case TokenKind::kString:
      case TokenKind::kInteger:
      case TokenKind::kDecimal:
        return ParsePrimary();
      case TokenKind::kMinus:
      case TokenKind::kPlus: {
        const Token& number = Peek(1);
        if (!number.Is(TokenKind::kInteger) && !number.Is(TokenKind::kDecimal)) {
          Advance();
          return Fail("number");
        }
        return ParseUnary();
      }
      case TokenKind::kIdentifier:
        if (token.Is(Keyword::kTrue) || token.Is(Keyword::kFalse) || token.Is(Keyword::kNull)) {
          return ParsePrimary();
        } else {
          auto* ref = arena_.New<ColumnRefExpr>(token.offset);
          ref->column = Identifier{token.text, token.offset, false};
          Advance();
          return ref;
        }
      case TokenKind::kQuotedIdentifier: {
        auto* ref = arena_.New<ColumnRefExpr>(token.offset);
        if (!ParseName(&ref->column, "option value")) return nullptr;
        return ref;
      }
      default:
        return Fail("option value");
    }
  }

  Statement* ParseCreateUser(uint32_t offset) {
    Advance();  // USER
    auto* stmt = arena_.New<CreateUserStmt>(offset);
    if (!ParseUserName(&stmt->name, "user name") || !Expect(Keyword::kWith)) return nullptr;
    if (Accept(Keyword::kPassword)) {
      stmt->auth = AuthType::kPassword;
      if (!ParseString(&stmt->password, "password string")) return nullptr;
    } else if (Accept(Keyword::kOauth)) {
      stmt->auth = AuthType::kOAuth;
      if (Cur().Is(TokenKind::kString)) {
        stmt->has_oauth_json = true;
        if (!ParseString(&stmt->oauth_json, "OAuth JSON string")) return nullptr;
      }
    } else if (Accept(Keyword::kInternal)) {
      stmt->auth = AuthType::kInternal;
    } else {
      return Fail("PASSWORD, OAUTH or INTERNAL");
    }
    for (;;) {
      if (!stmt->has_role && Accept(Keyword::kRole)) {
        stmt->has_role = true;
        if (!ParseUserName(&stmt->role, "role")) return nullptr;
      } else if (!stmt->has_email && Accept(Keyword::kEmail)) {
        stmt->has_email = true;
        if (!ParseString(&stmt->email, "email string")) return nullptr;
      } else {
        return stmt;
      }
    }
  }

  Statement* ParseAlterUser() {
    uint32_t offset = Cur().offset;
    Advance();  // ALTER
    Advance();  // USER
    auto* stmt = arena_.New<AlterUserStmt>(offset);
    if (!ParseUserName(&stmt->name, "user name") || !Expect(Keyword::kSet)) return nullptr;
    if (Accept(Keyword::kPassword)) {
      stmt->action = AlterUserAction::kSetPassword;
      if (!ParseString(&stmt->value, "password string")) return nullptr;
    } else if (Accept(Keyword::kRole)) {
      stmt->action = AlterUserAction::kSetRole;
      if (!ParseUserName(&stmt->value, "role")) return nullptr;
    } else if (Accept(Keyword::kEmail)) {
      stmt->action = AlterUserAction::kSetEmail;
      if (!ParseString(&stmt->value, "email string")) return nullptr;
    } else {
      return Fail("PASSWORD, ROLE or EMAIL");
    }
    return stmt;
  }

  Statement* ParseDrop() {
    const Token& drop = Cur();
    Advance();
    const Token& what = Cur();
    if (what.Is(Keyword::kNamespace)) {
      Advance();
      auto* stmt = arena_.New<DropNamespaceStmt>(drop.offset);
      ParseIfExists(&stmt->if_exists);
      if (!ParseName(&stmt->name, "namespace name")) return nullptr;
      stmt->cascade = Accept(Keyword::kCascade);
      return stmt;
    }
    TableType type = TableType::kUnspecified;
    if (what.Is(Keyword::kUser)) {
      if (!Peek(1).Is(Keyword::kTable)) {
        Advance();
        auto* stmt = arena_.New<DropUserStmt>(drop.offset);
        ParseIfExists(&stmt->if_exists);
        if (!ParseUserName(&stmt->name, "user name")) return nullptr;
        return stmt;
      }
      type = TableType::kUser;
    } else if (what.Is(Keyword::kShared)) {
      type = TableType::kShared;
    } else if (what.Is(Keyword::kStream)) {
      type = TableType::kStream;
    }
    if (type != TableType::kUnspecified) Advance();
    if (Accept(Keyword::kTable)) {
      auto* stmt = arena_.New<DropTableStmt>(drop.offset);
      stmt->table_type = type;
      ParseIfExists(&stmt->if_exists);
      if (!ParseTableRef(&stmt->table)) return nullptr;
      return stmt;
    }
    if (type != TableType::kUnspecified) return Fail("TABLE");
    if (IsWord(what)) return Unsupported(drop, &what);
    return Fail("NAMESPACE, TABLE or USER");
  }

  Statement* ParseShow() {
    const Token& show = Cur();
    Advance();
    if (Accept(Keyword::kNamespaces)) return arena_.New<ShowNamespacesStmt>(show.offset);
    if (Accept(Keyword::kTables)) {
      auto* stmt = arena_.New<ShowTablesStmt>(show.offset);
      if (Accept(Keyword::kIn) || Accept(Keyword::kFrom)) {
        if (Cur().Is(Keyword::kNamespace) && IsName(Peek(1))) Advance();
        if (!ParseName(&stmt->namespace_name, "namespace name")) return nullptr;
      }
      return stmt;
    }
    if (IsWord(Cur())) return Unsupported(show, &Cur());
    return Fail("NAMESPACES or TABLES");
  }

  // USE [NAMESPACE] name | SET NAMESPACE name
  Statement* ParseUse() {
    auto* stmt = arena_.New<UseNamespaceStmt>(Cur().offset);
    bool set = Cur().Is(Keyword::kSet);
    Advance();
    if (set || (Cur().Is(Keyword::kNamespace) && IsName(Peek(1)))) Advance();
    if (!ParseName(&stmt->name, "namespace name")) return nullptr;
    return stmt;
  }

  Statement* ParseDescribe() {
    auto* stmt = arena_.New<DescribeTableStmt>(Cur().offset);
    Advance();
    Accept(Keyword::kTable);
    if (!ParseTableRef(&stmt->table)) return nullptr;
    stmt->history = Accept(Keyword::kHistory);
    return stmt;
  }

  Statement* ParseInsert() {
    auto* stmt = arena_.New<InsertStmt>(Cur().offset);
    Advance();
    if (!Expect(Keyword::kInto) || !ParseTableRef(&stmt->table)) return nullptr;
    if (Accept(TokenKind::kLParen)) {
      ArenaVector<Identifier> columns(arena_);
      columns.reserve(8);
      do {
        Identifier column;
        if (!ParseName(&column, "column name")) return nullptr;
        columns.push_back(column);
      } while (Accept(TokenKind::kComma));
      if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
      stmt->columns = columns.view();
    }
    if (Cur().Is(Keyword::kSelect)) {
      stmt->select = ParseSelect();
      return stmt->select == nullptr ? nullptr : stmt;
    }
    if (!Accept(Keyword::kValues)) return Fail("VALUES or SELECT");
    ArenaVector<std::span<Expr*>> rows(arena_);
    size_t width = stmt->columns.empty() ? 4 : stmt->columns.size();
    do {
      size_t row_start = pos_;
      if (!Expect(TokenKind::kLParen, "'('")) return nullptr;
      ArenaVector<Expr*> values(arena_);
      values.reserve(width);
      do {
        Expr* value = ParseValuesItem();
        if (value == nullptr) return nullptr;
        values.push_back(value);
      } while (Accept(TokenKind::kComma));
      if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
      rows.push_back(values.view());
      if (rows.size() == 1 && Cur().Is(TokenKind::kComma)) {
        // Guess the row count from the first row's length so the list is allocated once.
        rows.reserve(1 + (tokens_.size() - pos_) / (pos_ - row_start + 1));
      }
      width = values.size();
    } while (Accept(TokenKind::kComma));
    stmt->rows = rows.view();
    return stmt;
  }

  // One item of a VALUES row. A lone literal (followed by ',' or ')': nearly every item of a
  // bulk INSERT) is made at once instead of descending through every precedence level of
  // ParseExpr, which would build the same node (measured in bench/sql_parser_bench.cc).
  Expr* ParseValuesItem() {
    const Token& token = Cur();
    const TokenKind next = Peek(1).kind;  // clamped: Cur() may be the final kEnd
    if (next == TokenKind::kComma || next == TokenKind::kRParen) {
      if (const std::optional<LiteralKind> kind = LiteralKindOf(token)) {
        Advance();
        return MakeLiteral(token, *kind);
      }
    }
    return ParseExpr();
  }

  // A LIMIT or OFFSET count: an integer literal or a parameter.
  Expr* ParseCount() {
    if (Cur().Is(TokenKind::kParameter)) return ParseParameter();
    if (!Cur().Is(TokenKind::kInteger)) return Fail("integer or parameter");
    const Token& token = Cur();
    Advance();
    return MakeLiteral(token, LiteralKind::kInteger);
  }

  SelectStmt* ParseSelect() {
    auto* stmt = arena_.New<SelectStmt>(Cur().offset);
    Advance();
    if (Accept(Keyword::kDistinct)) {
      stmt->distinct = true;
    } else {
      Accept(Keyword::kAll);
    }
    ArenaVector<SelectItem> items(arena_);
    do {
      SelectItem item;
      const Token& token = Cur();
      if (token.Is(TokenKind::kStar)) {
        item.expr = arena_.New<StarExpr>(token.offset);
        Advance();
        items.push_back(item);
        continue;
      }
      if (IsName(token) && Peek(1).Is(TokenKind::kDot) && Peek(2).Is(TokenKind::kStar)) {
        auto* star = arena_.New<StarExpr>(token.offset);
        if (!ParseName(&star->table, "table name")) return nullptr;
        Advance();  // .
        Advance();  // *
        item.expr = star;
        items.push_back(item);
        continue;
      }
      item.expr = ParseExpr();
      if (item.expr == nullptr) return nullptr;
      if (Accept(Keyword::kAs)) {
        if (!ParseName(&item.alias, "alias")) return nullptr;
      } else if (IsName(Cur())) {
        ParseName(&item.alias, "alias");
      }
      items.push_back(item);
    } while (Accept(TokenKind::kComma));
    stmt->items = items.view();

    if (Accept(Keyword::kFrom)) {
      stmt->has_from = true;
      if (!ParseTableRef(&stmt->from)) return nullptr;
      if (Accept(Keyword::kAs)) {
        if (!ParseName(&stmt->from_alias, "alias")) return nullptr;
      } else if (IsName(Cur())) {
        ParseName(&stmt->from_alias, "alias");
      }
    }
    if (Accept(Keyword::kWhere)) {
      stmt->where = ParseExpr();
      if (stmt->where == nullptr) return nullptr;
    }
    if (Cur().Is(Keyword::kGroup)) {
      Advance();
      if (!Expect(Keyword::kBy)) return nullptr;
      ArenaVector<Expr*> group_by(arena_);
      do {
        Expr* expr = ParseExpr();
        if (expr == nullptr) return nullptr;
        group_by.push_back(expr);
      } while (Accept(TokenKind::kComma));
      stmt->group_by = group_by.view();
    }
    if (Accept(Keyword::kHaving)) {
      stmt->having = ParseExpr();
      if (stmt->having == nullptr) return nullptr;
    }
    if (Cur().Is(Keyword::kOrder)) {
      Advance();
      if (!Expect(Keyword::kBy)) return nullptr;
      ArenaVector<OrderItem> order_by(arena_);
      do {
        OrderItem item;
        item.expr = ParseExpr();
        if (item.expr == nullptr) return nullptr;
        if (Accept(Keyword::kDesc)) {
          item.descending = true;
        } else {
          Accept(Keyword::kAsc);
        }
        order_by.push_back(item);
      } while (Accept(TokenKind::kComma));
      stmt->order_by = order_by.view();
    }
    for (;;) {
      if (stmt->limit_expr == nullptr && Accept(Keyword::kLimit)) {
        stmt->limit_expr = ParseCount();
        if (stmt->limit_expr == nullptr) return nullptr;
      } else if (stmt->offset_expr == nullptr && Accept(Keyword::kOffset)) {
        stmt->offset_expr = ParseCount();
        if (stmt->offset_expr == nullptr) return nullptr;
      } else {
        return stmt;
      }
    }
  }

  Statement* ParseUpdate() {
    auto* stmt = arena_.New<UpdateStmt>(Cur().offset);
    Advance();
    if (!ParseTableRef(&stmt->table) || !Expect(Keyword::kSet)) return nullptr;
    ArenaVector<Assignment> assignments(arena_);
    do {
      Assignment assignment;
      if (!ParseName(&assignment.column, "column name") || !Expect(TokenKind::kEq, "'='")) {
        return nullptr;
      }
      assignment.value = ParseExpr();
      if (assignment.value == nullptr) return nullptr;
      assignments.push_back(assignment);
    } while (Accept(TokenKind::kComma));
    stmt->assignments = assignments.view();
    if (Accept(Keyword::kWhere)) {
      stmt->where = ParseExpr();
      if (stmt->where == nullptr) return nullptr;
    }
    return stmt;
  }

  Statement* ParseDelete() {
    auto* stmt = arena_.New<DeleteStmt>(Cur().offset);
    Advance();
    if (!Expect(Keyword::kFrom) || !ParseTableRef(&stmt->table)) return nullptr;
    if (Accept(Keyword::kWhere)) {
      stmt->where = ParseExpr();
      if (stmt->where == nullptr) return nullptr;
    }
    return stmt;
  }

  Statement* ParseExecuteAsUser() {
    auto* stmt = arena_.New<ExecuteAsUserStmt>(Cur().offset);
    Advance();  // EXECUTE
    if (!Expect(Keyword::kAs) || !Expect(Keyword::kUser) ||
        !ParseUserName(&stmt->user, "user name") || !Expect(TokenKind::kLParen, "'('")) {
      return nullptr;
    }
    stmt->statement = ParseStatement(/*nested=*/true);
    if (stmt->statement == nullptr) return nullptr;
    if (Cur().Is(TokenKind::kSemicolon)) {
      Advance();
      if (!Cur().Is(TokenKind::kRParen)) {
        return Error(Cur().offset, "EXECUTE AS USER accepts only a single SQL statement",
                     ErrorCode::kInvalidArgument, /*syntax=*/false);
      }
    }
    if (!Expect(TokenKind::kRParen, "')'")) return nullptr;
    return stmt;
  }

  std::span<const Token> tokens_;
  Arena& arena_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  uint32_t error_offset_ = 0;
  ErrorCode error_code_ = ErrorCode::kInvalidSql;
  std::string error_message_;
};

}  // namespace

Result<Statement*> ParseTokens(std::span<const Token> tokens, Arena& arena,
                               uint32_t* error_offset) {
  if (tokens.empty() || !tokens.back().Is(TokenKind::kEnd)) {
    return Status(ErrorCode::kInternal, "ParseTokens: token list does not end with kEnd");
  }
  Parser parser(tokens, arena);
  Statement* statement = parser.ParseTop();
  if (statement == nullptr) return parser.TakeError(error_offset);
  return statement;
}

Result<Statement*> Parse(std::string_view statement, Arena& arena, uint32_t* error_offset) {
  Result<std::span<const Token>> tokens = Tokenize(statement, arena, error_offset);
  if (!tokens.ok()) return tokens.status();
  return ParseTokens(*tokens, arena, error_offset);
}

}  // namespace kalamdb::sql
