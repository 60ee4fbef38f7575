// Uploader benchmark (bench/upload.sh runs it): the unit's uploader against `curl` sending the same
// bytes over the same TLS link to the same hub (an in-process hub with real TLS, tus and SQLite), in
// the same run, alternating; then the bytes the uploader re-sends per network cut (a TCP proxy that
// drops each connection after a set number of bytes).
//
//   bench_upload [--segments N] [--segment-mb M] [--runs R] [--cut-mb C]
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "firmware/uploader/uploader.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUnit = "bench-unit";

struct Args {
  int segments = 12;
  int segment_mb = 4;
  int runs = 3;
  int cut_mb = 10;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A spool holding one ended session of copies of `files`.
struct UnitSpool {
  UnitSpool(const std::filesystem::path& dir, const std::vector<std::string>& contents) {
    config::UnitConfig::Spool c;
    c.dir = dir / "spool";
    c.max_percent = 99;
    spool::Spool sp(c);
    if (!sp.open()) throw std::runtime_error("spool");
    info.session_id = util::uuid_v4();
    info.unit_id = kUnit;
    info.started_at = util::now_utc();
    info.video = protocol::VideoFormat{protocol::VideoCodec::h264, 1920, 1080, 30, 4000};
    if (!sp.begin_session(info)) throw std::runtime_error("session");
    for (std::uint32_t i = 0; i < contents.size(); ++i) {
      test::write_file(sp.session_dir(info.session_id) / spool::Spool::temp_name(i), contents[i]);
      if (!sp.close_segment(info.session_id, i, 2'000'000'000LL * i, 2'000'000'000, info.started_at)) {
        throw std::runtime_error("segment");
      }
    }
    if (!sp.end_session(info.session_id, util::now_utc(), "stopped")) throw std::runtime_error("end");
    service = std::make_unique<spool::SpoolService>(io, pool, std::move(sp));
  }
  ~UnitSpool() { pool.join(); }
  boost::asio::io_context io;
  boost::asio::thread_pool pool{1};
  protocol::SessionInfo info;
  std::unique_ptr<spool::SpoolService> service;
};

uploader::Settings settings(std::uint16_t port, const hub::testkit::TestHub& hub, const std::string& token,
                            const std::filesystem::path& state, std::uint32_t chunk) {
  uploader::Settings s;
  s.hub = *net::parse_url("https://127.0.0.1:" + std::to_string(port));
  s.ca_file = hub.ca_file();
  s.token = token;
  s.unit_id = kUnit;
  s.state_dir = state;
  s.upload.chunk_bytes = chunk;
  s.upload.retry_min_s = 0;
  s.upload.retry_max_s = 1;
  return s;
}

struct UploaderRun {
  double seconds = 0;
  uploader::UploadStatus status;
};

UploaderRun run_uploader(hub::testkit::TestHub& hub, const std::string& token, const std::vector<std::string>& files,
                         std::uint16_t port, std::uint32_t chunk) {
  test::TempDir dir{"bench-unit"};
  UnitSpool spool(dir.path(), files);
  uploader::Uploader up(*spool.service, settings(port, hub, token, dir / "state", chunk));
  const auto t0 = std::chrono::steady_clock::now();
  up.start();
  while (up.status().uploaded_segments < files.size()) {
    std::this_thread::sleep_for(2ms);
    if (seconds_since(t0) > 600) throw std::runtime_error("uploader run timed out: " + up.status().last_error);
  }
  const double s = seconds_since(t0);
  auto st = up.status();
  up.stop();
  return {s, st};
}

// curl, one process, one keep-alive TLS connection (--next): the session PUT, then one tus
// creation-with-upload POST per segment carrying the whole segment, as the uploader does for a segment
// that fits a chunk.
double run_curl(hub::testkit::TestHub& hub, const std::string& token, const std::vector<std::filesystem::path>& files,
                const std::vector<std::string>& contents) {
  const std::string base = "https://127.0.0.1:" + std::to_string(hub.port());
  protocol::SessionInfo info;
  info.session_id = util::uuid_v4();
  info.unit_id = kUnit;
  info.started_at = util::now_utc();
  info.video = protocol::VideoFormat{protocol::VideoCodec::h264, 1920, 1080, 30, 4000};
  test::TempDir dir{"bench-curl"};
  test::write_file(dir / "session.json", protocol::encode(info));
  std::vector<std::string> argv = {"curl", "-sS", "--fail", "--cacert", hub.ca_file().string()};
  auto common = [&] {
    for (const auto& a : {"-o", "/dev/null", "-H"}) argv.emplace_back(a);
    argv.push_back("Authorization: Bearer " + token);
    argv.emplace_back("-H");
    argv.emplace_back("Expect:");
  };
  common();
  for (const auto& a : {"-X", "PUT", "-H", "Content-Type: application/json", "--data-binary"}) argv.emplace_back(a);
  argv.push_back("@" + (dir / "session.json").string());
  argv.push_back(base + "/api/v1/unit/sessions/" + info.session_id);
  for (std::uint32_t i = 0; i < files.size(); ++i) {
    protocol::SegmentEntry e;
    e.session_id = info.session_id;
    e.index = i;
    e.file = spool::Spool::segment_name(i);
    e.start_utc = info.started_at;
    e.duration_ns = 2'000'000'000;
    e.size_bytes = contents[i].size();
    e.sha256 = util::sha256_hex(contents[i]);
    argv.emplace_back("--next");
    argv.emplace_back("--cacert");
    argv.push_back(hub.ca_file().string());
    common();
    for (const auto& a :
         {"-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Content-Type: application/offset+octet-stream"}) {
      argv.emplace_back(a);
    }
    argv.emplace_back("-H");
    argv.push_back("Upload-Length: " + std::to_string(e.size_bytes));
    argv.emplace_back("-H");
    argv.push_back(fmt::format("Upload-Metadata: session_id {},index {},entry {}", util::base64_encode(e.session_id),
                               util::base64_encode(std::to_string(i)), util::base64_encode(protocol::encode(e))));
    argv.emplace_back("-H");
    argv.push_back("Upload-Checksum: sha256 " + util::base64_encode(*util::from_hex(e.sha256)));
    argv.emplace_back("--data-binary");
    argv.push_back("@" + files[i].string());
    argv.push_back(base + "/api/v1/uploads/");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = test::run(argv, std::chrono::seconds(600));
  const double s = seconds_since(t0);
  if (r.exit_code != 0) throw std::runtime_error("curl failed: " + r.output);
  // Check the hub took every segment.
  auto c = hub.client(token);
  const auto got = c.request("GET", "/api/v1/unit/sessions/" + info.session_id).json();
  if (got.at("received").size() != files.size()) throw std::runtime_error("curl run: the hub is missing segments");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (k == "--segments") a.segments = v;
    if (k == "--segment-mb") a.segment_mb = v;
    if (k == "--runs") a.runs = v;
    if (k == "--cut-mb") a.cut_mb = v;
  }
  hub::testkit::TestHub hub;
  const auto unit = hub.add_unit(kUnit, hub.add_room("Bench room").id);
  log::init({log::Level::warn, {}, std::nullopt});

  test::TempDir data{"bench-data"};
  std::mt19937_64 rng(42);
  std::vector<std::string> contents;
  std::vector<std::filesystem::path> files;
  for (int i = 0; i < a.segments; ++i) {
    std::string s(static_cast<std::size_t>(a.segment_mb) * 1'000'000, '\0');
    for (std::size_t j = 0; j + 8 <= s.size(); j += 8) {
      const auto x = rng();
      std::memcpy(s.data() + j, &x, 8);
    }
    files.push_back(data / fmt::format("seg-{:05}.mp4", i));
    test::write_file(files.back(), s);
    contents.push_back(std::move(s));
  }
  const double total_mb = static_cast<double>(a.segments) * a.segment_mb;
  std::cout << fmt::format("{} segments of {} MB ({} MB) per run, {} runs each, alternating\n", a.segments,
                           a.segment_mb, total_mb, a.runs);

  std::vector<double> up_mbs, curl_mbs;
  for (int r = 0; r < a.runs; ++r) {
    const auto u = run_uploader(hub, unit.token, contents, hub.port(), 4 * 1024 * 1024);
    up_mbs.push_back(total_mb / u.seconds);
    const double c = run_curl(hub, unit.token, files, contents);
    curl_mbs.push_back(total_mb / c);
    std::cout << fmt::format("run {}: uploader {:.1f} MB/s ({} bytes sent), curl {:.1f} MB/s\n", r + 1, up_mbs.back(),
                             u.status.sent_bytes, curl_mbs.back());
  }
  const double mu = median(up_mbs), mc = median(curl_mbs);
  std::cout << fmt::format("goodput, median: uploader {:.1f} MB/s, curl {:.1f} MB/s, ratio {:.2f}\n", mu, mc, mu / mc);

  for (const std::uint32_t chunk : {4u * 1024 * 1024, 1u * 1024 * 1024}) {
    test::TcpProxy proxy(hub.port());
    proxy.cut_after(static_cast<std::uint64_t>(a.cut_mb) * 1'000'000);
    const auto u = run_uploader(hub, unit.token, contents, proxy.port(), chunk);
    const auto cuts = std::max<std::uint32_t>(1, proxy.cuts());
    std::cout << fmt::format(
        "cuts every {} MB, chunk {} KiB: {} cuts, {} bytes re-sent ({:.0f} KiB per cut), {:.1f} MB/s, {} of {} "
        "segments lost\n",
        a.cut_mb, chunk / 1024, proxy.cuts(), u.status.resent_bytes,
        static_cast<double>(u.status.resent_bytes) / cuts / 1024, total_mb / u.seconds,
        a.segments - static_cast<int>(u.status.uploaded_segments), a.segments);
  }
  return 0;
}
