// statement_splitter.h: splits SQL text into statements on `;` outside quotes and comments.
//
// Text may arrive in pieces (one line at a time from a terminal or a pipe); the splitter keeps
// its state (inside a quote or a block comment) between pieces. Quotes: '...' and "..." with
// doubled quotes as escapes; comments: `-- ...` to end of line and `/* ... */`.
// Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kalamdb::cli {

class StatementSplitter {
 public:
  // Appends `text`; returns the statements it completed, in order, without their `;` and
  // trimmed of surrounding whitespace. Statements holding only comments or blanks are dropped.
  std::vector<std::string> Feed(std::string_view text);
  // True while a statement has started (non-comment text, or an open quote or block comment)
  // but has not been ended by `;`.
  bool HasPending() const;
  // Returns the unfinished statement (trimmed; empty if only comments/blanks) and resets.
  std::string TakeRest();

 private:
  enum class State { kNormal, kSingle, kDouble, kLineComment, kBlockComment };
  std::string buf_;  // text of the current statement, not yet ended
  size_t scan_ = 0;  // next byte of buf_ to examine
  State state_ = State::kNormal;
  bool content_ = false;  // current statement has non-comment text
};

// Splits a whole script: every statement, including a last one without `;`.
std::vector<std::string> SplitStatements(std::string_view script);

}  // namespace kalamdb::cli
