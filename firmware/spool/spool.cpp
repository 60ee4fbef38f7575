#include "firmware/spool/spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/log/log.hpp"
#include "common/util/hash.hpp"
#include "firmware/spool/durable.hpp"
#include "firmware/spool/fmp4.hpp"

namespace classcam::spool {

namespace fs = std::filesystem;
using protocol::SegmentEntry;
using protocol::SessionInfo;

namespace {

constexpr const char* kSessionsDir = "sessions";

log::Logger logger() { return log::get("spool"); }

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{"cannot open " + p.string() + ": " + std::strerror(errno)};
  std::string text;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());  // a read error sets badbit here, it does not throw
    text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Error{"cannot read " + p.string()};
  return text;
}

// "seg-00007.mp4" -> 7, "seg-00007.mp4.part" -> 7 (with part = true).
std::optional<std::uint32_t> segment_index(const std::string& name, bool& part) {
  static const std::regex re(R"(seg-(\d{5,7})\.mp4(\.part)?)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) return std::nullopt;
  part = m[2].matched;
  return static_cast<std::uint32_t>(std::stoul(m[1]));
}

bool closed(const Manifest& m, std::uint32_t index) {
  return std::any_of(m.segments.begin(), m.segments.end(), [&](const SegmentEntry& e) { return e.index == index; });
}

util::TimePoint add_ns(util::TimePoint t, std::int64_t ns) {
  return t + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(ns));
}

}  // namespace

Spool::Spool(config::UnitConfig::Spool config)
    : config_(std::move(config)), sessions_dir_(config_.dir / kSessionsDir) {}

Spool::~Spool() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Spool::Spool(Spool&& o) noexcept
    : config_(std::move(o.config_)),
      sessions_dir_(std::move(o.sessions_dir_)),
      sessions_(std::move(o.sessions_)),
      tracked_bytes_(o.tracked_bytes_),
      lock_fd_(o.lock_fd_) {
  o.lock_fd_ = -1;
}

std::string Spool::segment_name(std::uint32_t index) { return fmt::format("seg-{:05}.mp4", index); }
std::string Spool::temp_name(std::uint32_t index) { return segment_name(index) + ".part"; }

std::optional<std::uint32_t> Spool::index_of(const std::string& file_name) {
  bool part = false;
  return segment_index(file_name, part);
}

fs::path Spool::session_dir_in(const fs::path& spool_dir, const std::string& session_id) {
  return spool_dir / kSessionsDir / session_id;
}

fs::path Spool::session_dir(const std::string& session_id) const { return sessions_dir_ / session_id; }

Status Spool::open() {
  if (auto s = make_durable_dir(sessions_dir_); !s) return Error{"spool: " + s.error().message};
  const fs::path lock = config_.dir / ".lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) return Error{"spool: cannot open " + lock.string() + ": " + std::strerror(errno)};
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error{"spool: " + config_.dir.string() + " is in use by another classcamd (" + lock.string() +
                 " is locked)"};
  }

  // Nothing read here may stop the unit from starting: a session that cannot be read is left as it is.
  std::error_code ec;
  for (auto it = fs::directory_iterator(sessions_dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_directory(fec)) continue;
    const std::string id = it->path().filename().string();
    const fs::path mf = it->path() / std::string(kManifestFile);
    if (!fs::is_regular_file(mf, fec)) {
      logger()->warn("{}: no manifest; left as it is", it->path().string());
      continue;
    }
    auto text = read_text(mf);
    if (!text) {
      logger()->error("{}; session left as it is", text.error().message);
      continue;
    }
    Manifest m = parse_manifest(*text);
    for (const auto& p : m.problems) logger()->warn("{}: {} (skipped)", mf.string(), p);
    if (!m.session || m.session->session_id != id) {
      logger()->warn("{}: no session record for {}; left as it is", mf.string(), id);
      continue;
    }
    sessions_[id] = Session{it->path(), std::move(m), nullptr, {}};
  }
  if (ec) return Error{"spool: cannot list " + sessions_dir_.string() + ": " + ec.message()};

  tracked_bytes_ = 0;
  for (auto it = fs::recursive_directory_iterator(config_.dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    if (it->path().extension() == ".part") continue;
    const auto size = it->file_size(fec);
    if (!fec) tracked_bytes_ += size;
  }
  if (ec)
    logger()->warn("spool {}: cannot list everything in it ({}); its size is counted from what was read",
                   config_.dir.string(), ec.message());
  logger()->info("spool {}: {} sessions, {} on disk", config_.dir.string(), sessions_.size(),
                 human_bytes(tracked_bytes_));
  return ok_status();
}

Spool::Session* Spool::find(const std::string& session_id) {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const Manifest* Spool::manifest(const std::string& session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : &it->second.manifest;
}

std::vector<std::string> Spool::sessions_oldest_first() const {
  std::vector<std::string> ids;
  ids.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), [&](const std::string& a, const std::string& b) {
    const auto ta = sessions_.at(a).manifest.session->started_at;
    const auto tb = sessions_.at(b).manifest.session->started_at;
    return ta != tb ? ta < tb : a < b;
  });
  return ids;
}

Status Spool::append(Session& s, const std::string& record) {
  if (auto st = append_line_durably(s.dir / std::string(kManifestFile), record); !st) {
    return Error{"spool: " + st.error().message};
  }
  tracked_bytes_ += record.size() + 1;
  return ok_status();
}

Status Spool::begin_session(const SessionInfo& info) {
  if (!protocol::is_valid_id(info.session_id)) return Error{"spool: invalid session id \"" + info.session_id + "\""};
  if (sessions_.count(info.session_id) != 0) return Error{"spool: session " + info.session_id + " exists already"};
  Session s{session_dir(info.session_id), {}, nullptr, {}};
  if (auto st = make_durable_dir(s.dir); !st) return Error{"spool: " + st.error().message};
  if (auto st = append(s, session_record(info)); !st) return st;
  s.manifest.session = info;
  s.writer = std::make_unique<SegmentWriter>(s.dir, info.segment_duration_ms);
  sessions_.emplace(info.session_id, std::move(s));
  return ok_status();
}

std::int64_t Spool::running_ns(const Session& s, std::int64_t media_ns) const {
  const std::int64_t first = s.writer && s.writer->first_media_ns() ? *s.writer->first_media_ns() : 0;
  return s.time_base.first_sample_running_ns.value_or(first) + (media_ns - first);
}

util::TimePoint Spool::utc_of(const Session& s, std::int64_t running) const {
  if (s.time_base.utc_at_running_zero == std::chrono::system_clock::time_point{}) return util::now_utc();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(s.time_base.utc_at_running_zero +
                                                                 std::chrono::nanoseconds(running));
}

Result<WriteOutcome> Spool::write(const std::string& session_id, std::string_view bytes, const TimeBase& time_base) {
  Session* s = find(session_id);
  if (s == nullptr || !s->writer) return Error{"spool: session " + session_id + " is not recording"};
  s->time_base = time_base;
  auto events = s->writer->feed(bytes);
  if (!events) return Error{"spool: " + events.error().message};
  WriteOutcome out;
  for (const auto& e : *events) {
    const std::int64_t rt = running_ns(*s, e.start_ns);
    if (e.kind == WriterEvent::Kind::opened) {
      const OpenedSegment o{e.index, segment_name(e.index), rt, utc_of(*s, rt)};
      if (auto st = segment_opened(session_id, o); !st) return st.error();
      out.opened.push_back(o);
    } else {
      const auto opened = s->manifest.opened.find(e.index);
      const auto utc = opened != s->manifest.opened.end() ? opened->second.start_utc : utc_of(*s, rt);
      auto entry = close_segment(session_id, e.index, rt, e.end_ns - e.start_ns, utc);
      if (!entry) return entry.error();
      out.closed.push_back(*entry);
    }
  }
  return out;
}

Status Spool::sync_open(const std::string& session_id) {
  Session* s = find(session_id);
  if (s == nullptr || !s->writer) return ok_status();
  return s->writer->sync();
}

Status Spool::segment_opened(const std::string& session_id, const OpenedSegment& opened) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  if (auto st = append(*s, open_record(opened)); !st) return st;
  s->manifest.opened[opened.index] = opened;
  return ok_status();
}

Result<SegmentEntry> Spool::close_file(Session& s, std::uint32_t index, const fs::path& from, std::int64_t start_pts_ns,
                                       std::int64_t duration_ns, util::TimePoint start_utc, bool recovered) {
  if (closed(s.manifest, index)) {
    return Error{
        fmt::format("spool: segment {} of session {} is closed already", index, s.manifest.session->session_id)};
  }
  const fs::path to = s.dir / segment_name(index);
  if (auto st = fsync_path(from); !st) return Error{"spool: " + st.error().message};
  auto sha = util::file_digest_hex(from);
  if (!sha) return Error{"spool: " + sha.error().message};
  const std::uint64_t size = file_size_or_zero(from);
  if (from != to) {
    if (auto st = durable_rename(from, to); !st) return Error{"spool: " + st.error().message};
  }
  SegmentEntry e;
  e.session_id = s.manifest.session->session_id;
  e.index = index;
  e.file = segment_name(index);
  e.start_utc = start_utc;
  e.start_pts_ns = std::max<std::int64_t>(0, start_pts_ns);
  e.duration_ns = std::max<std::int64_t>(0, duration_ns);
  e.size_bytes = size;
  e.sha256 = *sha;
  e.recovered = recovered;
  if (auto st = append(s, segment_record(e)); !st) return st.error();
  tracked_bytes_ += size;
  s.manifest.segments.push_back(e);
  return e;
}

Result<SegmentEntry> Spool::close_segment(const std::string& session_id, std::uint32_t index, std::int64_t start_pts_ns,
                                          std::int64_t duration_ns, util::TimePoint start_utc) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  return close_file(*s, index, s->dir / temp_name(index), start_pts_ns, duration_ns, start_utc, false);
}

Status Spool::add_bookmark(const protocol::Bookmark& bookmark) {
  Session* s = find(bookmark.session_id);
  if (s == nullptr) return Error{"spool: no session " + bookmark.session_id};
  if (auto st = append(*s, bookmark_record(bookmark)); !st) return st;
  s->manifest.bookmarks.push_back(bookmark);
  return ok_status();
}

RecoveredSession Spool::recover_files(const std::string& id, Session& s) {
  RecoveredSession out;
  out.session_id = id;
  auto note = [&](const std::string& text) {
    out.notes.push_back(text);
    s.manifest.notes.push_back(text);
    if (auto st = append(s, note_record(text, util::now_utc())); !st) logger()->error("{}", st.error().message);
  };

  // Segment files the manifest does not list as closed, in index order.
  std::map<std::uint32_t, std::pair<fs::path, bool>> candidates;
  std::error_code ec;
  for (auto it = fs::directory_iterator(s.dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    bool part = false;
    const auto index = segment_index(it->path().filename().string(), part);
    if (!index || closed(s.manifest, *index)) continue;
    candidates[*index] = {it->path(), part};
  }
  if (ec)
    note(fmt::format("cannot list {}: {}; segments not yet closed there stay as they are", s.dir.string(),
                     ec.message()));

  for (const auto& [index, file] : candidates) {
    const auto& [path, part] = file;
    // Whatever goes wrong with one file (a read error of a failing card, a bug) stays with that file.
    try {
      recover_file(s, index, path, part, out, note);
    } catch (const std::exception& e) {
      note(fmt::format("segment {}: recovery failed ({}); {} is left as it is", index, e.what(),
                       path.filename().string()));
    }
  }
  out.segments = static_cast<std::uint32_t>(s.manifest.segments.size());
  for (const auto& e : s.manifest.segments) out.recorded_ns += e.duration_ns;
  return out;
}

void Spool::recover_file(Session& s, std::uint32_t index, const fs::path& path, bool part, RecoveredSession& out,
                         const std::function<void(const std::string&)>& note) {
  const std::string name = path.filename().string();
  auto scan = scan_fmp4(path);
  if (!scan) {
    if (part) tracked_bytes_ += file_size_or_zero(path);
    note(fmt::format("segment {}: {}; {} is kept as it is", index, scan.error().message, name));
    return;
  }
  const std::string why = scan->problem.empty() ? "" : " (" + scan->problem + ")";
  if (!scan->playable()) {
    if (part) tracked_bytes_ += scan->file_size;
    note(fmt::format("segment {}: no complete fragment in {} ({} bytes){}; kept as it is", index, name, scan->file_size,
                     why));
    return;
  }
  if (scan->torn()) {
    // Keep the torn tail beside the segment (it is not playable, but it is not ours to delete).
    const std::uint64_t tail = scan->file_size - scan->complete_size;
    fs::path torn = s.dir / (segment_name(index) + ".torn");
    std::error_code ec;
    for (int n = 1; fs::exists(torn, ec) && file_size_or_zero(torn) != tail; ++n) {
      torn = s.dir / fmt::format("{}.torn-{}", segment_name(index), n);
    }
    if (!fs::exists(torn, ec)) {
      if (auto st = copy_tail_durably(path, scan->complete_size, torn); !st) {
        note(fmt::format("segment {}: cannot keep its torn tail ({}); {} is left as it is", index, st.error().message,
                         name));
        return;
      }
      tracked_bytes_ += tail;
    }
    if (::truncate(path.c_str(), static_cast<off_t>(scan->complete_size)) != 0) {
      note(fmt::format("segment {}: cannot truncate {}: {}", index, name, std::strerror(errno)));
      return;
    }
    note(fmt::format("segment {}: kept {} complete fragments of {}; the rest ({} bytes) is in {}{}", index,
                     scan->complete_fragments, name, tail, torn.filename().string(), why));
  }
  // Start times: from the open record when the recorder wrote one, else from the previous segment.
  std::int64_t start_pts = scan->start_ns;
  util::TimePoint start_utc = s.manifest.session->started_at;
  if (auto o = s.manifest.opened.find(index); o != s.manifest.opened.end()) {
    start_pts = o->second.start_pts_ns;
    start_utc = o->second.start_utc;
  } else if (!s.manifest.segments.empty()) {
    const auto& prev = s.manifest.segments.back();
    start_utc = add_ns(prev.start_utc, scan->start_ns - prev.start_pts_ns);
  }
  if (!part) tracked_bytes_ -= std::min(tracked_bytes_, scan->complete_size);  // close_file counts it again
  auto e = close_file(s, index, path, start_pts, scan->duration_ns(), start_utc, true);
  if (!e) {
    note(fmt::format("segment {}: {}", index, e.error().message));
    return;
  }
  out.recovered.push_back(*e);
  note(fmt::format("segment {}: recovered {:.3f} s ({} bytes)", index, static_cast<double>(e->duration_ns) / 1e9,
                   e->size_bytes));
}

std::vector<RecoveredSession> Spool::recover() {
  std::vector<RecoveredSession> out;
  for (const auto& id : sessions_oldest_first()) {
    Session& s = sessions_.at(id);
    if (s.manifest.ended()) continue;
    // One session's failure is that session's: the others are recovered, and the unit starts.
    try {
      auto r = finish_session(id, "recovered after the recorder stopped unexpectedly (crash or power loss)");
      if (r) {
        out.push_back(std::move(*r));
      } else {
        logger()->error("session {}: recovery failed: {}; its files are left as they are", id, r.error().message);
      }
    } catch (const std::exception& e) {
      logger()->error("session {}: recovery failed: {}; its files are left as they are", id, e.what());
      (void)append(s, note_record(std::string("recovery failed: ") + e.what(), util::now_utc()));
    }
  }
  return out;
}

Result<RecoveredSession> Spool::finish_session(const std::string& session_id, const std::string& reason) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  if (s->writer) {
    // The segment being written holds only whole fragments: it closes like any other.
    if (const auto e = s->writer->finish()) {
      const std::int64_t rt = running_ns(*s, e->start_ns);
      const auto opened = s->manifest.opened.find(e->index);
      const auto utc = opened != s->manifest.opened.end() ? opened->second.start_utc : utc_of(*s, rt);
      auto entry = close_segment(session_id, e->index, rt, e->end_ns - e->start_ns, utc);
      if (!entry) logger()->error("session {}: {}", session_id, entry.error().message);
    }
    s->writer.reset();
  }
  RecoveredSession r = recover_files(session_id, *s);
  util::TimePoint ended = s->manifest.session->started_at;
  for (const auto& e : s->manifest.segments) ended = std::max(ended, add_ns(e.start_utc, e.duration_ns));
  auto info = end_session(session_id, ended, reason);
  if (!info) return info.error();
  r.ended = *info;
  for (const auto& n : r.notes) logger()->info("session {}: {}", session_id, n);
  if (!r.recovered.empty() || !r.notes.empty()) {
    logger()->warn("session {}: {}; {} segments kept, {} recovered", session_id, reason, r.segments,
                   r.recovered.size());
  }
  return r;
}

Result<SessionInfo> Spool::end_session(const std::string& session_id, util::TimePoint ended_at,
                                       const std::string& reason) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  if (s->manifest.ended()) return *s->manifest.end;
  SessionInfo info = *s->manifest.session;
  info.ended_at = std::max(ended_at, info.started_at);
  info.end_reason = reason;
  info.segment_count = static_cast<std::uint32_t>(s->manifest.segments.size());
  if (auto st = append(*s, end_record(info)); !st) return st.error();
  s->manifest.end = info;
  return info;
}

std::vector<PendingSegment> Spool::pending() const {
  std::vector<PendingSegment> out;
  for (const auto& id : sessions_oldest_first()) {
    const Session& s = sessions_.at(id);
    std::vector<SegmentEntry> segs = s.manifest.segments;
    std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    for (const auto& e : segs) {
      if (s.manifest.uploaded.count(e.index) != 0 || s.manifest.evicted.count(e.index) != 0) continue;
      PendingSegment p{e, s.dir / e.file, std::nullopt};
      if (const auto a = s.manifest.set_aside.find(e.index); a != s.manifest.set_aside.end()) p.set_aside = a->second;
      out.push_back(std::move(p));
    }
  }
  return out;
}

Status Spool::mark_uploaded(const std::string& session_id, std::uint32_t index) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  const auto& segs = s->manifest.segments;
  if (std::none_of(segs.begin(), segs.end(), [&](const SegmentEntry& e) { return e.index == index; })) {
    return Error{fmt::format("spool: session {} has no closed segment {}", session_id, index)};
  }
  if (s->manifest.uploaded.count(index) != 0) return ok_status();
  if (auto st = append(*s, uploaded_record(index, util::now_utc())); !st) return st;
  s->manifest.uploaded.insert(index);
  return ok_status();
}

Result<SetAside> Spool::set_aside(const std::string& session_id, std::uint32_t index, const std::string& reason,
                                  util::TimePoint retry_at) {
  Session* s = find(session_id);
  if (s == nullptr) return Error{"spool: no session " + session_id};
  if (!closed(s->manifest, index))
    return Error{fmt::format("spool: session {} has no closed segment {}", session_id, index)};
  SetAside a;
  a.reason = reason.substr(0, 1000);
  a.retry_at = retry_at;
  const auto it = s->manifest.set_aside.find(index);
  a.attempts = it == s->manifest.set_aside.end() ? 1 : it->second.attempts + 1;
  // Held in memory first: a card that cannot take the record must not make the uploader try the
  // segment again at once, over and over; only the wait's survival across a restart is lost.
  s->manifest.set_aside[index] = a;
  if (auto st = append(*s, set_aside_record(index, a, util::now_utc())); !st) {
    return Error{st.error().message + " (segment " + std::to_string(index) +
                 " stays set aside in memory until classcamd restarts)"};
  }
  return a;
}

std::uint64_t Spool::open_part_bytes() const {
  // Only a recording session has a segment open (its writer knows which); recovery closed the rest.
  std::uint64_t n = 0;
  for (const auto& [id, s] : sessions_) {
    if (!s.writer) continue;
    if (const auto index = s.writer->open_index()) n += file_size_or_zero(s.dir / temp_name(*index));
  }
  return n;
}

Usage Spool::usage() const {
  Usage u;
  u.used_bytes = tracked_bytes_ + open_part_bytes();
  struct statvfs vfs {};
  if (::statvfs(config_.dir.c_str(), &vfs) == 0) {
    u.fs_total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    u.fs_avail_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  for (const auto& [id, s] : sessions_) {
    for (const auto& e : s.manifest.segments) {
      if (s.manifest.evicted.count(e.index) != 0) continue;
      if (s.manifest.uploaded.count(e.index) != 0) {
        u.evictable_bytes += e.size_bytes;
      } else {
        ++u.backlog_segments;
        u.backlog_bytes += e.size_bytes;
        if (s.manifest.set_aside.count(e.index) != 0) ++u.set_aside_segments;
      }
    }
  }
  u.sessions = static_cast<std::uint32_t>(sessions_.size());
  u.limit_bytes = evaluate_quota({u.used_bytes, u.fs_total_bytes, u.fs_avail_bytes, config_.max_bytes,
                                  config_.max_percent, u.evictable_bytes, 0})
                      .limit_bytes;
  return u;
}

Result<Eviction> Spool::make_room(std::uint64_t reserve_bytes) {
  const Usage u = usage();
  Eviction ev;
  ev.decision = evaluate_quota({u.used_bytes, u.fs_total_bytes, u.fs_avail_bytes, config_.max_bytes,
                                config_.max_percent, u.evictable_bytes, reserve_bytes});
  if (ev.decision.full) {
    std::string bound;
    const auto pct = static_cast<std::uint64_t>(static_cast<long double>(u.fs_total_bytes) * config_.max_percent / 100);
    if (ev.decision.limit_bytes == config_.max_bytes && config_.max_bytes > 0) {
      bound = "spool.max_bytes";
    } else if (ev.decision.limit_bytes == pct) {
      bound = fmt::format("spool.max_percent = {}% of the disk", config_.max_percent);
    } else {
      bound = "the disk is full";
    }
    return Error{
        fmt::format("spool full: {} used of {} allowed ({}), {} in {} segments not yet uploaded; "
                    "recording needs {} more",
                    human_bytes(u.used_bytes), human_bytes(ev.decision.limit_bytes), bound,
                    human_bytes(u.backlog_bytes), u.backlog_segments, human_bytes(reserve_bytes))};
  }
  if (ev.decision.to_free_bytes == 0) return ev;

  for (const auto& id : sessions_oldest_first()) {
    Session& s = sessions_.at(id);
    std::vector<SegmentEntry> segs = s.manifest.segments;
    std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    for (const auto& e : segs) {
      if (ev.evicted_bytes >= ev.decision.to_free_bytes) break;
      if (s.manifest.uploaded.count(e.index) == 0 || s.manifest.evicted.count(e.index) != 0) continue;
      std::error_code ec;
      fs::remove(s.dir / e.file, ec);
      if (ec) {
        logger()->error("cannot evict {}: {}", (s.dir / e.file).string(), ec.message());
        continue;
      }
      for (const auto& extra : {e.file + ".torn"}) {
        const fs::path p = s.dir / extra;
        const auto n = file_size_or_zero(p);
        if (fs::remove(p, ec)) tracked_bytes_ -= std::min(tracked_bytes_, n);
      }
      (void)fsync_path(s.dir);
      tracked_bytes_ -= std::min(tracked_bytes_, e.size_bytes);
      if (auto st = append(s, evicted_record(e.index, util::now_utc())); !st) logger()->error("{}", st.error().message);
      s.manifest.evicted.insert(e.index);
      ++ev.evicted_segments;
      ev.evicted_bytes += e.size_bytes;
    }
  }
  logger()->info("evicted {} uploaded segments ({}) to keep {} free under the {} quota", ev.evicted_segments,
                 human_bytes(ev.evicted_bytes), human_bytes(reserve_bytes), human_bytes(ev.decision.limit_bytes));
  return ev;
}

}  // namespace classcam::spool
