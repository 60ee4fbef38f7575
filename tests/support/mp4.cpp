#include "tests/support/mp4.hpp"

#include <stdexcept>

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

namespace classcam::test {

std::string record_fmp4(const std::filesystem::path& file, int seconds) {
  const auto r = run({"gst-launch-1.0",
                      "-q",
                      "mp4mux",
                      "name=m",
                      "fragment-duration=500",
                      "streamable=true",
                      "!",
                      "filesink",
                      "location=" + file.string(),
                      "videotestsrc",
                      "num-buffers=" + std::to_string(30 * seconds),
                      "!",
                      "video/x-raw,format=I420,width=160,height=120,framerate=30/1",
                      "!",
                      "x264enc",
                      "key-int-max=15",
                      "!",
                      "h264parse",
                      "!",
                      "m.",
                      "audiotestsrc",
                      "num-buffers=" + std::to_string(43 * seconds),
                      "!",
                      "audioconvert",
                      "!",
                      "opusenc",
                      "!",
                      "m."});
  if (r.exit_code != 0) throw std::runtime_error("gst-launch-1.0 failed: " + r.output);
  return read_file(file);
}

std::uint32_t be32(const std::string& b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b.at(at + i));
  return v;
}

void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 4; i-- > 0;) {
    b.at(at + i) = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

std::vector<Box> children(const std::string& b, std::size_t from, std::size_t to) {
  std::vector<Box> out;
  for (std::size_t at = from; at + 8 <= to;) {
    const std::size_t size = be32(b, at);
    if (size < 8 || at + size > to) break;
    out.push_back({b.substr(at + 4, 4), at, size});
    at += size;
  }
  return out;
}

std::vector<Box> top_boxes(const std::string& b) { return children(b, 0, b.size()); }

std::vector<Box> inside(const std::string& b, const Box& parent) {
  return children(b, parent.at + 8, parent.at + parent.size);
}

Box child(const std::string& b, const Box& parent, const std::string& type) {
  for (const auto& c : inside(b, parent)) {
    if (c.type == type) return c;
  }
  throw std::runtime_error("no " + type + " box in " + parent.type);
}

std::vector<Box> top_boxes_of(const std::string& b, const std::string& type) {
  std::vector<Box> out;
  for (const auto& x : top_boxes(b)) {
    if (x.type == type) out.push_back(x);
  }
  return out;
}

std::optional<Box> video_traf(const std::string& b, const Box& moof) {
  for (const auto& t : inside(b, moof)) {
    if (t.type == "traf" && be32(b, child(b, t, "tfhd").at + 12) == 1) return t;
  }
  return std::nullopt;
}

Box video_moof(const std::string& b, std::size_t n) {
  for (const auto& m : top_boxes_of(b, "moof")) {
    if (video_traf(b, m) && n-- == 0) return m;
  }
  throw std::runtime_error("not enough video fragments");
}

std::string renumbered_moov(const std::string& b, std::uint32_t id_offset) {
  const Box moov = top_boxes_of(b, "moov").at(0);
  std::string other = b.substr(moov.at, moov.size);
  for (const auto& trak : inside(other, {"moov", 0, other.size()})) {
    if (trak.type != "trak") continue;
    const Box tkhd = child(other, trak, "tkhd");
    put32(other, tkhd.at + 20, be32(other, tkhd.at + 20) + id_offset);  // version 0: after two times
  }
  return other;
}

void corrupt_trun_count(std::string& b, std::size_t n) {
  const Box moov = top_boxes_of(b, "moov").at(0);
  for (const auto& x : inside(b, child(b, moov, "mvex"))) {
    if (x.type == "trex" && be32(b, x.at + 12) == 1) put32(b, x.at + 20, 100);
  }
  const Box trun = child(b, *video_traf(b, video_moof(b, n)), "trun");
  put32(b, trun.at + 8, 0x000001);  // version 0, data-offset only
  put32(b, trun.at + 12, 0xffffffff);
}

}  // namespace classcam::test
