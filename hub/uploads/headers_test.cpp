#include "hub/uploads/headers.hpp"

#include <gtest/gtest.h>

using namespace classcam;
using namespace classcam::hub::uploads;

TEST(TusHeaders, ParsesUploadMetadata) {
  const auto m =
      parse_metadata("session_id " + util::base64_encode("s-1") + ",index " + util::base64_encode("7") + ", flag");
  EXPECT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.values.at("session_id"), "s-1");
  EXPECT_EQ(m.values.at("index"), "7");
  EXPECT_EQ(m.values.at("flag"), "");
  EXPECT_NE(parse_metadata("a !!!").error.find("not base64"), std::string::npos);
  EXPECT_NE(parse_metadata("a YQ==,a YQ==").error.find("twice"), std::string::npos);
  EXPECT_TRUE(parse_metadata("").values.empty());
}

TEST(TusHeaders, ParsesUploadChecksum) {
  const auto c = parse_upload_checksum("sha1 " + util::base64_encode("12345678901234567890"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->algorithm, util::HashAlgorithm::sha1);
  EXPECT_EQ(c->name, "sha1");
  EXPECT_EQ(c->digest, "12345678901234567890");
  EXPECT_EQ(parse_upload_checksum("sha256 " + util::base64_encode("x"))->algorithm, util::HashAlgorithm::sha256);

  const auto md5 = parse_upload_checksum("md5 AAAA");
  ASSERT_FALSE(md5);
  EXPECT_EQ(md5.error().message, "unsupported algorithm \"md5\" (use sha1 or sha256)");
  for (const char* bad : {"sha256", "sha256 !!!"}) {
    const auto r = parse_upload_checksum(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, "expected \"<algorithm> <base64 digest>\"") << bad;
  }
}

TEST(TusHeaders, ParsesOffsetsAndLengths) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("1234567890123456789"), 1234567890123456789u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "12345678901234567890", "1.5"}) {
    EXPECT_EQ(parse_u64(bad), std::nullopt) << bad;
  }
}

TEST(TusHeaders, MetadataValuesThatDecodeToBytesThatAreNotUtf8AreRefused) {
  // They would be echoed into problem+json and stored with the upload.
  const auto m = parse_metadata("session_id " + util::base64_encode(std::string("s-\xff")));
  EXPECT_NE(m.error.find("\"session_id\" is not valid UTF-8"), std::string::npos) << m.error;
  EXPECT_TRUE(parse_metadata("title " + util::base64_encode("caf\xc3\xa9")).error.empty());
}
