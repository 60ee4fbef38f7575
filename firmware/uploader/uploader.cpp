#include "firmware/uploader/uploader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <random>

#include "common/log/log.hpp"
#include "common/util/hash.hpp"
#include "firmware/spool/durable.hpp"

namespace classcam::uploader {

namespace {

log::Logger logger() { return log::get("uploader"); }

constexpr auto kRescan = std::chrono::seconds(30);
constexpr auto kRateWindow = std::chrono::seconds(5);

std::string b64(std::string_view s) { return util::base64_encode(s); }

// The path of an absolute or relative Location, relative to the client's base path.
std::string location_path(const std::string& location, const net::Url& hub) {
  std::string path = location;
  if (path.rfind("https://", 0) == 0 || path.rfind("http://", 0) == 0) {
    const auto slash = path.find('/', path.find("//") + 2);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  if (!hub.base_path.empty() && path.rfind(hub.base_path, 0) == 0) path = path.substr(hub.base_path.size());
  return path;
}

std::optional<std::uint64_t> header_u64(const net::Response& r, std::string_view name) {
  const auto v = r.header(name);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const auto n = std::strtoull(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return n;
}

std::string read_small(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

Result<std::string> read_range(const std::filesystem::path& file, std::uint64_t offset, std::size_t n) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + file.string() + ": " + std::strerror(errno)};
  std::string buf(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, buf.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      return Error{"cannot read " + file.string() + (r == 0 ? ": shorter than its manifest says" : "")};
    }
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return buf;
}

// Failures of the link or of the hub as a whole: no other segment or session would fare better now.
bool link_failure(int status) {
  return status >= 500 || status == 401 || status == 403 || status == 408 || status == 429 || status < 400;
}
// The hub refused this segment for itself (409, 423 and 460 are tus's own, handled where they come).
bool segment_refused(int status) { return !link_failure(status) && status != 409 && status != 423 && status != 460; }

std::string describe(const net::Response& r) {
  std::string body = r.body.substr(0, 300);
  for (auto& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return fmt::format("HTTP {}{}{}", r.status, body.empty() ? "" : ": ", body);
}

}  // namespace

Uploader::Uploader(spool::SpoolService& spool, Settings settings) : spool_(spool), settings_(std::move(settings)) {
  auto w = parse_window(settings_.upload.window);
  if (!w) throw std::invalid_argument(w.error().message);  // the config parser checks it first
  window_ = *w;
  client_ = std::make_unique<net::HttpsClient>(settings_.hub, net::TlsOptions{settings_.ca_file, true},
                                               std::chrono::seconds(30));
  if (settings_.upload.bandwidth_kbps > 0) {
    client_->set_rate_limit(static_cast<std::uint64_t>(settings_.upload.bandwidth_kbps) * 1000 / 8);
  }
}

Uploader::~Uploader() { stop(); }

void Uploader::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Uploader::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  set_state("stopped");
}

void Uploader::wake() {
  {
    const std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

UploadStatus Uploader::status() const {
  const std::lock_guard lock(mutex_);
  UploadStatus s = status_;
  const auto now = std::chrono::steady_clock::now();
  std::uint64_t bytes = 0;
  for (const auto& [t, n] : rate_window_) {
    if (now - t <= kRateWindow) bytes += n;
  }
  s.rate_bps = bytes * 8 / static_cast<std::uint64_t>(kRateWindow.count());
  return s;
}

protocol::Json Uploader::status_json() const {
  const auto s = status();
  protocol::Json j = {{"state", s.state},
                      {"hub", fmt::format("{}:{}", settings_.hub.host, settings_.hub.port)},
                      {"backlog_segments", s.backlog_segments},
                      {"backlog_bytes", s.backlog_bytes},
                      {"uploaded_segments", s.uploaded_segments},
                      {"uploaded_bytes", s.uploaded_bytes},
                      {"rate_bps", s.rate_bps},
                      {"resent_bytes", s.resent_bytes},
                      {"set_aside", s.set_aside}};
  if (!s.last_error.empty()) j["last_error"] = s.last_error;
  if (!s.set_aside_error.empty()) j["set_aside_error"] = s.set_aside_error;
  if (!settings_.upload.window.empty()) j["window"] = settings_.upload.window;
  if (settings_.upload.bandwidth_kbps > 0) j["bandwidth_kbps"] = settings_.upload.bandwidth_kbps;
  return j;
}

void Uploader::set_state(const std::string& s) {
  const std::lock_guard lock(mutex_);
  status_.state = s;
}

void Uploader::fail(const std::string& error) {
  {
    const std::lock_guard lock(mutex_);
    ++status_.failures;
    if (status_.last_error == error) return;
    status_.last_error = error;
  }
  logger()->warn("upload: {}", error);
}

void Uploader::note_sent(std::uint64_t bytes, std::uint64_t resent) {
  const std::lock_guard lock(mutex_);
  status_.sent_bytes += bytes;
  status_.resent_bytes += resent;
  const auto now = std::chrono::steady_clock::now();
  rate_window_.emplace_back(now, bytes);
  while (!rate_window_.empty() && now - rate_window_.front().first > kRateWindow) rate_window_.pop_front();
}

void Uploader::account(const std::string& key, std::uint64_t offset, std::uint64_t length, std::uint64_t wire) {
  // `wire` body bytes went out for [offset, offset + length), whether or not an answer came back (a
  // request retried on a fresh connection counts twice). What had been sent before is re-sent.
  auto& hw = high_water_[key];
  const auto end = offset + std::min(wire, length);
  const auto from = std::max(hw, offset);
  const auto fresh = end > from ? end - from : 0;
  note_sent(wire, wire - std::min(wire, fresh));
  hw = std::max(hw, end);
}

void Uploader::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_cv_.wait_for(lock, d, [&] { return stopping_ || woken_; });
  woken_ = false;
}

std::filesystem::path Uploader::location_file(const std::string& session_id, std::uint32_t index) const {
  return settings_.state_dir / "uploads" / session_id / fmt::format("{:05}.location", index);
}

std::filesystem::path Uploader::end_marker(const std::string& session_id) const {
  return settings_.state_dir / "uploads" / session_id / "end-announced";
}

std::optional<std::vector<Uploader::SessionWork>> Uploader::snapshot() {
  auto promise = std::make_shared<std::promise<std::vector<SessionWork>>>();
  auto future = promise->get_future();
  spool_.run([promise](spool::Spool& s) {
    std::vector<SessionWork> out;
    std::map<std::string, std::vector<spool::PendingSegment>> pending;
    for (auto& p : s.pending()) pending[p.entry.session_id].push_back(std::move(p));
    for (const auto& id : s.sessions_oldest_first()) {
      const auto* m = s.manifest(id);
      if (m == nullptr || !m->session) continue;
      SessionWork w{id, *m->session, m->end, std::move(pending[id])};
      out.push_back(std::move(w));
    }
    promise->set_value(std::move(out));
  });
  while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    const std::lock_guard lock(mutex_);
    if (stopping_) return std::nullopt;
  }
  return future.get();
}

bool Uploader::mark_uploaded(const std::string& session_id, std::uint32_t index) {
  auto promise = std::make_shared<std::promise<classcam::Status>>();
  auto future = promise->get_future();
  spool_.run([promise, session_id, index](spool::Spool& s) { promise->set_value(s.mark_uploaded(session_id, index)); });
  // Not abandoned on stop: the confirmation must reach the manifest.
  const auto st = future.get();
  if (!st) {
    logger()->error("segment {}/{} confirmed by the hub but not marked in the spool: {}", session_id, index,
                    st.error().message);
  }
  return st.ok();
}

std::chrono::seconds Uploader::retry_delay(std::uint32_t attempts) const {
  auto d = std::max<std::chrono::seconds>(settings_.set_aside_retry_min, std::chrono::seconds(1));
  for (std::uint32_t i = 1; i < attempts && d < settings_.set_aside_retry_max; ++i) d *= 2;
  return std::min(d, std::max(settings_.set_aside_retry_max, std::chrono::seconds(1)));
}

void Uploader::set_aside(const spool::PendingSegment& seg, const std::string& reason) {
  const auto& e = seg.entry;
  const std::uint32_t attempts = seg.set_aside ? seg.set_aside->attempts + 1 : 1;
  const auto delay = retry_delay(attempts);
  auto promise = std::make_shared<std::promise<Result<spool::SetAside>>>();
  auto future = promise->get_future();
  spool_.run([promise, e, reason, retry_at = util::now_utc() + delay](spool::Spool& s) {
    promise->set_value(s.set_aside(e.session_id, e.index, reason, retry_at));
  });
  const auto recorded = future.get();
  const auto msg = fmt::format(
      "segment {}/{} set aside ({} attempt{}): {}; its file is kept in the spool and "
      "tried again in {} s, later segments go on",
      e.session_id, e.index, attempts, attempts == 1 ? "" : "s", reason, delay.count());
  logger()->error("{}", msg);
  if (!recorded) logger()->error("segment {}/{}: {}", e.session_id, e.index, recorded.error().message);
  const std::lock_guard lock(mutex_);
  if (!seg.set_aside) ++status_.set_aside;
  status_.last_error = msg;
  status_.set_aside_error = msg;
}

bool Uploader::session_passed_over(const std::string& id) const {
  const auto it = passed_over_.find(id);
  return it != passed_over_.end() && std::chrono::system_clock::now() < it->second.until;
}

void Uploader::pass_over_session(const std::string& id, const std::string& reason) {
  auto& p = passed_over_[id];
  ++p.attempts;
  const auto delay = retry_delay(p.attempts);
  p.until = std::chrono::system_clock::now() + delay;
  const auto msg = fmt::format("{}; the session is passed over for {} s, the others go on", reason, delay.count());
  logger()->error("{}", msg);
  const std::lock_guard lock(mutex_);
  status_.last_error = msg;
}

classcam::Status Uploader::announce(const protocol::SessionInfo& session, std::optional<std::string>& refused) {
  refused.reset();
  protocol::SessionInfo info = session;
  info.unit_id = settings_.unit_id;
  auto r = client_->request("PUT", "/api/v1/unit/sessions/" + info.session_id,
                            {{"Authorization", "Bearer " + settings_.token}, {"Content-Type", "application/json"}},
                            protocol::encode(info));
  if (!r) return r.error();
  if (r->status != 200 && r->status != 201) {
    const auto msg = fmt::format("session {}: the hub refused its announcement: {}", info.session_id, describe(*r));
    if (link_failure(r->status)) return Error{msg};
    refused = msg;
  }
  return ok_status();
}

Result<Uploader::Attempt> Uploader::upload(const spool::PendingSegment& seg) {
  const auto& e = seg.entry;
  const auto size = e.size_bytes;
  const auto key = fmt::format("{}/{}", e.session_id, e.index);
  const auto aside = [](std::string why) { return Attempt{Outcome::set_aside, std::move(why)}; };
  // The segment's own problems set it aside; the link's or the hub's stop the queue for a backoff.
  const auto refused = [&](const net::Response& r, const std::string& what) -> Result<Attempt> {
    const auto msg = fmt::format("segment {}: {}: {}", key, what, describe(r));
    if (segment_refused(r.status)) return aside(fmt::format("the hub refused it ({}: {})", what, describe(r)));
    return Error{msg};
  };
  {
    struct stat st {};
    if (::stat(seg.path.c_str(), &st) != 0) {
      return aside(fmt::format("cannot read {}: {}", seg.path.string(), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) return aside(fmt::format("{} is not a regular file", seg.path.string()));
    if (static_cast<std::uint64_t>(st.st_size) != size) {
      return aside(fmt::format("{} has {} bytes, its manifest entry says {}", seg.path.string(), st.st_size, size));
    }
  }
  const auto loc_file = location_file(e.session_id, e.index);
  const net::Headers auth = {{"Authorization", "Bearer " + settings_.token}, {"Tus-Resumable", "1.0.0"}};
  auto with = [&](net::Headers extra) {
    net::Headers h = auth;
    for (auto& x : extra) h.push_back(std::move(x));
    return h;
  };
  const std::uint64_t chunk = std::max<std::uint32_t>(settings_.upload.chunk_bytes, 1024);
  std::uint32_t mismatches = 0;
  std::uint32_t corrupt = 0;

  for (;;) {
    std::string location;
    std::error_code ec;
    if (std::filesystem::exists(loc_file, ec)) location = read_small(loc_file);
    std::uint64_t offset = 0;

    if (!location.empty()) {
      auto r = client_->request("HEAD", location_path(location, settings_.hub), auth);
      if (!r) return r.error();
      if (r->status == 200) {
        offset = header_u64(*r, "Upload-Offset").value_or(0);
        if (offset >= size) return Attempt{};  // done; only the final answer was lost
      } else if (r->status == 404 || r->status == 410) {
        logger()->info("segment {}: the hub no longer has its upload ({}); starting a new one", key, r->status);
        std::filesystem::remove(loc_file, ec);
        location.clear();
      } else {
        return refused(*r, "resuming");
      }
    }

    auto handle_mismatch = [&](const net::Response& r) -> std::optional<Attempt> {
      std::filesystem::remove(loc_file, ec);
      ++mismatches;
      logger()->error("segment {}: the hub found its bytes do not match the manifest ({}); attempt {} of {}", key,
                      describe(r), mismatches, settings_.max_mismatch_retries);
      if (mismatches >= settings_.max_mismatch_retries) {
        return aside(fmt::format("the hub refused its bytes {} times ({})", mismatches, describe(r)));
      }
      return std::nullopt;
    };

    if (location.empty()) {
      const std::string metadata = fmt::format("session_id {},index {},entry {}", b64(e.session_id),
                                               b64(std::to_string(e.index)), b64(protocol::encode(e)));
      net::Headers h = with({{"Upload-Length", std::to_string(size)}, {"Upload-Metadata", metadata}});
      std::string body;
      if (size <= chunk && size > 0) {
        // creation-with-upload: a small segment goes in one request.
        auto bytes = read_range(seg.path, 0, static_cast<std::size_t>(size));
        if (!bytes) return aside(bytes.error().message);
        body = std::move(*bytes);
        h.emplace_back("Content-Type", "application/offset+octet-stream");
        h.emplace_back("Upload-Checksum", "sha256 " + b64(*util::from_hex(util::sha256_hex(body))));
      }
      const auto before = client_->body_bytes_sent();
      auto r = client_->request("POST", "/api/v1/uploads/", h, body);
      account(key, 0, body.size(), client_->body_bytes_sent() - before);
      if (!r) return r.error();
      if (r->status == 422) {
        if (auto o = handle_mismatch(*r)) return *o;
        continue;
      }
      if (r->status == 409) announced_.erase(e.session_id);  // the hub may have lost the session: announce again
      if (r->status != 201) return refused(*r, "creating its upload");
      location = r->header("Location");
      if (location.empty()) return Error{fmt::format("segment {}: the hub's 201 has no Location", key)};
      if (auto st = spool::make_durable_dir(loc_file.parent_path()); !st) return st.error();
      std::filesystem::remove(loc_file, ec);
      if (auto st = spool::write_new_file_durably(loc_file, location + "\n"); !st) return st.error();
      offset = header_u64(*r, "Upload-Offset").value_or(0);
      // Complete at creation: either our chunk completed and passed the hub's check, or the hub already
      // held this very segment (same index and SHA-256).
      if (offset >= size) return Attempt{};
    }

    bool restart = false;
    while (offset < size) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - offset));
      auto bytes = read_range(seg.path, offset, n);
      if (!bytes) return aside(bytes.error().message);
      const auto before = client_->body_bytes_sent();
      auto r = client_->request("PATCH", location_path(location, settings_.hub),
                                with({{"Upload-Offset", std::to_string(offset)},
                                      {"Content-Type", "application/offset+octet-stream"},
                                      {"Upload-Checksum", "sha256 " + b64(*util::from_hex(util::sha256_hex(*bytes)))}}),
                                *bytes);
      account(key, offset, n, client_->body_bytes_sent() - before);
      if (!r) return r.error();
      if (r->status == 204) {
        const auto next = header_u64(*r, "Upload-Offset").value_or(offset + n);
        if (next <= offset) return Error{fmt::format("segment {}: the hub's offset did not move ({})", key, next)};
        offset = next;
        corrupt = 0;
        if (offset >= size) return Attempt{};  // the 204 that completes it: size and SHA-256 checked
      } else if (r->status == 409) {
        const auto theirs = header_u64(*r, "Upload-Offset");
        if (!theirs) return Error{fmt::format("segment {}: offset conflict: {}", key, describe(*r))};
        offset = *theirs;
        if (offset >= size) return Attempt{};
      } else if (r->status == 460) {
        if (++corrupt >= 3) return Error{fmt::format("segment {}: chunks keep arriving corrupted", key)};
      } else if (r->status == 404 || r->status == 410) {
        std::filesystem::remove(loc_file, ec);
        restart = true;
        break;
      } else if (r->status == 422) {
        if (auto o = handle_mismatch(*r)) return *o;
        restart = true;
        break;
      } else {
        return refused(*r, "sending a chunk");
      }
    }
    if (!restart) return Attempt{};
  }
}

void Uploader::run() {
  std::mt19937_64 rng{std::random_device{}()};
  int attempt = 0;
  auto stopping = [&] {
    const std::lock_guard lock(mutex_);
    return stopping_;
  };
  while (!stopping()) {
    const int minute = local_minute_of_day(std::chrono::system_clock::now());
    if (!window_.contains(minute)) {
      set_state("waiting for the upload window " + settings_.upload.window);
      sleep_for(std::chrono::minutes(std::min(1, window_.minutes_until_open(minute))));
      continue;
    }
    auto plan = snapshot();
    if (!plan) break;
    {
      std::uint32_t segs = 0;
      std::uint32_t aside = 0;
      std::uint64_t bytes = 0;
      for (const auto& w : *plan) {
        for (const auto& p : w.pending) {
          ++segs;
          bytes += p.entry.size_bytes;
          if (p.set_aside) ++aside;
        }
      }
      const std::lock_guard lock(mutex_);
      status_.backlog_segments = segs;
      status_.backlog_bytes = bytes;
      status_.set_aside = aside;
      if (aside == 0) status_.set_aside_error.clear();
    }

    std::optional<std::string> error;
    bool worked = false;
    // When a segment set aside (or a session passed over) is next due: the idle wait ends then.
    auto next_due = util::now_utc() + kRescan;
    for (const auto& w : *plan) {
      if (stopping() || error) break;
      std::error_code ec;
      const bool end_done = std::filesystem::exists(end_marker(w.id), ec);
      if (w.pending.empty() && (end_done || !w.end) && announced_.contains(w.id)) continue;
      if (w.pending.empty() && end_done) continue;
      if (session_passed_over(w.id)) {
        const auto until = passed_over_.at(w.id).until;
        next_due = std::min(next_due, std::chrono::time_point_cast<std::chrono::milliseconds>(until));
        continue;
      }
      if (!announced_.contains(w.id)) {
        std::optional<std::string> refused;
        if (auto st = announce(w.info, refused); !st) {
          error = st.error().message;
          break;
        }
        if (refused) {
          pass_over_session(w.id, *refused);
          continue;
        }
        announced_.insert(w.id);
        passed_over_.erase(w.id);
      }
      bool all_in = true;
      for (const auto& p : w.pending) {
        if (stopping()) break;
        if (p.set_aside && util::now_utc() < p.set_aside->retry_at) {
          next_due = std::min(next_due, p.set_aside->retry_at);
          all_in = false;
          continue;
        }
        set_state("uploading");
        auto r = upload(p);
        if (!r) {
          error = r.error().message;
          all_in = false;
          break;
        }
        worked = true;
        if (r->outcome == Outcome::set_aside) {
          set_aside(p, r->reason);
          all_in = false;
          continue;
        }
        if (!mark_uploaded(p.entry.session_id, p.entry.index)) {
          all_in = false;
          continue;
        }
        std::filesystem::remove(location_file(p.entry.session_id, p.entry.index), ec);
        const std::lock_guard lock(mutex_);
        ++status_.uploaded_segments;
        status_.uploaded_bytes += p.entry.size_bytes;
        if (status_.backlog_segments > 0) --status_.backlog_segments;
        status_.backlog_bytes -= std::min(status_.backlog_bytes, p.entry.size_bytes);
        if (p.set_aside && status_.set_aside > 0) --status_.set_aside;
      }
      if (error || stopping()) break;
      if (w.end && all_in && !end_done) {
        std::optional<std::string> refused;
        if (auto st = announce(*w.end, refused); !st) {
          error = st.error().message;
          break;
        }
        if (refused) {
          pass_over_session(w.id, *refused);
          continue;
        }
        if (auto st = spool::make_durable_dir(end_marker(w.id).parent_path()); st) {
          (void)spool::write_new_file_durably(end_marker(w.id), "");
        }
        logger()->info("session {}: every segment is on the hub ({} in all)", w.id, w.end->segment_count.value_or(0));
        worked = true;
      }
    }
    if (stopping()) break;
    if (error) {
      fail(*error);
      client_->close();
      const auto base = std::min<std::int64_t>(
          static_cast<std::int64_t>(settings_.upload.retry_max_s) * 1000,
          static_cast<std::int64_t>(settings_.upload.retry_min_s) * 1000 << std::min(attempt, 20));
      ++attempt;
      // Jitter in [base/2, base]: units cut off together do not all come back at the same instant.
      std::uniform_int_distribution<std::int64_t> jitter(std::max<std::int64_t>(1, base / 2),
                                                         std::max<std::int64_t>(1, base));
      const auto delay = std::chrono::milliseconds(jitter(rng));
      set_state(fmt::format("retrying in {:.1f} s", static_cast<double>(delay.count()) / 1000));
      std::unique_lock lock(mutex_);
      // A wake does not cut a backoff short: only stop does.
      wake_cv_.wait_for(lock, delay, [&] { return stopping_; });
      continue;
    }
    attempt = 0;
    {
      const std::lock_guard lock(mutex_);
      // What is set aside stays in last_error (and set_aside_error) until it is uploaded.
      status_.last_error = status_.set_aside_error;
    }
    if (!worked) {
      set_state("idle");
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - util::now_utc());
      sleep_for(std::clamp<std::chrono::milliseconds>(wait, std::chrono::milliseconds(50), kRescan));
    }
  }
}

}  // namespace classcam::uploader
