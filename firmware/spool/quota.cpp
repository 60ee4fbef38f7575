#include "firmware/spool/quota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

namespace classcam::spool {

QuotaDecision evaluate_quota(const QuotaInput& in) {
  QuotaDecision d;
  std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  if (in.max_bytes > 0) limit = in.max_bytes;
  const auto percent_bound =
      static_cast<std::uint64_t>(static_cast<long double>(in.fs_total_bytes) * in.max_percent / 100.0L);
  limit = std::min(limit, percent_bound);
  // Other writers may have filled the filesystem: we can never hold more than we have plus what is free.
  const std::uint64_t physical = in.used_bytes > std::numeric_limits<std::uint64_t>::max() - in.fs_avail_bytes
                                     ? std::numeric_limits<std::uint64_t>::max()
                                     : in.used_bytes + in.fs_avail_bytes;
  limit = std::min(limit, physical);
  d.limit_bytes = limit;
  const std::uint64_t wanted = in.used_bytes + in.reserve_bytes;
  d.to_free_bytes = wanted > limit ? wanted - limit : 0;
  d.full = d.to_free_bytes > in.evictable_bytes;
  return d;
}

std::uint64_t reserve_for_recording(std::uint32_t video_kbps, std::uint32_t audio_kbps, std::uint32_t segment_ms) {
  const std::uint64_t bits_per_s = (static_cast<std::uint64_t>(video_kbps) + audio_kbps) * 1000;
  const std::uint64_t per_segment = bits_per_s / 8 * segment_ms / 1000;
  return per_segment * 2 * 5 / 4;
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1000.0 && u + 1 < kUnits.size()) {
    v /= 1000.0;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.{}f} {}", v, v < 10 ? 1 : 0, kUnits[u]);
}

}  // namespace classcam::spool
