#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/util/hash.hpp"
#include "common/util/hex.hpp"
#include "common/util/time.hpp"
#include "common/util/utf8.hpp"
#include "common/util/uuid.hpp"

using namespace classcam;
using namespace classcam::util;

TEST(Uuid, IsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = uuid_v4();
    ASSERT_TRUE(is_uuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, RecognisesOnlyCanonicalForm) {
  EXPECT_TRUE(is_uuid("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("123E4567-E89B-42D3-A456-426614174000"));
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("123e4567e89b42d3a456426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456-42661417400"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456-42661417400g"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-42d3-a456_426614174000"));
}

TEST(RandomHex, HasRequestedLengthAndVaries) {
  const auto a = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, random_hex(16));
}

TEST(Hash, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Hash, IncrementalAndForkMatchOneShot) {
  Hasher h(HashAlgorithm::sha256);
  h.update("hello ");
  Hasher so_far = h.fork();
  h.update("world");
  EXPECT_EQ(so_far.finish_hex(), sha256_hex("hello "));
  EXPECT_EQ(h.finish_hex(), sha256_hex("hello world"));

  Hasher s1(HashAlgorithm::sha1);
  s1.update("ab");
  Hasher s1b = s1.fork();
  s1b.update("c");
  EXPECT_EQ(s1b.finish_hex(), sha1_hex("abc"));
}

TEST(Hash, FileDigest) {
  const auto path = std::filesystem::temp_directory_path() / ("classcam-hash-" + random_hex(4));
  {
    std::ofstream f(path, std::ios::binary);
    std::string big(200'000, 'x');
    f << big;
  }
  auto d = file_digest_hex(path);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, sha256_hex(std::string(200'000, 'x')));
  auto d1 = file_digest_hex(path, HashAlgorithm::sha1);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(*d1, sha1_hex(std::string(200'000, 'x')));
  std::filesystem::remove(path);
  auto missing = file_digest_hex(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path.string()), std::string::npos);
}

TEST(Hash, AlgorithmNames) {
  EXPECT_EQ(hash_algorithm_from_name("sha1"), HashAlgorithm::sha1);
  EXPECT_EQ(hash_algorithm_from_name("sha256"), HashAlgorithm::sha256);
  EXPECT_FALSE(hash_algorithm_from_name("md5").has_value());
  EXPECT_FALSE(hash_algorithm_from_name("SHA256").has_value());
}

TEST(Base64, RoundTripsAllLengths) {
  std::string s;
  for (int i = 0; i < 70; ++i) {
    const std::string enc = base64_encode(s);
    EXPECT_EQ(enc.size() % 4, 0u);
    const auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, s);
    s.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zm9", "Zm9v!mFy", "Z=9v", "====", "Zm 9v", "Zm9vYmFy\n"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(Hex, FromHex) {
  EXPECT_EQ(from_hex("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(from_hex("ABcd"), std::string("\xab\xcd"));
  EXPECT_FALSE(from_hex("abc").has_value());
  EXPECT_FALSE(from_hex("zz").has_value());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

struct TimeCase {
  const char* text;
  const char* utc;  // nullptr = must be rejected
  friend void PrintTo(const TimeCase& c, std::ostream* os) { *os << c.text; }
};

class Rfc3339 : public testing::TestWithParam<TimeCase> {};

TEST_P(Rfc3339, ParsesOrRejects) {
  const auto& c = GetParam();
  const auto t = parse_rfc3339(c.text);
  if (c.utc == nullptr) {
    EXPECT_FALSE(t.has_value()) << c.text << " parsed as " << to_rfc3339(*t);
  } else {
    ASSERT_TRUE(t.has_value()) << c.text;
    EXPECT_EQ(to_rfc3339(*t), c.utc);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Rfc3339,
    testing::Values(TimeCase{"2026-11-23T09:00:00Z", "2026-11-23T09:00:00.000Z"},
                    TimeCase{"2026-11-23T09:00:00.5Z", "2026-11-23T09:00:00.500Z"},
                    TimeCase{"2026-11-23T09:00:00.123456789Z", "2026-11-23T09:00:00.123Z"},
                    TimeCase{"2026-11-23t09:00:00z", "2026-11-23T09:00:00.000Z"},
                    TimeCase{"2026-11-23 09:00:00Z", "2026-11-23T09:00:00.000Z"},
                    TimeCase{"2026-11-23T10:30:00+01:30", "2026-11-23T09:00:00.000Z"},
                    TimeCase{"2026-11-22T23:00:00-10:00", "2026-11-23T09:00:00.000Z"},
                    TimeCase{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"},
                    TimeCase{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"},
                    TimeCase{"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
                    TimeCase{"2026-12-31T23:59:60Z", "2026-12-31T23:59:59.000Z"},
                    TimeCase{"2025-02-29T00:00:00Z", nullptr}, TimeCase{"2026-13-01T00:00:00Z", nullptr},
                    TimeCase{"2026-11-31T00:00:00Z", nullptr}, TimeCase{"2026-11-23T24:00:00Z", nullptr},
                    TimeCase{"2026-11-23T09:60:00Z", nullptr}, TimeCase{"2026-11-23T09:00:00", nullptr},
                    TimeCase{"2026-11-23T09:00Z", nullptr}, TimeCase{"2026-11-23", nullptr},
                    TimeCase{"2026-11-23T09:00:00.Z", nullptr}, TimeCase{"2026-11-23T09:00:00+0100", nullptr},
                    TimeCase{"2026-11-23T09:00:00Zjunk", nullptr}, TimeCase{"", nullptr}, TimeCase{"tomorrow", nullptr},
                    TimeCase{"+2026-11-23T09:00:00Z", nullptr}));

TEST(Time, FormatsWholeSecondsAndUnixMs) {
  const auto t = from_unix_ms(1'795'424'400'123);
  EXPECT_EQ(to_unix_ms(t), 1'795'424'400'123);
  EXPECT_EQ(to_rfc3339(t), "2026-11-23T09:00:00.123Z");
  EXPECT_EQ(to_rfc3339_seconds(t), "2026-11-23T09:00:00Z");
}

TEST(Time, NowRoundTrips) {
  const auto now = now_utc();
  EXPECT_EQ(parse_rfc3339(to_rfc3339(now)), now);
}

TEST(Utf8, AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5"));  // é € 🎥
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));                           // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("ab\xc3\xa9z\xff"), 5u);
  EXPECT_FALSE(first_invalid_utf8("ab").has_value());
}

TEST(Utf8, ReplacesEachBadByteWithTheReplacementCharacter) {
  EXPECT_EQ(to_valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(to_valid_utf8("a\xff"
                          "b\xc3"),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xed\xa0\x80\xc0\xaf")));
}

TEST(Utf8, EscapesForLogsWithoutTouchingText) {
  EXPECT_EQ(escape_for_log("Salle \xc3\xa9t\xc3\xa9"), "Salle \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(escape_for_log("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(escape_for_log("/api/\xff\xc3"), "/api/\\xff\\xc3");
  EXPECT_EQ(escape_for_log("\xc2\x9b"
                           "2J"),
            "\\xc2\\x9b"
            "2J");  // C1 CSI
}

TEST(Hash, HmacSha1MatchesRfc2202) {
  const auto mac = util::hmac_sha1("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(util::to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}
