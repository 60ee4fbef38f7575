#include "firmware/spool/manifest.hpp"

#include <algorithm>

namespace classcam::spool {

using protocol::Json;
using protocol::Reader;

namespace {

std::string line(Json j, std::string_view type) {
  j["record"] = type;
  return protocol::dump(j);
}

}  // namespace

std::uint32_t Manifest::next_index() const {
  std::uint32_t next = 0;
  for (const auto& s : segments) next = std::max(next, s.index + 1);
  for (const auto& [i, o] : opened) next = std::max(next, i + 1);
  return next;
}

std::string session_record(const protocol::SessionInfo& info) {
  return line({{"manifest", kManifestVersion}, {"session", protocol::to_json(info)}}, "session");
}

std::string open_record(const OpenedSegment& o) {
  return line({{"index", o.index},
               {"file", o.file},
               {"start_pts_ns", o.start_pts_ns},
               {"start_utc", util::to_rfc3339(o.start_utc)}},
              "open");
}

std::string segment_record(const protocol::SegmentEntry& entry) {
  return line({{"segment", protocol::to_json(entry)}}, "segment");
}

std::string bookmark_record(const protocol::Bookmark& bookmark) {
  return line({{"bookmark", protocol::to_json(bookmark)}}, "bookmark");
}

std::string uploaded_record(std::uint32_t index, util::TimePoint at) {
  return line({{"index", index}, {"at", util::to_rfc3339(at)}}, "uploaded");
}

std::string evicted_record(std::uint32_t index, util::TimePoint at) {
  return line({{"index", index}, {"at", util::to_rfc3339(at)}}, "evicted");
}

std::string set_aside_record(std::uint32_t index, const SetAside& a, util::TimePoint at) {
  return line({{"index", index},
               {"reason", a.reason},
               {"attempts", a.attempts},
               {"retry_at", util::to_rfc3339(a.retry_at)},
               {"at", util::to_rfc3339(at)}},
              "set_aside");
}

std::string note_record(const std::string& text, util::TimePoint at) {
  return line({{"text", text}, {"at", util::to_rfc3339(at)}}, "note");
}

std::string end_record(const protocol::SessionInfo& ended) {
  return line({{"session", protocol::to_json(ended)}}, "end");
}

Manifest parse_manifest(std::string_view text) {
  Manifest m;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const bool complete = nl != std::string_view::npos;
    const std::string_view raw = text.substr(0, complete ? nl : text.size());
    text.remove_prefix(complete ? nl + 1 : text.size());
    if (raw.empty()) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    Json j = Json::parse(raw, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      m.problems.push_back(where + (complete ? "not a JSON object" : "torn (the file ends inside this line)"));
      continue;
    }
    try {
      const Reader r(j, "");
      const std::string type = r.string("record", 32);
      if (type == "session") {
        const auto v = r.integer("manifest", 1, 1000);
        if (v > kManifestVersion) r.fail("manifest", "version " + std::to_string(v) + " is newer than this build");
        if (m.session) r.fail("record", "a second session record");
        m.session = protocol::read_session_info(r.object("session"));
      } else if (type == "open") {
        OpenedSegment o;
        o.index = static_cast<std::uint32_t>(r.integer("index", 0, 1'000'000));
        o.file = r.string("file", 128);
        o.start_pts_ns = r.integer("start_pts_ns", 0, INT64_MAX);
        o.start_utc = r.time("start_utc");
        m.opened[o.index] = o;
      } else if (type == "segment") {
        auto e = protocol::read_segment_entry(r.object("segment"));
        if (std::any_of(m.segments.begin(), m.segments.end(), [&](const auto& x) { return x.index == e.index; })) {
          r.fail("segment", "segment " + std::to_string(e.index) + " is recorded again (the first record counts)");
        }
        m.segments.push_back(std::move(e));
      } else if (type == "bookmark") {
        m.bookmarks.push_back(protocol::read_bookmark(r.object("bookmark")));
      } else if (type == "uploaded") {
        m.uploaded.insert(static_cast<std::uint32_t>(r.integer("index", 0, 1'000'000)));
      } else if (type == "evicted") {
        m.evicted.insert(static_cast<std::uint32_t>(r.integer("index", 0, 1'000'000)));
      } else if (type == "set_aside") {
        SetAside a;
        const auto index = static_cast<std::uint32_t>(r.integer("index", 0, 1'000'000));
        a.reason = r.string("reason", 4096, true);
        a.attempts = static_cast<std::uint32_t>(r.integer("attempts", 1, 1'000'000));
        a.retry_at = r.time("retry_at");
        m.set_aside[index] = std::move(a);
      } else if (type == "note") {
        m.notes.push_back(r.string("text", 4096, true));
      } else if (type == "end") {
        m.end = protocol::read_session_info(r.object("session"));
      } else {
        r.fail("record", "unknown record type \"" + type + "\"");
      }
    } catch (const protocol::DecodeError& e) {
      m.problems.push_back(where + e.what());
    }
  }
  return m;
}

}  // namespace classcam::spool
