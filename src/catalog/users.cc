// users.cc: user records in the meta family.
//
// Key:   "user/" user_id
// Value: a JSON object with the fields of catalog::User (null for absent optionals), e.g.
//        {"v":1,"user_id":"root","password_hash":"$2b$...","role":"system",...}
#include <simdjson.h>

#include <algorithm>

#include "catalog/catalog.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "storage/storage.h"

namespace kalamdb::catalog {
namespace {

constexpr std::string_view kUserPrefix = "user/";

void OptString(JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v)
    w.String(*v);
  else
    w.Null();
}

void OptInt(JsonWriter& w, std::string_view key, const std::optional<int64_t>& v) {
  w.Key(key);
  if (v)
    w.Int(*v);
  else
    w.Null();
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAnonymous:
      return "anonymous";
    case Role::kUser:
      return "user";
    case Role::kService:
      return "service";
    case Role::kDba:
      return "dba";
    case Role::kSystem:
      return "system";
  }
  return "user";
}

bool ParseRole(std::string_view text, Role* role) {
  struct Alias {
    std::string_view name;
    Role role;
  };
  static constexpr Alias kAliases[] = {
      {"user", Role::kUser},         {"viewer", Role::kUser},
      {"readonly", Role::kUser},     {"service", Role::kService},
      {"developer", Role::kService}, {"analyst", Role::kService},
      {"dba", Role::kDba},           {"admin", Role::kDba},
      {"system", Role::kSystem},     {"anonymous", Role::kAnonymous}};
  for (const auto& alias : kAliases) {
    if (EqualsIgnoreCase(text, alias.name)) {
      *role = alias.role;
      return true;
    }
  }
  return false;
}

std::string EncodeUser(const User& u) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("v").Int(1);
  w.Key("user_id").String(u.user_id);
  w.Key("password_hash").String(u.password_hash);
  w.Key("role").String(RoleName(u.role));
  OptString(w, "email", u.email);
  w.Key("auth_type").String(u.auth_type);
  w.Key("storage_mode").String(u.storage_mode);
  OptString(w, "storage_id", u.storage_id);
  w.Key("failed_login_attempts").Int(u.failed_login_attempts);
  OptInt(w, "locked_until", u.locked_until);
  OptInt(w, "last_login_at", u.last_login_at);
  w.Key("created_at").Int(u.created_at);
  w.Key("updated_at").Int(u.updated_at);
  OptInt(w, "last_seen", u.last_seen);
  OptInt(w, "deleted_at", u.deleted_at);
  w.EndObject();
  return out;
}

Result<User> DecodeUser(std::string_view bytes) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Status(ErrorCode::kCorruption, "user record is not a JSON object");
  }
  User u;
  auto str = [&](const char* key, std::string& out) -> bool {
    std::string_view v;
    if (doc[key].get_string().get(v) != simdjson::SUCCESS) return false;
    out.assign(v);
    return true;
  };
  auto opt_str = [&](const char* key, std::optional<std::string>& out) {
    std::string_view v;
    if (doc[key].get_string().get(v) == simdjson::SUCCESS) out = std::string(v);
  };
  auto opt_int = [&](const char* key, std::optional<int64_t>& out) {
    int64_t v;
    if (doc[key].get_int64().get(v) == simdjson::SUCCESS) out = v;
  };
  std::string role;
  if (!str("user_id", u.user_id) || !str("password_hash", u.password_hash) || !str("role", role) ||
      !ParseRole(role, &u.role)) {
    return Status(ErrorCode::kCorruption, "user record lacks user_id, password_hash or role");
  }
  opt_str("email", u.email);
  str("auth_type", u.auth_type);
  str("storage_mode", u.storage_mode);
  opt_str("storage_id", u.storage_id);
  int64_t attempts = 0;
  if (doc["failed_login_attempts"].get_int64().get(attempts) == simdjson::SUCCESS) {
    u.failed_login_attempts = static_cast<int>(attempts);
  }
  opt_int("locked_until", u.locked_until);
  opt_int("last_login_at", u.last_login_at);
  std::optional<int64_t> created, updated;
  opt_int("created_at", created);
  opt_int("updated_at", updated);
  u.created_at = created.value_or(0);
  u.updated_at = updated.value_or(0);
  opt_int("last_seen", u.last_seen);
  opt_int("deleted_at", u.deleted_at);
  return u;
}

Status UserStore::Load() {
  std::unordered_map<std::string, std::shared_ptr<const User>> loaded;
  Status decode_error;
  Status scan = store_.ScanPrefix(
      storage::Family::kMeta, kUserPrefix, [&](std::string_view key, std::string_view value) {
        auto user = DecodeUser(value);
        if (!user.ok()) {
          decode_error = Status(ErrorCode::kCorruption,
                                std::string(key) + ": " + std::string(user.status().message()));
          return false;
        }
        std::string id = user->user_id;
        loaded[id] = std::make_shared<const User>(std::move(user).value());
        return true;
      });
  KALAMDB_RETURN_IF_ERROR(scan);
  KALAMDB_RETURN_IF_ERROR(decode_error);
  std::unique_lock lock(mu_);
  users_ = std::move(loaded);
  return Status::OK();
}

std::shared_ptr<const User> UserStore::Get(std::string_view user_id) const {
  std::shared_lock lock(mu_);
  auto it = users_.find(std::string(user_id));
  return it == users_.end() ? nullptr : it->second;
}

Status UserStore::WriteLocked(const User& user) {
  std::string key(kUserPrefix);
  key += user.user_id;
  KALAMDB_RETURN_IF_ERROR(store_.Put(storage::Family::kMeta, key, EncodeUser(user)));
  auto snapshot = std::make_shared<const User>(user);
  std::unique_lock lock(mu_);
  users_[user.user_id] = std::move(snapshot);
  return Status::OK();
}

Status UserStore::Put(const User& user) {
  std::lock_guard write(write_mu_);
  return WriteLocked(user);
}

Status UserStore::Create(const User& user) {
  std::lock_guard write(write_mu_);
  auto existing = Get(user.user_id);
  if (existing && !existing->deleted()) {
    return Status(ErrorCode::kAlreadyExists, "User '" + user.user_id + "' already exists");
  }
  return WriteLocked(user);
}

std::vector<std::shared_ptr<const User>> UserStore::List() const {
  std::vector<std::shared_ptr<const User>> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(users_.size());
    for (const auto& [id, user] : users_) out.push_back(user);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->user_id < b->user_id; });
  return out;
}

}  // namespace kalamdb::catalog
