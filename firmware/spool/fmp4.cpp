#include "firmware/spool/fmp4.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace classcam::spool {

namespace {

// Big-endian reads from a byte range that never run past its end (a short read yields nullopt).
class Cursor {
 public:
  Cursor(const unsigned char* p, std::size_t n) : p_(p), n_(n) {}
  bool has(std::size_t k) const { return n_ - at_ >= k; }
  std::optional<std::uint64_t> read(std::size_t k) {
    if (!has(k)) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < k; ++i) v = (v << 8) | p_[at_ + i];
    at_ += k;
    return v;
  }
  void skip(std::size_t k) { at_ = std::min(n_, at_ + k); }
  std::size_t pos() const { return at_; }
  std::size_t size() const { return n_; }
  const unsigned char* data() const { return p_; }

 private:
  const unsigned char* p_;
  std::size_t n_;
  std::size_t at_ = 0;
};

struct BoxHeader {
  std::string type;
  std::size_t header = 0;  // bytes of size + type (+ largesize)
  std::uint64_t size = 0;  // whole box
};

// The header of the box starting at p (n bytes available); nullopt when it is incomplete or invalid.
std::optional<BoxHeader> box_header(const unsigned char* p, std::size_t n) {
  Cursor c(p, n);
  const auto size = c.read(4);
  if (!size || !c.has(4)) return std::nullopt;
  BoxHeader b;
  b.type.assign(reinterpret_cast<const char*>(p + 4), 4);
  c.skip(4);
  b.header = 8;
  b.size = *size;
  if (*size == 1) {
    const auto large = c.read(8);
    if (!large) return std::nullopt;
    b.size = *large;
    b.header = 16;
  } else if (*size == 0) {
    b.size = n;  // to the end of what there is
  }
  if (b.size < b.header) return std::nullopt;
  return b;
}

// Calls fn(header, payload) for each complete child box inside [p, p+n).
template <typename F>
void for_each_child(const unsigned char* p, std::size_t n, F&& fn) {
  std::size_t at = 0;
  while (n - at >= 8) {
    const auto b = box_header(p + at, n - at);
    if (!b || b->size > n - at) return;
    Cursor payload(p + at + b->header, b->size - b->header);
    fn(*b, payload);
    at += b->size;
  }
}

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

void parse_trak(Cursor& trak, Fmp4Tracks& tracks) {
  std::uint32_t id = 0;
  Fmp4Track t;
  for_each_child(trak.data(), trak.size(), [&](const BoxHeader& b, Cursor& c) {
    if (b.type == "tkhd") {
      const auto vf = c.read(4).value_or(0);
      c.skip((vf >> 24) == 1 ? 16 : 8);
      id = static_cast<std::uint32_t>(c.read(4).value_or(0));
    } else if (b.type == "mdia") {
      for_each_child(c.data(), c.size(), [&](const BoxHeader& mb, Cursor& mc) {
        if (mb.type == "mdhd") {
          const auto vf = mc.read(4).value_or(0);
          mc.skip((vf >> 24) == 1 ? 16 : 8);
          t.timescale = static_cast<std::uint32_t>(mc.read(4).value_or(0));
        } else if (mb.type == "hdlr") {
          mc.skip(8);
          if (mc.has(4)) t.video = std::memcmp(mc.data() + mc.pos(), "vide", 4) == 0;
        }
      });
    }
  });
  if (id != 0) tracks[id] = t;
}

// Saturates instead of overflowing: a corrupt decode time must come out absurd, never negative.
std::int64_t to_ns(std::uint64_t v, std::uint32_t timescale) {
  if (timescale == 0) return 0;
  constexpr std::uint64_t kMaxSeconds = static_cast<std::uint64_t>(INT64_MAX / 1'000'000'000) - 1;
  if (v / timescale > kMaxSeconds) return INT64_MAX;
  return static_cast<std::int64_t>(v / timescale * 1'000'000'000ULL + (v % timescale) * 1'000'000'000ULL / timescale);
}

// Bytes each sample takes in a trun with these flags: duration, size, flags, composition offset.
std::uint64_t per_sample_bytes(std::uint32_t flags) {
  std::uint64_t n = 0;
  for (const std::uint32_t bit : {0x100U, 0x200U, 0x400U, 0x800U}) n += (flags & bit) != 0 ? 4 : 0;
  return n;
}

Fmp4Fragment parse_traf(Cursor& traf, const Fmp4Tracks& tracks, bool& ok, std::string& problem) {
  Fmp4Fragment f;
  ok = false;
  const Fmp4Track* t = nullptr;
  std::uint32_t default_duration = 0;
  std::uint32_t default_size = 0;
  std::uint32_t default_flags = 0;
  std::optional<std::uint64_t> base;
  std::uint64_t total = 0;
  bool first_run = true;
  for_each_child(traf.data(), traf.size(), [&](const BoxHeader& b, Cursor& c) {
    if (!problem.empty()) return;
    if (b.type == "tfhd") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      f.track_id = static_cast<std::uint32_t>(c.read(4).value_or(0));
      const auto it = tracks.find(f.track_id);
      if (it == tracks.end()) return;
      t = &it->second;
      default_duration = t->default_duration;
      default_size = t->default_size;
      if (flags & 0x01) c.skip(8);
      if (flags & 0x02) c.skip(4);
      if (flags & 0x08) default_duration = static_cast<std::uint32_t>(c.read(4).value_or(default_duration));
      if (flags & 0x10) default_size = static_cast<std::uint32_t>(c.read(4).value_or(default_size));
      if (flags & 0x20) default_flags = static_cast<std::uint32_t>(c.read(4).value_or(0));
    } else if (b.type == "tfdt") {
      const auto vf = c.read(4).value_or(0);
      base = c.read((vf >> 24) == 1 ? 8 : 4);
    } else if (b.type == "trun") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      const auto count = c.read(4);
      const std::size_t fixed = ((flags & 0x01) != 0 ? 4 : 0) + ((flags & 0x04) != 0 ? 4 : 0);
      if (!count || !c.has(fixed)) {
        problem = fmt::format("a trun of track {} is shorter than its header", f.track_id);
        return;
      }
      // The samples' fields must fit in what is left of the box: the count cannot run past it.
      const std::uint64_t each = per_sample_bytes(flags);
      const std::uint64_t room = c.size() - c.pos() - fixed;
      if (each > 0 && *count > room / each) {
        problem = fmt::format("a trun of track {} has sample_count {}, which needs {} bytes; the box holds {}",
                              f.track_id, *count, *count * each, room);
        return;
      }
      if (flags & 0x01) c.skip(4);
      std::optional<std::uint32_t> first_flags;
      if (flags & 0x04) first_flags = static_cast<std::uint32_t>(c.read(4).value_or(0));
      if (each == 0) {
        // Every sample takes the defaults: no loop, whatever the count (both factors are 32-bit).
        total += *count * default_duration;
        f.data_bytes += *count * default_size;
      }
      for (std::uint64_t i = 0; each > 0 && i < *count; ++i) {
        std::uint64_t d = default_duration;
        std::uint64_t size = default_size;
        if (flags & 0x100) d = c.read(4).value_or(0);
        if (flags & 0x200) size = c.read(4).value_or(0);
        if (flags & 0x400) {
          const auto sf = static_cast<std::uint32_t>(c.read(4).value_or(0));
          if (i == 0 && !first_flags) first_flags = sf;
        }
        if (flags & 0x800) c.skip(4);
        total += d;
        f.data_bytes += size;
      }
      // sample_is_non_sync_sample is bit 16 of the sample flags; the fragment starts with its first run.
      if (first_run) f.starts_with_sync = ((first_flags.value_or(default_flags) >> 16) & 1U) == 0;
      first_run = false;
    }
  });
  if (!problem.empty() || t == nullptr || !base) return f;
  f.video = t->video;
  f.start_ns = to_ns(*base, t->timescale);
  f.end_ns = to_ns(*base + std::min(total, UINT64_MAX - *base), t->timescale);
  if (f.end_ns - f.start_ns > kMaxSegmentNs) {
    problem =
        fmt::format("a fragment of track {} would last {} s", f.track_id, (f.end_ns - f.start_ns) / 1'000'000'000);
    return f;
  }
  ok = true;
  return f;
}

bool printable_type(std::string_view type) {
  return std::all_of(type.begin(), type.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Reads from a file with pread: no stream state, errors as values naming the file.
class File {
 public:
  explicit File(const std::filesystem::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Exactly n bytes at `offset` into `out`.
  Status read(std::uint64_t offset, std::size_t n, std::string& out) const {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Error{"cannot read " + path_.string() + ": " + std::strerror(errno)};
      if (r == 0) return Error{"cannot read " + path_.string() + ": it became shorter while being read"};
      got += static_cast<std::size_t>(r);
    }
    return ok_status();
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

}  // namespace

Fmp4Tracks parse_moov(std::string_view moov) {
  Fmp4Tracks tracks;
  const auto h = box_header(bytes_of(moov), moov.size());
  if (!h || h->type != "moov" || h->size > moov.size()) return tracks;
  const unsigned char* p = bytes_of(moov) + h->header;
  const std::size_t n = h->size - h->header;
  for_each_child(p, n, [&](const BoxHeader& b, Cursor& c) {
    if (b.type == "trak") parse_trak(c, tracks);
  });
  for_each_child(p, n, [&](const BoxHeader& b, Cursor& c) {
    if (b.type != "mvex") return;
    for_each_child(c.data(), c.size(), [&](const BoxHeader& xb, Cursor& xc) {
      if (xb.type != "trex") return;
      xc.skip(4);
      const auto id = static_cast<std::uint32_t>(xc.read(4).value_or(0));
      xc.skip(4);
      const auto dur = static_cast<std::uint32_t>(xc.read(4).value_or(0));
      const auto size = static_cast<std::uint32_t>(xc.read(4).value_or(0));
      if (auto it = tracks.find(id); it != tracks.end()) {
        it->second.default_duration = dur;
        it->second.default_size = size;
      }
    });
  });
  return tracks;
}

Fmp4Moof read_moof(std::string_view moof, const Fmp4Tracks& tracks) {
  Fmp4Moof out;
  const auto h = box_header(bytes_of(moof), moof.size());
  if (!h || h->type != "moof" || h->size > moof.size()) {
    out.problem = "not a whole moof box";
    return out;
  }
  for_each_child(bytes_of(moof) + h->header, h->size - h->header, [&](const BoxHeader& b, Cursor& c) {
    if (b.type != "traf" || !out.problem.empty()) return;
    bool ok = false;
    auto f = parse_traf(c, tracks, ok, out.problem);
    if (ok) out.fragments.push_back(f);
  });
  if (!out.problem.empty()) out.fragments.clear();
  return out;
}

std::vector<Fmp4Fragment> parse_moof(std::string_view moof, const Fmp4Tracks& tracks) {
  return read_moof(moof, tracks).fragments;
}

std::optional<std::pair<std::string, std::string>> Fmp4BoxStream::next() {
  // A size-0 box means "to the end of the file", which never completes in a stream (mp4mux does not
  // write one when streaming).
  if (buffer_.size() < 8 || std::all_of(buffer_.begin(), buffer_.begin() + 4, [](char c) { return c == 0; })) {
    return std::nullopt;
  }
  const auto h = box_header(bytes_of(buffer_), buffer_.size());
  if (!h || h->size > buffer_.size()) return std::nullopt;
  std::pair<std::string, std::string> out{h->type, buffer_.substr(0, static_cast<std::size_t>(h->size))};
  buffer_.erase(0, static_cast<std::size_t>(h->size));
  return out;
}

Result<Fmp4Scan> scan_fmp4(const std::filesystem::path& path) {
  const File file(path);
  if (!file.is_open()) return Error{"cannot open " + path.string() + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0) return Error{"cannot stat " + path.string() + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path.string() + " is not a regular file"};
  if (st.st_size == 0) return Error{path.string() + " is empty"};

  Fmp4Scan scan;
  scan.file_size = static_cast<std::uint64_t>(st.st_size);
  Fmp4Tracks tracks;
  struct Span {
    std::int64_t first = 0;
    std::int64_t last = 0;
  };
  std::map<std::uint32_t, Span> span;  // track -> first start, last end
  std::vector<Fmp4Fragment> pending;   // from a moof whose mdat is not yet known to be complete
  bool have_pending = false;
  std::uint64_t pending_at = 0;
  std::uint64_t at = 0;
  std::string buf;
  auto stop = [&](std::string why) { scan.problem = fmt::format("at byte {}: {}", at, why); };

  while (scan.file_size - at >= 8) {
    const auto left = scan.file_size - at;
    if (auto r = file.read(at, static_cast<std::size_t>(std::min<std::uint64_t>(16, left)), buf); !r) return r.error();
    auto b = box_header(bytes_of(buf), buf.size());
    if (!b) break;  // a torn header (a largesize cut short) or a size smaller than a header
    if (at == 0 && b->type != "ftyp") return Error{path.string() + " is not an MP4 file (no ftyp box first)"};
    if (!printable_type(b->type)) {
      stop("not a box (its type is not a four-character code)");
      break;
    }
    const bool to_end = buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0;
    if (to_end) b->size = left;  // size 0: the box runs to the end of the file
    if (b->size > left) break;   // a torn box: the tail
    if (b->type == "moov") {
      if (scan.has_moov) {
        stop("a second moov box (a segment has one header)");
        break;
      }
      if (b->size > kMaxHeaderBoxBytes) {
        stop(fmt::format("a moov box of {} bytes", b->size));
        break;
      }
      if (auto r = file.read(at, static_cast<std::size_t>(b->size), buf); !r) return r.error();
      tracks = parse_moov(buf);
      scan.has_moov = true;
      scan.complete_size = at + b->size;
    } else if (b->type == "moof" && scan.has_moov) {
      if (have_pending) {
        stop("a moof box where its predecessor's mdat should be");
        break;
      }
      if (b->size > kMaxHeaderBoxBytes) {
        stop(fmt::format("a moof box of {} bytes", b->size));
        break;
      }
      if (auto r = file.read(at, static_cast<std::size_t>(b->size), buf); !r) return r.error();
      auto moof = read_moof(buf, tracks);
      if (moof.problem.empty()) {
        // A track's fragments follow one another; no segment is ever an hour long.
        for (const auto& f : moof.fragments) {
          const auto it = span.find(f.track_id);
          if (it == span.end()) continue;
          if (f.start_ns < it->second.last - 1'000'000'000 || f.end_ns - it->second.first > kMaxSegmentNs) {
            moof.problem = fmt::format("track {} jumps from {} ms to {} ms", f.track_id, it->second.last / 1'000'000,
                                       f.start_ns / 1'000'000);
            break;
          }
        }
      }
      if (!moof.problem.empty()) {
        stop(moof.problem);
        break;
      }
      pending = std::move(moof.fragments);
      have_pending = true;
      pending_at = at;
    } else if (b->type == "mdat" && have_pending) {
      std::uint64_t bytes = 0;
      for (const auto& f : pending) bytes += f.data_bytes;
      if (bytes > b->size - b->header) {
        at = pending_at;
        stop(fmt::format("its samples need {} bytes; the mdat after it holds {}", bytes, b->size - b->header));
        break;
      }
      for (const auto& f : pending) {
        auto [it, fresh] = span.try_emplace(f.track_id, Span{f.start_ns, f.end_ns});
        if (!fresh) it->second.last = std::max(it->second.last, f.end_ns);
      }
      have_pending = false;
      ++scan.complete_fragments;
      scan.complete_size = at + b->size;
    } else if (!have_pending && scan.has_moov) {
      scan.complete_size = at + b->size;  // mfra and the like after the last fragment
    }
    at += b->size;
  }

  // Reference track: the video track if any, else the lowest track id with media.
  auto is_video = [&](std::uint32_t id) {
    const auto it = tracks.find(id);
    return it != tracks.end() && it->second.video;
  };
  std::optional<std::uint32_t> ref;
  for (const auto& [id, s] : span) {
    const bool video = is_video(id);
    if (video) scan.has_video = true;
    if (!ref || (video && !is_video(*ref))) ref = id;
  }
  if (ref) {
    scan.start_ns = span[*ref].first;
    scan.end_ns = span[*ref].last;
  }
  return scan;
}

}  // namespace classcam::spool
