#include "support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace kalamdb::test {
namespace {

using Clock = std::chrono::steady_clock;

int DecodeStatus(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return kTimedOut;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `lines` lines of `text`.
std::string Tail(const std::string& text, int lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos == std::string::npos || pos == 0) return text;
  return text.substr(pos + 1);
}

}  // namespace

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::optional<std::string> NonLoopbackIpv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* it = list; it != nullptr && !found; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if ((it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
    auto* sin = reinterpret_cast<sockaddr_in*>(it->ifa_addr);
    if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)) != nullptr) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

long RaiseFileLimitToHard() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<long>(limit.rlim_cur);
}

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  data_dir_ = dir_.path() + "/data";
  logs_dir_ = dir_.path() + "/logs";
  stderr_path_ = dir_.path() + "/stderr.log";
  stdout_path_ = dir_.path() + "/stdout.log";
  if (options_.config_path) {
    config_path_ = *options_.config_path;
  } else {
    config_path_ = dir_.path() + "/server.toml";
    WriteFile(config_path_, options_.config_toml);
  }
  port_ = options_.port != 0 ? options_.port : PickFreePort();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    // A server that was expected to run but died on its own (a crash) fails the test.
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
      ADD_FAILURE() << "kalamdb-server (pid " << pid_ << ") exited unexpectedly with status "
                    << DecodeStatus(raw) << "; stderr tail:\n"
                    << Tail(Stderr(), 40);
    } else {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  if (::testing::Test::HasFailure()) {
    std::string err = Stderr();
    if (!err.empty()) {
      std::fprintf(stderr, "---- kalamdb-server stderr (last 40 lines, port %d) ----\n%s----\n",
                   port_, Tail(err, 40).c_str());
    }
  }
}

::testing::AssertionResult ServerProcess::Spawn() {
  if (pid_ > 0)
    return ::testing::AssertionFailure() << "server already running (pid " << pid_ << ")";
  if (dir_.path().empty()) return ::testing::AssertionFailure() << "could not create a temp dir";
  if (port_ == 0) return ::testing::AssertionFailure() << "could not pick a free port";

  // Everything the child needs is prepared before fork(): after it, only async-signal-safe
  // calls are made.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "KALAMDB_", 8) != 0) env_strings.emplace_back(*e);
  }
  std::vector<std::pair<std::string, std::string>> vars = {
      {"KALAMDB_SERVER_HOST", "127.0.0.1"},
      {"KALAMDB_SERVER_PORT", std::to_string(port_)},
      {"KALAMDB_DATA_DIR", data_dir_},
      {"KALAMDB_LOGS_DIR", logs_dir_},
      {"KALAMDB_BCRYPT_COST", "4"},
      {"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "100000"},
  };
  for (const auto& [name, value] : options_.env) {
    bool replaced = false;
    for (auto& var : vars) {
      if (var.first == name) {
        var.second = value;
        replaced = true;
      }
    }
    if (!replaced) vars.emplace_back(name, value);
  }
  for (const auto& [name, value] : vars) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string binary = KALAMDB_SERVER_BIN;
  std::vector<char*> argv = {binary.data(), config_path_.data(), nullptr};

  int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int out_fd = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0 || out_fd < 0) {
    if (err_fd >= 0) ::close(err_fd);
    if (out_fd >= 0) ::close(out_fd);
    return ::testing::AssertionFailure()
           << "cannot create " << stderr_path_ << ": " << std::strerror(errno);
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(err_fd);
    ::close(out_fd);
    return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
  }
  if (pid == 0) {
    // Child: die with the test process, never outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Own process group, so a terminal's Ctrl-C reaches the test first (it then kills us).
    ::setpgid(0, 0);
    // Signals blocked or ignored by the test runner must not leak into the server.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // Test sockets and files must not leak into the server.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "server_process: execve failed\n";
    ssize_t ignored = ::write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(err_fd);
  ::close(out_fd);
  pid_ = pid;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServerProcess::Start() {
  if (auto spawned = Spawn(); !spawned) return spawned;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (Clock::now() < deadline) {
    int raw = 0;
    pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      last_status_ = DecodeStatus(raw);
      return ::testing::AssertionFailure()
             << "kalamdb-server exited with status " << last_status_
             << " before accepting connections on port " << port_ << "; stderr:\n"
             << Stderr();
    }
    if (PortAccepts(port_)) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int status = Reap(0);
  return ::testing::AssertionFailure()
         << "kalamdb-server did not accept connections on port " << port_ << " within "
         << options_.start_timeout_ms << " ms (killed, status " << status << "); stderr:\n"
         << Stderr();
}

int ServerProcess::Reap(int timeout_ms) {
  if (pid_ <= 0) return last_status_;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int raw = 0;
    pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      last_status_ = DecodeStatus(raw);
      return last_status_;
    }
    if (r < 0 && errno != EINTR) {  // not our child any more (should not happen)
      pid_ = -1;
      last_status_ = kTimedOut;
      return last_status_;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  last_status_ = kTimedOut;
  return last_status_;
}

int ServerProcess::WaitForExit(int timeout_ms) { return Reap(timeout_ms); }

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return last_status_;
  ::kill(pid_, signal);
  return Reap(15000);
}

::testing::AssertionResult ServerProcess::Restart() {
  if (pid_ > 0) {
    int status = Stop(SIGTERM);
    if (status != 0) {
      return ::testing::AssertionFailure()
             << "restart: SIGTERM gave exit status " << status << "; stderr:\n"
             << Stderr();
    }
  }
  return Start();
}

void ServerProcess::SetEnv(const std::string& name, const std::string& value) {
  for (auto& var : options_.env) {
    if (var.first == name) {
      var.second = value;
      return;
    }
  }
  options_.env.emplace_back(name, value);
}

std::string ServerProcess::Stderr() const { return ReadFile(stderr_path_); }

}  // namespace kalamdb::test
