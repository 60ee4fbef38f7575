#pragma once
// Failed-login limiter: at most N failures per key (a login name, a client address) in any sliding
// minute. Time is passed in, so tests drive it without sleeping.
//
// Threading: safe from any thread (one mutex, held briefly).
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace classcam::hub::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(std::uint32_t max_failures, std::chrono::seconds window);

  // True when `key` may try now; otherwise `retry_after` says when it may.
  bool allowed(const std::string& key, Clock::time_point now, std::chrono::seconds* retry_after = nullptr);
  void record_failure(const std::string& key, Clock::time_point now);
  void reset(const std::string& key);

 private:
  void prune(std::deque<Clock::time_point>& q, Clock::time_point now) const;
  std::uint32_t max_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, std::deque<Clock::time_point>> failures_;
};

}  // namespace classcam::hub::auth
