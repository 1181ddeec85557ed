#include "http/request_parser.h"

#include <cstdint>
#include <cstring>

#include "common/strings.h"

namespace kalamdb::http {
namespace {

// A header value's bytes must not be controls (RFC 9110 5.5): below 0x20 except HTAB, or DEL.
bool IsBadValueByte(unsigned char u) { return (u < 0x20 && u != '\t') || u == 0x7f; }

// True when `value` holds a byte IsBadValueByte refuses. Eight bytes at a time: a word with no
// byte below 0x20 and none equal to 0x7f is fine as a whole (the usual case); a word that has
// one (a tab, say) is looked at byte by byte. This runs over every header of every request.
bool HasBadValueByte(std::string_view value) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  const char* p = value.data();
  size_t n = value.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;  // a byte < 0x20
    const uint64_t del = w ^ (kOnes * 0x7f);
    const uint64_t is_del = (del - kOnes) & ~del & kHighs;  // a byte == 0x7f
    if ((below_space | is_del) != 0) {
      for (int i = 0; i < 8; ++i) {
        if (IsBadValueByte(static_cast<unsigned char>(p[i]))) return true;
      }
    }
  }
  for (; n > 0; ++p, --n) {
    if (IsBadValueByte(static_cast<unsigned char>(*p))) return true;
  }
  return false;
}

// RFC 9110 5.6.2 token characters.
constexpr bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Parses decimal digits only (no sign, no spaces), rejecting overflow.
bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Applies the Connection header's comma-separated options.
void ApplyConnectionOptions(std::string_view value, RequestHead* head) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view option = TrimSpaces(value.substr(0, comma));
    if (EqualsIgnoreCase(option, "close")) head->keep_alive = false;
    if (EqualsIgnoreCase(option, "keep-alive") && head->version_minor == 0) head->keep_alive = true;
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
}

}  // namespace

ParseStatus ParseRequestHead(std::string_view data, size_t max_head_size, uint64_t max_body_size,
                             size_t* scan_from, RequestHead* head) {
  // 1. Find the blank line that ends the head, resuming where the last call stopped.
  size_t start = *scan_from >= 3 ? *scan_from - 3 : 0;
  size_t end = data.find("\r\n\r\n", start);
  if (end == std::string_view::npos) {
    *scan_from = data.size();
    return data.size() > max_head_size ? ParseStatus::kHeadTooLarge : ParseStatus::kNeedMore;
  }
  if (end + 4 > max_head_size) return ParseStatus::kHeadTooLarge;
  head->Clear();
  head->head_size = end + 4;
  std::string_view rest = data.substr(0, end + 2);  // every line keeps its CRLF

  // 2. Request line: method SP target SP HTTP/1.x CRLF.
  size_t line_end = rest.find("\r\n");
  std::string_view line = rest.substr(0, line_end);
  rest.remove_prefix(line_end + 2);
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return ParseStatus::kBad;
  head->method = line.substr(0, sp1);
  for (char c : head->method) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return ParseStatus::kBad;
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return ParseStatus::kBad;
  head->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : head->target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return ParseStatus::kBad;
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    head->version_minor = 1;
    head->keep_alive = true;
  } else if (version == "HTTP/1.0") {
    head->version_minor = 0;
    head->keep_alive = false;
  } else {
    return ParseStatus::kBad;
  }

  // 3. Header fields.
  bool has_content_length = false;
  bool has_transfer_encoding = false;
  while (!rest.empty()) {
    line_end = rest.find("\r\n");
    line = rest.substr(0, line_end);
    rest.remove_prefix(line_end + 2);
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return ParseStatus::kBad;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) return ParseStatus::kBad;  // also folding
    }
    std::string_view value = TrimSpaces(line.substr(colon + 1));
    if (HasBadValueByte(value)) return ParseStatus::kBad;
    head->headers.emplace_back(name, value);
    if (EqualsIgnoreCase(name, "content-length")) {
      uint64_t length = 0;
      if (!ParseDecimal(value, &length)) return ParseStatus::kBad;
      if (has_content_length && length != head->content_length) return ParseStatus::kBad;
      has_content_length = true;
      head->content_length = length;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      if (has_transfer_encoding || !EqualsIgnoreCase(value, "chunked")) return ParseStatus::kBad;
      has_transfer_encoding = true;
      head->chunked = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      ApplyConnectionOptions(value, head);
    } else if (EqualsIgnoreCase(name, "expect")) {
      if (EqualsIgnoreCase(value, "100-continue")) head->expect_continue = true;
    }
  }
  if (has_content_length && has_transfer_encoding) return ParseStatus::kBad;
  if (head->content_length > max_body_size) return ParseStatus::kBodyTooLarge;
  return ParseStatus::kComplete;
}

ParseStatus ChunkedDecoder::Feed(std::string_view data, size_t* consumed, std::string* body) {
  constexpr size_t kMaxLine = 4096;  // chunk-size line with extensions, or one trailer line
  size_t pos = 0;
  while (state_ != State::kDone) {
    switch (state_) {
      case State::kSize: {
        size_t eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) {
          *consumed = pos;
          return data.size() - pos > kMaxLine ? ParseStatus::kBad : ParseStatus::kNeedMore;
        }
        std::string_view line = data.substr(pos, eol - pos);
        size_t semi = line.find(';');  // chunk extensions are ignored
        std::string_view digits = line.substr(0, semi);
        if (digits.empty() || digits.size() > 15) return ParseStatus::kBad;
        uint64_t size = 0;
        for (char c : digits) {
          int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
          if (v < 0) return ParseStatus::kBad;
          size = size * 16 + static_cast<uint64_t>(v);
        }
        pos = eol + 2;
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          if (total_ + size > max_body_) return ParseStatus::kBodyTooLarge;
          remaining_ = size;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        size_t take = std::min<uint64_t>(remaining_, data.size() - pos);
        body->append(data.data() + pos, take);
        pos += take;
        remaining_ -= take;
        total_ += take;
        if (remaining_ != 0) {
          *consumed = pos;
          return ParseStatus::kNeedMore;
        }
        state_ = State::kDataCrlf;
        break;
      }
      case State::kDataCrlf: {
        if (data.size() - pos < 2) {
          *consumed = pos;
          return ParseStatus::kNeedMore;
        }
        if (data[pos] != '\r' || data[pos + 1] != '\n') return ParseStatus::kBad;
        pos += 2;
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        size_t eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) {
          *consumed = pos;
          return data.size() - pos > kMaxLine ? ParseStatus::kBad : ParseStatus::kNeedMore;
        }
        bool blank = eol == pos;
        pos = eol + 2;
        if (blank) state_ = State::kDone;
        break;
      }
      case State::kDone:
        break;
    }
  }
  *consumed = pos;
  return ParseStatus::kComplete;
}

}  // namespace kalamdb::http
