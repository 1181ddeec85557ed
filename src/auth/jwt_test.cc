#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "common/base64.h"

namespace kalamdb::auth {
namespace {

constexpr std::string_view kSecret = "test-secret-with-enough-entropy-0123456789";
constexpr int64_t kNow = 1'700'000'000;

Claims SampleClaims() {
  Claims c;
  c.sub = "u_alice";
  c.iat = kNow;
  c.exp = kNow + 3600;
  c.email = "alice@example.com";
  c.role = "dba";
  c.token_type = TokenType::kAccess;
  return c;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

// Builds a token from raw JSON texts, signed with HS256 over "<header>.<payload>".
std::string HandBuild(std::string_view header_json, std::string_view payload_json,
                      std::string_view secret = kSecret) {
  std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return signing_input + "." + Base64UrlEncode(HmacSha256(secret, signing_input));
}

constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// Wraps comma-separated JSON members in braces.
std::string Payload(std::string_view fields) { return "{" + std::string(fields) + "}"; }

std::string ValidFields(int64_t exp = kNow + 3600) {
  return R"("sub":"u_bob","iss":"kalamdb","exp":)" + std::to_string(exp) +
         R"(,"iat":1700000000,"email":null,"role":"user","token_type":"access")";
}

void ExpectUnauthenticated(const Result<Claims>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnauthenticated) << r.status().ToString();
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

TEST(JwtTest, TokenTypeNames) {
  EXPECT_EQ(TokenTypeName(TokenType::kAccess), "access");
  EXPECT_EQ(TokenTypeName(TokenType::kRefresh), "refresh");
}

TEST(JwtTest, HeaderIsExactAndPartsAreUnpaddedBase64Url) {
  std::string token = SignJwt(SampleClaims(), kSecret);
  std::vector<std::string> parts = Split(token);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(Base64UrlDecode(parts[0]).value(), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(token.find('='), std::string::npos);
  EXPECT_EQ(token.find('+'), std::string::npos);
  EXPECT_EQ(token.find('/'), std::string::npos);
  EXPECT_EQ(Base64UrlDecode(parts[2]).value().size(), 32u);
  EXPECT_EQ(Base64UrlDecode(parts[1]).value(),
            R"({"sub":"u_alice","iss":"kalamdb","exp":1700003600,"iat":1700000000,)"
            R"("email":"alice@example.com","role":"dba","token_type":"access"})");
}

TEST(JwtTest, RoundTripAccessToken) {
  Claims in = SampleClaims();
  Result<Claims> out = VerifyJwt(SignJwt(in, kSecret), kSecret, TokenType::kAccess, kNow);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sub, "u_alice");
  EXPECT_EQ(out->iss, "kalamdb");
  EXPECT_EQ(out->iat, kNow);
  EXPECT_EQ(out->exp, kNow + 3600);
  ASSERT_TRUE(out->email.has_value());
  EXPECT_EQ(*out->email, "alice@example.com");
  EXPECT_EQ(out->role, "dba");
  EXPECT_EQ(out->token_type, TokenType::kAccess);
}

TEST(JwtTest, RoundTripRefreshTokenWithNullEmail) {
  Claims in = SampleClaims();
  in.email.reset();
  in.role = "system";
  in.token_type = TokenType::kRefresh;
  in.exp = kNow + 7 * 86400;
  Result<Claims> out = VerifyJwt(SignJwt(in, kSecret), kSecret, TokenType::kRefresh, kNow);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sub, "u_alice");
  EXPECT_FALSE(out->email.has_value());
  EXPECT_EQ(out->role, "system");
  EXPECT_EQ(out->exp, kNow + 7 * 86400);
  EXPECT_EQ(out->token_type, TokenType::kRefresh);
}

TEST(JwtTest, RoundTripEscapedStrings) {
  Claims in = SampleClaims();
  in.sub = "u_\"quoted\"\\ \xC3\xA9";
  in.email = "we\"ird@example.com";
  Result<Claims> out = VerifyJwt(SignJwt(in, kSecret), kSecret, TokenType::kAccess, kNow);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sub, in.sub);
  EXPECT_EQ(out->email, in.email);
}

TEST(JwtTest, AbsentEmailAndExtraClaimsAreAccepted) {
  std::string payload = Payload(
      R"("sub":"u_bob","iss":"kalamdb","exp":1700003600,"role":"user","token_type":"access",)"
      R"("jti":"abc","nbf":1700000000,"aud":["x"])");
  Result<Claims> out =
      VerifyJwt(HandBuild(kHs256Header, payload), kSecret, TokenType::kAccess, kNow);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->email.has_value());
  EXPECT_EQ(out->iat, 0);
  // A header without "typ", or with keys in another order, is fine too.
  out = VerifyJwt(HandBuild(R"({"typ":"JWT","alg":"HS256"})", Payload(ValidFields())), kSecret,
                  TokenType::kAccess, kNow);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  out = VerifyJwt(HandBuild(R"({"alg":"HS256"})", Payload(ValidFields())), kSecret,
                  TokenType::kAccess, kNow);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
}

TEST(JwtTest, HandBuiltValidTokenVerifies) {
  Result<Claims> out =
      VerifyJwt(HandBuild(kHs256Header, Payload(ValidFields())), kSecret, TokenType::kAccess, kNow);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sub, "u_bob");
  EXPECT_EQ(out->role, "user");
}

TEST(JwtTest, TamperedPayloadIsRejected) {
  Claims in = SampleClaims();
  in.role = "user";
  std::vector<std::string> parts = Split(SignJwt(in, kSecret));
  std::string payload = Base64UrlDecode(parts[1]).value();
  size_t pos = payload.find(R"("role":"user")");
  ASSERT_NE(pos, std::string::npos);
  payload.replace(pos, 13, R"("role":"system")");
  std::string forged = parts[0] + "." + Base64UrlEncode(payload) + "." + parts[2];
  Result<Claims> out = VerifyJwt(forged, kSecret, TokenType::kAccess, kNow);
  ExpectUnauthenticated(out);
  EXPECT_EQ(out.status().message(), "invalid token signature");
}

TEST(JwtTest, TamperedSignatureIsRejected) {
  std::string token = SignJwt(SampleClaims(), kSecret);
  size_t sig = token.rfind('.') + 1;
  std::string flipped = token;
  flipped[sig] = flipped[sig] == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(VerifyJwt(flipped, kSecret, TokenType::kAccess, kNow));
  // Truncated, extended and empty signatures.
  ExpectUnauthenticated(
      VerifyJwt(token.substr(0, token.size() - 1), kSecret, TokenType::kAccess, kNow));
  ExpectUnauthenticated(VerifyJwt(token + "AA", kSecret, TokenType::kAccess, kNow));
  ExpectUnauthenticated(VerifyJwt(token.substr(0, sig), kSecret, TokenType::kAccess, kNow));
  // A signature with a wrong length (31 bytes of the real one).
  std::string mac = Base64UrlDecode(token.substr(sig)).value();
  std::string short_sig = token.substr(0, sig) + Base64UrlEncode(mac.substr(0, 31));
  ExpectUnauthenticated(VerifyJwt(short_sig, kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, NonCanonicalSignatureEncodingIsRejected) {
  // 32 bytes encode to 43 characters whose last one carries 2 unused bits; setting one of them
  // decodes to the same bytes but is not the token that was issued.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token = SignJwt(SampleClaims(), kSecret);
  ASSERT_EQ(token.size() - token.rfind('.') - 1, 43u);
  size_t index = kAlphabet.find(token.back());
  ASSERT_EQ(index % 4, 0u);
  std::string variant = token;
  variant.back() = kAlphabet[index + 1];
  ASSERT_EQ(Base64UrlDecode(variant.substr(variant.rfind('.') + 1)),
            Base64UrlDecode(token.substr(token.rfind('.') + 1)));
  ASSERT_TRUE(VerifyJwt(token, kSecret, TokenType::kAccess, kNow).ok());
  ExpectUnauthenticated(VerifyJwt(variant, kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, WrongSecretIsRejected) {
  std::string token = SignJwt(SampleClaims(), kSecret);
  ExpectUnauthenticated(VerifyJwt(token, "another-secret", TokenType::kAccess, kNow));
  ExpectUnauthenticated(VerifyJwt(token, std::string(kSecret) + "x", TokenType::kAccess, kNow));
  // An empty secret never verifies anything, even a token signed with an empty key.
  ExpectUnauthenticated(VerifyJwt(SignJwt(SampleClaims(), ""), "", TokenType::kAccess, kNow));
}

TEST(JwtTest, AlgNoneIsRejected) {
  std::string payload = Payload(ValidFields());
  std::string unsigned_token =
      Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + Base64UrlEncode(payload) + ".";
  ExpectUnauthenticated(VerifyJwt(unsigned_token, kSecret, TokenType::kAccess, kNow));
  // Even with a correct HS256 MAC over it.
  ExpectUnauthenticated(VerifyJwt(HandBuild(R"({"alg":"none","typ":"JWT"})", payload), kSecret,
                                  TokenType::kAccess, kNow));
  ExpectUnauthenticated(
      VerifyJwt(HandBuild(R"({"alg":"None"})", payload), kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, OtherAlgorithmsAreRejected) {
  std::string payload = Payload(ValidFields());
  for (std::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"HS384","typ":"JWT"})",
        R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"ES256","typ":"JWT"})",
        R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"HS256 ","typ":"JWT"})", R"({"typ":"JWT"})",
        R"({"alg":null})", R"({"alg":256})", R"({"alg":["HS256"]})",
        R"({"alg":"HS256","alg":"none"})", R"({"alg":"none","alg":"HS256"})",
        R"({"alg":"HS256","crit":["exp"]})", R"(["HS256"])", R"("HS256")", "{}", "", "not json"}) {
    ExpectUnauthenticated(VerifyJwt(HandBuild(header, payload), kSecret, TokenType::kAccess, kNow));
  }
}

TEST(JwtTest, ExpiryHonoursLeeway) {
  Claims c = SampleClaims();
  c.iat = kNow - 7200;
  c.exp = kNow - 61;
  Result<Claims> out = VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kTokenExpired);

  c.exp = kNow - 60;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow).ok());
  c.exp = kNow - 30;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow).ok());
  c.exp = kNow;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow).ok());
}

TEST(JwtTest, ExpiredTokenWithOtherFaultIsUnauthenticated) {
  Claims c = SampleClaims();
  c.exp = kNow - 3600;
  std::string token = SignJwt(c, kSecret);
  // Bad signature dominates expiry.
  ExpectUnauthenticated(VerifyJwt(token, "wrong", TokenType::kAccess, kNow));
  // Wrong type dominates expiry.
  ExpectUnauthenticated(VerifyJwt(token, kSecret, TokenType::kRefresh, kNow));
  c.iss = "other";
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, ExtremeTimesDoNotOverflow) {
  Claims c = SampleClaims();
  c.exp = INT64_MAX;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow).ok());
  c.exp = INT64_MIN;
  Result<Claims> out = VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kTokenExpired);
  c = SampleClaims();
  c.iat = INT64_MIN;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, INT64_MIN).ok());
  c.iat = kNow;
  out = VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, INT64_MAX);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kTokenExpired);
}

TEST(JwtTest, IssuedInTheFutureIsRejected) {
  Claims c = SampleClaims();
  c.iat = kNow + 3600;
  c.exp = kNow + 7200;
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  c.iat = kNow + 61;
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  c.iat = kNow + 30;  // clock skew within leeway
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow).ok());
}

TEST(JwtTest, NotBeforeHonoursLeeway) {
  auto with_nbf = [](int64_t nbf) {
    return HandBuild(kHs256Header, Payload(ValidFields() + R"(,"nbf":)" + std::to_string(nbf)));
  };
  ExpectUnauthenticated(VerifyJwt(with_nbf(kNow + 120), kSecret, TokenType::kAccess, kNow));
  EXPECT_TRUE(VerifyJwt(with_nbf(kNow + 30), kSecret, TokenType::kAccess, kNow).ok());
  EXPECT_TRUE(VerifyJwt(with_nbf(kNow - 30), kSecret, TokenType::kAccess, kNow).ok());
  ExpectUnauthenticated(VerifyJwt(HandBuild(kHs256Header, Payload(ValidFields() + R"(,"nbf":"0")")),
                                  kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, WrongIssuerIsRejected) {
  Claims c = SampleClaims();
  c.iss = "not-kalamdb";
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  c.iss = "KalamDB";
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  c.iss = "";
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  // Missing iss.
  std::string payload = Payload(
      R"("sub":"u_bob","exp":1700003600,"iat":1700000000,"role":"user","token_type":"access")");
  ExpectUnauthenticated(
      VerifyJwt(HandBuild(kHs256Header, payload), kSecret, TokenType::kAccess, kNow));
}

TEST(JwtTest, SubjectMustBeNonEmptyString) {
  Claims c = SampleClaims();
  c.sub = "";
  ExpectUnauthenticated(VerifyJwt(SignJwt(c, kSecret), kSecret, TokenType::kAccess, kNow));
  for (std::string_view fields :
       {R"("iss":"kalamdb","exp":1700003600,"role":"user","token_type":"access")",
        R"("sub":42,"iss":"kalamdb","exp":1700003600,"role":"user","token_type":"access")",
        R"("sub":null,"iss":"kalamdb","exp":1700003600,"role":"user","token_type":"access")"}) {
    ExpectUnauthenticated(
        VerifyJwt(HandBuild(kHs256Header, Payload(fields)), kSecret, TokenType::kAccess, kNow));
  }
}

TEST(JwtTest, ClaimTypesAreChecked) {
  for (
      std::string_view fields : {
          // exp missing, a string, a float, out of int64 range
          R"("sub":"u","iss":"kalamdb","role":"user","token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":"1700003600","role":"user","token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600.5,"role":"user","token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":18446744073709551615,"role":"user","token_type":"access")",
          // iat not an integer
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"iat":"x","role":"user","token_type":"access")",
          // role missing or not a string
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":1,"token_type":"access")",
          // email neither string nor null
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"email":5,"role":"user","token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"email":{},"role":"user","token_type":"access")",
          // token_type missing, unknown or not a string
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":"user")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":"user","token_type":"id")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":"user","token_type":"ACCESS")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":"user","token_type":true)",
          // duplicated claims
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"role":"user","role":"system","token_type":"access")",
          R"("sub":"u","sub":"v","iss":"kalamdb","exp":1700003600,"role":"user","token_type":"access")",
          R"("sub":"u","iss":"kalamdb","exp":1700003600,"exp":1900000000,"role":"user","token_type":"access")",
      }) {
    ExpectUnauthenticated(
        VerifyJwt(HandBuild(kHs256Header, Payload(fields)), kSecret, TokenType::kAccess, kNow));
  }
}

TEST(JwtTest, TokenTypeMustMatch) {
  Claims c = SampleClaims();
  c.token_type = TokenType::kRefresh;
  std::string refresh = SignJwt(c, kSecret);
  ExpectUnauthenticated(VerifyJwt(refresh, kSecret, TokenType::kAccess, kNow));
  EXPECT_TRUE(VerifyJwt(refresh, kSecret, TokenType::kRefresh, kNow).ok());
  std::string access = SignJwt(SampleClaims(), kSecret);
  ExpectUnauthenticated(VerifyJwt(access, kSecret, TokenType::kRefresh, kNow));
}

TEST(JwtTest, MalformedInputsAreUnauthenticated) {
  std::string good = SignJwt(SampleClaims(), kSecret);
  std::vector<std::string> parts = Split(good);
  std::vector<std::string> inputs = {
      "",
      "nodots",
      ".",
      "..",
      "...",
      parts[0] + "." + parts[1],
      good + ".",
      good + "." + parts[2],
      "." + parts[1] + "." + parts[2],
      parts[0] + ".." + parts[2],
      "!!!." + parts[1] + "." + parts[2],
      parts[0] + ".@@@." + parts[2],
      parts[0] + "." + parts[1] + ".***",
      parts[0] + "." + parts[1] + "=." + parts[2],
      std::string(1, '\0') + good,
      std::string(100000, 'a'),
      std::string(9000, '.'),
  };
  // A correctly signed token over payloads that are not JSON objects.
  for (std::string_view payload : {"not json", "[1,2,3]", "\"str\"", "42", "null", "",
                                   "{\"sub\":", "{\"sub\":\"u\"}garbage", "\xff\xfe{}"}) {
    inputs.push_back(HandBuild(kHs256Header, payload));
  }
  // A huge but otherwise valid token is refused on size alone.
  inputs.push_back(HandBuild(
      kHs256Header, Payload(ValidFields() + R"(,"pad":")" + std::string(9000, 'x') + "\"")));
  for (const std::string& input : inputs) {
    ExpectUnauthenticated(VerifyJwt(input, kSecret, TokenType::kAccess, kNow));
  }
}

TEST(JwtTest, SizeLimitIsEightKiB) {
  // Grow a padding claim until the token is just below and just above 8 KiB.
  auto token_with_pad = [](size_t pad) {
    return HandBuild(kHs256Header,
                     Payload(ValidFields() + R"(,"pad":")" + std::string(pad, 'x') + "\""));
  };
  size_t pad = 0;
  while (token_with_pad(pad + 1).size() <= 8192) ++pad;
  std::string at_limit = token_with_pad(pad);
  ASSERT_LE(at_limit.size(), 8192u);
  EXPECT_TRUE(VerifyJwt(at_limit, kSecret, TokenType::kAccess, kNow).ok());
  std::string over = token_with_pad(pad + 1);
  ASSERT_GT(over.size(), 8192u);
  ExpectUnauthenticated(VerifyJwt(over, kSecret, TokenType::kAccess, kNow));
}

}  // namespace
}  // namespace kalamdb::auth
