#include "cli/statement_splitter.h"

namespace kalamdb::cli {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

}  // namespace

std::vector<std::string> StatementSplitter::Feed(std::string_view text) {
  buf_.append(text);
  std::vector<std::string> out;
  while (scan_ < buf_.size()) {
    char c = buf_[scan_];
    switch (state_) {
      case State::kNormal:
        if (c == '-' || c == '/') {
          if (scan_ + 1 >= buf_.size()) return out;  // need the next byte to decide
          char next = buf_[scan_ + 1];
          if (c == '-' && next == '-') {
            state_ = State::kLineComment;
            scan_ += 2;
            continue;
          }
          if (c == '/' && next == '*') {
            state_ = State::kBlockComment;
            scan_ += 2;
            continue;
          }
          content_ = true;
        } else if (c == '\'') {
          state_ = State::kSingle;
          content_ = true;
        } else if (c == '"') {
          state_ = State::kDouble;
          content_ = true;
        } else if (c == ';') {
          if (content_) out.push_back(Trim(std::string_view(buf_).substr(0, scan_)));
          buf_.erase(0, scan_ + 1);
          scan_ = 0;
          content_ = false;
          continue;
        } else if (!IsSpace(c)) {
          content_ = true;
        }
        break;
      case State::kSingle:
        // A doubled quote ('') leaves and re-enters the literal: same effect as an escape.
        if (c == '\'') state_ = State::kNormal;
        break;
      case State::kDouble:
        if (c == '"') state_ = State::kNormal;
        break;
      case State::kLineComment:
        if (c == '\n') state_ = State::kNormal;
        break;
      case State::kBlockComment:
        if (c == '*') {
          if (scan_ + 1 >= buf_.size()) return out;
          if (buf_[scan_ + 1] == '/') {
            state_ = State::kNormal;
            scan_ += 2;
            continue;
          }
        }
        break;
    }
    ++scan_;
  }
  return out;
}

bool StatementSplitter::HasPending() const {
  return content_ || state_ == State::kSingle || state_ == State::kDouble ||
         state_ == State::kBlockComment;
}

std::string StatementSplitter::TakeRest() {
  // A trailing '-' or '/' not yet scanned is content.
  bool content = content_ || state_ == State::kSingle || state_ == State::kDouble ||
                 (state_ == State::kNormal && scan_ < buf_.size());
  std::string rest = content ? Trim(buf_) : std::string();
  buf_.clear();
  scan_ = 0;
  state_ = State::kNormal;
  content_ = false;
  return rest;
}

std::vector<std::string> SplitStatements(std::string_view script) {
  StatementSplitter splitter;
  std::vector<std::string> out = splitter.Feed(script);
  std::string rest = splitter.TakeRest();
  if (!rest.empty()) out.push_back(std::move(rest));
  return out;
}

}  // namespace kalamdb::cli
