#include "firmware/spool/fmp4.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace classcam::spool {

namespace {

// Big-endian reads from a byte range that refuse to run past its end.
class Cursor {
 public:
  Cursor(const unsigned char* p, std::size_t n) : p_(p), n_(n) {}
  bool has(std::size_t k) const { return n_ - at_ >= k; }
  std::uint64_t be(std::size_t k) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < k; ++i) v = (v << 8) | p_[at_ + i];
    at_ += k;
    return v;
  }
  std::optional<std::uint64_t> read(std::size_t k) {
    if (!has(k)) return std::nullopt;
    return be(k);
  }
  bool skip(std::size_t k) {
    if (!has(k)) return false;
    at_ += k;
    return true;
  }
  std::size_t pos() const { return at_; }
  std::size_t size() const { return n_; }
  const unsigned char* data() const { return p_; }

 private:
  const unsigned char* p_;
  std::size_t n_;
  std::size_t at_ = 0;
};

struct Box {
  std::string type;
  std::size_t header = 0;  // bytes of size+type (+largesize)
  std::uint64_t size = 0;  // whole box
};

// Reads a box header at the cursor; nullopt when the bytes run out.
std::optional<Box> read_box(Cursor& c, std::uint64_t remaining) {
  auto size = c.read(4);
  if (!size || !c.has(4)) return std::nullopt;
  Box b;
  b.type.assign(reinterpret_cast<const char*>(c.data() + c.pos()), 4);
  c.skip(4);
  b.header = 8;
  b.size = *size;
  if (*size == 1) {
    auto large = c.read(8);
    if (!large) return std::nullopt;
    b.size = *large;
    b.header = 16;
  } else if (*size == 0) {
    b.size = remaining;
  }
  if (b.size < b.header) return std::nullopt;
  return b;
}

// Calls fn(box, payload cursor) for each child box inside [p, p+n).
template <typename F>
void for_each_child(const unsigned char* p, std::size_t n, F&& fn) {
  Cursor c(p, n);
  while (c.has(8)) {
    const std::size_t start = c.pos();
    auto b = read_box(c, n - start);
    if (!b || b->size > n - start) return;
    Cursor payload(p + start + b->header, b->size - b->header);
    fn(*b, payload);
    c = Cursor(p, n);
    c.skip(start + b->size);
  }
}

struct Track {
  std::uint32_t timescale = 0;
  bool video = false;
  std::uint32_t default_duration = 0;  // from trex
  std::optional<std::uint64_t> first_time;
  std::uint64_t end_time = 0;
};

using Tracks = std::map<std::uint32_t, Track>;

void parse_trak(Cursor& trak, Tracks& tracks) {
  std::uint32_t id = 0;
  Track t;
  for_each_child(trak.data(), trak.size(), [&](const Box& b, Cursor& c) {
    if (b.type == "tkhd") {
      const auto vf = c.read(4).value_or(0);
      c.skip((vf >> 24) == 1 ? 16 : 8);
      id = static_cast<std::uint32_t>(c.read(4).value_or(0));
    } else if (b.type == "mdia") {
      for_each_child(c.data(), c.size(), [&](const Box& mb, Cursor& mc) {
        if (mb.type == "mdhd") {
          const auto vf = mc.read(4).value_or(0);
          mc.skip((vf >> 24) == 1 ? 16 : 8);
          t.timescale = static_cast<std::uint32_t>(mc.read(4).value_or(0));
        } else if (mb.type == "hdlr") {
          mc.skip(8);
          if (mc.has(4)) t.video = std::string_view(reinterpret_cast<const char*>(mc.data() + mc.pos()), 4) == "vide";
        }
      });
    }
  });
  if (id != 0) tracks[id] = t;
}

void parse_moov(Cursor& moov, Tracks& tracks) {
  for_each_child(moov.data(), moov.size(), [&](const Box& b, Cursor& c) {
    if (b.type == "trak") parse_trak(c, tracks);
  });
  for_each_child(moov.data(), moov.size(), [&](const Box& b, Cursor& c) {
    if (b.type != "mvex") return;
    for_each_child(c.data(), c.size(), [&](const Box& xb, Cursor& xc) {
      if (xb.type != "trex") return;
      xc.skip(4);
      const auto id = static_cast<std::uint32_t>(xc.read(4).value_or(0));
      xc.skip(4);
      const auto dur = static_cast<std::uint32_t>(xc.read(4).value_or(0));
      if (auto it = tracks.find(id); it != tracks.end()) it->second.default_duration = dur;
    });
  });
}

void parse_traf(Cursor& traf, Tracks& tracks) {
  Track* t = nullptr;
  std::uint32_t default_duration = 0;
  std::optional<std::uint64_t> base_time;
  std::uint64_t total = 0;
  for_each_child(traf.data(), traf.size(), [&](const Box& b, Cursor& c) {
    if (b.type == "tfhd") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      const auto id = static_cast<std::uint32_t>(c.read(4).value_or(0));
      auto it = tracks.find(id);
      if (it == tracks.end()) return;
      t = &it->second;
      default_duration = t->default_duration;
      if (flags & 0x01) c.skip(8);
      if (flags & 0x02) c.skip(4);
      if (flags & 0x08) default_duration = static_cast<std::uint32_t>(c.read(4).value_or(default_duration));
    } else if (b.type == "tfdt") {
      const auto vf = c.read(4).value_or(0);
      base_time = c.read((vf >> 24) == 1 ? 8 : 4);
    } else if (b.type == "trun") {
      const auto flags = static_cast<std::uint32_t>(c.read(4).value_or(0) & 0xffffff);
      const auto count = c.read(4).value_or(0);
      if (flags & 0x01) c.skip(4);
      if (flags & 0x04) c.skip(4);
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t d = default_duration;
        if (flags & 0x100) {
          auto v = c.read(4);
          if (!v) break;
          d = *v;
        }
        if (flags & 0x200) c.skip(4);
        if (flags & 0x400) c.skip(4);
        if (flags & 0x800) c.skip(4);
        total += d;
      }
    }
  });
  if (t == nullptr || !base_time) return;
  if (!t->first_time) t->first_time = *base_time;
  t->end_time = std::max(t->end_time, *base_time + total);
}

}  // namespace

Result<Fmp4Scan> scan_fmp4(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string() + ": " + std::strerror(errno)};
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{"error reading " + path.string()};
  if (bytes.empty()) return Error{path.string() + " is empty"};

  Fmp4Scan scan;
  scan.file_size = bytes.size();
  Tracks committed;               // timing of complete fragments only
  std::optional<Tracks> pending;  // after a moof, until its mdat is known to be complete
  std::size_t at = 0;
  bool first = true;
  while (bytes.size() - at >= 8) {
    Cursor c(bytes.data() + at, bytes.size() - at);
    auto b = read_box(c, bytes.size() - at);
    if (!b) break;
    if (first && b->type != "ftyp") return Error{path.string() + " is not an MP4 file (no ftyp box first)"};
    first = false;
    if (b->size > bytes.size() - at) break;  // a torn box: the tail
    Cursor payload(bytes.data() + at + b->header, b->size - b->header);
    if (b->type == "moov") {
      parse_moov(payload, committed);
      scan.has_moov = true;
      scan.complete_size = at + b->size;
    } else if (b->type == "moof" && scan.has_moov) {
      pending = committed;
      for_each_child(payload.data(), payload.size(), [&](const Box& tb, Cursor& tc) {
        if (tb.type == "traf") parse_traf(tc, *pending);
      });
    } else if (b->type == "mdat" && pending) {
      committed = std::move(*pending);
      pending.reset();
      ++scan.complete_fragments;
      scan.complete_size = at + b->size;
    } else if (!pending && scan.has_moov) {
      scan.complete_size = at + b->size;  // mfra and the like after the last fragment
    }
    at += b->size;
  }

  // Reference track: the video track if any, else the lowest track id.
  const Track* ref = nullptr;
  for (const auto& [id, t] : committed) {
    if (t.video) {
      scan.has_video = true;
      if (ref == nullptr || !ref->video) ref = &t;
    } else if (ref == nullptr) {
      ref = &t;
    }
  }
  if (ref != nullptr && ref->first_time && ref->timescale > 0) {
    auto to_ns = [&](std::uint64_t v) {
      return static_cast<std::int64_t>(v / ref->timescale * 1'000'000'000ULL +
                                       (v % ref->timescale) * 1'000'000'000ULL / ref->timescale);
    };
    scan.start_ns = to_ns(*ref->first_time);
    scan.end_ns = to_ns(ref->end_time);
  }
  return scan;
}

}  // namespace classcam::spool
