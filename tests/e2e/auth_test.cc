// auth_test.cc: /v1/api/auth/{login,me,refresh,logout} and the lockout rule on the real binary,
// for a server whose root password comes from KALAMDB_ROOT_PASSWORD.
#include <gtest/gtest.h>

#include <algorithm>

#include "e2e/e2e_helpers.h"

namespace kalamdb::test {
namespace {

// The user object of login, me and setup answers.
void ExpectUser(const JsonDoc& doc, std::string_view pointer, std::string_view id,
                std::string_view role) {
  std::string p(pointer);
  EXPECT_EQ(Sorted(doc.Keys(p)),
            (std::vector<std::string>{"created_at", "email", "id", "role", "updated_at"}));
  EXPECT_EQ(doc.Str(p + "/id"), id);
  EXPECT_EQ(doc.Str(p + "/role"), role);
  EXPECT_TRUE(doc.IsString(p + "/email") || doc.IsNull(p + "/email"));
  auto created = ParseRfc3339(doc.Str(p + "/created_at").value_or(""));
  auto updated = ParseRfc3339(doc.Str(p + "/updated_at").value_or(""));
  ASSERT_TRUE(created.has_value()) << doc.Str(p + "/created_at").value_or("<missing>");
  ASSERT_TRUE(updated.has_value()) << doc.Str(p + "/updated_at").value_or("<missing>");
  EXPECT_LE(*created, *updated);
  EXPECT_LE(*created, NowUnixSeconds() + 5);
  EXPECT_GT(*created, NowUnixSeconds() - 3600);
}

// Checks a login/refresh answer for `user` and returns {access, refresh}.
std::pair<std::string, std::string> ExpectTokens(const ClientResponse& response,
                                                 std::string_view user, std::string_view role) {
  EXPECT_EQ(response.status, 200) << response.body;
  JsonDoc doc(response.body);
  EXPECT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("")),
            (std::vector<std::string>{"access_token", "admin_ui_access", "expires_at",
                                      "refresh_expires_at", "refresh_token", "user"}))
      << response.body;
  ExpectUser(doc, "/user", user, role);
  EXPECT_EQ(doc.Bool("/admin_ui_access"), role == "dba" || role == "system");

  const int64_t now = NowUnixSeconds();
  auto expires = ParseRfc3339(doc.Str("/expires_at").value_or(""));
  auto refresh_expires = ParseRfc3339(doc.Str("/refresh_expires_at").value_or(""));
  EXPECT_TRUE(expires.has_value()) << response.body;
  EXPECT_TRUE(refresh_expires.has_value()) << response.body;
  // Defaults: access tokens live 24 h, refresh tokens 7 times as long.
  EXPECT_NEAR(static_cast<double>(expires.value_or(0) - now), 24.0 * 3600, 120);
  EXPECT_NEAR(static_cast<double>(refresh_expires.value_or(0) - now), 7 * 24.0 * 3600, 120);

  std::string access = doc.Str("/access_token").value_or("");
  std::string refresh = doc.Str("/refresh_token").value_or("");
  EXPECT_NE(access, refresh);
  for (const auto& [token, type] : {std::pair{access, "access"}, std::pair{refresh, "refresh"}}) {
    auto payload = JwtPayload(token);
    EXPECT_TRUE(payload.has_value()) << "not a JWT: " << token;
    JsonDoc claims(payload.value_or(""));
    EXPECT_EQ(claims.Str("/sub"), user) << payload.value_or("");
    EXPECT_EQ(claims.Str("/iss"), "kalamdb") << payload.value_or("");
    EXPECT_EQ(claims.Str("/role"), role) << payload.value_or("");
    EXPECT_EQ(claims.Str("/token_type"), type) << payload.value_or("");
    EXPECT_TRUE(claims.Int("/exp").has_value() && claims.Int("/iat").has_value())
        << payload.value_or("");
  }

  // Two cookies carrying the same tokens: HttpOnly, SameSite=Strict, Path=/, a positive
  // Max-Age, and no Secure flag (the request came over plain http).
  EXPECT_EQ(HeaderValues(response, "Set-Cookie").size(), 2u);
  EXPECT_EQ(CookieValue(response, "kalamdb_auth"), access);
  EXPECT_EQ(CookieValue(response, "kalamdb_refresh"), refresh);
  for (const char* name : {"kalamdb_auth", "kalamdb_refresh"}) {
    std::string cookie = SetCookie(response, name).value_or("");
    EXPECT_EQ(CookieAttribute(cookie, "HttpOnly"), "") << cookie;
    EXPECT_EQ(CookieAttribute(cookie, "SameSite"), "Strict") << cookie;
    EXPECT_EQ(CookieAttribute(cookie, "Path"), "/") << cookie;
    EXPECT_EQ(CookieAttribute(cookie, "Secure"), std::nullopt) << cookie;
    int64_t max_age = std::stoll(CookieAttribute(cookie, "Max-Age").value_or("0"));
    EXPECT_GT(max_age, 0) << cookie;
  }
  auto auth_age = std::stoll(
      CookieAttribute(SetCookie(response, "kalamdb_auth").value_or(""), "Max-Age").value_or("0"));
  auto refresh_age =
      std::stoll(CookieAttribute(SetCookie(response, "kalamdb_refresh").value_or(""), "Max-Age")
                     .value_or("0"));
  EXPECT_NEAR(static_cast<double>(auth_age), 24.0 * 3600, 120);
  EXPECT_NEAR(static_cast<double>(refresh_age), 7 * 24.0 * 3600, 120);
  return {access, refresh};
}

void ExpectMe(const ClientResponse& response, std::string_view user, std::string_view role) {
  EXPECT_EQ(response.status, 200) << response.body;
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"admin_ui_access", "user"}));
  ExpectUser(doc, "/user", user, role);
  EXPECT_EQ(doc.Bool("/admin_ui_access"), role == "dba" || role == "system");
}

class AuthE2E : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  int port() const { return server_.Port(); }
  ServerProcess server_{RootServerOptions()};
};

TEST_F(AuthE2E, LoginReturnsUserTokensAndCookies) {
  ClientResponse response =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  auto [access, refresh] = ExpectTokens(response, "root", "system");
  JsonDoc doc(response.body);
  EXPECT_EQ(doc.Str("/user/email"), "root@localhost");
  EXPECT_EQ(response.Header("Content-Type"), std::string_view("application/json"));

  // "username" is accepted as an alias of "user".
  ClientResponse alias =
      Call(port(), "POST", "/v1/api/auth/login",
           R"({"username":"root","password":")" + std::string(kRootPassword) + R"("})");
  ExpectTokens(alias, "root", "system");
}

TEST_F(AuthE2E, MeWithBearerAndWithCookie) {
  std::string token = LoginToken(port(), "root", kRootPassword);
  ASSERT_FALSE(token.empty());
  ExpectMe(Call(port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + token}}),
           "root", "system");
  ExpectMe(Call(port(), "GET", "/v1/api/auth/me", "", {{"Cookie", "kalamdb_auth=" + token}}),
           "root", "system");
  // Among other cookies.
  ExpectMe(Call(port(), "GET", "/v1/api/auth/me", "",
                {{"Cookie", "theme=dark; kalamdb_auth=" + token + "; other=1"}}),
           "root", "system");

  ExpectAuthError(Call(port(), "GET", "/v1/api/auth/me"), 401, "unauthorized");
  ExpectAuthError(Call(port(), "GET", "/v1/api/auth/me", "",
                       {{"Authorization", BasicAuth("root", kRootPassword)}}),
                  401, "unauthorized");
  ExpectAuthError(
      Call(port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer not.a.token"}}), 401,
      "unauthorized");
  ExpectAuthError(Call(port(), "GET", "/v1/api/auth/me", "", {{"Cookie", "kalamdb_auth=garbage"}}),
                  401, "unauthorized");
}

TEST_F(AuthE2E, RefreshWithCookieAndWithBearer) {
  ClientResponse login =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  auto [access, refresh] = ExpectTokens(login, "root", "system");

  ClientResponse by_cookie =
      Call(port(), "POST", "/v1/api/auth/refresh", "", {{"Cookie", "kalamdb_refresh=" + refresh}});
  auto [access2, refresh2] = ExpectTokens(by_cookie, "root", "system");
  ExpectMe(Call(port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + access2}}),
           "root", "system");

  ClientResponse by_bearer =
      Call(port(), "POST", "/v1/api/auth/refresh", "", {{"Authorization", "Bearer " + refresh2}});
  auto [access3, refresh3] = ExpectTokens(by_bearer, "root", "system");
  ExpectMe(Call(port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + access3}}),
           "root", "system");
  // The refreshed access token works on the SQL endpoint too.
  ClientResponse sql = Call(port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
                            {{"Authorization", "Bearer " + access3}});
  EXPECT_EQ(sql.status, 200) << sql.body;
}

TEST_F(AuthE2E, RefreshRejectsAccessTokensAndGarbage) {
  ClientResponse login =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  auto [access, refresh] = ExpectTokens(login, "root", "system");

  ClientResponse with_access =
      Call(port(), "POST", "/v1/api/auth/refresh", "", {{"Authorization", "Bearer " + access}});
  ExpectAuthError(with_access, 401, "unauthorized");
  EXPECT_TRUE(HeaderValues(with_access, "Set-Cookie").empty());

  ExpectAuthError(
      Call(port(), "POST", "/v1/api/auth/refresh", "", {{"Cookie", "kalamdb_refresh=" + access}}),
      401, "unauthorized");
  ExpectAuthError(Call(port(), "POST", "/v1/api/auth/refresh"), 401, "unauthorized");
  ExpectAuthError(
      Call(port(), "POST", "/v1/api/auth/refresh", "", {{"Authorization", "Bearer garbage"}}), 401,
      "unauthorized");
  // A refresh token is not an access token.
  ExpectAuthError(
      Call(port(), "GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + refresh}}), 401,
      "unauthorized");
}

TEST_F(AuthE2E, LogoutClearsBothCookies) {
  ClientResponse response = Call(port(), "POST", "/v1/api/auth/logout");
  EXPECT_EQ(response.status, 200) << response.body;
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(doc.Keys(""), (std::vector<std::string>{"message"}));
  EXPECT_EQ(doc.Str("/message"), "Logged out successfully");
  EXPECT_EQ(HeaderValues(response, "Set-Cookie").size(), 2u);
  for (const char* name : {"kalamdb_auth", "kalamdb_refresh"}) {
    auto cookie = SetCookie(response, name);
    ASSERT_TRUE(cookie.has_value()) << name;
    EXPECT_EQ(CookieValue(response, name), "") << *cookie;
    EXPECT_EQ(CookieAttribute(*cookie, "Max-Age"), "0") << *cookie;
    EXPECT_EQ(CookieAttribute(*cookie, "HttpOnly"), "") << *cookie;
    EXPECT_EQ(CookieAttribute(*cookie, "Path"), "/") << *cookie;
  }
  // Logged in or not, logout answers the same.
  std::string token = LoginToken(port(), "root", kRootPassword);
  ClientResponse again =
      Call(port(), "POST", "/v1/api/auth/logout", "", {{"Cookie", "kalamdb_auth=" + token}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, response.body);
}

TEST_F(AuthE2E, WrongPasswordAndUnknownUserAre401) {
  ClientResponse wrong =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", "not-the-password"));
  ExpectAuthError(wrong, 401, "unauthorized");
  EXPECT_EQ(JsonDoc(wrong.body).Str("/message"), "Invalid credentials");
  EXPECT_TRUE(HeaderValues(wrong, "Set-Cookie").empty());

  ClientResponse unknown =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("nobody", "whatever123"));
  ExpectAuthError(unknown, 401, "unauthorized");
  // Same answer for an unknown user as for a wrong password: no user enumeration.
  EXPECT_EQ(JsonDoc(unknown.body).Str("/message"), "Invalid credentials");

  ExpectAuthError(Call(port(), "POST", "/v1/api/auth/login", LoginBody("", kRootPassword)), 401,
                  "unauthorized");
}

TEST_F(AuthE2E, MalformedLoginBodiesAre400) {
  const std::string pw = kRootPassword;
  for (const std::string& body :
       {std::string(R"({"user":"root","password":")") + pw + R"(","extra":1})",  // unknown field
        std::string(R"({"user":"root","password":)"),                            // truncated
        std::string("not json"), std::string("[1,2]"), std::string(""),
        std::string(R"({"user":"root","password":42})")}) {
    ClientResponse response = Call(port(), "POST", "/v1/api/auth/login", body);
    EXPECT_EQ(response.status, 400) << "body " << body << " -> " << response.body;
    JsonDoc doc(response.body);
    EXPECT_TRUE(doc.IsString("/error")) << response.body;
    EXPECT_TRUE(HeaderValues(response, "Set-Cookie").empty());
  }
  // Too long a user name or password.
  ClientResponse long_user =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody(std::string(129, 'u'), pw));
  EXPECT_EQ(long_user.status, 400) << long_user.body;
  ClientResponse long_password =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", std::string(257, 'p')));
  EXPECT_EQ(long_password.status, 400) << long_password.body;
  // None of these counted as a failed login: the right password still works.
  EXPECT_FALSE(LoginToken(port(), "root", pw).empty());
}

TEST_F(AuthE2E, FiveFailuresLockTheAccount) {
  for (int i = 0; i < 5; ++i) {
    ClientResponse response =
        Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", "wrong-password"));
    ExpectAuthError(response, 401, "unauthorized");
  }
  ClientResponse locked =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword));
  ExpectAuthError(locked, 401, "account_locked");
  EXPECT_TRUE(HeaderValues(locked, "Set-Cookie").empty());
  // Basic credentials on the SQL endpoint are refused for the locked account as well.
  ClientResponse sql = Call(port(), "POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
                            {{"Authorization", BasicAuth("root", kRootPassword)}});
  EXPECT_EQ(sql.status, 401) << sql.body;
  EXPECT_EQ(JsonDoc(sql.body).Str("/error/code"), "ACCOUNT_LOCKED") << sql.body;
}

TEST_F(AuthE2E, SuccessResetsTheFailureCount) {
  for (int i = 0; i < 4; ++i) {
    ExpectAuthError(Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", "wrong-pw")), 401,
                    "unauthorized");
  }
  EXPECT_FALSE(LoginToken(port(), "root", kRootPassword).empty());
  for (int i = 0; i < 4; ++i) {
    ExpectAuthError(Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", "wrong-pw")), 401,
                    "unauthorized");
  }
  EXPECT_FALSE(LoginToken(port(), "root", kRootPassword).empty());
}

TEST_F(AuthE2E, CookiesAreSecureBehindAnHttpsProxy) {
  // cookie_secure defaults to true: the flag is added when a local proxy says https.
  ClientResponse response =
      Call(port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword),
           {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(response.status, 200) << response.body;
  for (const char* name : {"kalamdb_auth", "kalamdb_refresh"}) {
    std::string cookie = SetCookie(response, name).value_or("");
    EXPECT_EQ(CookieAttribute(cookie, "Secure"), "") << cookie;
  }
}

TEST(AuthCookieE2E, CookieSecureFalseNeverAddsTheFlag) {
  ServerProcess server(RootServerOptions({{"KALAMDB_COOKIE_SECURE", "false"}}));
  ASSERT_TRUE(server.Start());
  ClientResponse response =
      Call(server.Port(), "POST", "/v1/api/auth/login", LoginBody("root", kRootPassword),
           {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(response.status, 200) << response.body;
  for (const char* name : {"kalamdb_auth", "kalamdb_refresh"}) {
    std::string cookie = SetCookie(response, name).value_or("");
    EXPECT_FALSE(cookie.empty()) << name;
    EXPECT_EQ(CookieAttribute(cookie, "Secure"), std::nullopt) << cookie;
  }
}

TEST(AuthRateLimitE2E, LoginIsRateLimitedPerIp) {
  ServerProcess server(
      RootServerOptions({{"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "3"}}));
  ASSERT_TRUE(server.Start());
  http::Client client("127.0.0.1", server.Port());
  int limited = 0;
  const int64_t start = NowUnixSeconds();
  for (int i = 0; i < 10; ++i) {
    ClientResponse response =
        Call(client, "POST", "/v1/api/auth/login", LoginBody("nobody", "x-password"));
    if (response.status == 429) {
      ++limited;
      ExpectAuthError(response, 429, "rate_limited");
      EXPECT_EQ(JsonDoc(response.body).Str("/message"),
                "Too many authentication attempts. Please retry shortly.");
    } else {
      ExpectAuthError(response, 401, "unauthorized");
    }
  }
  // A fixed one-second window: the attempts spanned (end - start + 1) windows of 3 each.
  const int64_t windows = NowUnixSeconds() - start + 1;
  EXPECT_GE(limited, 10 - 3 * windows) << "attempts spanned " << windows << " second(s)";
  // /auth/me is not rate-limited.
  ClientResponse me = Call(client, "GET", "/v1/api/auth/me");
  EXPECT_EQ(me.status, 401) << me.body;
}

}  // namespace
}  // namespace kalamdb::test
