#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/util/uuid.hpp"

namespace classcam::test {

Process::Process(std::vector<std::string> argv, std::filesystem::path log_file,
                 const std::map<std::string, std::string>& env)
    : log_(std::move(log_file)) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [k, v] : env) env_strings.push_back(k + '=' + v);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    // Child: own process group so a stop reaches helpers it starts; output to the log file.
    ::setpgid(0, 0);
    const char* out = log_.empty() ? "/dev/null" : log_.c_str();
    const int fd = ::open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    for (auto& e : env_strings) ::putenv(e.data());
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
}

Process::~Process() {
  if (pid_ > 0 && !status_) stop(SIGTERM, std::chrono::seconds(5));
}

bool Process::running() {
  if (status_) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

int Process::stop(int sig, std::chrono::milliseconds grace) {
  if (!running()) return *status_;
  ::kill(pid_, sig);
  if (auto st = wait(grace)) return *st;
  return kill9();
}

int Process::kill9() {
  if (!running()) return *status_;
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  status_ = st;
  return st;
}

std::string Process::output() const {
  if (log_.empty()) return {};
  std::ifstream f(log_);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int exit_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::map<std::string, std::string>& env) {
  const auto log = std::filesystem::temp_directory_path() / ("classcam-run-" + util::random_hex(6) + ".log");
  int status = 0;
  {
    Process p(argv, log, env);
    auto st = p.wait(timeout);
    status = st ? *st : p.stop(SIGKILL, std::chrono::seconds(1));
  }
  std::ifstream f(log);
  std::ostringstream ss;
  ss << f.rdbuf();
  std::filesystem::remove(log);
  return {exit_code(status), ss.str()};
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace classcam::test
