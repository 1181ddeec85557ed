// user_directory.h: the SQL engine's UserDirectory over the catalog's UserStore, hashing
// passwords with bcrypt (auth/password.h). Lives in server/ because it joins sql and auth,
// which do not know each other. Thread-safe: UserStore is.
#pragma once

#include "catalog/catalog.h"
#include "sql/sql.h"

namespace kalamdb::server {

class UserDirectory final : public sql::UserDirectory {
 public:
  // Borrows `users`, which must outlive this object.
  UserDirectory(catalog::UserStore& users, int bcrypt_cost)
      : users_(users), bcrypt_cost_(bcrypt_cost) {}

  Status CreateUser(std::string_view user_id, std::string_view password, catalog::Role role,
                    std::optional<std::string> email, std::string_view auth_type) override;
  Status SetPassword(std::string_view user_id, std::string_view password) override;
  Status SetRole(std::string_view user_id, catalog::Role role) override;
  Status SetEmail(std::string_view user_id, std::string_view email) override;
  Status DropUser(std::string_view user_id) override;
  std::shared_ptr<const catalog::User> Find(std::string_view user_id) const override;
  std::vector<std::shared_ptr<const catalog::User>> List() const override;

 private:
  // Applies `change` to a live (not deleted) user. Errors: kNotFound.
  template <typename Change>
  Status Update(std::string_view user_id, Change change);

  catalog::UserStore& users_;
  const int bcrypt_cost_;
};

}  // namespace kalamdb::server
