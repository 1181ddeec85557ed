#include "sql/splitter.h"

#include <cstring>
#include <limits>
#include <string>

namespace kalamdb::sql {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Status SplitError(size_t offset, const char* what, uint32_t* error_offset) {
  if (error_offset != nullptr) *error_offset = static_cast<uint32_t>(offset);
  return Status(ErrorCode::kInvalidSql,
                "syntax error at position " + std::to_string(offset) + ": " + what);
}

}  // namespace

Result<std::span<const StatementText>> SplitStatements(std::string_view sql, Arena& arena,
                                                       uint32_t* error_offset) {
  if (sql.size() >= std::numeric_limits<uint32_t>::max()) {
    return SplitError(0, "statement text too large", error_offset);
  }
  ArenaVector<StatementText> out(arena);
  const char* data = sql.data();
  const size_t size = sql.size();
  // The current statement's significant bytes are [begin, end); begin == npos while none seen.
  size_t begin = std::string_view::npos;
  size_t end = 0;
  size_t depth = 0;
  auto flush = [&] {
    if (begin != std::string_view::npos) {
      out.push_back({sql.substr(begin, end - begin), static_cast<uint32_t>(begin)});
    }
    begin = std::string_view::npos;
    depth = 0;
  };
  auto mark = [&](size_t from, size_t to) {
    if (begin == std::string_view::npos) begin = from;
    end = to;
  };

  size_t i = 0;
  while (i < size) {
    char c = data[i];
    if (IsSpace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < size && data[i + 1] == '-') {
      const void* newline = std::memchr(data + i, '\n', size - i);
      i = newline == nullptr ? size : static_cast<const char*>(newline) - data + 1;
    } else if (c == '/' && i + 1 < size && data[i + 1] == '*') {
      size_t close = sql.find("*/", i + 2);
      if (close == std::string_view::npos) {
        return SplitError(i, "unterminated /* comment", error_offset);
      }
      i = close + 2;
    } else if (c == '\'' || c == '"') {
      // A doubled quote inside is an escaped quote, not the end.
      size_t from = i + 1;
      size_t close;
      for (;;) {
        const void* quote = std::memchr(data + from, c, size - from);
        if (quote == nullptr) {
          return SplitError(
              i, c == '\'' ? "unterminated quoted string" : "unterminated quoted identifier",
              error_offset);
        }
        close = static_cast<const char*>(quote) - data;
        if (close + 1 < size && data[close + 1] == c) {
          from = close + 2;
          continue;
        }
        break;
      }
      mark(i, close + 1);
      i = close + 1;
    } else if (c == ';' && depth == 0) {
      flush();
      ++i;
    } else {
      if (c == '(') {
        ++depth;
      } else if (c == ')' && depth > 0) {
        --depth;
      }
      mark(i, i + 1);
      ++i;
    }
  }
  flush();
  return std::span<const StatementText>(out.view());
}

}  // namespace kalamdb::sql
