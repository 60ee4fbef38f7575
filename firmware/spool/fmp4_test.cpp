#include "firmware/spool/fmp4.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

using namespace classcam::spool;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string box(const std::string& type, const std::string& payload) {
  return be32(static_cast<std::uint32_t>(8 + payload.size())) + type + payload;
}
const std::string kZero8(8, '\0');

// One video track, id 1, timescale 1000, default sample duration 100.
std::string moov() {
  const std::string tkhd = box("tkhd", be32(0) + kZero8 + be32(1));
  const std::string mdia = box("mdia", box("mdhd", be32(0) + kZero8 + be32(1000)) + box("hdlr", kZero8 + "vide"));
  const std::string trex = box("trex", be32(0) + be32(1) + be32(1) + be32(100));
  return box("moov", box("trak", tkhd + mdia) + box("mvex", trex));
}

}  // namespace

// Found by tests/fuzz (fuzz_fmp4): a traf whose second tfhd names a track the moov does not declare kept
// the first tfhd's track, so parse_moof returned a fragment of an undeclared track, timed with another
// track's timescale (and the old scan's tracks.at threw on it). Such a traf is skipped, as its contract says.
TEST(Fmp4, ATrafNamingAnUndeclaredTrackIsSkippedEvenAfterADeclaredOne) {
  const auto tracks = parse_moov(moov());
  ASSERT_EQ(tracks.count(1), 1u);
  const std::string tfdt = box("tfdt", be32(0) + be32(0));
  const std::string trun = box("trun", be32(0) + be32(3));  // three samples of the default duration
  const std::string good = box("moof", box("traf", box("tfhd", be32(0) + be32(1)) + tfdt + trun));
  const auto ok = parse_moof(good, tracks);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].track_id, 1u);
  EXPECT_EQ(ok[0].end_ns - ok[0].start_ns, 300'000'000);

  const std::string two_tfhd =
      box("moof", box("traf", box("tfhd", be32(0) + be32(1)) + box("tfhd", be32(0) + be32(99)) + tfdt + trun));
  for (const auto& f : parse_moof(two_tfhd, tracks)) {
    EXPECT_EQ(tracks.count(f.track_id), 1u) << "a fragment of undeclared track " << f.track_id;
  }
}
