#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <random>

namespace kalamdb::http {
namespace {

ParseStatus Parse(std::string_view data, RequestHead* head, size_t max_head = 16384,
                  uint64_t max_body = 1 << 20) {
  size_t scan = 0;
  return ParseRequestHead(data, max_head, max_body, &scan, head);
}

TEST(RequestParserTest, ParsesRequestLineAndHeaders) {
  RequestHead head;
  std::string req =
      "POST /v1/api/sql?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-A:  b c \r\n\r\nhello";
  ASSERT_EQ(Parse(req, &head), ParseStatus::kComplete);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/v1/api/sql?x=1");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.chunked);
  EXPECT_EQ(head.head_size, req.size() - 5);
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[2].first, "X-A");
  EXPECT_EQ(head.headers[2].second, "b c");
}

TEST(RequestParserTest, IncompleteHeadNeedsMoreAndResumesLinearly) {
  RequestHead head;
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  size_t scan = 0;
  for (size_t n = 1; n < req.size(); ++n) {
    ASSERT_EQ(ParseRequestHead(std::string_view(req).substr(0, n), 16384, 100, &scan, &head),
              ParseStatus::kNeedMore)
        << n;
  }
  EXPECT_EQ(ParseRequestHead(req, 16384, 100, &scan, &head), ParseStatus::kComplete);
}

TEST(RequestParserTest, KeepAliveRules) {
  RequestHead head;
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n", &head), ParseStatus::kComplete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &head),
            ParseStatus::kComplete);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", &head),
            ParseStatus::kComplete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", &head), ParseStatus::kComplete);
  EXPECT_TRUE(head.expect_continue);
}

TEST(RequestParserTest, RejectsAmbiguousFraming) {
  RequestHead head;
  const char* bad[] = {
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET /\x7f HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      " GET / HTTP/1.1\r\n\r\n",
      "GET\r\n\r\n",
  };
  for (const char* req : bad) EXPECT_EQ(Parse(req, &head), ParseStatus::kBad) << req;
  // Identical duplicate Content-Length values are allowed (RFC 9110 8.6).
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &head),
            ParseStatus::kComplete);
}

TEST(RequestParserTest, EveryControlByteInAHeaderValueIsRefusedWherever) {
  // Values are checked eight bytes at a time: put each byte value at each position of a value
  // long enough for two words and a tail, and compare with the byte-by-byte rule.
  RequestHead head;
  for (int b = 0; b < 256; ++b) {
    if (b == '\r' || b == '\n') continue;  // these end the line instead
    const bool bad = (b < 0x20 && b != '\t') || b == 0x7f;
    for (size_t pos = 1; pos < 19; ++pos) {  // not first or last: spaces there are trimmed
      std::string value(20, 'v');
      value[pos] = static_cast<char>(b);
      const std::string req = "GET / HTTP/1.1\r\nX-Test: " + value + "\r\n\r\n";
      EXPECT_EQ(Parse(req, &head), bad ? ParseStatus::kBad : ParseStatus::kComplete)
          << "byte " << b << " at " << pos;
    }
  }
}

TEST(RequestParserTest, Limits) {
  RequestHead head;
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Parse(big, &head, 1024), ParseStatus::kHeadTooLarge);
  EXPECT_EQ(Parse(big.substr(0, 1500), &head, 1024), ParseStatus::kHeadTooLarge);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", &head, 1024, 100),
            ParseStatus::kBodyTooLarge);
  EXPECT_EQ(head.content_length, 101u);
}

TEST(ChunkedDecoderTest, DecodesAcrossArbitrarySplits) {
  std::string wire =
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (size_t split = 0; split <= wire.size(); ++split) {
    ChunkedDecoder decoder(1000);
    std::string body;
    std::string pending = wire.substr(0, split);
    size_t used = 0;
    ParseStatus st = decoder.Feed(pending, &used, &body);
    pending.erase(0, used);
    pending += wire.substr(split);
    if (st == ParseStatus::kNeedMore) {
      st = decoder.Feed(pending, &used, &body);
      pending.erase(0, used);
    }
    ASSERT_EQ(st, ParseStatus::kComplete) << split;
    EXPECT_EQ(body, "Wikipedia in\r\n\r\nchunks.") << split;
    EXPECT_EQ(pending, "NEXT") << split;
  }
}

TEST(ChunkedDecoderTest, RejectsBadInputAndLimits) {
  for (const char* bad : {"g\r\n", "4\r\nabcdX\r\n", "12345678901234567\r\n"}) {
    ChunkedDecoder decoder(1000);
    std::string body;
    size_t used = 0;
    EXPECT_EQ(decoder.Feed(bad, &used, &body), ParseStatus::kBad) << bad;
  }
  ChunkedDecoder decoder(3);
  std::string body;
  size_t used = 0;
  EXPECT_EQ(decoder.Feed("4\r\nabcd\r\n", &used, &body), ParseStatus::kBodyTooLarge);
}

TEST(RequestParserTest, RandomInputNeverCrashes) {
  std::mt19937 rng(7);  // fixed seed: the same inputs on every run
  const std::string alphabet = "GET POST / HTTP/1.1\r\n:Content-Length: 0123456789 chunked\t\x01";
  RequestHead head;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    size_t length = rng() % 200;
    for (size_t k = 0; k < length; ++k) input.push_back(alphabet[rng() % alphabet.size()]);
    if (i % 3 == 0) input += "\r\n\r\n";
    Parse(input, &head, 150, 100);
    ChunkedDecoder decoder(100);
    std::string body;
    size_t used = 0;
    decoder.Feed(input, &used, &body);
    EXPECT_LE(used, input.size());
  }
}

}  // namespace
}  // namespace kalamdb::http
