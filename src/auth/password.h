// password.h: bcrypt password hashing ("$2b$", libxcrypt) and the setup password policy.
//
// Hashing costs milliseconds by design (cost 12 is ~250 ms): never call it per request.
// Thread-safe: each call uses its own crypt_data.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kalamdb::auth {

// Returns a "$2b$<cost>$..." hash of `password`. `cost` in 4..31.
// Errors: kInvalidArgument for a bad cost or a password longer than 72 bytes or containing NUL;
// kInternal when the system's crypt fails.
Result<std::string> HashPassword(std::string_view password, int cost);

// True when `password` matches `hash`. An empty or malformed hash never matches.
// Runs in time independent of where the first mismatch is (crypt then constant-time compare).
bool VerifyPassword(std::string_view password, std::string_view hash);

// The setup endpoint's policy: 8..72 bytes and not one of the common passwords.
// Returns OK or kInvalidArgument with a human reason ("must be at least 8 characters").
Status CheckPasswordPolicy(std::string_view password);

// True when a and b hold the same bytes, in a time that depends on their length only (every
// byte is compared): for secrets and anything derived from them.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace kalamdb::auth
