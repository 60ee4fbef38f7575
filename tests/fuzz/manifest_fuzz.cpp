// A session manifest (manifest.jsonl on the SD card) of arbitrary bytes: parse_manifest never fails,
// it skips what does not parse and says why. What it kept must survive being written back: the records
// the spool would write for it parse to the same manifest, with no problems.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/spool/manifest.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const spool::Manifest m = spool::parse_manifest(input);
  for (const auto& p : m.problems) check(!p.empty(), "a problem that says nothing");
  (void)m.next_index();

  const auto at = util::from_unix_ms(1'790'000'000'000);
  std::string text;
  if (m.session) text += spool::session_record(*m.session) + "\n";
  for (const auto& [index, o] : m.opened) text += spool::open_record(o) + "\n";
  for (const auto& e : m.segments) text += spool::segment_record(e) + "\n";
  for (const auto& b : m.bookmarks) text += spool::bookmark_record(b) + "\n";
  for (const auto i : m.uploaded) text += spool::uploaded_record(i, at) + "\n";
  for (const auto i : m.evicted) text += spool::evicted_record(i, at) + "\n";
  for (const auto& [i, a] : m.set_aside) text += spool::set_aside_record(i, a, at) + "\n";
  for (const auto& n : m.notes) text += spool::note_record(n, at) + "\n";
  if (m.end) text += spool::end_record(*m.end) + "\n";

  const spool::Manifest again = spool::parse_manifest(text);
  check(again.problems.empty(), "a record the spool writes does not parse");
  check(again.session == m.session, "session record changed on a round trip");
  check(again.opened == m.opened, "open records changed on a round trip");
  check(again.segments == m.segments, "segment records changed on a round trip");
  check(again.bookmarks == m.bookmarks, "bookmark records changed on a round trip");
  check(again.uploaded == m.uploaded && again.evicted == m.evicted, "uploaded/evicted changed on a round trip");
  check(again.set_aside == m.set_aside, "set_aside records changed on a round trip");
  check(again.notes == m.notes, "notes changed on a round trip");
  check(again.end == m.end, "end record changed on a round trip");
  return 0;
}
