#include "common/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace kalamdb {
namespace {
constexpr size_t kMaxName = 15;  // TASK_COMM_LEN - 1
}  // namespace

void SetCurrentThreadName(std::string_view name) {
  std::array<char, kMaxName + 1> buffer{};
  const size_t n = std::min(name.size(), kMaxName);
  std::memcpy(buffer.data(), name.data(), n);
  pthread_setname_np(pthread_self(), buffer.data());
}

std::string CurrentThreadName() {
  std::array<char, kMaxName + 1> buffer{};
  if (pthread_getname_np(pthread_self(), buffer.data(), buffer.size()) != 0) return {};
  return std::string(buffer.data());
}

}  // namespace kalamdb
