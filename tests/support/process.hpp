// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vncgate::test {

using Env = std::vector<std::pair<std::string, std::string>>;

// A directory from mkdtemp under $TMPDIR (or /tmp), removed recursively by the destructor unless the
// environment sets VNCGATE_KEEP_TMP=1 (then its path is printed so logs and screenshots can be read).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "vncgate-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

// A child process started with posix_spawnp: stdin from /dev/null, stdout and stderr appended to a log file.
// Its PID is remembered and only that PID is signalled. The destructor stops it (SIGTERM, then SIGKILL after
// the grace period) and reaps it. A crashing or killed test binary leaves no servers behind: children get
// SIGKILL when it dies (PR_SET_PDEATHSIG through setpriv, and a fatal-signal handler). The death signal follows
// the spawning *thread*: start long-lived children from the main thread. Not thread-safe; move-only.
class Process {
 public:
  Process() = default;
  // Throws std::runtime_error when the program cannot be spawned.
  Process(const std::vector<std::string>& argv, const std::string& log_file, const Env& env = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_file() const { return log_file_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Waits up to `timeout` for the child to exit on its own; its waitpid status, or -1 when still running.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, SIGKILL after `grace`, then reaps. Returns the waitpid status (or -1 if nothing was running).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // The last `max_bytes` of the log, for failure messages.
  std::string log_tail(std::size_t max_bytes = 2000) const;

 private:
  void reaped(int status);

  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_file_;
};

// Runs argv to completion (killed after `timeout`); returns the exit code (128+signal when signalled, -1 on
// timeout). Output goes to `log_file`.
int run_command(const std::vector<std::string>& argv, const std::string& log_file,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(30000), const Env& env = {});

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int free_port();
// True when `port` on 127.0.0.1 can be bound right now.
bool port_is_free(int port);
// Connects to 127.0.0.1:port until it succeeds or `timeout` passes.
bool wait_for_port(int port, std::chrono::milliseconds timeout);
// Polls `path` until it contains `text` or `timeout` passes.
bool wait_for_file_contains(const std::string& path, std::string_view text, std::chrono::milliseconds timeout);
// Whole file as bytes; "" when it cannot be read.
std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view contents);

}  // namespace vncgate::test
