// auth.h: all that other subsystems see of src/auth/: who is calling, and the login flows.
//
// Credentials accepted on the API: "Authorization: Bearer <access JWT>" always, and
// "Authorization: Basic <base64 user:password>" when Options::allow_basic_auth. A successful
// Basic check is remembered for Options::basic_cache_seconds so it does not cost a bcrypt per
// request; the cache entry is keyed by user and by an HMAC of the password under a per-process
// random key, and is valid only while the stored hash is unchanged, so a wrong or changed
// password never hits it.
//
// Thread-safety: every Authenticator method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.h"
#include "catalog/catalog.h"
#include "common/status.h"

namespace kalamdb::auth {

enum class Method { kBearer, kBasic };

// The authenticated caller of one request.
struct Principal {
  std::string user_id;
  catalog::Role role = catalog::Role::kUser;
  Method method = Method::kBearer;
  // Basic only: true when the verified-credential cache answered (no bcrypt ran).
  bool cache_hit = false;
};

struct Options {
  // HS256 key (already resolved: never empty here).
  std::string jwt_secret;
  // Access-token lifetime; refresh tokens live 7x as long. Default: 24.
  int jwt_expiry_hours = 24;
  // bcrypt cost for new hashes. Default: 12.
  int bcrypt_cost = 12;
  // Accept Basic credentials on the API. Default: true.
  bool allow_basic_auth = true;
  // Seconds a verified credential is reused without checking it again: a Basic password
  // (bcrypt and HMAC skipped) or a Bearer token (signature check skipped; never past the
  // token's expiry). 0 disables both caches. Default: 60.
  int basic_cache_seconds = 60;
  // Consecutive failures that lock an account, and for how long. Defaults: 5, 15 minutes.
  int max_failed_logins = 5;
  int64_t lockout_micros = 15ll * 60 * 1000000;
  // Clock in Unix microseconds; tests inject their own. Default: the system clock.
  std::function<int64_t()> now_micros;
};

// Tokens issued by login and refresh. Expiry times are Unix seconds.
struct TokenPair {
  std::shared_ptr<const catalog::User> user;
  std::string access_token;
  int64_t access_expires_at = 0;
  std::string refresh_token;
  int64_t refresh_expires_at = 0;
};

enum class SetupOutcome {
  kOk,
  kAlreadyConfigured,  // root already has a password
  kWeakPassword,       // the new DBA user's password fails the policy
  kWeakRootPassword,   // the root password fails the policy
  kInvalidUser,        // empty, "root", or contains "..", "/", "\", NUL
  kUserExists,
  kFailed,  // storage error
};

struct SetupResult {
  SetupOutcome outcome = SetupOutcome::kOk;
  std::string message;                        // the wire message for this outcome
  std::shared_ptr<const catalog::User> user;  // the created DBA user on success
};

class Authenticator {
 public:
  // Borrows `users`, which must outlive this object.
  Authenticator(catalog::UserStore& users, Options options);

  // Creates user "root" (role system, auth type internal) unless it exists. An empty
  // `root_password` leaves root without a password: the server then needs setup.
  Status Bootstrap(std::string_view root_password);
  // True while root has no password.
  bool NeedsSetup() const;

  // Checks an Authorization header value ("Bearer ..." or "Basic ...").
  // Errors: kUnauthenticated (malformed, wrong, unknown or deleted user, Basic disabled),
  // kTokenExpired, kAccountLocked, kStorageIo.
  Result<Principal> Authenticate(std::string_view authorization);
  // Verifies an access token and returns its user (for /auth/me). Errors as Authenticate.
  // `expires_at` (when given) receives the token's expiry in Unix micros.
  Result<std::shared_ptr<const catalog::User>> VerifyAccessToken(std::string_view token,
                                                                 int64_t* expires_at = nullptr);

  // Password login. Errors: kSetupRequired (root without password, empty password given),
  // kUnauthenticated, kAccountLocked, kPermissionDenied (passwordless system user from a
  // remote client), kStorageIo. Each wrong password counts towards the lockout.
  Result<TokenPair> Login(std::string_view user_id, std::string_view password, bool from_loopback);
  // Exchanges a refresh token for new tokens. Errors: kUnauthenticated with the wire message.
  Result<TokenPair> Refresh(std::string_view refresh_token);
  // First-run setup: sets root's password and creates a DBA user.
  SetupResult Setup(std::string_view user_id, std::string_view password,
                    std::string_view root_password, std::optional<std::string> email);

  // Creates a password user (used by setup, later by CREATE USER).
  Status CreatePasswordUser(std::string_view user_id, std::string_view password, catalog::Role role,
                            std::optional<std::string> email);

 private:
  Result<Principal> AuthenticateBasic(std::string_view credentials);
  // The per-thread cache of verified Authorization values (see authenticator.cc).
  std::optional<Principal> CachedHeader(std::string_view authorization, Method method);
  void RememberHeader(std::string_view authorization, const catalog::User& user, Method method,
                      int64_t expires_at);
  Result<TokenPair> IssueTokens(std::shared_ptr<const catalog::User> user);
  // Records a failed password check (may lock the account) or a success.
  void RecordFailure(const catalog::User& user);
  void RecordSuccess(const catalog::User& user);
  int64_t Now() const { return options_.now_micros(); }

  struct CacheEntry {
    std::string password_mac;  // HMAC-SHA256(cache_key_, password)
    std::string stored_hash;   // the user's hash when this entry was made
    int64_t expires_at = 0;    // Unix micros
  };

  catalog::UserStore& users_;
  const Options options_;
  const uint64_t instance_id_;  // unique per Authenticator: tells cache entries apart
  std::string cache_key_;       // random per process
  std::mutex cache_mu_;
  std::unordered_map<std::string, CacheEntry> basic_cache_;  // guarded by cache_mu_
  std::mutex login_mu_;  // serialises failure/success bookkeeping
};

// Returns `secret` if non-empty; else the secret kept in `path`, generating and storing a
// random one (mode 0600) on first use. Errors: kStorageIo.
Result<std::string> ResolveJwtSecret(std::string_view secret, const std::string& path);

}  // namespace kalamdb::auth
