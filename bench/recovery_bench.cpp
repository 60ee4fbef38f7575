// Recovery of a spool that a crash on a failing card left behind (bench/recovery.sh measures its time
// and peak memory with /usr/bin/time -v):
//   bench_recovery prepare DIR [BIG_GIB] [CORRUPT]
//     session 1: one open segment of BIG_GIB GiB (a real recording whose last mdat is made that big,
//                sparse, so the disk holds little of it);
//     session 2: CORRUPT open segments, each a real recording with one trun corrupted (no per-sample
//                fields and a sample_count of 4 billion);
//   bench_recovery recover DIR
//     opens and recovers the spool as classcamd does before READY, and prints what it did.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "common/util/uuid.hpp"
#include "firmware/spool/spool.hpp"
#include "tests/support/mp4.hpp"

using namespace classcam;
namespace fs = std::filesystem;

namespace {

config::UnitConfig::Spool spool_config(const fs::path& dir) {
  config::UnitConfig::Spool c;
  c.dir = dir / "spool";
  c.max_percent = 99;
  return c;
}

std::string begin(spool::Spool& sp) {
  protocol::SessionInfo s;
  s.session_id = util::uuid_v4();
  s.unit_id = "room-12";
  s.trigger = protocol::Trigger::local;
  s.started_at = util::now_utc();
  s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 160, 120, 30, 300};
  if (!sp.begin_session(s)) throw std::runtime_error("begin_session failed");
  return s.session_id;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

int prepare(const fs::path& dir, std::uint64_t big_gib, int corrupt) {
  fs::create_directories(dir);
  const std::string good = test::record_fmp4(dir / "recorded.mp4", 2);
  spool::Spool sp(spool_config(dir));
  if (!sp.open()) throw std::runtime_error("cannot open the spool");

  if (big_gib > 0) {
    const auto id = begin(sp);
    const auto mdat = test::top_boxes_of(good, "mdat").back();
    const std::uint64_t big = big_gib << 30;
    std::string head = good.substr(0, mdat.at + mdat.size);
    test::put32(head, mdat.at, 1);  // a 64-bit size after the type
    std::string large(8, '\0');
    std::uint64_t size = mdat.size + 8 + big;
    for (std::size_t i = 8; i-- > 0;) {
      large[i] = static_cast<char>(size & 0xff);
      size >>= 8;
    }
    head.insert(mdat.at + 8, large);
    const auto part = sp.session_dir(id) / spool::Spool::temp_name(0);
    write(part, head);
    fs::resize_file(part, head.size() + big);
    std::cout << "session " << id << ": " << part.filename().string() << " of " << fs::file_size(part) << " bytes\n";
  }
  if (corrupt > 0) {
    const auto id = begin(sp);
    for (int i = 0; i < corrupt; ++i) {
      std::string b = good;
      test::corrupt_trun_count(b, 2);
      write(sp.session_dir(id) / spool::Spool::temp_name(static_cast<std::uint32_t>(i)), b);
    }
    std::cout << "session " << id << ": " << corrupt << " segments with a corrupt trun\n";
  }
  return 0;
}

int recover(const fs::path& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  spool::Spool sp(spool_config(dir));
  if (auto st = sp.open(); !st) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  const auto recovered = sp.recover();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& r : recovered) {
    std::int64_t ns = 0;
    for (const auto& e : r.recovered) ns += e.duration_ns;
    std::cout << "session " << r.session_id << ": " << r.recovered.size() << " segments recovered, "
              << static_cast<double>(ns) / 1e9 << " s of media\n";
  }
  std::printf("recovery took %.2f s\n", s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 2 ? argv[1] : "";
    if (cmd == "prepare") {
      return prepare(argv[2], argc > 3 ? std::stoull(argv[3]) : 4, argc > 4 ? std::stoi(argv[4]) : 10);
    }
    if (cmd == "recover") return recover(argv[2]);
    std::cerr << "usage: bench_recovery prepare DIR [BIG_GIB] [CORRUPT] | recover DIR\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_recovery: " << e.what() << "\n";
    return 1;
  }
}
