// server_process.h: runs the real kalamdb-server binary as a child process for end-to-end tests.
//
// Each ServerProcess owns a TempDir holding its config file, data dir, logs dir and captured
// stderr, and a free loopback port picked once at construction (kept across restarts). The
// child gets a hermetic environment: every inherited KALAMDB_* variable is dropped, then
//   KALAMDB_SERVER_HOST=127.0.0.1, KALAMDB_SERVER_PORT=<port>, KALAMDB_DATA_DIR=<tmp>/data,
//   KALAMDB_LOGS_DIR=<tmp>/logs, KALAMDB_BCRYPT_COST=4,
//   KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC=100000
// are set, and ServerOptions::env is applied last (it may override any of them).
//
// No orphans: the child is started with PR_SET_PDEATHSIG=SIGKILL (it dies with the test
// process, even on a crash or a ctest timeout), and the destructor SIGKILLs and reaps a child
// that is still running.
//
// Not thread-safe; one controlling thread per ServerProcess.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.h"

#ifndef KALAMDB_SERVER_BIN
#error "KALAMDB_SERVER_BIN must be defined to the path of the kalamdb-server binary"
#endif

namespace kalamdb::test {

struct ServerOptions {
  // Contents of <tmp>/server.toml, passed as argv[1]. Ignored when config_path is set.
  std::string config_toml;
  // An existing config file to pass as argv[1] instead of the generated one.
  std::optional<std::string> config_path;
  // Extra environment variables, applied after the defaults (same name: the later wins).
  std::vector<std::pair<std::string, std::string>> env;
  // Port to pass as KALAMDB_SERVER_PORT; 0 picks a free loopback port.
  int port = 0;
  // How long Start() waits for the port to accept connections.
  int start_timeout_ms = 15000;
};

// Exit status encoding used below: the exit code when the child exited, 128 + signal number
// when a signal ended it, kTimedOut when it did not end in time (it was then SIGKILLed).
inline constexpr int kTimedOut = -1;

class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns the server and waits until its port accepts connections. Fails (with the captured
  // stderr in the message) if the child exits first or the port is not open in time.
  ::testing::AssertionResult Start();
  // Spawns the server without waiting for readiness (for servers expected to fail).
  ::testing::AssertionResult Spawn();
  // Waits up to `timeout_ms` for the child to exit on its own; returns the exit status (a
  // still-running child is SIGKILLed and kTimedOut returned).
  int WaitForExit(int timeout_ms = 15000);
  // Sends `signal` and waits (15 s, then SIGKILL) for the child; returns the exit status.
  // Without a running child: the status of the last run, or kTimedOut if there was none.
  int Stop(int signal = SIGTERM);
  // SIGKILL and reap; returns the exit status.
  int Kill9() { return Stop(SIGKILL); }
  // Stop(SIGTERM) (if running) then Start() again with the same data dir, config and port.
  ::testing::AssertionResult Restart();

  // Sets (or replaces) an environment variable for the next Start()/Spawn()/Restart().
  void SetEnv(const std::string& name, const std::string& value);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int Port() const { return port_; }
  // Captured stderr of the current (or last) run.
  std::string Stderr() const;
  const std::string& DataDir() const { return data_dir_; }
  const std::string& Dir() const { return dir_.path(); }
  const std::string& ConfigPath() const { return config_path_; }

 private:
  int Reap(int timeout_ms);  // waits for exit; SIGKILL after timeout_ms; returns status

  ServerOptions options_;
  TempDir dir_;
  std::string data_dir_;
  std::string logs_dir_;
  std::string config_path_;
  std::string stderr_path_;
  std::string stdout_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  int last_status_ = kTimedOut;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close).
int PickFreePort();

// True when something accepts TCP connections on 127.0.0.1:port right now.
bool PortAccepts(int port);

// The first IPv4 address of an up, non-loopback interface of this machine, if any.
std::optional<std::string> NonLoopbackIpv4();

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
long RaiseFileLimitToHard();

}  // namespace kalamdb::test
