#include <gtest/gtest.h>

#include <atomic>

#include "auth/auth.h"
#include "auth/password.h"
#include "common/base64.h"
#include "storage/storage.h"
#include "support/temp_dir.h"

namespace kalamdb::auth {
namespace {

using catalog::Role;

std::atomic<int64_t> g_now{1'800'000'000'000'000};

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open({.path = dir_.path()});
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    users_ = std::make_unique<catalog::UserStore>(*store_);
    ASSERT_TRUE(users_->Load().ok());
    Options options;
    options.jwt_secret = "test-secret-test-secret-test-secret!";
    options.bcrypt_cost = 4;
    options.now_micros = [] { return g_now.load(); };
    auth_ = std::make_unique<Authenticator>(*users_, options);
  }

  static std::string Basic(std::string_view user, std::string_view password) {
    return "Basic " + Base64Encode(std::string(user) + ":" + std::string(password));
  }

  test::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<catalog::UserStore> users_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, BootstrapCreatesRootOnceAndNeverChangesIt) {
  ASSERT_TRUE(auth_->Bootstrap("first-password").ok());
  auto root = users_->Get("root");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->role, Role::kSystem);
  EXPECT_EQ(root->auth_type, "internal");
  EXPECT_EQ(root->password_hash.rfind("$2b$04$", 0), 0u);
  EXPECT_FALSE(auth_->NeedsSetup());
  ASSERT_TRUE(auth_->Bootstrap("second-password").ok());
  EXPECT_TRUE(VerifyPassword("first-password", users_->Get("root")->password_hash));
}

TEST_F(AuthenticatorTest, LoginIssuesTokensThatAuthenticate) {
  ASSERT_TRUE(auth_->Bootstrap("rootpass123").ok());
  auto tokens = auth_->Login("root", "rootpass123", true);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(tokens->access_expires_at, g_now / 1000000 + 24 * 3600);
  EXPECT_EQ(tokens->refresh_expires_at, g_now / 1000000 + 7 * 24 * 3600);
  auto principal = auth_->Authenticate("Bearer " + tokens->access_token);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->user_id, "root");
  EXPECT_EQ(principal->role, Role::kSystem);
  EXPECT_EQ(principal->method, Method::kBearer);
  // A refresh token is not an access token, and vice versa.
  EXPECT_EQ(auth_->Authenticate("Bearer " + tokens->refresh_token).status().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_FALSE(auth_->Refresh(tokens->access_token).ok());
  auto refreshed = auth_->Refresh(tokens->refresh_token);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_TRUE(auth_->Authenticate("Bearer " + refreshed->access_token).ok());
}

TEST_F(AuthenticatorTest, ExpiredTokenIsReportedAsExpired) {
  ASSERT_TRUE(auth_->Bootstrap("rootpass123").ok());
  auto tokens = auth_->Login("root", "rootpass123", true);
  ASSERT_TRUE(tokens.ok());
  int64_t saved = g_now;
  g_now += (25ll * 3600) * 1000000;
  EXPECT_EQ(auth_->Authenticate("Bearer " + tokens->access_token).status().code(),
            ErrorCode::kTokenExpired);
  g_now = saved;
}

TEST_F(AuthenticatorTest, RoleChangeInvalidatesTokens) {
  ASSERT_TRUE(auth_->CreatePasswordUser("alice", "alicepass1", Role::kDba, std::nullopt).ok());
  auto tokens = auth_->Login("alice", "alicepass1", false);
  ASSERT_TRUE(tokens.ok());
  catalog::User changed = *users_->Get("alice");
  changed.role = Role::kUser;
  ASSERT_TRUE(users_->Put(changed).ok());
  EXPECT_FALSE(auth_->Authenticate("Bearer " + tokens->access_token).ok());
  EXPECT_EQ(auth_->Refresh(tokens->refresh_token).status().message(),
            "Token role does not match user role");
}

TEST_F(AuthenticatorTest, UnknownAndWrongCredentialsAreRejected) {
  ASSERT_TRUE(auth_->Bootstrap("rootpass123").ok());
  EXPECT_EQ(auth_->Login("root", "nope", true).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth_->Login("ghost", "nope", true).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth_->Login("", "nope", true).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(auth_->Authenticate("Bearer not.a.token").ok());
  EXPECT_FALSE(auth_->Authenticate("Token abc").ok());
  EXPECT_FALSE(auth_->Authenticate("").ok());
  EXPECT_FALSE(auth_->Authenticate("Basic !!!").ok());
  EXPECT_FALSE(auth_->Authenticate("Basic " + Base64Encode("no-colon")).ok());
}

TEST_F(AuthenticatorTest, FiveFailuresLockTheAccountForFifteenMinutes) {
  ASSERT_TRUE(auth_->CreatePasswordUser("bob", "bobpass123", Role::kUser, std::nullopt).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth_->Login("bob", "wrong", false).status().code(), ErrorCode::kUnauthenticated)
        << i;
  }
  EXPECT_EQ(auth_->Login("bob", "bobpass123", false).status().code(), ErrorCode::kAccountLocked);
  EXPECT_EQ(auth_->Authenticate(Basic("bob", "bobpass123")).status().code(),
            ErrorCode::kAccountLocked);
  int64_t saved = g_now;
  g_now += 16ll * 60 * 1000000;
  EXPECT_TRUE(auth_->Login("bob", "bobpass123", false).ok());
  g_now = saved;
}

TEST_F(AuthenticatorTest, SuccessResetsTheFailureCount) {
  ASSERT_TRUE(auth_->CreatePasswordUser("carol", "carolpass1", Role::kUser, std::nullopt).ok());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(auth_->Login("carol", "wrong", false).ok());
  EXPECT_TRUE(auth_->Login("carol", "carolpass1", false).ok());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(auth_->Login("carol", "wrong", false).ok());
  EXPECT_TRUE(auth_->Login("carol", "carolpass1", false).ok());
}

TEST_F(AuthenticatorTest, BasicCacheHitsOnlyForTheSamePasswordAndHash) {
  ASSERT_TRUE(auth_->CreatePasswordUser("dave", "davepass1", Role::kService, std::nullopt).ok());
  auto first = auth_->Authenticate(Basic("dave", "davepass1"));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->cache_hit);
  EXPECT_EQ(first->method, Method::kBasic);
  auto second = auth_->Authenticate(Basic("dave", "davepass1"));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cache_hit);
  // A wrong password never hits the cache.
  EXPECT_FALSE(auth_->Authenticate(Basic("dave", "davepass2")).ok());
  // A changed password invalidates the entry: the old password fails, the new one works.
  catalog::User changed = *users_->Get("dave");
  changed.password_hash = *HashPassword("newpass123", 4);
  ASSERT_TRUE(users_->Put(changed).ok());
  EXPECT_FALSE(auth_->Authenticate(Basic("dave", "davepass1")).ok());
  auto fresh = auth_->Authenticate(Basic("dave", "newpass123"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->cache_hit);
  // Entries expire.
  int64_t saved = g_now;
  g_now += 61ll * 1000000;
  auto expired = auth_->Authenticate(Basic("dave", "newpass123"));
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(expired->cache_hit);
  g_now = saved;
}

TEST_F(AuthenticatorTest, BearerCacheSkipsTheSignatureCheckButNeverOutlivesTheToken) {
  ASSERT_TRUE(auth_->CreatePasswordUser("erin", "erinpass1", Role::kDba, std::nullopt).ok());
  auto tokens = auth_->Login("erin", "erinpass1", false);
  ASSERT_TRUE(tokens.ok());
  const std::string header = "Bearer " + tokens->access_token;
  auto first = auth_->Authenticate(header);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->cache_hit);
  auto second = auth_->Authenticate(header);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->user_id, "erin");
  EXPECT_EQ(second->role, Role::kDba);
  // A token that differs in one byte is verified, and fails.
  std::string tampered = header;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(auth_->Authenticate(tampered).ok());
  // Past the cache's lifetime the token is verified again; past the token's expiry it fails.
  int64_t saved = g_now;
  g_now += 61ll * 1000000;
  auto again = auth_->Authenticate(header);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->cache_hit);
  g_now += 25ll * 3600 * 1000000;
  EXPECT_EQ(auth_->Authenticate(header).status().code(), ErrorCode::kTokenExpired);
  g_now = saved;
}

TEST_F(AuthenticatorTest, CachedCredentialsFollowRoleChangesAndDeletion) {
  ASSERT_TRUE(auth_->CreatePasswordUser("fred", "fredpass1", Role::kDba, std::nullopt).ok());
  auto tokens = auth_->Login("fred", "fredpass1", false);
  ASSERT_TRUE(tokens.ok());
  const std::string bearer = "Bearer " + tokens->access_token;
  ASSERT_TRUE(auth_->Authenticate(bearer).ok());
  ASSERT_TRUE(auth_->Authenticate(Basic("fred", "fredpass1")).ok());
  catalog::User changed = *users_->Get("fred");
  changed.role = Role::kUser;
  ASSERT_TRUE(users_->Put(changed).ok());
  // The token's role no longer matches: refused. Basic follows the stored role.
  EXPECT_FALSE(auth_->Authenticate(bearer).ok());
  auto basic = auth_->Authenticate(Basic("fred", "fredpass1"));
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->role, Role::kUser);
  changed.deleted_at = g_now.load();
  ASSERT_TRUE(users_->Put(changed).ok());
  EXPECT_FALSE(auth_->Authenticate(Basic("fred", "fredpass1")).ok());
}

TEST_F(AuthenticatorTest, SetupFlow) {
  ASSERT_TRUE(auth_->Bootstrap("").ok());
  EXPECT_TRUE(auth_->NeedsSetup());
  EXPECT_EQ(auth_->Login("root", "", true).status().code(), ErrorCode::kSetupRequired);
  EXPECT_EQ(auth_->Login("root", "x", false).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(auth_->Login("root", "x", true).status().code(), ErrorCode::kUnauthenticated);

  EXPECT_EQ(auth_->Setup("admin", "short", "rootpass123", std::nullopt).outcome,
            SetupOutcome::kWeakPassword);
  EXPECT_EQ(auth_->Setup("admin", "adminpass1", "password", std::nullopt).outcome,
            SetupOutcome::kWeakRootPassword);
  EXPECT_EQ(auth_->Setup("root", "adminpass1", "rootpass123", std::nullopt).outcome,
            SetupOutcome::kInvalidUser);
  EXPECT_EQ(auth_->Setup("../x", "adminpass1", "rootpass123", std::nullopt).outcome,
            SetupOutcome::kInvalidUser);
  SetupResult done = auth_->Setup("admin", "adminpass1", "rootpass123", "a@b.c");
  ASSERT_EQ(done.outcome, SetupOutcome::kOk) << done.message;
  EXPECT_EQ(done.user->role, Role::kDba);
  EXPECT_FALSE(auth_->NeedsSetup());
  EXPECT_EQ(auth_->Setup("other", "adminpass1", "rootpass123", std::nullopt).outcome,
            SetupOutcome::kAlreadyConfigured);
  EXPECT_TRUE(auth_->Login("root", "rootpass123", false).ok());
  EXPECT_TRUE(auth_->Login("admin", "adminpass1", false).ok());
}

TEST(JwtSecretTest, GeneratedOnceAndKept) {
  test::TempDir dir;
  std::string path = dir.path() + "/jwt_secret";
  auto first = ResolveJwtSecret("", path);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 64u);
  auto second = ResolveJwtSecret("", path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(*ResolveJwtSecret("configured", path), "configured");
}

}  // namespace
}  // namespace kalamdb::auth
