// log.h: the server's log. Lines go to stderr (when enabled) and to a file (when opened).
//
// Thread-safe: lines from several threads never interleave. Logging is for cold paths
// (startup, errors, shutdown); the request hot path does not log.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kalamdb::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

// Parses "error|warn|info|debug|trace"; nullopt-like false on anything else.
bool ParseLevel(std::string_view text, Level* level);

struct Options {
  Level level = Level::kInfo;
  bool to_console = true;
  // When non-empty, lines are appended to "<logs_path>/server.log" (created if missing).
  std::string logs_path;
  // "compact" or "json" (one JSON object per line; the file is then server.jsonl).
  std::string format = "compact";
};

// Applies `options`. Safe to call again (e.g. after the config is read).
Status Init(const Options& options);
bool Enabled(Level level);
void Write(Level level, std::string_view message);

inline void Error(std::string_view m) { Write(Level::kError, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }

}  // namespace kalamdb::log
