// Decoding cost of the validating message decoder against nlohmann::json::parse alone on the same
// payload (the floor: parsing without any validation), measured in the same run.
//   build/bench/bench_protocol_decode [iterations]
#include <chrono>
#include <cstdio>
#include <string>

#include "common/protocol/messages.hpp"

using namespace classcam;
using namespace classcam::protocol;
using Clock = std::chrono::steady_clock;

namespace {

Schedule make_schedule(int n) {
  Schedule s;
  s.unit_id = "room-12";
  s.revision = 1;
  s.generated_at = util::now_utc();
  s.timezone = "Europe/London";
  auto t = *util::parse_rfc3339("2026-11-23T09:00:00Z");
  for (int i = 0; i < n; ++i) {
    s.observations.push_back({"obs-" + std::to_string(i), "Lesson " + std::to_string(i), t,
                              t + std::chrono::minutes(50), "Ms Khan", "Room 12"});
    t += std::chrono::hours(1);
  }
  return s;
}

template <typename F>
double per_second(int iterations, F&& f) {
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) f();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return iterations / secs;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::stoi(argv[1]) : 2000;
  const std::string payload = encode(make_schedule(140));  // 14 days x 10 lessons
  std::size_t sink = 0;
  const double bare = per_second(iterations, [&] { sink += Json::parse(payload).size(); });
  const double ours = per_second(iterations, [&] {
    auto r = decode<Schedule>(payload);
    sink += r.ok() ? r->observations.size() : 0;
  });
  std::printf("schedule of 140 observations, %zu bytes, %d iterations\n", payload.size(), iterations);
  std::printf("  nlohmann::json::parse only : %10.0f msg/s\n", bare);
  std::printf("  decode<Schedule> (validated): %10.0f msg/s  (%.2fx the parse-only time)\n", ours, bare / ours);
  return sink == 0 ? 1 : 0;
}
