#pragma once
// Internal to hub/store: conversions between rows and records shared by the store's .cpp files.
#include <optional>
#include <string_view>

#include "hub/store/database.hpp"
#include "hub/store/types.hpp"

namespace classcam::hub::store::rows {

inline Value ms(util::TimePoint t) { return util::to_unix_ms(t); }
inline util::TimePoint time(std::int64_t ms) { return util::from_unix_ms(ms); }
inline std::optional<util::TimePoint> opt_ms(std::optional<std::int64_t> v) {
  if (!v) return std::nullopt;
  return util::from_unix_ms(*v);
}
inline Value opt_time(const std::optional<util::TimePoint>& t) {
  return t ? Value(util::to_unix_ms(*t)) : Value(Null{});
}

std::optional<ObservationState> observation_state(std::string_view s);
std::optional<UploadState> upload_state(std::string_view s);
std::optional<FeedKind> feed_kind(std::string_view s);
User user(const Row& r);
// Every change that alters some unit's schedule calls this inside its transaction.
void bump_schedule_revision(Transaction& tx);

}  // namespace classcam::hub::store::rows
