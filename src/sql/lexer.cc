#include "sql/lexer.h"

#include <array>
#include <cstring>
#include <limits>

namespace kalamdb::sql {
namespace {

// ---- Keyword table ----------------------------------------------------------------------
// An open-addressing hash table built at compile time. Hashing folds ASCII case with `| 0x20`,
// which maps each identifier byte (letters, digits, '_', bytes >= 0x80) to a distinct value,
// so the same fold also serves as the case-insensitive comparison.

struct KeywordEntry {
  std::string_view spelling;
  bool reserved;
};

constexpr KeywordEntry kKeywordEntries[] = {{"", false},  // Keyword::kNone
#define KALAMDB_SQL_KEYWORD_ENTRY(name, spelling, reserved) {spelling, reserved},
                                            KALAMDB_SQL_KEYWORDS(KALAMDB_SQL_KEYWORD_ENTRY)
#undef KALAMDB_SQL_KEYWORD_ENTRY
};
constexpr size_t kKeywordCount = std::size(kKeywordEntries);
constexpr size_t kTableSize = 512;
static_assert(kKeywordCount < 256 && kKeywordCount * 3 < kTableSize);

constexpr size_t MaxKeywordLength() {
  size_t longest = 0;
  for (const KeywordEntry& entry : kKeywordEntries) {
    longest = entry.spelling.size() > longest ? entry.spelling.size() : longest;
  }
  return longest;
}
constexpr size_t kMaxKeywordLength = MaxKeywordLength();

constexpr uint32_t Fold(char c) { return static_cast<uint8_t>(c) | 0x20u; }

// Looks at the length and the first and last two bytes only, so a lookup costs the same for
// any word. REQUIRES: word.size() >= 2.
constexpr uint32_t HashWord(std::string_view word) {
  size_t n = word.size();
  uint32_t hash = static_cast<uint32_t>(n) * 0x9E3779B1u;
  hash ^= Fold(word[0]) * 0x85EBCA77u;
  hash ^= Fold(word[1]) * 0xC2B2AE3Du;
  hash ^= Fold(word[n - 2]) * 0x27D4EB2Fu;
  hash ^= Fold(word[n - 1]) * 0x165667B1u;
  return hash ^ (hash >> 15);
}

constexpr std::array<uint8_t, kTableSize> BuildKeywordTable() {
  std::array<uint8_t, kTableSize> slots{};
  for (size_t i = 1; i < kKeywordCount; ++i) {
    size_t slot = HashWord(kKeywordEntries[i].spelling) & (kTableSize - 1);
    while (slots[slot] != 0) slot = (slot + 1) & (kTableSize - 1);
    slots[slot] = static_cast<uint8_t>(i);
  }
  return slots;
}
constexpr std::array<uint8_t, kTableSize> kKeywordTable = BuildKeywordTable();

// The longest run of probes any keyword needs; kept small so a lookup stays a few compares.
constexpr size_t LongestProbe() {
  size_t longest = 0;
  for (size_t i = 1; i < kKeywordCount; ++i) {
    size_t slot = HashWord(kKeywordEntries[i].spelling) & (kTableSize - 1);
    size_t probes = 1;
    while (kKeywordTable[slot] != i) {
      slot = (slot + 1) & (kTableSize - 1);
      ++probes;
    }
    longest = probes > longest ? probes : longest;
  }
  return longest;
}
static_assert(LongestProbe() <= 4, "keyword hash clusters: change HashWord's constants");

// ---- Character classes --------------------------------------------------------------------

enum CharClass : uint8_t {
  kOther = 0,
  kSpace = 1,
  kIdentStart = 2,  // letters, '_', bytes >= 0x80 (UTF-8)
  kDigit = 4,
};

constexpr std::array<uint8_t, 256> BuildCharClasses() {
  std::array<uint8_t, 256> classes{};
  for (int c = 0; c < 256; ++c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      classes[c] = kSpace;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80) {
      classes[c] = kIdentStart;
    } else if (c >= '0' && c <= '9') {
      classes[c] = kDigit;
    }
  }
  return classes;
}
constexpr std::array<uint8_t, 256> kCharClasses = BuildCharClasses();

inline uint8_t ClassOf(char c) { return kCharClasses[static_cast<uint8_t>(c)]; }
inline bool IsIdentChar(char c) { return (ClassOf(c) & (kIdentStart | kDigit)) != 0; }
inline bool IsDigit(char c) { return ClassOf(c) == kDigit; }

constexpr const char* kUnexpectedCharacter = "unexpected character";

}  // namespace

Keyword LookupKeyword(std::string_view word) {
  if (word.size() < 2 || word.size() > kMaxKeywordLength) return Keyword::kNone;
  size_t slot = HashWord(word) & (kTableSize - 1);
  for (;;) {
    uint8_t index = kKeywordTable[slot];
    if (index == 0) return Keyword::kNone;
    std::string_view spelling = kKeywordEntries[index].spelling;
    if (spelling.size() == word.size()) {
      size_t i = 0;
      while (i < word.size() && Fold(word[i]) == Fold(spelling[i])) ++i;
      if (i == word.size()) return static_cast<Keyword>(index);
    }
    slot = (slot + 1) & (kTableSize - 1);
  }
}

bool IsReserved(Keyword keyword) { return kKeywordEntries[static_cast<size_t>(keyword)].reserved; }

std::string_view KeywordSpelling(Keyword keyword) {
  return kKeywordEntries[static_cast<size_t>(keyword)].spelling;
}

std::string_view Unquote(const Token& token, Arena& arena) {
  std::string_view body = token.text.substr(1, token.text.size() - 2);
  if (!token.has_escape) return body;
  char quote = token.text.front();
  char* out = static_cast<char*>(arena.Allocate(body.size(), 1));
  size_t n = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    out[n++] = body[i];
    if (body[i] == quote) ++i;  // the second quote of a doubled pair
  }
  return {out, n};
}

bool Lexer::Fail(size_t offset, const char* message) {
  error_.offset = static_cast<uint32_t>(offset);
  error_.message = message;
  return false;
}

bool Lexer::Next(Token* token) {
  const char* data = input_.data();
  const size_t size = input_.size();
  size_t pos = pos_;
  // Whitespace and comments.
  for (;;) {
    if (pos >= size) {
      pos_ = pos;
      token->text = {};
      token->offset = static_cast<uint32_t>(size);
      token->kind = TokenKind::kEnd;
      token->keyword = Keyword::kNone;
      token->has_escape = false;
      return true;
    }
    char c = data[pos];
    if (ClassOf(c) == kSpace) {
      ++pos;
    } else if (c == '-' && pos + 1 < size && data[pos + 1] == '-') {
      const void* newline = std::memchr(data + pos, '\n', size - pos);
      pos = newline == nullptr ? size : static_cast<const char*>(newline) - data + 1;
    } else if (c == '/' && pos + 1 < size && data[pos + 1] == '*') {
      size_t close = input_.find("*/", pos + 2);
      if (close == std::string_view::npos) return Fail(pos, "unterminated /* comment");
      pos = close + 2;
    } else {
      break;
    }
  }

  const size_t start = pos;
  const char c = data[pos];
  const char next = pos + 1 < size ? data[pos + 1] : '\0';
  TokenKind kind;
  Keyword keyword = Keyword::kNone;
  bool has_escape = false;
  const uint8_t cls = ClassOf(c);

  if (cls == kIdentStart) {
    ++pos;
    while (pos < size && IsIdentChar(data[pos])) ++pos;
    kind = TokenKind::kIdentifier;
    keyword = LookupKeyword(input_.substr(start, pos - start));
  } else if (cls == kDigit || (c == '.' && IsDigit(next))) {
    kind = TokenKind::kInteger;
    while (pos < size && IsDigit(data[pos])) ++pos;
    if (pos < size && data[pos] == '.') {
      kind = TokenKind::kDecimal;
      ++pos;
      while (pos < size && IsDigit(data[pos])) ++pos;
    }
    if (pos < size && (data[pos] == 'e' || data[pos] == 'E')) {
      size_t exponent = pos + 1;
      if (exponent < size && (data[exponent] == '+' || data[exponent] == '-')) ++exponent;
      if (exponent >= size || !IsDigit(data[exponent])) return Fail(start, "malformed number");
      kind = TokenKind::kDecimal;
      pos = exponent;
      while (pos < size && IsDigit(data[pos])) ++pos;
    }
    if (pos < size && (IsIdentChar(data[pos]) || data[pos] == '.')) {
      return Fail(start, "malformed number");
    }
  } else if (c == '\'' || c == '"') {
    size_t from = pos + 1;
    for (;;) {
      const void* quote = from < size ? std::memchr(data + from, c, size - from) : nullptr;
      if (quote == nullptr) {
        return Fail(start,
                    c == '\'' ? "unterminated quoted string" : "unterminated quoted identifier");
      }
      size_t close = static_cast<const char*>(quote) - data;
      if (close + 1 < size && data[close + 1] == c) {
        has_escape = true;
        from = close + 2;
        continue;
      }
      pos = close + 1;
      break;
    }
    if (c == '\'') {
      kind = TokenKind::kString;
    } else {
      if (pos - start == 2) return Fail(start, "zero-length quoted identifier");
      kind = TokenKind::kQuotedIdentifier;
    }
  } else if (c == '$') {
    ++pos;
    while (pos < size && IsDigit(data[pos])) ++pos;
    if (pos == start + 1) return Fail(start, "expected digits after '$'");
    if (pos < size && IsIdentChar(data[pos])) return Fail(start, "malformed parameter");
    kind = TokenKind::kParameter;
  } else {
    size_t length = 1;
    switch (c) {
      case '=':
        kind = TokenKind::kEq;
        break;
      case '<':
        if (next == '=') {
          kind = TokenKind::kLtEq;
          length = 2;
        } else if (next == '>') {
          kind = TokenKind::kNotEq;
          length = 2;
        } else {
          kind = TokenKind::kLt;
        }
        break;
      case '>':
        if (next == '=') {
          kind = TokenKind::kGtEq;
          length = 2;
        } else {
          kind = TokenKind::kGt;
        }
        break;
      case '!':
        if (next != '=') return Fail(start, kUnexpectedCharacter);
        kind = TokenKind::kNotEq;
        length = 2;
        break;
      case '+':
        kind = TokenKind::kPlus;
        break;
      case '-':
        kind = TokenKind::kMinus;
        break;
      case '*':
        kind = TokenKind::kStar;
        break;
      case '/':
        kind = TokenKind::kSlash;
        break;
      case '%':
        kind = TokenKind::kPercent;
        break;
      case '|':
        if (next != '|') return Fail(start, kUnexpectedCharacter);
        kind = TokenKind::kConcat;
        length = 2;
        break;
      case '(':
        kind = TokenKind::kLParen;
        break;
      case ')':
        kind = TokenKind::kRParen;
        break;
      case ',':
        kind = TokenKind::kComma;
        break;
      case '.':
        kind = TokenKind::kDot;
        break;
      case ';':
        kind = TokenKind::kSemicolon;
        break;
      case ':':
        if (next != ':') return Fail(start, kUnexpectedCharacter);
        kind = TokenKind::kDoubleColon;
        length = 2;
        break;
      default:
        return Fail(start, kUnexpectedCharacter);
    }
    pos += length;
  }
  pos_ = pos;
  // Member by member: building a temporary and copying it reads back bytes just written.
  token->text = std::string_view(data + start, pos - start);
  token->offset = static_cast<uint32_t>(start);
  token->kind = kind;
  token->keyword = keyword;
  token->has_escape = has_escape;
  return true;
}

Status SyntaxError(uint32_t offset, std::string_view detail) {
  std::string message = "syntax error at position ";
  message += std::to_string(offset);
  message += ": ";
  message += detail;
  return Status(ErrorCode::kInvalidSql, std::move(message));
}

Result<std::span<const Token>> Tokenize(std::string_view input, Arena& arena,
                                        uint32_t* error_offset) {
  if (input.size() >= std::numeric_limits<uint32_t>::max()) {
    if (error_offset != nullptr) *error_offset = 0;
    return SyntaxError(0, "statement text too large");
  }
  ArenaVector<Token> tokens(arena);
  tokens.reserve(input.size() / 4 + 4);
  Lexer lexer(input);
  // Each token is lexed straight into its slot: copying a just-written Token through a local
  // costs a store-forwarding stall per token.
  const Token* token;
  do {
    Token& slot = tokens.emplace_back();
    token = &slot;
    if (!lexer.Next(&slot)) {
      const LexError& error = lexer.error();
      if (error_offset != nullptr) *error_offset = error.offset;
      std::string detail = error.message;
      if (error.message == kUnexpectedCharacter) {
        unsigned char bad = static_cast<unsigned char>(input[error.offset]);
        if (bad >= 0x20 && bad < 0x7f) {
          detail += " '";
          detail += static_cast<char>(bad);
          detail += "'";
        } else {
          static constexpr char kHex[] = "0123456789abcdef";
          detail += " 0x";
          detail += kHex[bad >> 4];
          detail += kHex[bad & 15];
        }
      }
      return SyntaxError(error.offset, detail);
    }
  } while (token->kind != TokenKind::kEnd);
  return std::span<const Token>(tokens.view());
}

}  // namespace kalamdb::sql
