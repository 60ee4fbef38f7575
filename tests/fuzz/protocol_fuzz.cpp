// Feeds arbitrary bytes to every message decoder. A decoder may accept or refuse, but must never crash,
// hang or leak; what it accepts must re-encode and decode to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/protocol/messages.hpp"

using namespace classcam::protocol;

namespace {
template <typename T>
void check(std::string_view input) {
  auto r = decode<T>(input);
  if (!r.ok()) {
    if (r.error().message.empty()) std::abort();  // a refusal must say why
    return;
  }
  auto again = decode<T>(encode(*r));
  if (!again.ok() || !(*again == *r)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check<UnitState>(input);
  check<Telemetry>(input);
  check<SegmentEntry>(input);
  check<SessionInfo>(input);
  check<Bookmark>(input);
  check<Event>(input);
  check<Command>(input);
  check<CommandResult>(input);
  check<Observation>(input);
  check<Schedule>(input);
  check<EnrollRequest>(input);
  check<EnrollResponse>(input);
  return 0;
}
