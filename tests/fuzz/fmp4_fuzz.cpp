// The fMP4 reader on arbitrary bytes, as a torn or corrupt segment on an SD card presents them: the box
// splitter the segment writer uses (fed in two pieces), moov and moof parsing, and the whole-file scan
// that crash recovery runs. None may crash, hang or lose a byte; what they report must be consistent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/spool/fmp4.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The box stream, however the bytes arrive: whole boxes out, in order, the rest still buffered.
  spool::Fmp4BoxStream stream;
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  std::string joined;
  spool::Fmp4Tracks tracks;
  auto drain = [&] {
    while (auto box = stream.next()) {
      check(box->second.size() >= 8, "a box shorter than its header");
      check(box->first == box->second.substr(4, 4), "box type is not the bytes after its size");
      joined += box->second;
      if (box->first == "moov") tracks = spool::parse_moov(box->second);
      if (box->first == "moof") {
        for (const auto& f : spool::parse_moof(box->second, tracks)) {
          check(tracks.count(f.track_id) == 1, "a fragment of a track the moov does not declare");
        }
      }
    }
  };
  stream.feed(input.substr(0, cut));
  drain();
  stream.feed(input.substr(cut));
  drain();
  check(joined.size() + stream.buffered() == size, "the box stream lost or invented bytes");
  check(input.substr(0, joined.size()) == joined, "the box stream reordered bytes");

  // The scan recovery runs, on the same bytes as a file.
  const auto file = fuzz::scratch_dir() / "segment.mp4.part";
  fuzz::write_file(file, input);
  const auto scan = spool::scan_fmp4(file);
  if (!scan) {
    check(!scan.error().message.empty(), "a scan error that says nothing");
    return 0;
  }
  check(scan->file_size == size, "file_size is not the file's size");
  check(scan->complete_size <= scan->file_size, "the complete prefix is longer than the file");
  check(!scan->playable() || scan->has_moov, "playable without a moov");
  check(scan->complete_fragments == 0 || scan->has_moov, "fragments counted before a moov");
  return 0;
}
