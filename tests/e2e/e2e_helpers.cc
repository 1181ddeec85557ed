#include "e2e/e2e_helpers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/base64.h"
#include "support/temp_dir.h"

#ifndef KALAM_BIN
#error "KALAM_BIN must be defined to the path of the kalam binary"
#endif

namespace kalamdb::test {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

ClientResponse Call(http::Client& client, std::string_view method, std::string_view target,
                    std::string_view body, const Headers& headers) {
  auto response = client.Send(method, target, body, headers);
  if (!response.ok()) {
    ClientResponse failed;
    failed.status = 0;
    failed.body = "network error: " + response.status().ToString();
    return failed;
  }
  return std::move(response).value();
}

ClientResponse Call(int port, std::string_view method, std::string_view target,
                    std::string_view body, const Headers& headers) {
  http::Client client("127.0.0.1", port);
  return Call(client, method, target, body, headers);
}

std::string BasicAuth(std::string_view user, std::string_view password) {
  std::string pair(user);
  pair += ':';
  pair += password;
  return "Basic " + Base64Encode(pair);
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string LoginBody(std::string_view user, std::string_view password) {
  return "{\"user\":" + Quoted(user) + ",\"password\":" + Quoted(password) + "}";
}

std::vector<std::string> HeaderValues(const ClientResponse& response, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : response.headers) {
    if (IEquals(key, name)) values.push_back(value);
  }
  return values;
}

std::optional<std::string> SetCookie(const ClientResponse& response, std::string_view name) {
  for (const auto& header : HeaderValues(response, "Set-Cookie")) {
    std::string_view h = header;
    size_t eq = h.find('=');
    if (eq != std::string_view::npos && Trim(h.substr(0, eq)) == name) return header;
  }
  return std::nullopt;
}

std::optional<std::string> CookieValue(const ClientResponse& response, std::string_view name) {
  auto header = SetCookie(response, name);
  if (!header) return std::nullopt;
  std::string_view h = *header;
  h = h.substr(h.find('=') + 1);
  return std::string(h.substr(0, h.find(';')));
}

std::optional<std::string> CookieAttribute(std::string_view set_cookie, std::string_view attr) {
  size_t semi = set_cookie.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view rest = set_cookie.substr(semi + 1);
  while (!rest.empty()) {
    size_t next = rest.find(';');
    std::string_view part = Trim(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    size_t eq = part.find('=');
    std::string_view key = Trim(part.substr(0, eq));
    if (IEquals(key, attr)) {
      return eq == std::string_view::npos ? std::string() : std::string(Trim(part.substr(eq + 1)));
    }
  }
  return std::nullopt;
}

std::string LoginToken(int port, std::string_view user, std::string_view password) {
  ClientResponse response = Call(port, "POST", "/v1/api/auth/login", LoginBody(user, password));
  EXPECT_EQ(response.status, 200) << response.body;
  JsonDoc doc(response.body);
  auto token = doc.Str("/access_token");
  EXPECT_TRUE(token.has_value()) << response.body;
  return token.value_or("");
}

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  static const std::regex kPattern(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$)");
  std::string s(text);
  std::smatch m;
  if (!std::regex_match(s, m, kPattern)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  int64_t seconds = static_cast<int64_t>(::timegm(&tm));
  std::string zone = m[8];
  if (zone != "Z") {
    int offset = std::stoi(zone.substr(1, 2)) * 3600 + std::stoi(zone.substr(4, 2)) * 60;
    seconds -= zone[0] == '+' ? offset : -offset;
  }
  return seconds;
}

std::optional<std::string> JwtPayload(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Base64UrlDecode(token.substr(first + 1, second - first - 1));
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Sorted(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

void ExpectAuthError(const ClientResponse& response, int status, std::string_view code) {
  EXPECT_EQ(response.status, status) << response.body;
  JsonDoc doc(response.body);
  ASSERT_TRUE(doc.ok()) << response.body;
  EXPECT_EQ(Sorted(doc.Keys("")), (std::vector<std::string>{"error", "message"})) << response.body;
  EXPECT_EQ(doc.Str("/error"), code) << response.body;
  EXPECT_FALSE(doc.Str("/message").value_or("").empty()) << response.body;
}

ServerOptions RootServerOptions(Headers extra_env) {
  ServerOptions options;
  options.env.emplace_back("KALAMDB_ROOT_PASSWORD", kRootPassword);
  for (auto& var : extra_env) options.env.push_back(std::move(var));
  return options;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult RunKalam(const ServerProcess& server, const std::vector<std::string>& args,
                   const std::string& input, const std::string& password) {
  TempDir dir;
  std::string in_path = dir.path() + "/stdin";
  std::string out_path = dir.path() + "/stdout";
  std::string err_path = dir.path() + "/stderr";
  std::ofstream(in_path) << input;
  std::string url = "http://127.0.0.1:" + std::to_string(server.Port());
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    unsetenv("KALAMDB_USER");
    setenv("KALAMDB_SERVER_URL", url.c_str(), 1);
    setenv("KALAMDB_ROOT_PASSWORD", password.c_str(), 1);
    setenv("HOME", dir.path().c_str(), 1);
    std::vector<char*> argv;
    std::string bin = KALAM_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  RunResult result;
  if (pid < 0) return result;
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

}  // namespace kalamdb::test
