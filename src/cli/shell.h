// shell.h: the kalam shell's logic, independent of the terminal: runs statements and
// backslash commands on a Connection and prints results to the given streams.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/connection.h"
#include "cli/formatter.h"
#include "cli/statement_splitter.h"

namespace kalamdb::cli {

class Shell {
 public:
  Shell(Connection& connection, std::ostream& out, std::ostream& err, Format format)
      : connection_(connection), out_(out), err_(err), format_(format) {}

  // Sends one statement and prints its results, or "ERROR <code>: <message>" to err.
  // Returns false on error.
  bool RunStatement(std::string_view sql);
  // Runs a backslash command (\dn, \dt [ns], \d ns.t, \format X, \timing, \q, \?).
  bool RunMeta(std::string_view line);
  // One line of input: a backslash command when no statement is pending, else SQL text that
  // may complete statements (each is run in order; stops at the first error).
  bool ProcessLine(std::string_view line);
  // End of input: runs an unfinished last statement, if any.
  bool Finish();
  // Text of `-c`: a backslash command, or statements split on `;` run in order.
  bool RunCommand(std::string_view text);
  // Reads `in` line by line until EOF, \q or the first error. Returns the exit code (0/1).
  int RunScript(std::istream& in);

  bool HasPending() const { return splitter_.HasPending(); }
  bool quit() const { return quit_; }
  Format format() const { return format_; }
  bool timing() const { return timing_; }

 private:
  Connection& connection_;
  std::ostream& out_;
  std::ostream& err_;
  Format format_;
  bool timing_ = false;
  bool quit_ = false;
  StatementSplitter splitter_;
};

}  // namespace kalamdb::cli
