#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "auth/auth.h"
#include "auth/password.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/strings.h"
#include "trace/trace.h"

namespace kalamdb::auth {
namespace {

using catalog::Role;
using catalog::User;

constexpr int64_t kMicros = 1000000;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // RAND_bytes failing means the system has no entropy source; refuse to continue silently.
    std::abort();
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

Status Unauthenticated(std::string message = "Invalid credentials") {
  return Status(ErrorCode::kUnauthenticated, std::move(message));
}

bool ValidUserId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  if (id.find("..") != std::string_view::npos) return false;
  for (char c : id) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

// A hash of a random password, verified against when the user does not exist so that the
// response time does not reveal which user ids exist.
const std::string& DummyHash(int cost) {
  static const std::string hash = [cost] {
    auto h = HashPassword(HexEncode(RandomBytes(16)), cost);
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

}  // namespace

namespace {
std::atomic<uint64_t> next_instance_id{1};
}  // namespace

Authenticator::Authenticator(catalog::UserStore& users, Options options)
    : users_(users),
      options_([&] {
        if (!options.now_micros) options.now_micros = [] { return NowMicros(); };
        return std::move(options);
      }()),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)),
      cache_key_(RandomBytes(32)) {}

Status Authenticator::Bootstrap(std::string_view root_password) {
  if (users_.Get("root") != nullptr) return Status::OK();  // an existing root is never modified
  User root;
  root.user_id = "root";
  root.role = Role::kSystem;
  root.auth_type = "internal";
  root.email = "root@localhost";
  root.created_at = root.updated_at = Now();
  if (!root_password.empty()) {
    auto hash = HashPassword(root_password, options_.bcrypt_cost);
    if (!hash.ok()) return hash.status();
    root.password_hash = std::move(hash).value();
  }
  return users_.Create(root);
}

bool Authenticator::NeedsSetup() const {
  auto root = users_.Get("root");
  return root == nullptr || root->password_hash.empty();
}

// The verified-header cache: each thread remembers the Authorization values it verified
// recently, so a client that repeats its header (every keep-alive client does) costs neither
// an HMAC nor a JWT signature check. Direct-mapped and per thread: no lock, bounded memory.
// A hit compares the whole header in constant time and re-reads the user: a deleted user, a
// changed role, a changed password (Basic) or a lockout sends the request down the full path.
// Entries never outlive the token's own expiry (Bearer) or basic_cache_seconds (Basic).
namespace {

struct VerifiedHeader {
  uint64_t owner = 0;  // Authenticator::instance_id_; 0 = empty
  std::string header;
  std::string user_id;
  catalog::Role role = catalog::Role::kUser;
  std::string stored_hash;  // Basic: the password hash the credential was checked against
  int64_t expires_at = 0;   // Unix micros
};

constexpr size_t kHeaderCacheSlots = 64;
thread_local std::array<VerifiedHeader, kHeaderCacheSlots> tls_verified;

VerifiedHeader& SlotOf(std::string_view header) {
  return tls_verified[std::hash<std::string_view>()(header) % kHeaderCacheSlots];
}

}  // namespace

std::optional<Principal> Authenticator::CachedHeader(std::string_view authorization,
                                                     Method method) {
  VerifiedHeader& slot = SlotOf(authorization);
  if (slot.owner != instance_id_ || !ConstantTimeEquals(slot.header, authorization)) {
    return std::nullopt;
  }
  const int64_t now = Now();
  auto user = users_.Get(slot.user_id);
  const bool valid =
      slot.expires_at > now && user != nullptr && !user->deleted() && user->role == slot.role &&
      (method == Method::kBearer || (user->password_hash == slot.stored_hash &&
                                     !(user->locked_until && *user->locked_until > now)));
  if (!valid) {
    slot.owner = 0;
    return std::nullopt;
  }
  return Principal{slot.user_id, slot.role, method, true};
}

void Authenticator::RememberHeader(std::string_view authorization, const User& user, Method method,
                                   int64_t expires_at) {
  if (authorization.size() > 4096) return;
  VerifiedHeader& slot = SlotOf(authorization);
  slot.owner = instance_id_;
  slot.header.assign(authorization);
  slot.user_id = user.user_id;
  slot.role = user.role;
  if (method == Method::kBasic) {
    slot.stored_hash = user.password_hash;
  } else {
    slot.stored_hash.clear();
  }
  slot.expires_at = expires_at;
}

Result<Principal> Authenticator::Authenticate(std::string_view authorization) {
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  const int64_t cache_micros = static_cast<int64_t>(options_.basic_cache_seconds) * kMicros;
  // The method's span starts with the caller's current one (auth.check, opened right before
  // this call): one clock read fewer. Untraced callers (the trace API) record nothing.
  if (StartsWithIgnoreCase(authorization, "Bearer ")) {
    trace::Span span("auth.bearer", trace::SpanKind::kInternal, trace::CurrentSpanStart());
    if (auto hit = CachedHeader(authorization, Method::kBearer)) {
      span.SetAttribute("cache.hit", true);
      return *hit;
    }
    span.SetAttribute("cache.hit", false);
    int64_t expires_at = 0;
    auto user = VerifyAccessToken(authorization.substr(7), &expires_at);
    span.SetStatus(user.status());
    if (!user.ok()) return user.status();
    if (cache_micros > 0) {
      RememberHeader(authorization, **user, Method::kBearer,
                     std::min(expires_at, Now() + cache_micros));
    }
    return Principal{(*user)->user_id, (*user)->role, Method::kBearer, false};
  }
  if (StartsWithIgnoreCase(authorization, "Basic ")) {
    if (!options_.allow_basic_auth) return Unauthenticated();
    trace::Span span("auth.basic", trace::SpanKind::kInternal, trace::CurrentSpanStart());
    if (auto hit = CachedHeader(authorization, Method::kBasic)) {
      span.SetAttribute("cache.hit", true);
      return *hit;
    }
    auto principal = AuthenticateBasic(authorization.substr(6));
    span.SetAttribute("cache.hit", principal.ok() && principal->cache_hit);
    span.SetStatus(principal.status());
    if (principal.ok() && cache_micros > 0) {
      if (auto user = users_.Get(principal->user_id)) {
        RememberHeader(authorization, *user, Method::kBasic, Now() + cache_micros);
      }
    }
    return principal;
  }
  return Unauthenticated();
}

Result<std::shared_ptr<const User>> Authenticator::VerifyAccessToken(std::string_view token,
                                                                     int64_t* expires_at) {
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto claims = VerifyJwt(token, options_.jwt_secret, TokenType::kAccess, Now() / kMicros);
  if (!claims.ok()) {
    if (claims.status().code() == ErrorCode::kTokenExpired) return claims.status();
    return Unauthenticated();
  }
  auto user = users_.Get(claims->sub);
  if (user == nullptr || user->deleted()) return Unauthenticated();
  if (claims->role != catalog::RoleName(user->role)) return Unauthenticated();
  if (expires_at != nullptr) *expires_at = claims->exp * kMicros;
  return user;
}

Result<Principal> Authenticator::AuthenticateBasic(std::string_view credentials) {
  while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
  auto decoded = Base64Decode(credentials);
  if (!decoded) return Unauthenticated();
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return Unauthenticated();
  std::string_view user_id(decoded->data(), colon);
  std::string_view password(decoded->data() + colon + 1, decoded->size() - colon - 1);

  auto user = users_.Get(user_id);
  if (user == nullptr || user->deleted() || user->password_hash.empty() ||
      user->auth_type == "oauth") {
    if (!VerifyPassword(password, DummyHash(options_.bcrypt_cost))) return Unauthenticated();
    return Unauthenticated();
  }
  const int64_t now = Now();
  if (user->locked_until && *user->locked_until > now) {
    return Status(ErrorCode::kAccountLocked, "Account locked");
  }
  std::string mac = Hmac(cache_key_, password);
  {
    std::lock_guard lock(cache_mu_);
    auto it = basic_cache_.find(user->user_id);
    if (it != basic_cache_.end() && it->second.expires_at > now &&
        it->second.stored_hash == user->password_hash &&
        ConstantTimeEquals(it->second.password_mac, mac)) {
      return Principal{user->user_id, user->role, Method::kBasic, true};
    }
  }
  if (!VerifyPassword(password, user->password_hash)) {
    RecordFailure(*user);
    return Unauthenticated();
  }
  if (user->failed_login_attempts != 0) RecordSuccess(*user);
  {
    std::lock_guard lock(cache_mu_);
    if (basic_cache_.size() > 10000)
      basic_cache_.clear();  // bound memory; entries are cheap to redo
    basic_cache_[user->user_id] = CacheEntry{std::move(mac), user->password_hash,
                                             now + options_.basic_cache_seconds * kMicros};
  }
  return Principal{user->user_id, user->role, Method::kBasic, false};
}

void Authenticator::RecordFailure(const User& snapshot) {
  std::lock_guard lock(login_mu_);
  auto current = users_.Get(snapshot.user_id);
  if (current == nullptr) return;
  User u = *current;
  u.failed_login_attempts += 1;
  if (u.failed_login_attempts >= options_.max_failed_logins) {
    u.locked_until = Now() + options_.lockout_micros;
    u.failed_login_attempts = 0;
  }
  // Bookkeeping only: the login already failed, and a storage error here must not turn a
  // wrong password into a different answer.
  users_.Put(u).IgnoreError();
}

void Authenticator::RecordSuccess(const User& snapshot) {
  std::lock_guard lock(login_mu_);
  auto current = users_.Get(snapshot.user_id);
  if (current == nullptr) return;
  User u = *current;
  u.failed_login_attempts = 0;
  u.locked_until.reset();
  u.last_login_at = Now();
  users_.Put(u).IgnoreError();  // bookkeeping; the login itself succeeded
}

Result<TokenPair> Authenticator::IssueTokens(std::shared_ptr<const User> user) {
  const int64_t now_s = Now() / kMicros;
  TokenPair pair;
  Claims claims;
  claims.sub = user->user_id;
  claims.iat = now_s;
  claims.email = user->email;
  claims.role = std::string(catalog::RoleName(user->role));
  claims.token_type = TokenType::kAccess;
  claims.exp = pair.access_expires_at = now_s + int64_t{options_.jwt_expiry_hours} * 3600;
  pair.access_token = SignJwt(claims, options_.jwt_secret);
  claims.token_type = TokenType::kRefresh;
  claims.exp = pair.refresh_expires_at = now_s + int64_t{options_.jwt_expiry_hours} * 3600 * 7;
  pair.refresh_token = SignJwt(claims, options_.jwt_secret);
  pair.user = std::move(user);
  return pair;
}

Result<TokenPair> Authenticator::Login(std::string_view user_id, std::string_view password,
                                       bool from_loopback) {
  if (user_id.empty()) return Unauthenticated();
  auto user = users_.Get(user_id);
  if (user == nullptr || user->deleted() || user->auth_type == "oauth") {
    VerifyPassword(password, DummyHash(options_.bcrypt_cost));  // same cost as a real check
    return Unauthenticated();
  }
  if (user->password_hash.empty()) {
    if (user->user_id == "root" && password.empty()) {
      return Status(ErrorCode::kSetupRequired,
                    "Server requires initial setup. Root password is not configured.");
    }
    if (user->role == Role::kSystem && !from_loopback) {
      return Status(ErrorCode::kPermissionDenied, "Access denied");
    }
    return Unauthenticated();
  }
  if (user->locked_until && *user->locked_until > Now()) {
    return Status(ErrorCode::kAccountLocked,
                  "Account locked due to too many failed login attempts");
  }
  if (!VerifyPassword(password, user->password_hash)) {
    RecordFailure(*user);
    return Unauthenticated();
  }
  RecordSuccess(*user);
  auto fresh = users_.Get(user_id);
  return IssueTokens(fresh ? fresh : user);
}

Result<TokenPair> Authenticator::Refresh(std::string_view refresh_token) {
  auto claims = VerifyJwt(refresh_token, options_.jwt_secret, TokenType::kRefresh, Now() / kMicros);
  if (!claims.ok()) return Unauthenticated("Refresh endpoint requires a refresh token");
  auto user = users_.Get(claims->sub);
  if (user == nullptr || user->deleted()) return Unauthenticated("User no longer valid");
  if (claims->role != catalog::RoleName(user->role)) {
    return Unauthenticated("Token role does not match user role");
  }
  return IssueTokens(user);
}

Status Authenticator::CreatePasswordUser(std::string_view user_id, std::string_view password,
                                         Role role, std::optional<std::string> email) {
  auto hash = HashPassword(password, options_.bcrypt_cost);
  if (!hash.ok()) return hash.status();
  User u;
  u.user_id = std::string(user_id);
  u.password_hash = std::move(hash).value();
  u.role = role;
  u.email = std::move(email);
  u.auth_type = "password";
  u.storage_id = "local";
  u.created_at = u.updated_at = Now();
  return users_.Create(u);
}

SetupResult Authenticator::Setup(std::string_view user_id, std::string_view password,
                                 std::string_view root_password, std::optional<std::string> email) {
  std::lock_guard lock(login_mu_);  // one setup at a time
  if (!NeedsSetup()) {
    return {SetupOutcome::kAlreadyConfigured,
            "Server has already been configured. Root password is set.", nullptr};
  }
  if (Status st = CheckPasswordPolicy(password); !st.ok()) {
    return {SetupOutcome::kWeakPassword, "DBA user password: " + std::string(st.message()),
            nullptr};
  }
  if (Status st = CheckPasswordPolicy(root_password); !st.ok()) {
    return {SetupOutcome::kWeakRootPassword, "Root password: " + std::string(st.message()),
            nullptr};
  }
  if (!ValidUserId(user_id)) return {SetupOutcome::kInvalidUser, "Invalid user id", nullptr};
  if (user_id == "root") {
    return {SetupOutcome::kInvalidUser, "Cannot use 'root' as the DBA user; choose another name",
            nullptr};
  }
  if (auto existing = users_.Get(user_id); existing && !existing->deleted()) {
    return {SetupOutcome::kUserExists, "User '" + std::string(user_id) + "' already exists",
            nullptr};
  }
  if (Status st = CreatePasswordUser(user_id, password, Role::kDba, std::move(email)); !st.ok()) {
    if (st.code() == ErrorCode::kAlreadyExists) {
      return {SetupOutcome::kUserExists, std::string(st.message()), nullptr};
    }
    return {SetupOutcome::kFailed, std::string(st.message()), nullptr};
  }
  auto root = users_.Get("root");
  User updated = root ? *root : User{};
  if (!root) {
    updated.user_id = "root";
    updated.role = Role::kSystem;
    updated.auth_type = "internal";
    updated.email = "root@localhost";
    updated.created_at = Now();
  }
  auto hash = HashPassword(root_password, options_.bcrypt_cost);
  if (!hash.ok()) return {SetupOutcome::kFailed, std::string(hash.status().message()), nullptr};
  updated.password_hash = std::move(hash).value();
  updated.updated_at = Now();
  if (Status st = users_.Put(updated); !st.ok()) {
    return {SetupOutcome::kFailed, std::string(st.message()), nullptr};
  }
  return {SetupOutcome::kOk,
          "Server setup complete. Root password configured and DBA user '" + std::string(user_id) +
              "' created. Please login to continue.",
          users_.Get(user_id)};
}

Result<std::string> ResolveJwtSecret(std::string_view secret, const std::string& path) {
  if (!secret.empty()) return std::string(secret);
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string stored = ss.str();
    while (!stored.empty() && (stored.back() == '\n' || stored.back() == '\r')) stored.pop_back();
    if (stored.size() >= 32) return stored;
  }
  std::string generated = HexEncode(RandomBytes(32));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kStorageIo, "cannot write '" + path + "': " + std::strerror(errno));
  }
  std::string line = generated + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status(ErrorCode::kStorageIo, "cannot write '" + path + "'");
  return generated;
}

}  // namespace kalamdb::auth
