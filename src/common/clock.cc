#include "common/clock.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace kalamdb {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t NowSeconds() { return NowMicros() / 1000000; }

std::string FormatRfc3339Micros(int64_t unix_micros) {
  int64_t secs = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::optional<int64_t> ParseDurationNs(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() &&
           ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
      ++digits;
    }
    double number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
    if (digits == 0 || ec != std::errc() || end != text.data() + digits) return std::nullopt;
    text.remove_prefix(digits);
    size_t letters = 0;
    while (letters < text.size() && !(text[letters] >= '0' && text[letters] <= '9') &&
           text[letters] != '.') {
      ++letters;
    }
    const std::string_view unit = text.substr(0, letters);
    text.remove_prefix(letters);
    double scale = 0;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else if (unit == "d") {
      scale = 86400e9;
    } else {
      return std::nullopt;
    }
    total += number * scale;
  }
  if (total > 9.2e18) return std::nullopt;
  return static_cast<int64_t>(total);
}

}  // namespace kalamdb
