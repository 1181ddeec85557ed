// base64.h: standard (RFC 4648 §4) and URL-safe unpadded (§5) Base64. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kalamdb {

std::string Base64Encode(std::string_view bytes);
// Accepts padded input; returns nullopt on any character outside the alphabet.
std::optional<std::string> Base64Decode(std::string_view text);
// URL-safe alphabet, no padding (as JWT uses).
std::string Base64UrlEncode(std::string_view bytes);
// Accepts unpadded URL-safe input; returns nullopt on invalid characters or length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kalamdb
