#include "firmware/spool/segment_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "firmware/spool/spool.hpp"

namespace classcam::spool {

namespace {
// Keyframes land on the frame grid; allow for rounding between timescales.
constexpr std::int64_t kCutToleranceNs = 20'000'000;
}  // namespace

SegmentWriter::SegmentWriter(std::filesystem::path dir, std::uint32_t segment_ms)
    : dir_(std::move(dir)), segment_ns_(static_cast<std::int64_t>(segment_ms) * 1'000'000) {}

SegmentWriter::~SegmentWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status SegmentWriter::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{"cannot write " + (dir_ / Spool::temp_name(index_)).string() + ": " + std::strerror(errno)};
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

Status SegmentWriter::sync() {
  if (fd_ < 0) return ok_status();
  if (::fdatasync(fd_) != 0) return Error{std::string("fdatasync of the open segment failed: ") + std::strerror(errno)};
  return ok_status();
}

WriterEvent SegmentWriter::close_current() {
  ::close(fd_);
  fd_ = -1;
  WriterEvent e{WriterEvent::Kind::closed, index_, seg_ref_start_.value_or(seg_start_), seg_ref_end_};
  if (e.end_ns < e.start_ns) e.end_ns = e.start_ns;
  ++index_;
  seg_ref_start_.reset();
  return e;
}

Result<std::vector<WriterEvent>> SegmentWriter::fragment(const std::string& bytes,
                                                         const std::vector<Fmp4Fragment>& frags) {
  std::vector<WriterEvent> events;
  const Fmp4Fragment* ref = nullptr;
  std::int64_t start = 0;
  bool have_start = false;
  for (const auto& f : frags) {
    if (ref_track_ && f.track_id == *ref_track_) ref = &f;
    if (!have_start || f.start_ns < start) start = f.start_ns;
    have_start = true;
  }
  if (have_start && (!first_media_ || start < *first_media_)) first_media_ = start;

  if (fd_ >= 0 && ref != nullptr && ref->starts_with_sync && seg_ref_start_ &&
      ref->start_ns - *seg_ref_start_ >= segment_ns_ - kCutToleranceNs) {
    events.push_back(close_current());
  }
  if (fd_ < 0) {
    const auto path = dir_ / Spool::temp_name(index_);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) return Error{"cannot create " + path.string() + ": " + std::strerror(errno)};
    seg_start_ = ref != nullptr ? ref->start_ns : start;
    seg_ref_end_ = seg_start_;
    if (auto st = write(init_); !st) return st.error();
    events.push_back({WriterEvent::Kind::opened, index_, seg_start_, 0});
  }
  if (auto st = write(bytes); !st) return st.error();
  if (ref != nullptr) {
    if (!seg_ref_start_) seg_ref_start_ = ref->start_ns;
    seg_ref_end_ = std::max(seg_ref_end_, ref->end_ns);
  }
  return events;
}

Result<std::vector<WriterEvent>> SegmentWriter::feed(std::string_view bytes) {
  std::vector<WriterEvent> events;
  stream_.feed(bytes);
  while (auto box = stream_.next()) {
    auto& [type, data] = *box;
    if (type == "ftyp" && tracks_.empty()) {
      init_ = data;
    } else if (type == "moov" && tracks_.empty()) {
      init_ += data;
      tracks_ = parse_moov(data);
      for (const auto& [id, t] : tracks_) {
        if (!ref_track_ || (t.video && !tracks_.at(*ref_track_).video)) ref_track_ = id;
      }
    } else if (type == "moof") {
      pending_moof_ = std::move(data);
      pending_frags_ = parse_moof(pending_moof_, tracks_);
    } else if (type == "mdat" && !pending_moof_.empty()) {
      auto r = fragment(pending_moof_ + data, pending_frags_);
      pending_moof_.clear();
      if (!r) return r.error();
      events.insert(events.end(), r->begin(), r->end());
    } else if (fd_ >= 0) {
      if (auto st = write(data); !st) return st.error();  // anything else after the header goes along as it is
    }
  }
  return events;
}

std::optional<WriterEvent> SegmentWriter::finish() {
  if (fd_ < 0) return std::nullopt;
  return close_current();
}

}  // namespace classcam::spool
