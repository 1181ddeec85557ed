#include "cli/shell.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <vector>

namespace kalamdb::cli {
namespace {

std::string_view TrimView(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

constexpr char kHelp[] =
    "\\dn              list namespaces (SHOW NAMESPACES)\n"
    "\\dt [ns]         list tables (SHOW TABLES [IN ns])\n"
    "\\d ns.t          describe a table (DESCRIBE TABLE ns.t)\n"
    "\\format F        output format: table, json or csv\n"
    "\\timing          toggle the \"Time: X ms\" line\n"
    "\\q               quit\n";

}  // namespace

bool Shell::RunStatement(std::string_view sql) {
  auto start = std::chrono::steady_clock::now();
  SqlResponse response = connection_.Execute(sql);
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!response.ok) {
    out_.flush();
    err_ << "ERROR " << response.error_code << ": " << response.error_message << std::endl;
    return false;
  }
  for (const QueryResult& result : response.results) {
    out_ << FormatResult(result, format_, response.took_ms);
  }
  if (timing_) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "Time: %.3f ms\n", elapsed_ms);
    out_ << buf;
  }
  out_.flush();
  return true;
}

bool Shell::RunMeta(std::string_view line) {
  std::vector<std::string_view> words = Words(TrimView(line));
  if (words.empty()) return true;
  std::string_view command = words[0];
  auto usage = [&](std::string_view text) {
    err_ << "ERROR USAGE: " << text << std::endl;
    return false;
  };
  if (command == "\\q" || command == "\\quit") {
    quit_ = true;
    return true;
  }
  if (command == "\\?" || command == "\\help") {
    out_ << kHelp;
    return true;
  }
  if (command == "\\timing") {
    timing_ = !timing_;
    out_ << "Timing is " << (timing_ ? "on" : "off") << "." << std::endl;
    return true;
  }
  if (command == "\\format") {
    if (words.size() != 2) return usage("\\format table|json|csv");
    std::optional<Format> format = ParseFormat(words[1]);
    if (!format) return usage("\\format table|json|csv");
    format_ = *format;
    out_ << "Output format is " << FormatName(format_) << "." << std::endl;
    return true;
  }
  if (command == "\\dn") {
    if (words.size() != 1) return usage("\\dn");
    return RunStatement("SHOW NAMESPACES");
  }
  if (command == "\\dt") {
    if (words.size() > 2) return usage("\\dt [namespace]");
    if (words.size() == 2) return RunStatement("SHOW TABLES IN " + std::string(words[1]));
    return RunStatement("SHOW TABLES");
  }
  if (command == "\\d") {
    if (words.size() != 2) return usage("\\d namespace.table");
    return RunStatement("DESCRIBE TABLE " + std::string(words[1]));
  }
  err_ << "ERROR UNKNOWN_COMMAND: " << command << " (\\? lists the commands)" << std::endl;
  return false;
}

bool Shell::ProcessLine(std::string_view line) {
  if (!splitter_.HasPending()) {
    std::string_view trimmed = TrimView(line);
    if (!trimmed.empty() && trimmed.front() == '\\') return RunMeta(trimmed);
  }
  std::string text(line);
  text += '\n';
  for (const std::string& statement : splitter_.Feed(text)) {
    if (!RunStatement(statement)) {
      splitter_.TakeRest();  // drop what follows the failed statement
      return false;
    }
  }
  return true;
}

bool Shell::Finish() {
  std::string rest = splitter_.TakeRest();
  if (rest.empty()) return true;
  return RunStatement(rest);
}

bool Shell::RunCommand(std::string_view text) {
  std::string_view trimmed = TrimView(text);
  if (!trimmed.empty() && trimmed.front() == '\\') return RunMeta(trimmed);
  for (const std::string& statement : SplitStatements(text)) {
    if (!RunStatement(statement)) return false;
  }
  return true;
}

int Shell::RunScript(std::istream& in) {
  std::string line;
  while (!quit_ && std::getline(in, line)) {
    if (!ProcessLine(line)) return 1;
  }
  if (quit_) return 0;
  return Finish() ? 0 : 1;
}

}  // namespace kalamdb::cli
