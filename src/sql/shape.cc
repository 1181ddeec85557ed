#include "sql/shape.h"

namespace kalamdb::sql {
namespace {

bool NoSpaceBefore(TokenKind kind) {
  return kind == TokenKind::kComma || kind == TokenKind::kRParen || kind == TokenKind::kDot ||
         kind == TokenKind::kDoubleColon || kind == TokenKind::kSemicolon;
}

bool NoSpaceAfter(TokenKind kind) {
  return kind == TokenKind::kLParen || kind == TokenKind::kDot || kind == TokenKind::kDoubleColon;
}

bool IsLiteral(const Token& token, const Token* previous) {
  switch (token.kind) {
    case TokenKind::kInteger:
    case TokenKind::kDecimal:
    case TokenKind::kString:
      return true;
    case TokenKind::kIdentifier:
      if (token.keyword == Keyword::kTrue || token.keyword == Keyword::kFalse) return true;
      if (token.keyword == Keyword::kNull) {
        return previous == nullptr ||
               (previous->keyword != Keyword::kIs && previous->keyword != Keyword::kNot);
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

void ShapeOf(std::span<const Token> tokens, Shape* shape) {
  shape->text.clear();
  shape->literals.clear();
  const Token* previous = nullptr;
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kEnd) break;
    if (previous != nullptr && !NoSpaceAfter(previous->kind) && !NoSpaceBefore(token.kind)) {
      shape->text.push_back(' ');
    }
    if (IsLiteral(token, previous)) {
      shape->text.push_back('?');
      shape->literals.push_back(token);
    } else if (token.keyword != Keyword::kNone) {
      shape->text.append(KeywordSpelling(token.keyword));
    } else {
      shape->text.append(token.text);
    }
    previous = &token;
  }
}

}  // namespace kalamdb::sql
