// catalog.h: all that other subsystems see of src/catalog/: users (and, with the SQL engine,
// namespaces and tables), persisted in storage's meta family.
//
// Thread-safety: UserStore methods may be called from any thread. Readers get immutable
// snapshots (shared_ptr<const User>) and never block each other; writers serialise.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace kalamdb::storage {
class Store;
}

namespace kalamdb::catalog {

// Wire spelling is lower case: "anonymous", "user", "service", "dba", "system".
enum class Role { kAnonymous, kUser, kService, kDba, kSystem };
std::string_view RoleName(Role role);
// Accepts the wire names and the SQL aliases (admin -> dba, developer|analyst -> service,
// viewer|readonly -> user), case-insensitively. Returns false for anything else.
bool ParseRole(std::string_view text, Role* role);
// dba or system.
inline bool IsAdmin(Role role) { return role == Role::kDba || role == Role::kSystem; }

// One row of system.users. Timestamps are microseconds since the Unix epoch.
struct User {
  std::string user_id;        // the login name
  std::string password_hash;  // bcrypt "$2b$..."; empty = no password (root before setup)
  Role role = Role::kUser;
  std::optional<std::string> email;
  std::string auth_type = "password";  // password | oauth | internal
  std::string storage_mode = "table";
  std::optional<std::string> storage_id;
  int failed_login_attempts = 0;
  std::optional<int64_t> locked_until;
  std::optional<int64_t> last_login_at;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> last_seen;
  std::optional<int64_t> deleted_at;

  bool deleted() const { return deleted_at.has_value(); }
};

// Serialises a user record (JSON) and back. Exposed for tests.
std::string EncodeUser(const User& user);
Result<User> DecodeUser(std::string_view bytes);

class UserStore {
 public:
  // Borrows `store`, which must outlive this object.
  explicit UserStore(storage::Store& store) : store_(store) {}

  // Reads every stored user into memory. Call once at startup, before any other method.
  // Errors: kStorageIo, kCorruption (names the record).
  Status Load();
  // The user, deleted ones included, or nullptr.
  std::shared_ptr<const User> Get(std::string_view user_id) const;
  // Creates or replaces the record (write-through to storage first, then memory).
  Status Put(const User& user);
  // Creates the user; kAlreadyExists when a (non-deleted) user of that id exists.
  Status Create(const User& user);
  // Every user, ordered by id.
  std::vector<std::shared_ptr<const User>> List() const;

 private:
  // Persists `user`, then publishes it in memory. REQUIRES: write_mu_ held.
  Status WriteLocked(const User& user);

  storage::Store& store_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const User>> users_;  // guarded by mu_
  std::mutex write_mu_;  // serialises Put/Create so the check-then-write in Create is atomic
};

}  // namespace kalamdb::catalog
