// clock.h: wall-clock and steady-clock helpers. All functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kalamdb {

// Microseconds since the Unix epoch (system clock).
int64_t NowMicros();
// Seconds since the Unix epoch (system clock).
int64_t NowSeconds();
// Nanoseconds on the steady clock (CLOCK_MONOTONIC on Linux): the clock of the request
// timestamps (http::Request::start_ns) and of the durations the server measures.
inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// RFC 3339 in UTC with microseconds, e.g. "2026-05-04T10:00:00.123456+00:00".
std::string FormatRfc3339Micros(int64_t unix_micros);

// A duration in nanoseconds from Go/Jaeger syntax: one or more <number><unit> parts, units ns,
// us, µs, ms, s, m, h and d ("1.5ms", "250us", "90s", "1h30m", "2d"); nullopt when malformed
// (no unit, an unknown unit, spaces) or above ~292 years.
std::optional<int64_t> ParseDurationNs(std::string_view text);

}  // namespace kalamdb
