#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "storage/storage.h"
#include "support/temp_dir.h"

namespace kalamdb::catalog {
namespace {

User MakeUser(std::string id, Role role) {
  User u;
  u.user_id = std::move(id);
  u.password_hash = "$2b$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
  u.role = role;
  u.created_at = 1000;
  u.updated_at = 2000;
  return u;
}

TEST(RoleTest, NamesAndAliases) {
  Role r;
  ASSERT_TRUE(ParseRole("ADMIN", &r));
  EXPECT_EQ(r, Role::kDba);
  ASSERT_TRUE(ParseRole("developer", &r));
  EXPECT_EQ(r, Role::kService);
  ASSERT_TRUE(ParseRole("readonly", &r));
  EXPECT_EQ(r, Role::kUser);
  EXPECT_FALSE(ParseRole("superuser", &r));
  EXPECT_EQ(RoleName(Role::kSystem), "system");
  EXPECT_TRUE(IsAdmin(Role::kDba));
  EXPECT_FALSE(IsAdmin(Role::kService));
}

TEST(UserCodecTest, RoundTripKeepsOptionals) {
  User u = MakeUser("alice", Role::kService);
  u.email = "a@example.com";
  u.locked_until = 123;
  u.failed_login_attempts = 3;
  auto back = DecodeUser(EncodeUser(u));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->user_id, "alice");
  EXPECT_EQ(back->role, Role::kService);
  EXPECT_EQ(back->email, "a@example.com");
  EXPECT_EQ(back->locked_until, 123);
  EXPECT_FALSE(back->last_login_at.has_value());
  EXPECT_EQ(back->failed_login_attempts, 3);
  EXPECT_EQ(back->created_at, 1000);
  EXPECT_FALSE(DecodeUser("not json").ok());
  EXPECT_FALSE(DecodeUser("{\"user_id\":\"x\"}").ok());
}

TEST(UserStoreTest, CreateRejectsDuplicatesAndReloads) {
  test::TempDir dir;
  {
    auto store = storage::Store::Open({.path = dir.path()});
    ASSERT_TRUE(store.ok());
    UserStore users(**store);
    ASSERT_TRUE(users.Load().ok());
    ASSERT_TRUE(users.Create(MakeUser("bob", Role::kUser)).ok());
    EXPECT_EQ(users.Create(MakeUser("bob", Role::kDba)).code(), ErrorCode::kAlreadyExists);
    ASSERT_TRUE(users.Create(MakeUser("alice", Role::kDba)).ok());
    auto list = users.List();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]->user_id, "alice");
  }
  auto store = storage::Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok());
  UserStore users(**store);
  ASSERT_TRUE(users.Load().ok());
  auto bob = users.Get("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->role, Role::kUser);
  EXPECT_EQ(users.Get("nobody"), nullptr);
}

}  // namespace
}  // namespace kalamdb::catalog
