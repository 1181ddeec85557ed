// traces.cc: `kalam traces`: options, fetching (server store, Jaeger, file) and output.
#include "cli/traces.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/connection.h"
#include "cli/options.h"
#include "common/base64.h"
#include "common/clock.h"
#include "http/client.h"

namespace kalamdb::cli {
namespace {

using traces::Analysis;
using traces::TraceSet;

struct HttpUrl {
  std::string host;
  int port = 80;
  std::string prefix;  // path before the API ("" or "/jaeger")
};

// "http://host[:port][/prefix]" (scheme optional); nullopt when malformed or not http.
std::optional<HttpUrl> ParseHttpUrl(std::string_view url, int default_port) {
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.find("://") != std::string_view::npos) {
    return std::nullopt;
  }
  HttpUrl out;
  out.port = default_port;
  const size_t slash = url.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = url.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    out.prefix = std::string(prefix);
    url = url.substr(0, slash);
  }
  auto server = ParseServerUrl(url);
  if (!server) return std::nullopt;
  out.host = server->host;
  if (url.rfind(':') != std::string_view::npos && url.find(']') == std::string_view::npos) {
    out.port = server->port;
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The message of a Jaeger-style error answer, or the body's start.
std::string ErrorText(const std::string& body) {
  const size_t msg = body.find("\"msg\":\"");
  if (msg != std::string::npos) {
    const size_t start = msg + 7;
    return body.substr(start, body.find('"', start) - start);
  }
  return body.substr(0, 200);
}

Result<std::string> HttpGet(const HttpUrl& url, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Client client(url.host, url.port, 30000);
  auto response = client.Send("GET", target, {}, headers);
  if (!response.ok()) {
    return Status(ErrorCode::kShuttingDown, "cannot reach " + url.host + ":" +
                                                std::to_string(url.port) + ": " +
                                                std::string(response.status().message()));
  }
  if (response->status != 200) {
    return Status(ErrorCode::kInvalidArgument, "GET " + target + ": HTTP " +
                                                   std::to_string(response->status) + ": " +
                                                   ErrorText(response->body));
  }
  return std::move(response->body);
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<TraceSet> Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Status(ErrorCode::kNotFound, "cannot read '" + path + "'");
  auto set = traces::ParseJaeger(*text);
  if (!set.ok()) {
    return Status(ErrorCode::kInvalidArgument, path + ": " + std::string(set.status().message()));
  }
  return set;
}

int Fail(const std::string& message) {
  std::cerr << "kalam traces: " << message << std::endl;
  return 1;
}

}  // namespace

int TracesMain(int argc, char** argv) {
  CLI::App app{
      "kalam traces: analyse request traces (waterfalls, gaps, per-path latency, critical path, "
      "slow-vs-rest, warnings) from the server's store, a Jaeger query service or a saved file"};
  app.name("kalam traces");
  ConnectionOptions conn =
      ConnectionDefaults([](const char* name) -> const char* { return std::getenv(name); });
  const std::string& url = conn.url;
  const std::string& user = conn.user;
  const std::string& password = conn.password;
  const std::string& token = conn.token;
  std::string jaeger;
  std::string service = "kalamdb-server";
  traces::Options options;
  int last = 200;
  std::string since = "1h";
  bool json = false;
  bool folded = false;
  std::string save;
  std::string load;
  std::vector<std::string> diff;
  AddConnectionOptions(app, conn, "admin user");
  auto* jaeger_opt = app.add_option(
      "--jaeger", jaeger, "read from a Jaeger query service, e.g. http://127.0.0.1:16686");
  app.add_option("--service", service, "service name")->capture_default_str();
  app.add_option("--operation", options.operation,
                 "traces containing a span of this name (\"\" = every trace)")
      ->capture_default_str();
  app.add_option("--last", last, "how many traces to fetch (most recent)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  auto* since_opt = app.add_option("--since", since,
                                   "time window back from now (1h, 30m, 90s, 1h30m; Jaeger: "
                                   "start/end; server: only when given)")
                        ->capture_default_str();
  app.add_option("--gap-threshold-us", options.gap_threshold_us,
                 "list gaps inside spans above this many µs (fractions allowed)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--slow-percent", options.slow_percent,
                 "compare the slowest K% of traces with the rest")
      ->check(CLI::Range(0.001, 99.999))
      ->capture_default_str();
  auto* json_opt = app.add_flag("--json", json, "print a JSON summary instead of the report");
  auto* folded_opt = app.add_flag("--folded", folded, "print flame-graph folded stacks (self µs)");
  json_opt->excludes(folded_opt);
  auto* save_opt = app.add_option("--save", save, "also write the fetched traces (Jaeger JSON)");
  auto* load_opt =
      app.add_option("--load", load, "analyse a file written by --save (or Jaeger JSON)");
  auto* diff_opt =
      app.add_option("--diff", diff, "compare two saved runs: BEFORE AFTER")->expected(2);
  app.add_option("--waterfalls", options.extra_waterfalls,
                 "waterfalls beyond the slowest and the median trace")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  load_opt->excludes(jaeger_opt);
  diff_opt->excludes(load_opt)->excludes(jaeger_opt)->excludes(save_opt)->excludes(folded_opt);
  CLI11_PARSE(app, argc, argv);

  if (*diff_opt) {
    auto before = Load(diff[0]);
    if (!before.ok()) return Fail(std::string(before.status().message()));
    auto after = Load(diff[1]);
    if (!after.ok()) return Fail(std::string(after.status().message()));
    Analysis a = traces::Analyze(*before, options);
    Analysis b = traces::Analyze(*after, options);
    std::cout << (json ? traces::RenderDiffJson(a, b) : traces::RenderDiff(a, b));
    return 0;
  }

  TraceSet set;
  if (*load_opt) {
    auto loaded = Load(load);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    set = std::move(loaded).value();
  } else {
    const std::optional<int64_t> window_ns = ParseDurationNs(since);
    if (!window_ns) return Fail("--since: expected a duration such as 1h, 30m or 90s");
    const int64_t window_us = *window_ns / 1000;
    const int64_t now_us = NowMicros();
    std::string query = "?service=" + UrlEncode(service);
    if (!options.operation.empty()) query += "&operation=" + UrlEncode(options.operation);
    query += "&limit=" + std::to_string(last);
    std::optional<HttpUrl> target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string path;
    if (*jaeger_opt) {
      target = ParseHttpUrl(jaeger, 16686);
      if (!target) return Fail("cannot use --jaeger '" + jaeger + "' (expected http://host:port)");
      // Jaeger ignores "lookback": the window must be explicit.
      query += "&start=" + std::to_string(now_us - window_us) + "&end=" + std::to_string(now_us);
      path = target->prefix + "/api/traces" + query;
    } else {
      target = ParseHttpUrl(url, 8080);
      if (!target) return Fail("cannot use --url '" + url + "' (expected http://host:port)");
      if (*since_opt) {
        query += "&start=" + std::to_string(now_us - window_us) + "&end=" + std::to_string(now_us);
      }
      path = target->prefix + "/v1/api/traces" + query + "&precision=ns";
      headers.emplace_back("Authorization", !token.empty()
                                                ? "Bearer " + token
                                                : "Basic " + Base64Encode(user + ":" + password));
    }
    auto body = HttpGet(*target, path, headers);
    if (!body.ok()) return Fail(std::string(body.status().message()));
    auto parsed = traces::ParseJaeger(*body);
    if (!parsed.ok())
      return Fail("answer of " + path + ": " + std::string(parsed.status().message()));
    set = std::move(parsed).value();
    set.limit = last;
  }

  if (*save_opt) {
    std::ofstream out(save, std::ios::binary | std::ios::trunc);
    out << traces::SaveJaeger(set);
    out.close();
    if (!out) return Fail("cannot write '" + save + "'");
    std::cerr << "kalam traces: saved " << set.traces.size() << " traces to " << save << std::endl;
  }

  Analysis analysis = traces::Analyze(set, options);
  if (json) {
    std::cout << traces::RenderJson(analysis);
  } else if (folded) {
    std::cout << traces::RenderFolded(analysis);
  } else {
    std::cout << traces::RenderHuman(analysis);
  }
  std::cout.flush();
  if (analysis.empty()) {
    std::cerr << "kalam traces: no trace among the " << set.traces.size() << " read has a '"
              << options.operation << "' span" << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace kalamdb::cli
