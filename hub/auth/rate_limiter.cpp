#include "hub/auth/rate_limiter.hpp"

#include <algorithm>

namespace classcam::hub::auth {

RateLimiter::RateLimiter(store::Store& store, std::string kind, BackoffPolicy policy)
    : store_(store), kind_(std::move(kind)), policy_(policy) {
  policy_.forgive_every = std::max(policy_.forgive_every, std::chrono::seconds(1));
  policy_.first_delay = std::max(policy_.first_delay, std::chrono::seconds(1));
  policy_.max_delay = std::max(policy_.max_delay, policy_.first_delay);
}

std::int64_t RateLimiter::forgiven(const store::Throttle& t, util::TimePoint now) const {
  if (now <= t.last_failure_at) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(now - t.last_failure_at) / policy_.forgive_every;
}

std::chrono::seconds RateLimiter::wait(const std::string& key, util::TimePoint now) const {
  const auto t = store_.throttle(stored_key(key));
  if (!t || t->blocked_until <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(t->blocked_until - now);
}

std::chrono::seconds RateLimiter::record_failure(const std::string& key, util::TimePoint now) {
  std::chrono::seconds delay{0};
  store_.update_throttle(stored_key(key), [&](std::optional<store::Throttle> t) {
    store::Throttle next;
    next.failures = t ? std::max<std::int64_t>(0, t->failures - forgiven(*t, now)) + 1 : 1;
    next.last_failure_at = now;
    const std::int64_t over = next.failures - static_cast<std::int64_t>(policy_.free_failures);
    if (over > 0) {
      // first_delay * 2^(over - 1), without overflowing on a long run of failures.
      delay = policy_.first_delay;
      for (std::int64_t i = 1; i < over && delay < policy_.max_delay; ++i) delay *= 2;
      delay = std::min(delay, policy_.max_delay);
    }
    next.blocked_until = now + delay;
    return std::optional<store::Throttle>(next);
  });
  return delay;
}

void RateLimiter::reset(const std::string& key) {
  store_.update_throttle(stored_key(key), [](std::optional<store::Throttle>) { return std::nullopt; });
}

}  // namespace classcam::hub::auth
