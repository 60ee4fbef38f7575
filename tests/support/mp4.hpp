#pragma once
// Real fragmented MP4 recordings for tests and benchmarks, and a small box walker to change a few of
// their bytes the way a failing SD card would (the corrupt files recovery must survive).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace classcam::test {

// `seconds` of 160x120 video and a tone, muxed as the recorder does (mp4mux, fragmented, streamable,
// 500 ms fragments, H.264 and Opus). The file's bytes; throws std::runtime_error when GStreamer fails.
std::string record_fmp4(const std::filesystem::path& file, int seconds);

std::uint32_t be32(const std::string& bytes, std::size_t at);
void put32(std::string& bytes, std::size_t at, std::uint32_t value);

struct Box {
  std::string type;
  std::size_t at = 0;    // offset of its header in the file
  std::size_t size = 0;  // whole box
};

// The boxes directly inside [from, to) (32-bit sizes: what mp4mux writes in these files).
std::vector<Box> children(const std::string& bytes, std::size_t from, std::size_t to);
std::vector<Box> top_boxes(const std::string& bytes);
std::vector<Box> inside(const std::string& bytes, const Box& parent);
// The first child of `type`; throws std::runtime_error when there is none.
Box child(const std::string& bytes, const Box& parent, const std::string& type);
std::vector<Box> top_boxes_of(const std::string& bytes, const std::string& type);
// The traf of track 1 (the video) in a moof, if it has one.
std::optional<Box> video_traf(const std::string& bytes, const Box& moof);
// The n-th moof holding video; throws when there are fewer.
Box video_moof(const std::string& bytes, std::size_t n);

// Corruptions, each a few bytes of a real recording:
// a moov whose tracks are numbered `id_offset` higher (a second header from another file);
std::string renumbered_moov(const std::string& bytes, std::uint32_t id_offset);
// the n-th video trun without per-sample fields and 4 billion samples, the video's trex giving each a
// duration (the loop over them once took seconds, and the sum years of media).
void corrupt_trun_count(std::string& bytes, std::size_t n);

}  // namespace classcam::test
