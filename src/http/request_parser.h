// request_parser.h (internal to src/http): an incremental, allocation-free HTTP/1.1 request
// head parser and a chunked-body decoder.
//
// Strict by design: CRLF line endings, no obsolete line folding, no whitespace before a
// header colon, at most one distinct Content-Length, Transfer-Encoding only as exactly
// "chunked" and never together with Content-Length. Anything else is a bad request: framing
// that two parsers could read differently is how request smuggling starts (RFC 9112 6.3, 11.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kalamdb::http {

enum class ParseStatus {
  kComplete,      // the head (or chunked body) is complete
  kNeedMore,      // valid so far; more bytes are needed
  kBad,           // malformed: answer 400 and close
  kHeadTooLarge,  // request line plus headers exceed the limit: 431
  kBodyTooLarge,  // announced or decoded body exceeds the limit: 413
};

// The request line and headers. Views point into the parsed bytes.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version_minor = 1;  // HTTP/1.<minor>, 0 or 1
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  uint64_t content_length = 0;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  size_t head_size = 0;  // bytes up to and including the blank line

  void Clear() {
    method = target = {};
    version_minor = 1;
    headers.clear();
    content_length = 0;
    chunked = keep_alive = expect_continue = false;
    keep_alive = true;
    head_size = 0;
  }
};

// Parses a request head at the start of `data`. `scan_from` remembers how far a previous call
// looked for the blank line, so that a head arriving byte by byte costs linear time; pass 0
// for a new request. On kComplete, `head` is filled and head->head_size bytes form the head.
// `head->headers` keeps its capacity between requests.
ParseStatus ParseRequestHead(std::string_view data, size_t max_head_size, uint64_t max_body_size,
                             size_t* scan_from, RequestHead* head);

// Decodes a chunked body incrementally (RFC 9112 7.1), trailers discarded.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(uint64_t max_body_size) : max_body_(max_body_size) {}
  void Reset(uint64_t max_body_size) { *this = ChunkedDecoder(max_body_size); }
  // Consumes bytes from `data`, appending decoded payload to `body`. Sets *consumed to the
  // bytes used. Returns kComplete after the last chunk and trailers, kNeedMore when `data` ran
  // out, kBad or kBodyTooLarge on errors.
  ParseStatus Feed(std::string_view data, size_t* consumed, std::string* body);

 private:
  enum class State { kSize, kData, kDataCrlf, kTrailer, kDone };
  State state_ = State::kSize;
  uint64_t max_body_;
  uint64_t remaining_ = 0;  // bytes left in the current chunk
  uint64_t total_ = 0;      // decoded so far
};

}  // namespace kalamdb::http
