// clock.h: wall-clock helpers. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace kalamdb {

// Microseconds since the Unix epoch (system clock).
int64_t NowMicros();
// Seconds since the Unix epoch (system clock).
int64_t NowSeconds();
// RFC 3339 in UTC with microseconds, e.g. "2026-05-04T10:00:00.123456+00:00".
std::string FormatRfc3339Micros(int64_t unix_micros);

}  // namespace kalamdb
