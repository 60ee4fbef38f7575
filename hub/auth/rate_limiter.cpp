#include "hub/auth/rate_limiter.hpp"

namespace classcam::hub::auth {

RateLimiter::RateLimiter(std::uint32_t max_failures, std::chrono::seconds window)
    : max_(max_failures), window_(window) {}

void RateLimiter::prune(std::deque<Clock::time_point>& q, Clock::time_point now) const {
  while (!q.empty() && q.front() + window_ <= now) q.pop_front();
}

bool RateLimiter::allowed(const std::string& key, Clock::time_point now, std::chrono::seconds* retry_after) {
  const std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return true;
  prune(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return true;
  }
  if (it->second.size() < max_) return true;
  if (retry_after != nullptr) {
    const auto wait = it->second.front() + window_ - now;
    *retry_after = std::chrono::ceil<std::chrono::seconds>(wait);
  }
  return false;
}

void RateLimiter::record_failure(const std::string& key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  auto& q = failures_[key];
  prune(q, now);
  q.push_back(now);
  // Keep memory bounded under a flood of distinct keys: old entries go first.
  if (failures_.size() > 100000) {
    for (auto i = failures_.begin(); i != failures_.end();) {
      prune(i->second, now);
      i = i->second.empty() ? failures_.erase(i) : std::next(i);
    }
  }
}

void RateLimiter::reset(const std::string& key) {
  const std::lock_guard lock(mutex_);
  failures_.erase(key);
}

}  // namespace classcam::hub::auth
