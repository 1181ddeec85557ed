#include "server/user_directory.h"

#include "auth/password.h"
#include "common/clock.h"

namespace kalamdb::server {
namespace {

Status CheckUserId(std::string_view id) {
  bool bad = id.empty() || id.size() > 128 || id.find("..") != std::string_view::npos;
  for (char c : id) bad |= c == '/' || c == '\\' || c == '\0' || c == ' ';
  if (bad)
    return Status(ErrorCode::kInvalidOperation, "Invalid user name '" + std::string(id) + "'");
  return Status::OK();
}

Status CheckPassword(std::string_view password) {
  if (password.empty()) return Status(ErrorCode::kInvalidOperation, "Password must not be empty");
  if (password.size() > 72)
    return Status(ErrorCode::kInvalidOperation, "Password must be at most 72 bytes");
  return Status::OK();
}

}  // namespace

template <typename Change>
Status UserDirectory::Update(std::string_view user_id, Change change) {
  auto current = users_.Get(user_id);
  if (current == nullptr || current->deleted()) {
    return Status(ErrorCode::kNotFound, "User '" + std::string(user_id) + "' not found");
  }
  catalog::User user = *current;
  KALAMDB_RETURN_IF_ERROR(change(user));
  user.updated_at = NowMicros();
  return users_.Put(user);
}

Status UserDirectory::CreateUser(std::string_view user_id, std::string_view password,
                                 catalog::Role role, std::optional<std::string> email,
                                 std::string_view auth_type) {
  KALAMDB_RETURN_IF_ERROR(CheckUserId(user_id));
  catalog::User user;
  user.user_id = std::string(user_id);
  user.role = role;
  user.email = std::move(email);
  user.auth_type = std::string(auth_type);
  user.storage_id = "local";
  if (auth_type == "password") {
    KALAMDB_RETURN_IF_ERROR(CheckPassword(password));
    auto hash = auth::HashPassword(password, bcrypt_cost_);
    if (!hash.ok()) return hash.status();
    user.password_hash = std::move(hash).value();
  }
  user.created_at = user.updated_at = NowMicros();
  return users_.Create(user);
}

Status UserDirectory::SetPassword(std::string_view user_id, std::string_view password) {
  KALAMDB_RETURN_IF_ERROR(CheckPassword(password));
  auto hash = auth::HashPassword(password, bcrypt_cost_);
  if (!hash.ok()) return hash.status();
  return Update(user_id, [&](catalog::User& user) {
    user.password_hash = *hash;
    user.failed_login_attempts = 0;
    user.locked_until.reset();
    return Status::OK();
  });
}

Status UserDirectory::SetRole(std::string_view user_id, catalog::Role role) {
  return Update(user_id, [&](catalog::User& user) {
    user.role = role;
    return Status::OK();
  });
}

Status UserDirectory::SetEmail(std::string_view user_id, std::string_view email) {
  return Update(user_id, [&](catalog::User& user) {
    user.email = std::string(email);
    return Status::OK();
  });
}

Status UserDirectory::DropUser(std::string_view user_id) {
  return Update(user_id, [&](catalog::User& user) {
    user.deleted_at = NowMicros();
    return Status::OK();
  });
}

std::shared_ptr<const catalog::User> UserDirectory::Find(std::string_view user_id) const {
  return users_.Get(user_id);
}

std::vector<std::shared_ptr<const catalog::User>> UserDirectory::List() const {
  return users_.List();
}

}  // namespace kalamdb::server
