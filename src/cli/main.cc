// main.cc: the kalam command-line client (interactive SQL shell and scripts).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "cli/bench.h"
#include "cli/connection.h"
#include "cli/options.h"
#include "cli/shell.h"
#include "cli/traces.h"

extern "C" {
#include <editline/readline.h>
}

namespace {

// Interactive loop: line editing, persistent history in ~/.kalam_history.
int RunInteractive(kalamdb::cli::Shell& shell) {
  std::string history_path;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    history_path = std::string(home) + "/.kalam_history";
  }
  using_history();
  if (!history_path.empty()) read_history(history_path.c_str());
  std::cout << "kalam: connected. \\? for help, \\q to quit." << std::endl;
  while (!shell.quit()) {
    const char* prompt = shell.HasPending() ? "  ...> " : "kalam> ";
    char* raw = readline(prompt);
    if (raw == nullptr) {  // EOF (Ctrl-D)
      std::cout << std::endl;
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
      if (!history_path.empty()) write_history(history_path.c_str());
    }
    // Errors are printed; the session goes on.
    shell.ProcessLine(line);
  }
  if (!shell.quit()) shell.Finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Subcommands with their own options: kalam bench ..., kalam traces ...
  if (argc > 1 && std::string_view(argv[1]) == "bench") {
    return kalamdb::cli::BenchMain(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string_view(argv[1]) == "traces") {
    return kalamdb::cli::TracesMain(argc - 1, argv + 1);
  }
  CLI::App app{"kalam: command-line client for kalamdb (also: kalam bench insert, kalam traces)"};
  kalamdb::cli::ConnectionOptions conn = kalamdb::cli::ConnectionDefaults(
      [](const char* name) -> const char* { return std::getenv(name); });
  const std::string& url = conn.url;
  const std::string& user = conn.user;
  const std::string& password = conn.password;
  const std::string& token = conn.token;
  std::string command;
  std::string file;
  std::string format_name = "table";
  kalamdb::cli::AddConnectionOptions(app, conn);
  auto* command_opt = app.add_option("-c,--command", command, "run SQL (or a \\ command) and exit");
  auto* file_opt = app.add_option("-f,--file", file, "run the statements of a file and exit");
  command_opt->excludes(file_opt);
  app.add_option("--format", format_name, "output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::optional<kalamdb::cli::ServerUrl> server = kalamdb::cli::ParseServerUrl(url);
  if (!server) {
    std::cerr << "ERROR INVALID_URL: cannot use '" << url << "' (expected http://host:port)"
              << std::endl;
    return 1;
  }
  kalamdb::cli::Connection connection(*server);
  if (!token.empty()) {
    connection.SetAccessToken(token);
  } else if (std::optional<kalamdb::cli::ApiError> error = connection.Login(user, password)) {
    std::cerr << "ERROR " << error->code << ": " << error->message << std::endl;
    std::cerr << "kalam: login as '" << user << "' to " << url << " failed" << std::endl;
    return 1;
  }
  kalamdb::cli::Shell shell(connection, std::cout, std::cerr,
                            *kalamdb::cli::ParseFormat(format_name));
  if (*command_opt) return shell.RunCommand(command) ? 0 : 1;
  if (*file_opt) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "ERROR FILE_NOT_FOUND: cannot open '" << file << "'" << std::endl;
      return 1;
    }
    return shell.RunScript(in);
  }
  if (!isatty(STDIN_FILENO)) return shell.RunScript(std::cin);
  return RunInteractive(shell);
}
