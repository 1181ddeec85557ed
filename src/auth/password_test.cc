#include "auth/password.h"

#include <gtest/gtest.h>

#include <string>

namespace kalamdb::auth {
namespace {

constexpr int kFastCost = 4;

std::string MustHash(std::string_view password) {
  Result<std::string> hash = HashPassword(password, kFastCost);
  EXPECT_TRUE(hash.ok()) << hash.status().ToString();
  return hash.ok() ? hash.value() : std::string();
}

TEST(PasswordTest, HashHasBcrypt2bFormat) {
  std::string hash = MustHash("correct horse battery staple");
  EXPECT_EQ(hash.substr(0, 7), "$2b$04$");
  EXPECT_EQ(hash.size(), 60u);
  Result<std::string> cost5 = HashPassword("x", 5);
  ASSERT_TRUE(cost5.ok());
  EXPECT_EQ(cost5->substr(0, 7), "$2b$05$");
}

TEST(PasswordTest, VerifiesRightPasswordOnly) {
  std::string hash = MustHash("S3cure-Passphrase");
  EXPECT_TRUE(VerifyPassword("S3cure-Passphrase", hash));
  EXPECT_FALSE(VerifyPassword("s3cure-Passphrase", hash));
  EXPECT_FALSE(VerifyPassword("S3cure-Passphrase ", hash));
  EXPECT_FALSE(VerifyPassword("S3cure-Passphras", hash));
  EXPECT_FALSE(VerifyPassword("", hash));
}

TEST(PasswordTest, EmptyPasswordCanBeHashed) {
  std::string hash = MustHash("");
  EXPECT_TRUE(VerifyPassword("", hash));
  EXPECT_FALSE(VerifyPassword("a", hash));
}

TEST(PasswordTest, SaltMakesHashesDiffer) {
  std::string a = MustHash("same password");
  std::string b = MustHash("same password");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, 29), b.substr(0, 29));  // the 22-character salt differs
  EXPECT_TRUE(VerifyPassword("same password", a));
  EXPECT_TRUE(VerifyPassword("same password", b));
}

TEST(PasswordTest, VerifiesKnownVectorsFromOtherImplementations) {
  // The classic crypt_blowfish vector; also shows "$2a$" hashes keep working.
  EXPECT_TRUE(
      VerifyPassword("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_FALSE(
      VerifyPassword("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

TEST(PasswordTest, EmptyOrMalformedHashNeverVerifies) {
  std::string good = MustHash("password123");
  for (std::string_view hash : {
           std::string_view(""),
           std::string_view("$"),
           std::string_view("$2"),
           std::string_view("$2b$"),
           std::string_view("$2b$04$"),
           std::string_view("garbage"),
           std::string_view("*0"),
           std::string_view("*1"),
           std::string_view("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"),
           std::string_view("$6$salt$abc"),
           std::string_view("password123"),
           std::string_view("$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
           std::string_view("$2z$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
       }) {
    EXPECT_FALSE(VerifyPassword("password123", hash)) << hash;
    EXPECT_FALSE(VerifyPassword("", hash)) << hash;
  }
  // Truncated, extended or altered versions of a real hash.
  EXPECT_FALSE(VerifyPassword("password123", good.substr(0, 59)));
  EXPECT_FALSE(VerifyPassword("password123", good.substr(0, 29)));
  EXPECT_FALSE(VerifyPassword("password123", good + "x"));
  std::string altered = good;
  altered[40] = altered[40] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(VerifyPassword("password123", altered));
  std::string with_nul = good;
  with_nul[59] = '\0';
  EXPECT_FALSE(VerifyPassword("password123", with_nul));
}

TEST(PasswordTest, RejectsOverlongPasswords) {
  std::string max(72, 'p');
  std::string hash = MustHash(max);
  EXPECT_TRUE(VerifyPassword(max, hash));

  Result<std::string> over = HashPassword(std::string(73, 'p'), kFastCost);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), ErrorCode::kInvalidArgument);
  // bcrypt would ignore the 73rd byte; verification must not accept it either.
  EXPECT_FALSE(VerifyPassword(max + "x", hash));
}

TEST(PasswordTest, RejectsPasswordsWithNul) {
  Result<std::string> r = HashPassword(std::string("abc\0def", 7), kFastCost);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  // The C string would end at the NUL: that prefix must not authenticate the longer input.
  std::string hash = MustHash("abc");
  EXPECT_FALSE(VerifyPassword(std::string("abc\0def", 7), hash));
  EXPECT_TRUE(VerifyPassword("abc", hash));
}

TEST(PasswordTest, RejectsBadCost) {
  for (int cost : {-1, 0, 3, 32, 100}) {
    Result<std::string> r = HashPassword("password123", cost);
    ASSERT_FALSE(r.ok()) << cost;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << cost;
  }
}

TEST(PasswordPolicyTest, LengthLimits) {
  Status short_pw = CheckPasswordPolicy("Ab1!xyz");
  EXPECT_EQ(short_pw.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(short_pw.message(), "must be at least 8 characters");
  EXPECT_EQ(CheckPasswordPolicy("").code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordPolicy("Ab1!xyz9").ok());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(72, 'z')).ok());
  Status long_pw = CheckPasswordPolicy(std::string(73, 'z'));
  EXPECT_EQ(long_pw.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(long_pw.message(), "must be at most 72 bytes");
  // Bytes, not characters: 36 two-byte characters are 72 bytes, 37 are too many.
  std::string e_acute = "\xC3\xA9";
  std::string s36, s37;
  for (int i = 0; i < 36; ++i) s36 += e_acute;
  s37 = s36 + e_acute;
  EXPECT_TRUE(CheckPasswordPolicy(s36).ok());
  EXPECT_FALSE(CheckPasswordPolicy(s37).ok());
}

TEST(PasswordPolicyTest, RejectsCommonPasswordsCaseInsensitively) {
  for (std::string_view pw :
       {"password", "PASSWORD", "PassWord", "12345678", "trustno1", "TrustNo1", "baseball",
        "iloveyou", "sunshine", "superman", "passw0rd", "PASSW0RD", "football", "Football"}) {
    Status s = CheckPasswordPolicy(pw);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << pw;
    EXPECT_EQ(s.message(), "is too common") << pw;
  }
  // Short common passwords fail on length first.
  EXPECT_EQ(CheckPasswordPolicy("123456").message(), "must be at least 8 characters");
  EXPECT_EQ(CheckPasswordPolicy("qwerty").message(), "must be at least 8 characters");
}

TEST(PasswordPolicyTest, AcceptsOrdinaryPasswords) {
  EXPECT_TRUE(CheckPasswordPolicy("password1").ok());
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple").ok());
  EXPECT_TRUE(CheckPasswordPolicy("kalamdb-root-2024").ok());
}

TEST(PasswordPolicyTest, RejectsNul) {
  EXPECT_EQ(CheckPasswordPolicy(std::string("abcd\0efgh", 9)).code(), ErrorCode::kInvalidArgument);
}

TEST(ConstantTimeEqualsTest, ComparesEveryByteOfEveryLength) {
  for (size_t n = 0; n < 40; ++n) {
    const std::string a(n, 'k');
    EXPECT_TRUE(ConstantTimeEquals(a, std::string(n, 'k'))) << n;
    EXPECT_FALSE(ConstantTimeEquals(a, std::string(n + 1, 'k'))) << n;
    for (size_t i = 0; i < n; ++i) {  // a difference in any word or in the tail
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x01);
      EXPECT_FALSE(ConstantTimeEquals(a, b)) << n << " at " << i;
    }
  }
}

}  // namespace
}  // namespace kalamdb::auth
