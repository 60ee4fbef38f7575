#include "hub/tls/certificates.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <regex>

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub::tls;

namespace {
unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}
}  // namespace

TEST(Certificates, DefaultNamesIncludeLoopbackAndThePublicHost) {
  const auto n = default_names("https://hub.school.example:8443");
  for (const char* want : {"localhost", "127.0.0.1", "::1", "hub.school.example"}) {
    EXPECT_NE(std::find(n.begin(), n.end(), want), n.end()) << want;
  }
  const auto v6 = default_names("https://[fd00::5]:8443");
  EXPECT_NE(std::find(v6.begin(), v6.end(), "fd00::5"), v6.end());
}

TEST(Certificates, GeneratesACaAndAServerCertificateTheCaVerifies) {
  test::TempDir dir;
  const std::vector<std::string> names = {"localhost", "127.0.0.1", "::1", "hub.school.example"};
  const auto m = ensure_local_material(dir / "tls", names);
  EXPECT_TRUE(m.issued_now);
  EXPECT_TRUE(std::regex_match(m.ca_fingerprint, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << m.ca_fingerprint;
  EXPECT_EQ(mode_of(dir / "tls/ca.key"), 0600u);
  EXPECT_EQ(mode_of(dir / "tls/server.key"), 0600u);

  const auto verify = test::run({"openssl", "verify", "-CAfile", (dir / "tls/ca.pem").string(), "-verify_hostname",
                                 "hub.school.example", (dir / "tls/server.pem").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  const auto ip = test::run({"openssl", "verify", "-CAfile", (dir / "tls/ca.pem").string(), "-verify_ip", "::1",
                             (dir / "tls/server.pem").string()});
  EXPECT_EQ(ip.exit_code, 0) << ip.output;
  const auto wrong = test::run({"openssl", "verify", "-CAfile", (dir / "tls/ca.pem").string(), "-verify_hostname",
                                "evil.example", (dir / "tls/server.pem").string()});
  EXPECT_NE(wrong.exit_code, 0);

  const auto text = test::run({"openssl", "x509", "-in", (dir / "tls/ca.pem").string(), "-noout", "-text"});
  EXPECT_NE(text.output.find("prime256v1"), std::string::npos) << "EC P-256";
  EXPECT_NE(text.output.find("CA:TRUE"), std::string::npos);
}

TEST(Certificates, ReusesWhatIsValidAndReissuesOnlyTheLeafWhenNamesChange) {
  test::TempDir dir;
  const auto first = ensure_local_material(dir / "tls", {"localhost"});
  const auto again = ensure_local_material(dir / "tls", {"localhost"});
  EXPECT_FALSE(again.issued_now);
  EXPECT_EQ(again.cert_fingerprint, first.cert_fingerprint);
  const auto renamed = ensure_local_material(dir / "tls", {"localhost", "hub.example"});
  EXPECT_TRUE(renamed.issued_now);
  EXPECT_NE(renamed.cert_fingerprint, first.cert_fingerprint);
  EXPECT_EQ(renamed.ca_fingerprint, first.ca_fingerprint) << "the CA units pin never changes";
}

TEST(Certificates, ConfiguredMaterialMustMatch) {
  test::TempDir a;
  test::TempDir b;
  const auto ma = ensure_local_material(a.path(), {"localhost"});
  const auto mb = ensure_local_material(b.path(), {"localhost"});
  EXPECT_NO_THROW(configured_material(ma.cert_chain, ma.key));
  EXPECT_THROW(configured_material(ma.cert_chain, mb.key), std::runtime_error);
  EXPECT_THROW(configured_material(a / "missing.pem", ma.key), std::runtime_error);
}
