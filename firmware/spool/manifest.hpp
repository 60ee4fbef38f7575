#pragma once
// The per-session manifest: an append-only file of JSON lines, each fsync'd before the spool goes on.
// Records, one per line, told apart by "record":
//   session   the SessionInfo, first line of every manifest
//   open      a segment was opened (index, file, start times), so recovery knows when it began
//   segment   a closed segment (SegmentEntry): written, fsync'd and renamed before this line
//   bookmark  a Bookmark
//   uploaded  the hub confirmed segment `index` (its checksum matched)
//   evicted   segment `index` was deleted to make room, after it was uploaded
//   set_aside the uploader set segment `index` aside (its file unreadable, or refused by the hub):
//             why, how many times, and when to try again; the latest record counts
//   note      something a person should know (recovery details)
//   end       the SessionInfo again, with ended_at, end_reason and segment_count
// A crash can tear only the last line; readers skip a line that does not parse and count it. A second
// segment record for an index (a line written whose fdatasync reported an error, then written again)
// is skipped too: the first one counts, so every index is one segment.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.hpp"

namespace classcam::spool {

inline constexpr int kManifestVersion = 1;
inline constexpr std::string_view kManifestFile = "manifest.jsonl";

struct OpenedSegment {
  std::uint32_t index = 0;
  std::string file;
  std::int64_t start_pts_ns = 0;
  util::TimePoint start_utc{};
  bool operator==(const OpenedSegment&) const = default;
};

// A segment the uploader set aside: it is retried at retry_at, and the queue does not wait for it.
struct SetAside {
  std::string reason;
  std::uint32_t attempts = 0;
  util::TimePoint retry_at{};
  bool operator==(const SetAside&) const = default;
};

struct Manifest {
  std::optional<protocol::SessionInfo> session;
  std::map<std::uint32_t, OpenedSegment> opened;
  std::vector<protocol::SegmentEntry> segments;  // in the order written (index order), one per index
  std::vector<protocol::Bookmark> bookmarks;
  std::set<std::uint32_t> uploaded;
  std::set<std::uint32_t> evicted;
  std::map<std::uint32_t, SetAside> set_aside;
  std::vector<std::string> notes;
  std::optional<protocol::SessionInfo> end;
  // Lines that did not parse (a torn last line after a crash), and what was wrong with each.
  std::vector<std::string> problems;

  bool ended() const { return end.has_value(); }
  // The index the next segment gets.
  std::uint32_t next_index() const;
};

std::string session_record(const protocol::SessionInfo& info);
std::string open_record(const OpenedSegment& opened);
std::string segment_record(const protocol::SegmentEntry& entry);
std::string bookmark_record(const protocol::Bookmark& bookmark);
std::string uploaded_record(std::uint32_t index, util::TimePoint at);
std::string evicted_record(std::uint32_t index, util::TimePoint at);
std::string set_aside_record(std::uint32_t index, const SetAside& set_aside, util::TimePoint at);
std::string note_record(const std::string& text, util::TimePoint at);
std::string end_record(const protocol::SessionInfo& ended);

// Parses a whole manifest. Never fails: unusable lines are skipped and described in `problems`.
Manifest parse_manifest(std::string_view text);

}  // namespace classcam::spool
