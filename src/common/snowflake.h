// snowflake.h: 64-bit time-ordered ids (KalamDB's layout): 41 bits of milliseconds since
// 2024-01-01T00:00:00Z, 10 bits of node id, 12 bits of sequence.
//
// Thread-safe and unique within the process: ids are strictly increasing across all threads
// (when a millisecond's 4096 sequence values run out, ids borrow from the next millisecond).
#pragma once

#include <cstdint>

namespace kalamdb {

inline constexpr int64_t kSnowflakeEpochMs = 1704067200000;  // 2024-01-01T00:00:00Z

int64_t NextSnowflakeId();
// Unix milliseconds encoded in `id`.
constexpr int64_t SnowflakeMillis(int64_t id) { return (id >> 22) + kSnowflakeEpochMs; }

}  // namespace kalamdb
