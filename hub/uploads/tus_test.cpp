// The tus 1.0.0 server against a real hub over TLS. (Resuming across a real process restart is in
// tests/e2e/hub_e2e_test.cpp.)
#include "hub/uploads/tus.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/util/hash.hpp"
#include "hub/testing/media.hpp"
#include "hub/testing/test_hub.hpp"

using namespace classcam;
using namespace classcam::hub;
using testkit::HttpResponse;
using testkit::HttpsClient;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string b64(const std::string& s) { return util::base64_encode(s); }

std::string digest_b64(util::HashAlgorithm a, const std::string& data) {
  util::Hasher h(a);
  h.update(data);
  const auto d = h.finish();
  return util::base64_encode(d.data(), d.size());
}

class TusTest : public ::testing::Test {
 protected:
  testkit::TestHub hub{[] {
    auto cfg = testkit::test_config("unused");
    cfg.storage.max_upload_bytes = 1024 * 1024;
    return cfg;
  }()};
  testkit::TestHub::Person teacher = hub.add_person("khan", store::Role::teacher);
  testkit::TestHub::Person admin = hub.add_person("root", store::Role::admin);
  store::Room room = hub.add_room("Room 12", teacher.user.id);
  testkit::TestHub::NewUnit unit = hub.add_unit("room-12", room.id);
  HttpsClient c = hub.client(unit.token);
  std::string session = "sess-1";

  void SetUp() override {
    auto info = testkit::session_info(unit.unit.id, session);
    const auto r = c.request("PUT", "/api/v1/unit/sessions/" + session, protocol::encode(info),
                             {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  protocol::SegmentEntry entry_for(const std::string& data, std::uint32_t index = 0) {
    protocol::SegmentEntry e;
    e.session_id = session;
    e.index = index;
    e.file = "seg-0000" + std::to_string(index) + ".mp4";
    e.start_utc = util::now_utc();
    e.duration_ns = 2'000'000'000;
    e.size_bytes = data.size();
    e.sha256 = util::sha256_hex(data);
    return e;
  }

  Headers creation(const protocol::SegmentEntry& e, std::uint64_t length) {
    return {{"Tus-Resumable", "1.0.0"},
            {"Upload-Length", std::to_string(length)},
            {"Upload-Metadata", "session_id " + b64(e.session_id) + ",index " + b64(std::to_string(e.index)) +
                                    ",entry " + b64(protocol::encode(e)) + ",filename " + b64(e.file)}};
  }

  // Creates an upload and returns its path ("/api/v1/uploads/<id>").
  std::string create(const protocol::SegmentEntry& e) {
    const auto r = c.request("POST", "/api/v1/uploads/", "", creation(e, e.size_bytes));
    EXPECT_EQ(r.status, 201) << r.body;
    const auto loc = r.header("Location");
    return loc.substr(loc.find("/api/"));
  }

  HttpResponse patch(const std::string& path, std::uint64_t offset, const std::string& chunk, Headers extra = {}) {
    Headers h = {{"Tus-Resumable", "1.0.0"},
                 {"Upload-Offset", std::to_string(offset)},
                 {"Content-Type", "application/offset+octet-stream"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return c.request("PATCH", path, chunk, h);
  }

  HttpResponse head(const std::string& path) { return c.request("HEAD", path, "", {{"Tus-Resumable", "1.0.0"}}); }

  std::filesystem::path part_file(const std::string& path) {
    return hub.service().config().media_dir() / "uploads" / (path.substr(path.rfind('/') + 1) + ".part");
  }
};

}  // namespace

TEST_F(TusTest, OptionsAdvertisesVersionExtensionsLimitsAndChecksums) {
  const auto r = hub.client().request("OPTIONS", "/api/v1/uploads/");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("Tus-Resumable"), "1.0.0");
  EXPECT_EQ(r.header("Tus-Version"), "1.0.0");
  EXPECT_EQ(r.header("Tus-Extension"), "creation,creation-with-upload,checksum,termination,expiration");
  EXPECT_EQ(r.header("Tus-Max-Size"), std::to_string(1024 * 1024));
  EXPECT_EQ(r.header("Tus-Checksum-Algorithm"), "sha1,sha256");
}

TEST_F(TusTest, CreatesThenTakesChunksWithChecksumsAndAcceptsTheSegment) {
  const std::string data = std::string(100000, 'x') + std::string(50000, 'y') + std::string(1234, 'z');
  const auto e = entry_for(data);
  const auto created = c.request("POST", "/api/v1/uploads/", "", creation(e, data.size()));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("Tus-Resumable"), "1.0.0");
  EXPECT_FALSE(created.header("Upload-Expires").empty());
  const std::string loc = created.header("Location");
  // Relative, so it never comes from the client's Host header.
  EXPECT_EQ(loc.rfind("/api/v1/uploads/", 0), 0u) << loc;
  const std::string path = loc.substr(loc.find("/api/"));

  auto h = head(path);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Upload-Offset"), "0");
  EXPECT_EQ(h.header("Upload-Length"), std::to_string(data.size()));
  EXPECT_EQ(h.header("Cache-Control"), "no-store");
  EXPECT_NE(h.header("Upload-Metadata").find("entry "), std::string::npos);

  const auto a = data.substr(0, 100000);
  const auto b = data.substr(100000, 50000);
  const auto rest = data.substr(150000);
  auto r = patch(path, 0, a, {{"Upload-Checksum", "sha1 " + digest_b64(util::HashAlgorithm::sha1, a)}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.header("Upload-Offset"), "100000");
  r = patch(path, 100000, b, {{"Upload-Checksum", "sha256 " + digest_b64(util::HashAlgorithm::sha256, b)}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(head(path).header("Upload-Offset"), "150000");
  r = patch(path, 150000, rest);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.header("Upload-Offset"), std::to_string(data.size()));
  // The metrics count the stored bytes and the accepted segment.
  const auto m = hub.client(testkit::kMetricsToken).request("GET", "/metrics");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_NE(m.body.find("\nclasscam_upload_bytes_total " + std::to_string(data.size()) + "\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("\nclasscam_upload_segments_total{outcome=\"accepted\"} 1\n"), std::string::npos) << m.body;

  const auto s = c.request("GET", "/api/v1/unit/sessions/" + session);
  EXPECT_EQ(s.json()["received"], protocol::Json::array({0}));
  const auto rec = hub.store().recording_by_session(unit.unit.id, session);
  const auto seg = hub.store().segment(rec->id, 0);
  ASSERT_TRUE(seg);
  EXPECT_EQ(test::read_file(hub.service().config().media_dir() / seg->file), data);
  EXPECT_FALSE(std::filesystem::exists(part_file(path)));
  EXPECT_EQ(head(path).header("Upload-Offset"), std::to_string(data.size()));
}

TEST_F(TusTest, CreationWithUploadTakesTheFirstChunk) {
  const std::string data(5000, 'q');
  const auto e = entry_for(data);
  auto h = creation(e, data.size());
  h.emplace_back("Content-Type", "application/offset+octet-stream");
  h.emplace_back("Upload-Checksum", "sha256 " + digest_b64(util::HashAlgorithm::sha256, data.substr(0, 2000)));
  const auto r = c.request("POST", "/api/v1/uploads", data.substr(0, 2000), h);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("Upload-Offset"), "2000");
  const std::string path = r.header("Location").substr(r.header("Location").find("/api/"));
  EXPECT_EQ(patch(path, 2000, data.substr(2000)).status, 204);
}

TEST_F(TusTest, AWrongOffsetGets409AndTheCurrentOffset) {
  const std::string data(1000, 'a');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 400)).status, 204);
  const auto r = patch(path, 100, data.substr(100, 100));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.header("Upload-Offset"), "400");
  EXPECT_NE(r.json()["detail"].get<std::string>().find("Upload-Offset"), std::string::npos);
  EXPECT_EQ(head(path).header("Upload-Offset"), "400");
}

TEST_F(TusTest, ABadChecksumGets460AndKeepsThePreviousOffset) {
  const std::string data(1000, 'a');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 500)).status, 204);
  const auto wrong = digest_b64(util::HashAlgorithm::sha256, "something else");
  const auto r = patch(path, 500, data.substr(500), {{"Upload-Checksum", "sha256 " + wrong}});
  EXPECT_EQ(r.status, 460);
  EXPECT_EQ(r.header("Upload-Offset"), "500");
  EXPECT_EQ(head(path).header("Upload-Offset"), "500");
  EXPECT_EQ(std::filesystem::file_size(part_file(path)), 500u) << "nothing of the bad chunk is kept";
  EXPECT_EQ(patch(path, 500, data.substr(500), {{"Upload-Checksum", "md5 AAAA"}}).status, 400);
  EXPECT_EQ(patch(path, 500, data.substr(500),
                  {{"Upload-Checksum", "sha256 " + digest_b64(util::HashAlgorithm::sha256, data.substr(500))}})
                .status,
            204);
}

TEST_F(TusTest, AMissingOrWrongTusResumableGets412) {
  const std::string data(100, 'a');
  const auto path = create(entry_for(data));
  for (const auto& version : std::vector<std::string>{"", "0.2.2"}) {
    Headers h = {{"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}};
    if (!version.empty()) h.emplace_back("Tus-Resumable", version);
    const auto r = c.request("PATCH", path, data, h);
    EXPECT_EQ(r.status, 412) << version;
    EXPECT_EQ(r.header("Tus-Version"), "1.0.0");
    EXPECT_EQ(c.request("HEAD", path, "", version.empty() ? Headers{} : Headers{{"Tus-Resumable", version}}).status,
              412);
  }
  auto h = creation(entry_for(data, 1), 100);
  h.erase(h.begin());
  EXPECT_EQ(c.request("POST", "/api/v1/uploads", "", h).status, 412);
  EXPECT_EQ(head(path).header("Upload-Offset"), "0");
}

TEST_F(TusTest, TerminationRemovesTheUpload) {
  const std::string data(100, 'a');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 50)).status, 204);
  ASSERT_TRUE(std::filesystem::exists(part_file(path)));
  EXPECT_EQ(c.request("DELETE", path, "", {{"Tus-Resumable", "1.0.0"}}).status, 204);
  EXPECT_FALSE(std::filesystem::exists(part_file(path)));
  EXPECT_EQ(head(path).status, 404);
  EXPECT_EQ(patch(path, 50, data.substr(50)).status, 404);
}

TEST_F(TusTest, ExpiredUploadsAreRemovedAndGet410) {
  const std::string data(100, 'a');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 50)).status, 204);
  // Nothing expires early...
  EXPECT_EQ(hub.service().tus().expire(util::now_utc() + std::chrono::hours(71)), 0u);
  EXPECT_EQ(head(path).status, 200);
  // ...and everything idle past storage.upload_expiry_hours (72) does.
  EXPECT_EQ(hub.service().tus().expire(util::now_utc() + std::chrono::hours(73)), 1u);
  EXPECT_FALSE(std::filesystem::exists(part_file(path)));
  const auto r = head(path);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(patch(path, 50, data.substr(50)).status, 410);
}

TEST_F(TusTest, SizeLimitsAreEnforced) {
  const auto big = entry_for(std::string(10, 'a'));
  auto e = big;
  e.size_bytes = 2 * 1024 * 1024;
  const auto r = c.request("POST", "/api/v1/uploads", "", creation(e, e.size_bytes));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["field"], "Upload-Length");
  const std::string data(100, 'a');
  const auto path = create(entry_for(data));
  EXPECT_EQ(patch(path, 0, std::string(101, 'a')).status, 413) << "past Upload-Length";
  EXPECT_EQ(head(path).header("Upload-Offset"), "0");
}

TEST_F(TusTest, AFullDiskGets507AndChangesNothing) {
  const std::string data(1000, 'a');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 100)).status, 204);
  hub.service().tus().set_free_space_probe([] { return std::uint64_t{0}; });
  const auto r = patch(path, 100, data.substr(100));
  EXPECT_EQ(r.status, 507);
  EXPECT_EQ(r.header("Upload-Offset"), "100");
  EXPECT_EQ(std::filesystem::file_size(part_file(path)), 100u);
  EXPECT_EQ(c.request("POST", "/api/v1/uploads", "", creation(entry_for(data, 1), data.size())).status, 507);
  hub.service().tus().set_free_space_probe(nullptr);
  EXPECT_EQ(patch(path, 100, data.substr(100)).status, 204);
}

TEST_F(TusTest, AFileThatDoesNotMatchTheManifestIsRefusedAndKept) {
  const std::string data(1000, 'a');
  auto e = entry_for(data);
  e.sha256 = util::sha256_hex("what the unit really recorded");
  const auto path = create(e);
  const auto r = patch(path, 0, data);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["field"], "Upload-Metadata entry.sha256");
  EXPECT_NE(r.json()["detail"].get<std::string>().find("kept for inspection"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(part_file(path))) << "kept, not dropped";
  EXPECT_EQ(head(path).status, 410);
  const auto list = hub.client(admin.token).request("GET", "/api/v1/uploads");
  ASSERT_EQ(list.status, 200);
  bool found = false;
  const auto listed = list.json();
  for (const auto& u : listed["uploads"]) {
    if (u["state"] == "rejected") {
      found = true;
      EXPECT_EQ(u["file"], part_file(path).string());
    }
  }
  EXPECT_TRUE(found) << list.body;
  const auto rec = hub.store().recording_by_session(unit.unit.id, session);
  EXPECT_FALSE(hub.store().segment(rec->id, 0)) << "not taken into the recording";
  // A technician removes it after looking.
  EXPECT_EQ(hub.client(admin.token).request("DELETE", path).status, 204);
  EXPECT_FALSE(std::filesystem::exists(part_file(path)));
}

TEST_F(TusTest, UploadingAnAcceptedSegmentAgainIsIdempotent) {
  const std::string data(300, 'a');
  const auto e = entry_for(data);
  const auto path = create(e);
  ASSERT_EQ(patch(path, 0, data).status, 204);
  const auto again = c.request("POST", "/api/v1/uploads", "", creation(e, data.size()));
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("Upload-Offset"), "300");
  const auto path2 = again.header("Location").substr(again.header("Location").find("/api/"));
  EXPECT_EQ(head(path2).header("Upload-Offset"), "300");
  EXPECT_EQ(patch(path2, 300, "").status, 204);
  auto different = entry_for(std::string(300, 'b'));
  EXPECT_EQ(c.request("POST", "/api/v1/uploads", "", creation(different, 300)).status, 409);
}

TEST_F(TusTest, MetadataIsValidatedFieldByField) {
  const std::string data(100, 'a');
  const auto e = entry_for(data);
  auto bad_entry = creation(e, 100);
  bad_entry[2].second = "session_id " + b64(session) + ",index " + b64("0") + ",entry " + b64("{\"protocol\":\"1.0\"}");
  auto r = c.request("POST", "/api/v1/uploads", "", bad_entry);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["field"], "Upload-Metadata entry");
  EXPECT_NE(r.json()["detail"].get<std::string>().find("session_id: missing"), std::string::npos);

  r = c.request("POST", "/api/v1/uploads", "", creation(e, 99));
  EXPECT_EQ(r.json()["field"], "Upload-Metadata entry.size_bytes");
  auto other_session = e;
  other_session.session_id = "never-announced";
  auto h = creation(other_session, 100);
  r = c.request("POST", "/api/v1/uploads", "", h);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.json()["detail"].get<std::string>().find("PUT /api/v1/unit/sessions/never-announced"), std::string::npos);
  h = creation(e, 100);
  h[2].second = "entry !!!";
  EXPECT_EQ(c.request("POST", "/api/v1/uploads", "", h).status, 400);
  EXPECT_EQ(
      c.request("POST", "/api/v1/uploads", "", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "x"}}).json()["field"],
      "Upload-Length");
}

TEST_F(TusTest, AnotherUnitCannotSeeOrTouchTheUpload) {
  const std::string data(100, 'a');
  const auto path = create(entry_for(data));
  const auto other = hub.add_unit("room-13", room.id);
  auto oc = hub.client(other.token);
  EXPECT_EQ(oc.request("HEAD", path, "", {{"Tus-Resumable", "1.0.0"}}).status, 404);
  EXPECT_EQ(
      oc.request(
            "PATCH", path, data,
            {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}})
          .status,
      404);
  EXPECT_EQ(oc.request("DELETE", path, "", {{"Tus-Resumable", "1.0.0"}}).status, 404);
}

// Finding 9: a PATCH claims its upload before it reads the offset, in one step, and keeps the claim
// while its body streams in. A second PATCH at the same offset meanwhile gets 423 (or 409), a HEAD
// reports the stored offset without cutting the bytes arriving, and the first completes intact. The
// old server read the offset, then claimed, and only once the body was whole: the second PATCH won
// and the first got 409.
TEST_F(TusTest, ConcurrentPatchesCannotBothWriteAnUpload) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>('a' + i % 23);
  const auto path = create(entry_for(data));
  const std::string half = data.substr(0, data.size() / 2);

  auto first = hub.client(unit.token);
  first.send_raw("PATCH " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + unit.token +
                 "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                 "Upload-Checksum: sha256 " +
                 digest_b64(util::HashAlgorithm::sha256, data) + "\r\nContent-Length: " + std::to_string(data.size()) +
                 "\r\nExpect: 100-continue\r\n\r\n");
  // The hub says "continue" once it has admitted the request, so once it holds the claim.
  ASSERT_EQ(first.read_response(false, true).status, 100);
  first.send_raw(half);
  // The body streams to the file as it arrives.
  for (int i = 0; i < 200 && std::filesystem::file_size(part_file(path)) < half.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(std::filesystem::file_size(part_file(path)), half.size());

  auto second = hub.client(unit.token);
  const std::string other(data.size(), '#');
  const auto r = second.request("PATCH", path, other,
                                {{"Tus-Resumable", "1.0.0"},
                                 {"Upload-Offset", "0"},
                                 {"Content-Type", "application/offset+octet-stream"},
                                 {"Upload-Checksum", "sha256 " + digest_b64(util::HashAlgorithm::sha256, other)}});
  EXPECT_TRUE(r.status == 423 || r.status == 409) << r.status << " " << r.body;
  const auto h = head(path);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Upload-Offset"), "0") << "the stored offset";
  EXPECT_EQ(std::filesystem::file_size(part_file(path)), half.size()) << "HEAD cut nothing off";

  first.send_raw(data.substr(half.size()));
  const auto done = first.read_response();
  EXPECT_EQ(done.status, 204) << done.body;
  EXPECT_EQ(done.header("Upload-Offset"), std::to_string(data.size()));
  const auto rec = hub.store().recording_by_session(unit.unit.id, session);
  const auto seg = hub.store().segment(rec->id, 0);
  ASSERT_TRUE(seg);
  EXPECT_EQ(test::read_file(hub.service().config().media_dir() / seg->file), data);
}

// Finding 9 with real threads: four PATCHes of different bytes at offset 0 at once. Exactly one is
// taken (204); the others get 423 or 409; the file holds the winner's bytes and nothing else.
TEST_F(TusTest, RacingPatchesLeaveExactlyOneChunk) {
  const std::string data(200000, 'd');
  for (int round = 0; round < 5; ++round) {
    const auto path = create(entry_for(data, static_cast<std::uint32_t>(round)));
    constexpr int kThreads = 4;
    std::vector<HttpsClient> clients;
    clients.reserve(kThreads);
    for (int i = 0; i < kThreads; ++i) {
      clients.push_back(hub.client(unit.token));
      clients.back().connect();
    }
    std::vector<int> status(kThreads, 0);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        const std::string chunk(50000, static_cast<char>('0' + i));
        ++ready;
        while (ready.load() < kThreads) std::this_thread::yield();
        status[static_cast<std::size_t>(i)] = clients[static_cast<std::size_t>(i)]
                                                  .request("PATCH", path, chunk,
                                                           {{"Tus-Resumable", "1.0.0"},
                                                            {"Upload-Offset", "0"},
                                                            {"Content-Type", "application/offset+octet-stream"}})
                                                  .status;
      });
    }
    for (auto& t : threads) t.join();
    int won = -1;
    for (int i = 0; i < kThreads; ++i) {
      const int s = status[static_cast<std::size_t>(i)];
      if (s == 204) {
        EXPECT_EQ(won, -1) << "two PATCHes at offset 0 both taken";
        won = i;
      } else {
        EXPECT_TRUE(s == 423 || s == 409) << s;
      }
    }
    ASSERT_NE(won, -1);
    EXPECT_EQ(head(path).header("Upload-Offset"), "50000");
    EXPECT_EQ(test::read_file(part_file(path)), std::string(50000, static_cast<char>('0' + won)));
  }
}

// Finding 3: a PATCH cut off half-way leaves the upload as it was (its bytes cut back off, the offset
// unchanged) and free for the retry.
TEST_F(TusTest, APatchCutOffHalfWayChangesNothing) {
  const std::string data(100000, 'h');
  const auto path = create(entry_for(data));
  ASSERT_EQ(patch(path, 0, data.substr(0, 10000)).status, 204);
  {
    auto cut = hub.client(unit.token);
    cut.send_raw("PATCH " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + unit.token +
                 "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 10000\r\nContent-Type: application/offset+octet-stream"
                 "\r\nContent-Length: 90000\r\n\r\n" +
                 data.substr(10000, 40000));
    for (int i = 0; i < 200 && std::filesystem::file_size(part_file(path)) < 50000; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }  // closed with 50000 of 90000 bytes sent
  HttpResponse r;
  for (int i = 0; i < 200; ++i) {
    r = patch(path, 10000, data.substr(10000));
    if (r.status != 423) break;  // the hub has not yet seen the close
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(r.status, 204) << r.body;
  const auto rec = hub.store().recording_by_session(unit.unit.id, session);
  const auto seg = hub.store().segment(rec->id, 0);
  ASSERT_TRUE(seg);
  EXPECT_EQ(test::read_file(hub.service().config().media_dir() / seg->file), data);
}
