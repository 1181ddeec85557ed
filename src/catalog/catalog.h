// catalog.h: all that other subsystems see of src/catalog/: users (and, with the SQL engine,
// namespaces and tables), persisted in storage's meta family.
//
// Thread-safety: UserStore methods may be called from any thread. Readers get immutable
// snapshots (shared_ptr<const User>) and never block each other; writers serialise.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/value.h"

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

// ---------------------------------------------------------------------------------------------
// Namespaces and tables.

enum class TableType : uint8_t { kUser, kShared, kStream };
// "user", "shared", "stream".
std::string_view TableTypeName(TableType type);

// SHARED tables only: who may read and write (reference §3.7). Default: kPrivate.
enum class AccessLevel : uint8_t { kPublic, kPrivate, kRestricted, kDba };
std::string_view AccessLevelName(AccessLevel level);  // "PUBLIC", "PRIVATE", ...

// A column default, applied when an INSERT omits the column.
struct DefaultValue {
  enum class Kind : uint8_t { kNone, kLiteral, kNow, kSnowflakeId, kUuidV7, kUlid, kCurrentUser };
  Kind kind = Kind::kNone;
  // kLiteral: the literal as SQL text ("42", "'abc'", "TRUE", "NULL"); the SQL layer coerces it.
  std::string literal;
};

struct ColumnDef {
  std::string name;  // lower case
  ColumnType type;
  bool nullable = true;
  bool primary_key = false;
  bool unique = false;
  bool auto_increment = false;
  DefaultValue default_value;
};

// An immutable table definition. The hidden columns _seq and _deleted are implicit.
struct TableDef {
  uint32_t id = 0;  // stable, never reused; the prefix of every row key
  std::string namespace_id;
  std::string name;
  TableType type = TableType::kShared;
  AccessLevel access_level = AccessLevel::kPrivate;
  int64_t ttl_seconds = 0;  // STREAM tables
  std::vector<ColumnDef> columns;
  int primary_key = -1;  // index into columns, or -1
  int64_t version = 1;
  int64_t created_at = 0;  // Unix micros
  int64_t updated_at = 0;

  // Index of the column named `name` (ASCII case-insensitive), or -1.
  int ColumnIndex(std::string_view name) const;
  std::string QualifiedName() const { return namespace_id + "." + name; }
};

struct NamespaceDef {
  std::string name;
  int64_t created_at = 0;  // Unix micros
};

std::string EncodeTable(const TableDef& table);
Result<TableDef> DecodeTable(std::string_view bytes);

// One consistent view of every namespace and table. Immutable: share it freely.
class CatalogSnapshot {
 public:
  const NamespaceDef* FindNamespace(std::string_view name) const;
  // nullptr when absent. The pointer lives as long as this snapshot.
  const TableDef* FindTable(std::string_view namespace_id, std::string_view name) const;
  // Sorted by name.
  std::vector<const NamespaceDef*> Namespaces() const;
  // Sorted by (namespace, name); only `namespace_id`'s tables when it is non-empty.
  std::vector<const TableDef*> Tables(std::string_view namespace_id = {}) const;

 private:
  friend class Catalog;
  std::map<std::string, NamespaceDef, std::less<>> namespaces_;
  std::map<std::string, std::shared_ptr<const TableDef>, std::less<>> tables_;  // "ns.name"
};

// Namespaces and tables, persisted in the meta family:
//   "ns/" name            -> {"name":..,"created_at":..}
//   "table/" ns "." name  -> EncodeTable(...)
//   "seq/table_id"        -> the last table id handed out (decimal text)
// Readers take Snapshot() (one atomic load, no lock); DDL builds a new snapshot, persists
// the change, and swaps the snapshot in. DDL calls serialise among themselves.
class Catalog {
 public:
  // Borrows `store`, which must outlive the catalog.
  explicit Catalog(storage::Store& store);
  // Loads everything and creates the built-in namespace "default" if missing.
  Status Load();
  std::shared_ptr<const CatalogSnapshot> Snapshot() const;
  // The current snapshot without touching its reference count (which every worker would
  // otherwise bounce between cores on every statement): the calling thread keeps its own
  // reference and refreshes it when DDL has published a newer one. The pointer stays valid
  // until this thread calls ThreadSnapshot() again after a change, or exits.
  const CatalogSnapshot* ThreadSnapshot() const;

  // Errors: kAlreadyExists.
  Status CreateNamespace(std::string_view name);
  // Removes the namespace and its table definitions; returns those tables so the caller can
  // delete their rows. Errors: kNotFound.
  Result<std::vector<std::shared_ptr<const TableDef>>> DropNamespace(std::string_view name);
  // Assigns id, version and timestamps. Errors: kNotFound (namespace), kAlreadyExists,
  // kInvalidArgument (no columns, bad primary key index).
  Result<std::shared_ptr<const TableDef>> CreateTable(TableDef table);
  // Errors: kNotFound.
  Result<std::shared_ptr<const TableDef>> DropTable(std::string_view namespace_id,
                                                    std::string_view name);

 private:
  void Publish(std::shared_ptr<const CatalogSnapshot> next);
  storage::Store& store_;
  std::mutex ddl_mu_;           // serialises DDL
  uint32_t last_table_id_ = 0;  // guarded by ddl_mu_
  std::atomic<std::shared_ptr<const CatalogSnapshot>> snapshot_;
  const uint64_t id_;                 // unique per Catalog in this process
  std::atomic<uint64_t> version_{0};  // bumped after each Publish
};

}  // namespace kalamdb::catalog
