// jwt.h: HS256 JSON Web Tokens as KalamDB issues them.
//
// Claims: sub, iss ("kalamdb"), exp, iat (Unix seconds), email (string or null), role
// (lower case), token_type ("access" | "refresh"). Signatures are compared in constant time.
// All functions are thread-safe (no shared mutable state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalamdb::auth {

inline constexpr std::string_view kIssuer = "kalamdb";
// Seconds of clock skew tolerated on exp, nbf and iat.
inline constexpr int64_t kLeewaySeconds = 60;

enum class TokenType { kAccess, kRefresh };
std::string_view TokenTypeName(TokenType type);

struct Claims {
  std::string sub;
  std::string iss = std::string(kIssuer);
  int64_t iat = 0;
  int64_t exp = 0;
  std::optional<std::string> email;
  std::string role;
  TokenType token_type = TokenType::kAccess;
};

// Returns "<header>.<payload>.<signature>" signed with `secret`.
std::string SignJwt(const Claims& claims, std::string_view secret);

// Verifies signature (HS256 only; "none" and every other alg are rejected), issuer, sub,
// exp/nbf/iat against `now_seconds` with kLeewaySeconds, and the token type.
// Errors: kTokenExpired when only the expiry fails; kUnauthenticated for everything else
// (malformed, bad signature, wrong alg/issuer/type, missing claim).
Result<Claims> VerifyJwt(std::string_view token, std::string_view secret, TokenType expected_type,
                         int64_t now_seconds);

}  // namespace kalamdb::auth
