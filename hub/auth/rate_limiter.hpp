#pragma once
// Slows guessing down without locking anyone out. Each key (a login, a client address) may fail
// `free_failures` times at no cost; every failure beyond that makes the key wait before its next
// attempt is even checked: `first_delay`, then twice as long each time, at most `max_delay`. Once the
// wait is over the next attempt is checked as usual, so the right password always gets in after at
// most `max_delay`; a success resets the key where the caller says so. Failures are forgiven one per
// `forgive_every` since the key's last failure, so a typo yesterday costs nothing today while a steady
// guesser stays at the longest wait.
//
// The counts live in the store (table auth_throttle), so a restart, or a crash a request provoked,
// hands nobody a fresh allowance. Time is passed in, so tests drive it without sleeping.
//
// Threading: safe from any thread (the store changes a key's row in one transaction).
#include <chrono>
#include <cstdint>
#include <string>

#include "common/util/time.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::auth {

struct BackoffPolicy {
  std::uint32_t free_failures = 5;
  std::chrono::seconds forgive_every{900};
  std::chrono::seconds first_delay{1};
  std::chrono::seconds max_delay{900};
};

class RateLimiter {
 public:
  // `kind` prefixes every key in the store ("login", "address", "enrol-address"): limiters of different
  // kinds never share a count.
  RateLimiter(store::Store& store, std::string kind, BackoffPolicy policy);

  // Zero when `key` may try at `now`; otherwise how long until it may (whole seconds, rounded up).
  std::chrono::seconds wait(const std::string& key, util::TimePoint now) const;
  // Records a failed attempt at `now`; returns the wait it imposes before the next one.
  std::chrono::seconds record_failure(const std::string& key, util::TimePoint now);
  // Forgets the key's failures (a login that succeeded).
  void reset(const std::string& key);

  const BackoffPolicy& policy() const { return policy_; }

 private:
  std::string stored_key(const std::string& key) const { return kind_ + ":" + key; }
  std::int64_t forgiven(const store::Throttle& t, util::TimePoint now) const;

  store::Store& store_;
  std::string kind_;
  BackoffPolicy policy_;
};

}  // namespace classcam::hub::auth
