#include "hub/tls/certificates.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "common/util/hex.hpp"

namespace classcam::hub::tls {

namespace {

namespace fs = std::filesystem;

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

constexpr int kCaDays = 20 * 365;
constexpr int kLeafDays = 397;
constexpr int kRenewDays = 30;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("TLS: " + what); }

void check(int rc, const char* what) {
  if (rc <= 0) fail(std::string(what) + " failed");
}

bool is_ip(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Key new_key() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) fail("EC P-256 key generation failed");
  return k;
}

// Writes `data` to `path` atomically with mode `mode` (keys 0600).
void write_file(const fs::path& path, const std::string& data, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot write " + tmp.string() + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      ::close(fd);
      fail("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  fs::rename(tmp, path);
}

std::string pem_of(const X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Cert read_cert(const fs::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key read_key(const fs::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("bad certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert new_cert(EVP_PKEY* key, const std::string& common_name, int days) {
  Cert cert(X509_new());
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clocks a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("classcam"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  return cert;
}

void make_ca(const fs::path& dir) {
  auto key = new_key();
  auto cert = new_cert(key.get(), "classcam local CA", kCaDays);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()), "X509_sign (CA)");
  write_file(dir / "ca.key", pem_of(key.get()), 0600);
  write_file(dir / "ca.pem", pem_of(cert.get()), 0644);
}

std::string fingerprint_of(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  check(X509_digest(cert, EVP_sha256(), md, &n), "X509_digest");
  std::string hex = util::to_hex(md, n);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
  }
  return out;
}

bool covers(X509* cert, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    const int ok =
        is_ip(n) ? X509_check_ip_asc(cert, n.c_str(), 0) : X509_check_host(cert, n.c_str(), n.size(), 0, nullptr);
    if (ok != 1) return false;
  }
  return true;
}

bool leaf_is_good(const fs::path& cert_path, const fs::path& key_path, X509* ca,
                  const std::vector<std::string>& names) {
  auto cert = read_cert(cert_path);
  auto key = read_key(key_path);
  if (!cert || !key) return false;
  if (X509_check_private_key(cert.get(), key.get()) != 1) return false;
  EVP_PKEY* ca_pub = X509_get0_pubkey(ca);
  if (ca_pub == nullptr || X509_verify(cert.get(), ca_pub) != 1) return false;
  const time_t renew_by = ::time(nullptr) + static_cast<time_t>(kRenewDays) * 24 * 3600;
  if (X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<time_t*>(&renew_by)) <= 0) return false;
  return covers(cert.get(), names);
}

}  // namespace

std::vector<std::string> default_names(const std::string& public_url) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  auto add = [&](std::string n) {
    if (n.empty()) return;
    for (const auto& have : names) {
      if (have == n) return;
    }
    names.push_back(std::move(n));
  };
  if (const auto p = public_url.find("://"); p != std::string::npos) {
    std::string rest = public_url.substr(p + 3);
    rest = rest.substr(0, rest.find('/'));
    if (!rest.empty() && rest.front() == '[') {
      add(rest.substr(1, rest.find(']') - 1));
    } else {
      add(rest.substr(0, rest.find(':')));
    }
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) add(host);
  return names;
}

void issue_leaf(const fs::path& dir, const std::vector<std::string>& names, const fs::path& out_cert,
                const fs::path& out_key, int days) {
  auto ca = read_cert(dir / "ca.pem");
  auto ca_key = read_key(dir / "ca.key");
  if (!ca || !ca_key) fail("cannot read the local CA in " + dir.string());
  auto key = new_key();
  auto cert = new_cert(key.get(), names.empty() ? "classcam" : names.back(), days);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "" : ",") + std::string(is_ip(n) ? "IP:" : "DNS:") + n;
  add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add_ext(cert.get(), ca.get(), NID_subject_alt_name, san);
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()), "X509_sign (leaf)");
  write_file(out_key, pem_of(key.get()), 0600);
  write_file(out_cert, pem_of(cert.get()) + pem_of(ca.get()), 0644);
}

Material ensure_local_material(const fs::path& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  Material m;
  m.ca_cert = dir / "ca.pem";
  m.cert_chain = dir / "server.pem";
  m.key = dir / "server.key";
  if (!read_cert(m.ca_cert) || !read_key(dir / "ca.key")) make_ca(dir);
  auto ca = read_cert(m.ca_cert);
  if (!ca) fail("cannot read " + m.ca_cert.string());
  if (!leaf_is_good(m.cert_chain, m.key, ca.get(), names)) {
    issue_leaf(dir, names, m.cert_chain, m.key, kLeafDays);
    m.issued_now = true;
  }
  m.ca_fingerprint = fingerprint_of(ca.get());
  m.cert_fingerprint = fingerprint(m.cert_chain);
  return m;
}

Material configured_material(const fs::path& cert_chain, const fs::path& key_path) {
  auto cert = read_cert(cert_chain);
  if (!cert) fail("cannot read a PEM certificate from " + cert_chain.string());
  auto key = read_key(key_path);
  if (!key) fail("cannot read a PEM private key from " + key_path.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    fail(key_path.string() + " is not the key of the certificate in " + cert_chain.string());
  }
  Material m;
  m.cert_chain = cert_chain;
  m.key = key_path;
  m.cert_fingerprint = fingerprint_of(cert.get());
  return m;
}

std::string fingerprint(const fs::path& pem_file) {
  auto cert = read_cert(pem_file);
  if (!cert) fail("cannot read a PEM certificate from " + pem_file.string());
  return fingerprint_of(cert.get());
}

}  // namespace classcam::hub::tls
