// bench_hub: load for the hub benchmark (bench/hub.sh).
//   bench_hub prepare --port P --ca CA --token UNIT_TOKEN --session S --seconds N --dir D
//       records N s of 1280x720 noise (large frames) as 1 s segments, announces the session, uploads
//       every segment with tus (1 MiB chunks, SHA-256 checksums) and announces the end, so the hub
//       joins a real recording.
//   bench_hub uploads --port P --ca CA --token UNIT_TOKEN --clients N --seconds S --size BYTES
//       N concurrent units uploading BYTES-sized segments with tus for S seconds; prints what got through.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "common/util/hash.hpp"
#include "hub/testing/https_client.hpp"
#include "hub/testing/media.hpp"

using namespace classcam;
using hub::testkit::HttpsClient;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i + 1 < argc; i += 2) out[std::string(argv[i]).substr(2)] = argv[i + 1];
  return out;
}

HttpsClient client(const std::map<std::string, std::string>& a) {
  hub::testkit::ClientOptions o;
  o.ca_file = a.at("ca");
  HttpsClient c("127.0.0.1", static_cast<std::uint16_t>(std::stoi(a.at("port"))), o);
  c.set_header("Authorization", "Bearer " + a.at("token"));
  return c;
}

std::string b64_digest(std::string_view data) {
  util::Hasher h(util::HashAlgorithm::sha256);
  h.update(data);
  const auto d = h.finish();
  return util::base64_encode(d.data(), d.size());
}

void announce(HttpsClient& c, const protocol::SessionInfo& info) {
  const auto r = c.request("PUT", "/api/v1/unit/sessions/" + info.session_id, protocol::encode(info),
                           {{"Content-Type", "application/json"}});
  if (r.status != 200 && r.status != 201) throw std::runtime_error("announce: " + std::to_string(r.status) + r.body);
}

// One segment through tus: create, then PATCH in 1 MiB chunks with checksums.
void upload(HttpsClient& c, const protocol::SegmentEntry& e, const std::string& data) {
  const auto created = c.request("POST", "/api/v1/uploads/", "",
                                 {{"Tus-Resumable", "1.0.0"},
                                  {"Upload-Length", std::to_string(data.size())},
                                  {"Upload-Metadata", "session_id " + util::base64_encode(e.session_id) + ",index " +
                                                          util::base64_encode(std::to_string(e.index)) + ",entry " +
                                                          util::base64_encode(protocol::encode(e))}});
  if (created.status != 201) throw std::runtime_error("create: " + std::to_string(created.status) + created.body);
  const std::string loc = created.header("Location");
  const std::string path = loc.substr(loc.find("/api/"));
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const std::string_view chunk = std::string_view(data).substr(off, kChunk);
    const auto r = c.request("PATCH", path, std::string(chunk),
                             {{"Tus-Resumable", "1.0.0"},
                              {"Upload-Offset", std::to_string(off)},
                              {"Content-Type", "application/offset+octet-stream"},
                              {"Upload-Checksum", "sha256 " + b64_digest(chunk)}});
    if (r.status != 204) throw std::runtime_error("patch: " + std::to_string(r.status) + r.body);
  }
}

int prepare(const std::map<std::string, std::string>& a) {
  hub::testkit::MediaOptions m;
  m.width = 1280;
  m.height = 720;
  m.bitrate_kbps = 20000;
  m.pattern = "snow";
  const std::string session = a.at("session");
  const auto media = hub::testkit::make_segments(a.at("dir"), session, std::stoi(a.at("seconds")), m);
  auto c = client(a);
  auto info = hub::testkit::session_info(a.at("unit"), session);
  announce(c, info);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < media.files.size(); ++i) {
    std::ifstream in(media.files[i], std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    upload(c, media.entries[i], data);
    total += data.size();
  }
  info.ended_at = util::now_utc();
  info.segment_count = static_cast<std::uint32_t>(media.files.size());
  announce(c, info);
  std::cout << media.files.size() << " segments, " << total << " bytes uploaded\n";
  return 0;
}

int uploads(const std::map<std::string, std::string>& a) {
  const int clients = std::stoi(a.at("clients"));
  const auto seconds = std::chrono::seconds(std::stoi(a.at("seconds")));
  const std::size_t size = std::stoul(a.at("size"));
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(clients));
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto c = client(a);
        std::mt19937 rng(static_cast<unsigned>(t));
        std::string data(size, '\0');
        auto info = hub::testkit::session_info(
            a.at("unit"), "bench-upload-" + std::to_string(t) + "-" + std::to_string(std::random_device{}()));
        announce(c, info);
        for (std::uint32_t i = 0; std::chrono::steady_clock::now() - start < seconds; ++i) {
          for (auto& ch : data) ch = static_cast<char>(rng());
          protocol::SegmentEntry e;
          e.session_id = info.session_id;
          e.index = i;
          e.file = "seg.mp4";
          e.start_utc = util::now_utc();
          e.duration_ns = 2'000'000'000;
          e.size_bytes = data.size();
          e.sha256 = util::sha256_hex(data);
          upload(c, e, data);
          ++done;
        }
      } catch (const std::exception& ex) {
        ++failed;
        std::cerr << "uploader " << t << ": " << ex.what() << "\n";
      }
    });
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "uploads: " << done << " segments of " << size << " bytes by " << clients << " units in " << secs
            << " s = " << (static_cast<double>(done) * static_cast<double>(size) / secs / 1e6) << " MB/s, " << failed
            << " uploaders failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_hub prepare|uploads --option value ...\n";
    return 2;
  }
  try {
    const auto a = parse(argc, argv);
    const std::string cmd = argv[1];
    if (cmd == "prepare") return prepare(a);
    if (cmd == "uploads") return uploads(a);
    std::cerr << "unknown command " << cmd << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_hub: " << e.what() << "\n";
    return 1;
  }
}
