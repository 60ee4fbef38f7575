#include "hub/recordings/library.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace classcam::hub::recordings {

namespace fs = std::filesystem;
using store::Outcome;
using store::RecordingState;

std::string MediaLayout::segment_relative(const std::string& id, std::uint32_t index) const {
  char name[32];
  std::snprintf(name, sizeof name, "seg-%05" PRIu32 ".mp4", index);
  return "recordings/" + id + "/segments/" + name;
}

fs::path MediaLayout::preview(const std::string& id, std::uint32_t n) const {
  return recording_dir(id) / ("preview-" + std::to_string(n) + ".mp4");
}

namespace {
void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

Library::Library(store::Store& store, audit::Auditor& auditor, MediaLayout layout, Executor join_worker, Later later,
                 JoinRetry retry)
    : store_(store),
      auditor_(auditor),
      layout_(std::move(layout)),
      join_worker_(std::move(join_worker)),
      later_(std::move(later)),
      retry_(retry) {}

std::string Library::default_title(const std::optional<store::Room>& room, const protocol::SessionInfo& info) const {
  const std::string date = util::to_rfc3339_seconds(info.started_at).substr(0, 16);  // 2026-11-23T09:00
  return "Recording in " + (room ? room->name : std::string("unit ") + info.unit_id) + ", " + date.substr(0, 10) + " " +
         date.substr(11) + " UTC";
}

Outcome<store::Recording> Library::announce(const access::Principal& unit, const protocol::SessionInfo& info) {
  if (info.unit_id != unit.id) {
    return store::invalid("unit_id", "is \"" + info.unit_id + "\" but this token belongs to unit \"" + unit.id + "\"");
  }
  auto existing = store_.recording_by_session(unit.id, info.session_id);
  if (!existing) {
    store::Recording r;
    r.unit_id = unit.id;
    r.session_id = info.session_id;
    r.room_id = unit.room_id;
    const auto room = unit.room_id ? store_.room(*unit.room_id) : std::nullopt;
    std::optional<store::Observation> obs;
    if (info.observation_id) {
      obs = store_.observation(*info.observation_id);
      if (obs && (obs->state != store::ObservationState::scheduled || !unit.room_id || obs->room_id != *unit.room_id)) {
        log_->warn("session {} of unit {} names observation {}, which is not scheduled in the unit's room; ignored",
                   info.session_id, unit.id, *info.observation_id);
        obs.reset();
      }
    }
    // Ownership: the observation's teacher, else the room's default teacher, else nobody (an admin assigns).
    if (obs) {
      r.observation_id = obs->id;
      r.owner_id = obs->teacher_id;
    } else if (room && room->default_teacher_id) {
      r.owner_id = room->default_teacher_id;
    }
    r.title = info.title && !info.title->empty() ? *info.title : obs ? obs->title : default_title(room, info);
    r.trigger = std::string(protocol::to_string(info.trigger));
    r.started_at = info.started_at;
    r.ended_at = info.ended_at;
    r.end_reason = info.end_reason;
    r.expected_segments = info.segment_count;
    r.session_json = protocol::encode(info);
    auto created = store_.create_recording(r);
    if (store::refusal(created)) {
      // Announced twice at once: the other call created it; carry on as an update.
      existing = store_.recording_by_session(unit.id, info.session_id);
      if (!existing) return created;
    } else {
      existing = std::get<store::Recording>(created);
      log_->info("recording {} started: unit {}, session {}, owner {}", existing->id, unit.id, info.session_id,
                 existing->owner_id.value_or("none yet"));
    }
  }
  store::Recording rec = *existing;
  if (info.segment_count) {
    if (rec.expected_segments && *rec.expected_segments != *info.segment_count &&
        rec.state != RecordingState::recording) {
      return store::conflict("segment_count", "the session was already complete with " +
                                                  std::to_string(*rec.expected_segments) + " segments");
    }
    for (const auto& s : store_.segments(rec.id)) {
      if (s.index >= *info.segment_count) {
        return store::conflict("segment_count", "segment " + std::to_string(s.index) +
                                                    " is already stored, so the session has more than " +
                                                    std::to_string(*info.segment_count) + " segments");
      }
    }
  }
  rec.ended_at = info.ended_at ? info.ended_at : rec.ended_at;
  rec.end_reason = info.end_reason ? info.end_reason : rec.end_reason;
  rec.expected_segments = info.segment_count ? info.segment_count : rec.expected_segments;
  rec.session_json = protocol::encode(info);
  store_.update_recording_session(rec);
  if (rec.expected_segments && *rec.expected_segments == 0 && rec.state == RecordingState::recording) {
    store_.set_recording_state(rec.id, RecordingState::failed, std::nullopt, std::nullopt,
                               "the session ended without recording any segment");
  } else if (const auto state = store_.mark_complete_if_all_in(rec.id); state == RecordingState::complete) {
    schedule_join(rec.id);
  } else if (state == RecordingState::failed) {
    retry_join(rec.id);  // announced again: worth another try (the disk may have room now)
  }
  return *store_.recording(rec.id);
}

Outcome<store::Segment> Library::accept_segment(const store::Recording& rec, const protocol::SegmentEntry& entry,
                                                const fs::path& file) {
  if (rec.expected_segments && entry.index >= *rec.expected_segments) {
    return store::invalid("entry.index", "is " + std::to_string(entry.index) + " but the session has " +
                                             std::to_string(*rec.expected_segments) + " segments");
  }
  Outcome<store::Segment> out = store::not_found("");
  bool again = false;  // the same segment a second time
  {
    const std::lock_guard lock(accept_mutex_);
    if (const auto have = store_.segment(rec.id, entry.index)) {
      if (have->sha256 != entry.sha256) {
        return store::conflict("entry.sha256", "segment " + std::to_string(entry.index) +
                                                   " of this session is already stored with a different SHA-256");
      }
      std::error_code ec;
      fs::remove(file, ec);  // the same bytes again: nothing to keep
      out = *have;
      again = true;
    } else {
      store::Segment s;
      s.recording_id = rec.id;
      s.index = entry.index;
      s.file = layout_.segment_relative(rec.id, entry.index);
      s.size_bytes = entry.size_bytes;
      s.sha256 = entry.sha256;
      s.start_utc = entry.start_utc;
      s.duration_ns = entry.duration_ns;
      s.recovered = entry.recovered;
      s.received_at = util::now_utc();
      const fs::path dest = layout_.root / s.file;
      std::error_code ec;
      fs::create_directories(dest.parent_path(), ec);
      fs::rename(file, dest, ec);
      if (ec) return store::conflict("", "cannot move the segment into place: " + ec.message());
      fsync_dir(dest.parent_path());
      out = store_.add_segment(s);
    }
  }
  if (store::refusal(out)) return out;
  const auto state = store_.mark_complete_if_all_in(rec.id);
  if (state == RecordingState::complete) {
    schedule_join(rec.id);
  } else if (state == RecordingState::failed && again) {
    retry_join(rec.id);  // sent again after a failed join: a good moment to try it again
  }
  return out;
}

void Library::schedule_join(const std::string& recording_id) {
  {
    const std::lock_guard lock(mutex_);
    if (!joining_.insert(recording_id).second) return;
  }
  join_worker_([this, recording_id] { run_join(recording_id); });
}

void Library::retry_join(const std::string& recording_id) {
  {
    const std::lock_guard lock(mutex_);
    retries_[recording_id].failures = 0;
  }
  schedule_join(recording_id);
}

namespace {
std::string spoken(std::chrono::milliseconds d) {
  if (d < std::chrono::minutes(1)) return std::to_string(std::chrono::ceil<std::chrono::seconds>(d).count()) + " s";
  return std::to_string(std::chrono::ceil<std::chrono::minutes>(d).count()) + " min";
}
}  // namespace

std::string Library::after_failure(const std::string& id, JoinProblem problem) {
  std::string text = "joining the segments failed: " + std::string(describe(problem)) + "; the segments are kept";
  if (!worth_retrying(problem)) return text;
  std::optional<std::chrono::milliseconds> delay;
  int failures = 0;
  bool pending = false;
  {
    const std::lock_guard lock(mutex_);
    auto& r = retries_[id];
    failures = ++r.failures;
    pending = r.pending;
    if (later_ && !pending && failures < retry_.attempts) {
      auto d = retry_.first_delay;
      for (int i = 1; i < failures && d < retry_.max_delay; ++i) d *= 2;
      delay = std::min(d, retry_.max_delay);
      r.pending = true;
    }
  }
  if (pending) return text + "; the hub tries again soon";
  if (!delay) return text + "; the hub tries again when the unit sends it again or the hub restarts";
  later_(*delay, [this, id] {
    {
      const std::lock_guard lock(mutex_);
      const auto it = retries_.find(id);
      if (it == retries_.end()) return;  // deleted meanwhile
      it->second.pending = false;
    }
    if (!stopping_) schedule_join(id);
  });
  return text + "; the hub tries again in " + spoken(*delay) + " (try " + std::to_string(failures + 1) + " of " +
         std::to_string(retry_.attempts) + ")";
}

void Library::run_join(const std::string& id) {
  const auto rec = store_.recording(id);
  const auto release = [&] {
    const std::lock_guard lock(mutex_);
    joining_.erase(id);
  };
  if (!rec || (rec->state != RecordingState::complete && rec->state != RecordingState::joining &&
               rec->state != RecordingState::failed)) {
    release();
    return;
  }
  const auto segments = store_.segments(id);
  if (segments.empty() || !rec->expected_segments || segments.size() != *rec->expected_segments) {
    release();
    return;
  }
  store_.set_recording_state(id, RecordingState::joining, std::nullopt, std::nullopt, std::nullopt);
  std::vector<fs::path> inputs;
  inputs.reserve(segments.size());
  for (const auto& s : segments) inputs.push_back(layout_.root / s.file);
  const auto out = layout_.joined(id);
  const auto started = std::chrono::steady_clock::now();
  JoinProblem problem = JoinProblem::none;
  const auto status = join_segments(inputs, out, std::chrono::minutes(30), &stopping_, &problem);
  if (!status && stopping_) {
    log_->info("recording {}: join interrupted by shutdown; it runs again at the next start", id);
    store_.set_recording_state(id, RecordingState::complete, std::nullopt, std::nullopt, std::nullopt);
  } else if (!status) {
    // The owner's words name no path; the log has the whole story.
    const auto told = after_failure(id, problem);
    log_->error("recording {}: join of {} segments failed: {} ({})", id, inputs.size(), status.error().message, told);
    store_.set_recording_state(id, RecordingState::failed, std::nullopt, std::nullopt, told);
  } else {
    {
      const std::lock_guard lock(mutex_);
      retries_.erase(id);
    }
    std::error_code ec;
    const auto bytes = fs::file_size(out, ec);
    store_.set_recording_state(id, RecordingState::ready, fs::relative(out, layout_.root).string(),
                               ec ? std::nullopt : std::optional<std::uint64_t>(bytes), std::nullopt);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log_->info("recording {} joined: {} segments, {} bytes, {} ms", id, inputs.size(), bytes, ms);
    // Previews are superseded by the real thing.
    for (const auto& entry : fs::directory_iterator(layout_.recording_dir(id), ec)) {
      if (entry.path().filename().string().rfind("preview-", 0) == 0) fs::remove(entry.path(), ec);
    }
  }
  release();
}

void Library::resume() {
  for (const auto state : {RecordingState::complete, RecordingState::joining, RecordingState::failed}) {
    for (const auto& r : store_.recordings_in_state(state)) {
      if (r.expected_segments && r.segments_received == *r.expected_segments) schedule_join(r.id);
    }
  }
  // A deletion interrupted between the row and the files leaves a directory nobody owns.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout_.root / "recordings", ec)) {
    const std::string id = entry.path().filename().string();
    if (entry.is_directory() && !store_.recording(id)) {
      log_->warn("removing {}: it belongs to no recording (a deletion was interrupted)", entry.path().string());
      fs::remove_all(entry.path(), ec);
    }
  }
}

std::uint32_t Library::contiguous_segments(const std::string& recording_id) {
  std::uint32_t n = 0;
  for (const auto& s : store_.segments(recording_id)) {
    if (s.index != n) break;
    ++n;
  }
  return n;
}

void Library::preview(const std::string& id, std::uint32_t n, std::function<void(Result<fs::path>)> done) {
  const fs::path path = layout_.preview(id, n);
  if (fs::exists(path)) return done(path);
  {
    const std::lock_guard lock(mutex_);
    auto& waiters = preview_waiters_[{id, n}];
    waiters.push_back(std::move(done));
    if (waiters.size() > 1) return;  // already being built
  }
  join_worker_([this, id, n] { finish_preview(id, n); });
}

void Library::finish_preview(const std::string& id, std::uint32_t n) {
  Result<fs::path> result = layout_.preview(id, n);
  if (!fs::exists(layout_.preview(id, n))) {
    const auto segments = store_.segments(id);
    std::vector<fs::path> inputs;
    for (const auto& s : segments) {
      if (s.index >= n) break;
      inputs.push_back(layout_.root / s.file);
    }
    JoinProblem problem = JoinProblem::none;
    if (inputs.size() != n) {
      result = Error{"the first " + std::to_string(n) + " segments are not all here"};
    } else if (auto st = join_segments(inputs, layout_.preview(id, n), std::chrono::minutes(30), &stopping_, &problem);
               !st) {
      log_->error("recording {}: preview of {} segments failed: {}", id, n, st.error().message);
      result = Error{std::string(describe(problem))};  // a viewer is told what, not where
    } else {
      // Keep the newest older preview too: a viewer may still be fetching ranges of it.
      std::error_code ec;
      std::vector<std::pair<unsigned long, fs::path>> older;
      for (const auto& entry : fs::directory_iterator(layout_.recording_dir(id), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("preview-", 0) != 0) continue;
        const auto k = std::strtoul(name.c_str() + 8, nullptr, 10);
        if (k < n) older.emplace_back(k, entry.path());
      }
      std::sort(older.begin(), older.end());
      for (std::size_t i = 0; i + 1 < older.size(); ++i) fs::remove(older[i].second, ec);
    }
  }
  std::vector<std::function<void(Result<fs::path>)>> waiters;
  {
    const std::lock_guard lock(mutex_);
    auto it = preview_waiters_.find({id, n});
    if (it != preview_waiters_.end()) {
      waiters = std::move(it->second);
      preview_waiters_.erase(it);
    }
  }
  for (auto& w : waiters) w(result);
}

bool Library::remove(const store::Recording& rec, const std::optional<access::Principal>& actor,
                     const std::string& why) {
  // The row first: from then on nobody can reach the files, and resume() tidies a directory left
  // behind by a crash in between.
  if (!store_.delete_recording(rec.id)) return false;
  {
    const std::lock_guard lock(mutex_);
    retries_.erase(rec.id);
  }
  std::error_code ec;
  fs::remove_all(layout_.recording_dir(rec.id), ec);
  if (ec) log_->error("recording {}: could not remove its files: {}", rec.id, ec.message());
  const std::string detail = why + "; \"" + rec.title + "\", started " + util::to_rfc3339_seconds(rec.started_at) +
                             ", owner " + rec.owner_id.value_or("none") + ", unit " + rec.unit_id + ", " +
                             std::to_string(rec.segments_received) + " segments";
  if (actor) {
    auditor_.record(*actor, "recording.delete", "recording", rec.id, detail);
  } else {
    auditor_.record_system("retention", "recording.delete", "recording", rec.id, detail);
  }
  log_->info("recording {} deleted ({})", rec.id, why);
  return true;
}

std::size_t Library::apply_retention(util::TimePoint now, std::uint32_t days) {
  if (days == 0) return 0;
  const auto cutoff = now - std::chrono::hours(24) * days;
  std::size_t n = 0;
  for (const auto& r : store_.recordings_started_before(cutoff)) {
    if (remove(r, std::nullopt, "retention: older than " + std::to_string(days) + " days")) ++n;
  }
  return n;
}

}  // namespace classcam::hub::recordings
