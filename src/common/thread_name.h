// thread_name.h: names for the server's own threads, as `top -H`, `ps -L`, perf and gdb show
// them.
#pragma once

#include <string>
#include <string_view>

namespace kalamdb {

// Names the calling thread. Linux keeps at most 15 bytes: a longer name is cut there.
// Best effort: a failure is ignored (names are for people, not for the program).
void SetCurrentThreadName(std::string_view name);
// The calling thread's name ("" when it cannot be read).
std::string CurrentThreadName();

}  // namespace kalamdb
