// classcam-hub as a real process: set up with its own admin commands, fed by a "unit" speaking tus
// over real TLS, restarted (SIGTERM and kill -9) in the middle of uploads, and its joined recording
// fetched by byte ranges and decoded by ffprobe/ffmpeg.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "common/util/hash.hpp"
#include "hub/testing/https_client.hpp"
#include "hub/testing/media.hpp"
#include "tests/e2e/processes.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace std::chrono_literals;
using hub::testkit::HttpResponse;
using hub::testkit::HttpsClient;
using Json = protocol::Json;
using e2e::field;
using e2e::HubProcess;

namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string digest_b64(const std::string& data) {
  util::Hasher h(util::HashAlgorithm::sha256);
  h.update(data);
  const auto d = h.finish();
  return util::base64_encode(d.data(), d.size());
}

class HubE2E : public ::testing::Test {
 protected:
  test::TempDir dir{"hub-e2e"};
  HubProcess hub{dir.path()};
  std::string unit_token;
  std::string teacher_token;

  void SetUp() override {
    hub.start();
    if (HasFatalFailure()) return;
    ASSERT_NE(hub.output().find("created the first admin account"), std::string::npos);
    const auto teacher = hub.admin({"user", "add", "--login", "khan", "--role", "teacher", "--name", "Ms Khan"});
    ASSERT_EQ(teacher.exit_code, 0) << teacher.output;
    ASSERT_FALSE(field(teacher.output, "password").empty());
    ASSERT_EQ(hub.admin({"room", "add", "--name", "Room 12", "--default-teacher", "khan"}).exit_code, 0);
    const auto unit = hub.admin({"unit", "add", "--name", "Room 12 camera", "--room", "Room 12", "--id", "room-12"});
    ASSERT_EQ(unit.exit_code, 0) << unit.output;
    unit_token = field(unit.output, "token");
    ASSERT_EQ(unit_token.rfind("ct_", 0), 0u) << unit.output;
    const auto token = hub.admin({"token", "create", "--login", "khan"});
    ASSERT_EQ(token.exit_code, 0) << token.output;
    teacher_token = token.output.substr(0, token.output.find('\n'));
  }

  Headers creation(const protocol::SegmentEntry& e) {
    return {{"Tus-Resumable", "1.0.0"},
            {"Upload-Length", std::to_string(e.size_bytes)},
            {"Upload-Metadata", "session_id " + util::base64_encode(e.session_id) + ",index " +
                                    util::base64_encode(std::to_string(e.index)) + ",entry " +
                                    util::base64_encode(protocol::encode(e))}};
  }

  HttpResponse patch(HttpsClient& c, const std::string& path, std::uint64_t offset, const std::string& chunk) {
    return c.request("PATCH", path, chunk,
                     {{"Tus-Resumable", "1.0.0"},
                      {"Upload-Offset", std::to_string(offset)},
                      {"Content-Type", "application/offset+octet-stream"},
                      {"Upload-Checksum", "sha256 " + digest_b64(chunk)}});
  }

  std::string create(HttpsClient& c, const protocol::SegmentEntry& e) {
    const auto r = c.request("POST", "/api/v1/uploads/", "", creation(e));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.header("Location").substr(r.header("Location").find("/api/"));
  }

  std::string offset_of(HttpsClient& c, const std::string& path) {
    return c.request("HEAD", path, "", {{"Tus-Resumable", "1.0.0"}}).header("Upload-Offset");
  }

  // Waits until the teacher sees the recording in `state`; returns its JSON.
  Json wait_for_state(const std::string& state) {
    Json found;
    auto c = hub.client(teacher_token);
    test::wait_until(
        [&] {
          const auto list = c.request("GET", "/api/v1/recordings").json();
          if (list["recordings"].empty()) return false;
          found = list["recordings"][0];
          return found["state"] == state;
        },
        60s);
    return found;
  }
};

}  // namespace

TEST_F(HubE2E, TusUploadsResumeAcrossRealRestartsAndTheRecordingIsJoined) {
  const auto media = hub::testkit::make_segments(dir / "unit-spool", "lesson-1", 3);
  ASSERT_GE(media.files.size(), 3u);
  auto info = hub::testkit::session_info("room-12", "lesson-1");
  {
    auto c = hub.client(unit_token);
    ASSERT_EQ(c.request("PUT", "/api/v1/unit/sessions/lesson-1", protocol::encode(info),
                        {{"Content-Type", "application/json"}})
                  .status,
              201);
  }
  const std::string seg0 = test::read_file(media.files[0]);
  const std::string seg1 = test::read_file(media.files[1]);
  const std::size_t half = seg0.size() / 2;
  std::string path0;
  {
    auto c = hub.client(unit_token);
    path0 = create(c, media.entries[0]);
    ASSERT_EQ(patch(c, path0, 0, seg0.substr(0, half)).status, 204);
  }

  // A clean restart (SIGTERM): the offset is still there.
  EXPECT_EQ(hub.stop(), 0);
  EXPECT_NE(hub.output().find("stopped"), std::string::npos);
  hub.start();
  {
    auto c = hub.client(unit_token);
    EXPECT_EQ(offset_of(c, path0), std::to_string(half));
    EXPECT_EQ(patch(c, path0, 0, seg0).status, 409) << "the hub knows where the upload is";
    ASSERT_EQ(patch(c, path0, half, seg0.substr(half)).status, 204);
  }

  // A crash (kill -9) after an acknowledged chunk: that chunk survives.
  std::string path1;
  const std::size_t third = seg1.size() / 3;
  {
    auto c = hub.client(unit_token);
    path1 = create(c, media.entries[1]);
    ASSERT_EQ(patch(c, path1, 0, seg1.substr(0, third)).status, 204);
  }
  hub.kill9();
  hub.start();
  {
    auto c = hub.client(unit_token);
    EXPECT_EQ(offset_of(c, path1), std::to_string(third));
    ASSERT_EQ(patch(c, path1, third, seg1.substr(third)).status, 204);
    for (std::size_t i = 2; i < media.files.size(); ++i) {
      const auto path = create(c, media.entries[i]);
      ASSERT_EQ(patch(c, path, 0, test::read_file(media.files[i])).status, 204);
    }
    info.ended_at = util::now_utc();
    info.segment_count = static_cast<std::uint32_t>(media.files.size());
    const auto end = c.request("PUT", "/api/v1/unit/sessions/lesson-1", protocol::encode(info),
                               {{"Content-Type", "application/json"}});
    EXPECT_EQ(end.status, 200);
    EXPECT_EQ(end.json()["received"].size(), media.files.size());
  }
  const auto rec = wait_for_state("ready");
  EXPECT_EQ(rec["state"], "ready") << rec.dump();
  EXPECT_EQ(rec["owner_name"], "Ms Khan");
  EXPECT_EQ(hub.stop(), 0);
}

TEST_F(HubE2E, ARecordingIsServedByRangesThatFfprobeDecodes) {
  const auto media = hub::testkit::make_segments(dir / "unit-spool", "lesson-2", 3);
  auto info = hub::testkit::session_info("room-12", "lesson-2");
  info.ended_at = util::now_utc();
  info.segment_count = static_cast<std::uint32_t>(media.files.size());
  {
    auto c = hub.client(unit_token);
    ASSERT_EQ(c.request("PUT", "/api/v1/unit/sessions/lesson-2", protocol::encode(info),
                        {{"Content-Type", "application/json"}})
                  .status,
              201);
    for (std::size_t i = 0; i < media.files.size(); ++i) {
      // creation-with-upload: the whole segment in the creation request.
      auto h = creation(media.entries[i]);
      h.emplace_back("Content-Type", "application/offset+octet-stream");
      const auto r = c.request("POST", "/api/v1/uploads", test::read_file(media.files[i]), h);
      ASSERT_EQ(r.status, 201) << r.body;
      EXPECT_EQ(r.header("Upload-Offset"), std::to_string(media.entries[i].size_bytes));
    }
  }
  const auto rec = wait_for_state("ready");
  ASSERT_EQ(rec["state"], "ready") << rec.dump();
  const std::string url = rec["media_url"];
  auto c = hub.client(teacher_token);
  const auto full = c.request("GET", url);
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(full.header("Content-Type"), "video/mp4");
  EXPECT_EQ(full.header("Accept-Ranges"), "bytes");
  const std::size_t size = full.body.size();
  EXPECT_EQ(rec["bytes"], size);

  const auto first = c.request("GET", url, "", {{"Range", "bytes=0-1023"}});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.header("Content-Range"), "bytes 0-1023/" + std::to_string(size));
  EXPECT_EQ(first.body, full.body.substr(0, 1024));

  // The whole file fetched as three ranges is the file, and decodes.
  const std::size_t a = size / 3;
  const std::size_t b = 2 * size / 3;
  std::string joined;
  for (const auto& range :
       {"bytes=0-" + std::to_string(a - 1), "bytes=" + std::to_string(a) + "-" + std::to_string(b - 1),
        "bytes=" + std::to_string(b) + "-"}) {
    const auto part = c.request("GET", url, "", {{"Range", range}});
    ASSERT_EQ(part.status, 206) << range;
    joined += part.body;
  }
  EXPECT_EQ(joined, full.body);
  test::write_file(dir / "fetched.mp4", joined);
  const auto probe = test::run({"ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of",
                                "compact", (dir / "fetched.mp4").string()});
  EXPECT_EQ(probe.exit_code, 0) << probe.output;
  EXPECT_NE(probe.output.find("codec_name=h264"), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("codec_name=aac"), std::string::npos) << probe.output;
  const auto decode = test::run({"ffmpeg", "-v", "error", "-i", (dir / "fetched.mp4").string(), "-f", "null", "-"});
  EXPECT_EQ(decode.exit_code, 0);
  EXPECT_EQ(decode.output, "");

  const auto tail = c.request("GET", url, "", {{"Range", "bytes=-500"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, full.body.substr(size - 500));
  const auto past = c.request("GET", url, "", {{"Range", "bytes=" + std::to_string(size) + "-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("Content-Range"), "bytes */" + std::to_string(size));

  // Independent clients: curl for one range, and ffprobe reading (and seeking in) the URL itself.
  const std::string https = "https://localhost:" + std::to_string(hub.port()) + url;
  const auto curl =
      test::run({"curl", "-sS", "--fail", "--cacert", hub.ca().string(), "-H", "Authorization: Bearer " + teacher_token,
                 "-r", "100-199", "-o", (dir / "curl-range").string(), "-w", "%{http_code}", https});
  EXPECT_EQ(curl.output, "206");
  EXPECT_EQ(test::read_file(dir / "curl-range"), full.body.substr(100, 100));
  const auto remote = test::run({"ffprobe", "-v", "error", "-tls_verify", "1", "-ca_file", hub.ca().string(),
                                 "-headers", "Authorization: Bearer " + teacher_token + "\r\n", "-show_entries",
                                 "format=duration", "-of", "csv=p=0", https});
  EXPECT_EQ(remote.exit_code, 0) << remote.output;
  EXPECT_NEAR(std::stod(remote.output.empty() ? "0" : remote.output), 3.0, 0.3) << remote.output;
  EXPECT_EQ(hub.stop(), 0);
}

TEST_F(HubE2E, AdminCommandsSayWhatIsWrong) {
  const auto missing = hub.admin({"user", "add", "--login", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("--role is required"), std::string::npos) << missing.output;
  const auto dup = hub.admin({"user", "add", "--login", "khan", "--role", "teacher"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.output.find("already exists"), std::string::npos) << dup.output;
  EXPECT_EQ(hub.admin({"user", "fly"}).exit_code, 2);
  const auto pw = hub.admin({"user", "passwd", "--login", "admin"});
  EXPECT_EQ(pw.exit_code, 0);
  EXPECT_NE(pw.output.find("new password for \"admin\""), std::string::npos);
  EXPECT_NE(hub.admin({"user", "list"}).output.find("khan\tteacher\tactive"), std::string::npos);
}
