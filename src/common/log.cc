#include "common/log.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "common/clock.h"
#include "common/json_writer.h"

namespace kalamdb::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;
bool g_console = true;   // guarded by g_mu
bool g_json = false;     // guarded by g_mu
FILE* g_file = nullptr;  // guarded by g_mu

constexpr std::string_view kNames[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  static constexpr std::string_view kLower[] = {"error", "warn", "info", "debug", "trace"};
  for (int i = 0; i < 5; ++i) {
    if (text == kLower[i]) {
      *level = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

Status Init(const Options& options) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_level.store(static_cast<int>(options.level));
  g_console = options.to_console;
  g_json = options.format == "json";
  if (g_file != nullptr) {
    std::fclose(g_file);
    g_file = nullptr;
  }
  if (!options.logs_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.logs_path, ec);
    if (ec) {
      return Status(ErrorCode::kConfig,
                    "cannot create logs_path '" + options.logs_path + "': " + ec.message());
    }
    std::string path = options.logs_path + (g_json ? "/server.jsonl" : "/server.log");
    g_file = std::fopen(path.c_str(), "a");
    if (g_file == nullptr) {
      return Status(ErrorCode::kConfig,
                    "cannot open log file '" + path + "': " + std::strerror(errno));
    }
  }
  return Status::OK();
}

bool Enabled(Level level) {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  std::string line;
  std::string ts = FormatRfc3339Micros(NowMicros());
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_json) {
    JsonWriter w(line);
    w.BeginObject().Key("ts").String(ts).Key("level").String(kNames[static_cast<int>(level)]);
    w.Key("msg").String(message).EndObject();
  } else {
    line.append(ts).append(" ").append(kNames[static_cast<int>(level)]).append(" ").append(message);
  }
  line.push_back('\n');
  if (g_console) std::fwrite(line.data(), 1, line.size(), stderr);
  if (g_file != nullptr) {
    std::fwrite(line.data(), 1, line.size(), g_file);
    std::fflush(g_file);
  }
}

}  // namespace kalamdb::log
