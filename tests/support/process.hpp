#pragma once
// Child processes for tests: started with fork/exec, output captured to a file, stopped by their PID
// (never by name). The destructor stops a process that is still running.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace classcam::test {

class Process {
 public:
  // Starts argv[0] (searched in PATH when it has no '/'). stdout and stderr go to `log_file` (or are
  // discarded when empty). `env` entries are added to the environment.
  Process(std::vector<std::string> argv, std::filesystem::path log_file = {},
          const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig`; then waits up to `grace` for exit, after which it sends SIGKILL. Returns the wait status.
  int stop(int sig = 15, std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL and reap.
  int kill9();
  // Waits for the process to exit by itself; nullopt on timeout (the process keeps running).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  const std::filesystem::path& log_file() const { return log_; }
  std::string output() const;  // what the log file holds so far

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_;
};

// Exit code of a wait status, or 128 + signal for a signalled process.
int exit_code(int wait_status);

// Runs a command to completion; returns its exit code and captured output (stdout + stderr).
struct RunResult {
  int exit_code;
  std::string output;
};
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const std::map<std::string, std::string>& env = {});

// Polls `pred` every 20 ms until it is true or `timeout` passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace classcam::test
