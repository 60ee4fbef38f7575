#pragma once
// A child process kept running: started again after it exits, with a backoff from 0.5 s doubling to
// 30 s (reset once a run lasts a minute), so a broker that crashes at once does not spin. The child
// gets PR_SET_PDEATHSIG, so it dies with the hub even when the hub is killed with -9.
//
// Threading: one supervisor thread forks, waits and sleeps; `prepare` runs on it before every start.
// start(), stop(), signal() and pid() may be called from any thread (one mutex guards the pid).
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log/log.hpp"

namespace classcam::hub::broker {

class Supervisor {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::filesystem::path log_file;  // stdout and stderr of the child, appended
    std::chrono::milliseconds min_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
  };
  // `prepare` writes what the child reads (it may throw: the start is then retried after the backoff).
  Supervisor(Options options, std::function<void()> prepare, log::Logger log);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void start();
  // SIGTERM to the child by its PID, SIGKILL after `grace`, then the thread ends.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Sends `sig` to the running child; false when there is none.
  bool signal(int sig);
  // The running child's PID, or -1.
  pid_t pid() const;
  // How many times the child was started.
  int starts() const;

 private:
  void run();
  pid_t spawn();

  Options options_;
  std::function<void()> prepare_;
  log::Logger log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  pid_t pid_ = -1;
  int starts_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace classcam::hub::broker
