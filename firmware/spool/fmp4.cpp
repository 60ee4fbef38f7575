#include "firmware/spool/fmp4.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

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

std::int64_t to_ns(std::uint64_t v, std::uint32_t timescale) {
  if (timescale == 0) return 0;
  return static_cast<std::int64_t>(v / timescale * 1'000'000'000ULL + (v % timescale) * 1'000'000'000ULL / timescale);
}

Fmp4Fragment parse_traf(Cursor& traf, const Fmp4Tracks& tracks, bool& ok) {
  Fmp4Fragment f;
  ok = false;
  const Fmp4Track* t = nullptr;
  std::uint32_t default_duration = 0;
  std::uint32_t default_flags = 0;
  std::optional<std::uint64_t> base;
  std::uint64_t total = 0;
  for_each_child(traf.data(), traf.size(), [&](const BoxHeader& b, Cursor& c) {
    if (b.type == "tfhd") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      f.track_id = static_cast<std::uint32_t>(c.read(4).value_or(0));
      const auto it = tracks.find(f.track_id);
      if (it == tracks.end()) return;
      t = &it->second;
      default_duration = t->default_duration;
      if (flags & 0x01) c.skip(8);
      if (flags & 0x02) c.skip(4);
      if (flags & 0x08) default_duration = static_cast<std::uint32_t>(c.read(4).value_or(default_duration));
      if (flags & 0x10) c.skip(4);
      if (flags & 0x20) default_flags = static_cast<std::uint32_t>(c.read(4).value_or(0));
    } else if (b.type == "tfdt") {
      const auto vf = c.read(4).value_or(0);
      base = c.read((vf >> 24) == 1 ? 8 : 4);
    } else if (b.type == "trun") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      const auto count = c.read(4).value_or(0);
      if (flags & 0x01) c.skip(4);
      std::optional<std::uint32_t> first_flags;
      if (flags & 0x04) first_flags = static_cast<std::uint32_t>(c.read(4).value_or(0));
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t d = default_duration;
        if (flags & 0x100) {
          const auto v = c.read(4);
          if (!v) break;
          d = *v;
        }
        if (flags & 0x200) c.skip(4);
        if (flags & 0x400) {
          const auto sf = static_cast<std::uint32_t>(c.read(4).value_or(0));
          if (i == 0 && !first_flags) first_flags = sf;
        }
        if (flags & 0x800) c.skip(4);
        total += d;
      }
      // sample_is_non_sync_sample is bit 16 of the sample flags.
      f.starts_with_sync = ((first_flags.value_or(default_flags) >> 16) & 1U) == 0;
    }
  });
  if (t == nullptr || !base) return f;
  f.video = t->video;
  f.start_ns = to_ns(*base, t->timescale);
  f.end_ns = to_ns(*base + total, t->timescale);
  ok = true;
  return f;
}

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
      if (auto it = tracks.find(id); it != tracks.end()) it->second.default_duration = dur;
    });
  });
  return tracks;
}

std::vector<Fmp4Fragment> parse_moof(std::string_view moof, const Fmp4Tracks& tracks) {
  std::vector<Fmp4Fragment> out;
  const auto h = box_header(bytes_of(moof), moof.size());
  if (!h || h->type != "moof" || h->size > moof.size()) return out;
  for_each_child(bytes_of(moof) + h->header, h->size - h->header, [&](const BoxHeader& b, Cursor& c) {
    if (b.type != "traf") return;
    bool ok = false;
    auto f = parse_traf(c, tracks, ok);
    if (ok) out.push_back(f);
  });
  return out;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string() + ": " + std::strerror(errno)};
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{"error reading " + path.string()};
  if (bytes.empty()) return Error{path.string() + " is empty"};

  Fmp4Scan scan;
  scan.file_size = bytes.size();
  Fmp4Tracks tracks;
  std::map<std::uint32_t, std::pair<std::int64_t, std::int64_t>> span;  // track -> first start, last end
  std::vector<Fmp4Fragment> pending;  // from a moof whose mdat is not yet known to be complete
  bool have_pending = false;
  std::size_t at = 0;
  bool first = true;
  const auto* p = bytes_of(bytes);
  while (bytes.size() - at >= 8) {
    auto b = box_header(p + at, bytes.size() - at);
    if (!b) break;
    if (first && b->type != "ftyp") return Error{path.string() + " is not an MP4 file (no ftyp box first)"};
    first = false;
    if (b->size > bytes.size() - at) break;  // a torn box: the tail
    const std::string_view box(bytes.data() + at, static_cast<std::size_t>(b->size));
    if (b->type == "moov") {
      tracks = parse_moov(box);
      scan.has_moov = true;
      scan.complete_size = at + b->size;
    } else if (b->type == "moof" && scan.has_moov) {
      pending = parse_moof(box, tracks);
      have_pending = true;
    } else if (b->type == "mdat" && have_pending) {
      for (const auto& f : pending) {
        auto it = span.find(f.track_id);
        if (it == span.end()) {
          span[f.track_id] = {f.start_ns, f.end_ns};
        } else {
          it->second.second = std::max(it->second.second, f.end_ns);
        }
      }
      have_pending = false;
      ++scan.complete_fragments;
      scan.complete_size = at + b->size;
    } else if (!have_pending && scan.has_moov) {
      scan.complete_size = at + b->size;  // mfra and the like after the last fragment
    }
    at += static_cast<std::size_t>(b->size);
  }

  // Reference track: the video track if any, else the lowest track id with media.
  std::optional<std::uint32_t> ref;
  for (const auto& [id, s] : span) {
    const bool video = tracks.at(id).video;
    if (video) scan.has_video = true;
    if (!ref || (video && !tracks.at(*ref).video)) ref = id;
  }
  if (ref) {
    scan.start_ns = span[*ref].first;
    scan.end_ns = span[*ref].second;
  }
  return scan;
}

}  // namespace classcam::spool
