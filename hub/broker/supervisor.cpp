#include "hub/broker/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace classcam::hub::broker {

Supervisor::Supervisor(Options options, std::function<void()> prepare, log::Logger log)
    : options_(std::move(options)), prepare_(std::move(prepare)), log_(std::move(log)) {}

Supervisor::~Supervisor() { stop(); }

void Supervisor::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Supervisor::stop(std::chrono::milliseconds grace) {
  pid_t pid = -1;
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    pid = pid_;
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  wake_.notify_all();
  // The supervisor thread reaps the child; escalate if it does not go.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (pid > 0 && std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (pid_ != pid) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::lock_guard lock(mutex_);
    if (pid_ == pid && pid > 0) {
      log_->warn("broker: pid {} did not stop within {} ms of SIGTERM; SIGKILL", pid, grace.count());
      ::kill(pid, SIGKILL);
    }
  }
  thread_.join();
}

bool Supervisor::signal(int sig) {
  std::lock_guard lock(mutex_);
  if (pid_ <= 0) return false;
  return ::kill(pid_, sig) == 0;
}

pid_t Supervisor::pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

int Supervisor::starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

pid_t Supervisor::spawn() {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : options_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the hub died between fork and prctl
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    // The hub's sockets and database must not leak into the broker.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (out >= 0) ::close(out);
  return pid;
}

void Supervisor::run() {
  auto backoff = options_.min_backoff;
  for (;;) {
    bool prepared = true;
    try {
      prepare_();
    } catch (const std::exception& e) {
      prepared = false;
      log_->error("broker: cannot prepare its files: {}", e.what());
    }
    pid_t pid = -1;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (prepared) {
        pid = spawn();
        if (pid < 0) {
          log_->error("broker: fork failed: {}", std::strerror(errno));
        } else {
          pid_ = pid;
          ++starts_;
        }
      }
    }
    const auto started = std::chrono::steady_clock::now();
    if (pid > 0) {
      log_->info("broker: started {} (pid {})", options_.argv[0], pid);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      bool stopping = false;
      {
        std::lock_guard lock(mutex_);
        pid_ = -1;
        stopping = stopping_;
      }
      if (stopping) {
        log_->info("broker: stopped (pid {})", pid);
        return;
      }
      const std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                  : "exited with status " + std::to_string(WEXITSTATUS(status));
      if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1)) backoff = options_.min_backoff;
      log_->error("broker: pid {} {}; restarting in {} ms (its log: {})", pid, how, backoff.count(),
                  options_.log_file.string());
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace classcam::hub::broker
