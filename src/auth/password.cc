#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace kalamdb::auth {
namespace {

constexpr std::string_view kBcryptPrefix = "$2b$";
constexpr size_t kMaxPasswordBytes = 72;  // bcrypt ignores everything past 72 bytes
constexpr size_t kMinPasswordBytes = 8;
constexpr int kMinCost = 4;
constexpr int kMaxCost = 31;
constexpr size_t kSaltBytes = 16;

constexpr std::array<std::string_view, 24> kCommonPasswords = {
    "password", "123456", "12345678", "qwerty",   "abc123",   "monkey",   "1234567", "letmein",
    "trustno1", "dragon", "baseball", "iloveyou", "master",   "sunshine", "ashley",  "bailey",
    "passw0rd", "shadow", "123123",   "654321",   "superman", "qazwsx",   "michael", "football",
};

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A NUL-terminated copy of a secret that is wiped when it goes out of scope.
class SecretString {
 public:
  explicit SecretString(std::string_view text) : value_(text) {}
  ~SecretString() { OPENSSL_cleanse(value_.data(), value_.size()); }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  const char* c_str() const { return value_.c_str(); }

 private:
  std::string value_;
};

// crypt_data is ~32 KiB: keep it on the heap, zeroed before use, wiped after.
struct CryptDataDeleter {
  void operator()(crypt_data* data) const {
    OPENSSL_cleanse(data, sizeof(*data));
    delete data;
  }
};
using CryptDataPtr = std::unique_ptr<crypt_data, CryptDataDeleter>;

CryptDataPtr NewCryptData() { return CryptDataPtr(new crypt_data{}); }

}  // namespace

Result<std::string> HashPassword(std::string_view password, int cost) {
  if (cost < kMinCost || cost > kMaxCost) {
    return Status(ErrorCode::kInvalidArgument, "bcrypt cost must be between 4 and 31");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status(ErrorCode::kInvalidArgument, "password must be at most 72 bytes");
  }
  if (password.find('\0') != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "password must not contain NUL bytes");
  }

  std::array<unsigned char, kSaltBytes> random;
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Status(ErrorCode::kInternal, "no random bytes for the password salt");
  }
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  const char* salt = crypt_gensalt_rn(kBcryptPrefix.data(), static_cast<unsigned long>(cost),
                                      reinterpret_cast<const char*>(random.data()),
                                      static_cast<int>(random.size()), setting.data(),
                                      static_cast<int>(setting.size()));
  OPENSSL_cleanse(random.data(), random.size());
  if (salt == nullptr) return Status(ErrorCode::kInternal, "crypt_gensalt failed");

  SecretString phrase(password);
  CryptDataPtr data = NewCryptData();
  const char* hashed = crypt_r(phrase.c_str(), salt, data.get());
  if (hashed == nullptr ||
      std::string_view(hashed).substr(0, kBcryptPrefix.size()) != kBcryptPrefix) {
    return Status(ErrorCode::kInternal, "crypt failed");
  }
  return std::string(hashed);
}

bool VerifyPassword(std::string_view password, std::string_view hash) {
  if (hash.size() < 2 || hash.substr(0, 2) != "$2") return false;
  if (hash.find('\0') != std::string_view::npos) return false;
  // Such passwords cannot have been hashed here; bcrypt would silently truncate them.
  if (password.size() > kMaxPasswordBytes || password.find('\0') != std::string_view::npos) {
    return false;
  }
  SecretString phrase(password);
  const std::string setting(hash);
  CryptDataPtr data = NewCryptData();
  const char* computed = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') return false;
  const size_t length = std::strlen(computed);
  if (length != hash.size()) return false;
  return CRYPTO_memcmp(computed, hash.data(), length) == 0;
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return Status(ErrorCode::kInvalidArgument, "must be at least 8 characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status(ErrorCode::kInvalidArgument, "must be at most 72 bytes");
  }
  if (password.find('\0') != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "must not contain NUL bytes");
  }
  for (std::string_view common : kCommonPasswords) {
    if (EqualsIgnoreAsciiCase(password, common)) {
      return Status(ErrorCode::kInvalidArgument, "is too common");
    }
  }
  return Status::OK();
}

// Eight bytes at a time (a cached Authorization header is compared on every request:
// CRYPTO_memcmp's byte loop was ~2,700 instructions for a bearer token). The empty asm keeps
// the compiler from reasoning about `diff` inside the loop (no early exit).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
    __asm__("" : "+r"(diff));
  }
  for (; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    __asm__("" : "+r"(diff));
  }
  return diff == 0;
}

}  // namespace kalamdb::auth
