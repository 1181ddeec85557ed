#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <array>
#include <climits>
#include <cstddef>
#include <limits>
#include <utility>

#include "common/base64.h"
#include "common/json_writer.h"

namespace kalamdb::auth {
namespace {

constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";
constexpr size_t kMaxTokenBytes = 8 * 1024;
constexpr size_t kSignatureBytes = 32;

using Digest = std::array<unsigned char, kSignatureBytes>;

Status Unauthenticated(std::string reason) {
  return Status(ErrorCode::kUnauthenticated, std::move(reason));
}

// HMAC-SHA256 of `data` keyed with the bytes of `key`. False only if OpenSSL fails.
bool HmacSha256(std::string_view key, std::string_view data, Digest& out) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return false;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const unsigned char kNoKey = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  unsigned int len = 0;
  const unsigned char* mac =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return mac != nullptr && len == out.size();
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// Parses `json` as a JSON object into `out`, which lives as long as `parser` is not reused.
// Uses only simdjson's error-code API, so nothing throws.
bool ParseObject(simdjson::dom::parser& parser, std::string_view json, simdjson::dom::object& out) {
  simdjson::padded_string padded(json);
  return parser.parse(padded).get_object().get(out) == simdjson::SUCCESS;
}

// The JOSE header must carry exactly one "alg", equal to "HS256", and no "crit" extension.
Status CheckHeader(simdjson::dom::parser& parser, std::string_view encoded) {
  std::optional<std::string> json = Base64UrlDecode(encoded);
  simdjson::dom::object header;
  if (!json || !ParseObject(parser, *json, header)) return Unauthenticated("malformed token");
  int alg_count = 0;
  bool alg_ok = false;
  for (simdjson::dom::key_value_pair field : header) {
    if (field.key == "alg") {
      ++alg_count;
      std::string_view alg;
      alg_ok = field.value.get_string().get(alg) == simdjson::SUCCESS && alg == "HS256";
    } else if (field.key == "crit") {
      return Unauthenticated("unsupported token header");
    }
  }
  if (alg_count != 1 || !alg_ok) return Unauthenticated("unsupported token algorithm");
  return Status::OK();
}

// The claims of a token whose signature has been verified.
Result<Claims> ParseClaims(const simdjson::dom::object& payload, TokenType expected_type,
                           int64_t now_seconds) {
  Claims claims;
  claims.iss.clear();
  bool has_sub = false, has_iss = false, has_exp = false, has_iat = false, has_nbf = false;
  bool has_email = false, has_role = false, has_type = false;
  int64_t nbf = 0;
  std::string_view token_type;

  for (simdjson::dom::key_value_pair field : payload) {
    std::string_view key = field.key;
    simdjson::dom::element value = field.value;
    // Each claim we interpret must appear once; a duplicate could be read differently by
    // another JSON parser.
    auto first = [&](bool& seen) {
      if (seen) return false;
      seen = true;
      return true;
    };
    if (key == "sub") {
      std::string_view sub;
      if (!first(has_sub) || value.get_string().get(sub) != simdjson::SUCCESS || sub.empty()) {
        return Unauthenticated("invalid token subject");
      }
      claims.sub = std::string(sub);
    } else if (key == "iss") {
      std::string_view iss;
      if (!first(has_iss) || value.get_string().get(iss) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token issuer");
      }
      claims.iss = std::string(iss);
    } else if (key == "exp") {
      if (!first(has_exp) || value.get_int64().get(claims.exp) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token expiry");
      }
    } else if (key == "iat") {
      if (!first(has_iat) || value.get_int64().get(claims.iat) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token issue time");
      }
    } else if (key == "nbf") {
      if (!first(has_nbf) || value.get_int64().get(nbf) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token not-before time");
      }
    } else if (key == "email") {
      if (!first(has_email)) return Unauthenticated("invalid token email");
      if (!value.is_null()) {
        std::string_view email;
        if (value.get_string().get(email) != simdjson::SUCCESS) {
          return Unauthenticated("invalid token email");
        }
        claims.email = std::string(email);
      }
    } else if (key == "role") {
      std::string_view role;
      if (!first(has_role) || value.get_string().get(role) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token role");
      }
      claims.role = std::string(role);
    } else if (key == "token_type") {
      if (!first(has_type) || value.get_string().get(token_type) != simdjson::SUCCESS) {
        return Unauthenticated("invalid token type");
      }
    }
  }

  if (!has_iss || claims.iss != kIssuer) return Unauthenticated("invalid token issuer");
  if (!has_sub) return Unauthenticated("invalid token subject");
  if (!has_role) return Unauthenticated("invalid token role");
  if (!has_exp) return Unauthenticated("invalid token expiry");
  if (!has_type || token_type != TokenTypeName(expected_type)) {
    return Unauthenticated("wrong token type");
  }
  claims.token_type = expected_type;

  const int64_t latest_start = SaturatingAdd(now_seconds, kLeewaySeconds);
  if (has_nbf && nbf > latest_start) return Unauthenticated("token not yet valid");
  if (has_iat && claims.iat > latest_start) return Unauthenticated("token issued in the future");
  // Expiry is checked last so that kTokenExpired means nothing else is wrong.
  if (now_seconds > SaturatingAdd(claims.exp, kLeewaySeconds)) {
    return Status(ErrorCode::kTokenExpired, "token expired");
  }
  return claims;
}

}  // namespace

std::string_view TokenTypeName(TokenType type) {
  switch (type) {
    case TokenType::kAccess:
      return "access";
    case TokenType::kRefresh:
      return "refresh";
  }
  return "access";
}

std::string SignJwt(const Claims& claims, std::string_view secret) {
  std::string payload;
  JsonWriter writer(payload);
  writer.BeginObject()
      .Key("sub")
      .String(claims.sub)
      .Key("iss")
      .String(claims.iss)
      .Key("exp")
      .Int(claims.exp)
      .Key("iat")
      .Int(claims.iat)
      .Key("email");
  if (claims.email) {
    writer.String(*claims.email);
  } else {
    writer.Null();
  }
  writer.Key("role")
      .String(claims.role)
      .Key("token_type")
      .String(TokenTypeName(claims.token_type))
      .EndObject();

  std::string token = Base64UrlEncode(kHeaderJson);
  token.push_back('.');
  token += Base64UrlEncode(payload);
  Digest mac;
  token.push_back('.');
  // Should OpenSSL fail, the signature part stays empty and the token never verifies.
  if (HmacSha256(secret, std::string_view(token).substr(0, token.size() - 1), mac)) {
    token +=
        Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  }
  return token;
}

Result<Claims> VerifyJwt(std::string_view token, std::string_view secret, TokenType expected_type,
                         int64_t now_seconds) {
  if (secret.empty()) return Unauthenticated("no token secret configured");
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated("malformed token");
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Unauthenticated("malformed token");
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);
  if (header_part.empty() || payload_part.empty()) return Unauthenticated("malformed token");

  simdjson::dom::parser parser;
  KALAMDB_RETURN_IF_ERROR(CheckHeader(parser, header_part));

  // The signature must be the canonical encoding of exactly 32 bytes: a re-encoding check
  // rejects variants that differ only in the unused trailing bits.
  std::optional<std::string> signature = Base64UrlDecode(signature_part);
  if (!signature || signature->size() != kSignatureBytes ||
      Base64UrlEncode(*signature) != signature_part) {
    return Unauthenticated("invalid token signature");
  }
  Digest expected;
  if (!HmacSha256(secret, token.substr(0, dot2), expected)) {
    return Unauthenticated("invalid token signature");
  }
  if (CRYPTO_memcmp(expected.data(), signature->data(), kSignatureBytes) != 0) {
    return Unauthenticated("invalid token signature");
  }

  std::optional<std::string> payload_json = Base64UrlDecode(payload_part);
  simdjson::dom::object payload;
  if (!payload_json || !ParseObject(parser, *payload_json, payload)) {
    return Unauthenticated("malformed token payload");
  }
  return ParseClaims(payload, expected_type, now_seconds);
}

}  // namespace kalamdb::auth
