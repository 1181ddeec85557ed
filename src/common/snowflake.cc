#include "common/snowflake.h"

#include <atomic>
#include <chrono>

namespace kalamdb {

int64_t NextSnowflakeId() {
  static std::atomic<int64_t> last{0};
  using namespace std::chrono;
  const int64_t now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const int64_t candidate = (now_ms - kSnowflakeEpochMs) << 22;  // node id 0, sequence 0
  int64_t previous = last.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = candidate > previous ? candidate : previous + 1;
  } while (!last.compare_exchange_weak(previous, next, std::memory_order_relaxed));
  return next;
}

}  // namespace kalamdb
