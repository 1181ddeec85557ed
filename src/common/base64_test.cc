#include "common/base64.h"

#include <gtest/gtest.h>

namespace kalamdb {
namespace {

TEST(Base64Test, StandardRoundTripWithPadding) {
  EXPECT_EQ(Base64Encode("root:secret"), "cm9vdDpzZWNyZXQ=");
  EXPECT_EQ(Base64Decode("cm9vdDpzZWNyZXQ=").value(), "root:secret");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
}

TEST(Base64Test, UrlVariantHasNoPaddingAndUrlAlphabet) {
  std::string bytes = "\xfb\xff\xbf";
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64UrlDecode("-_-_").value(), bytes);
  EXPECT_EQ(Base64UrlEncode("ab"), "YWI");
  EXPECT_EQ(Base64UrlDecode("YWI").value(), "ab");
}

TEST(Base64Test, RejectsInvalidInput) {
  EXPECT_FALSE(Base64Decode("a$b=").has_value());
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
  EXPECT_FALSE(Base64UrlDecode("YWI=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Y").has_value());
}

}  // namespace
}  // namespace kalamdb
