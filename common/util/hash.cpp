#include "common/util/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/util/hex.hpp"

namespace classcam::util {

struct Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

namespace {
const EVP_MD* md_for(HashAlgorithm a) { return a == HashAlgorithm::sha1 ? EVP_sha1() : EVP_sha256(); }

void check(int rc, const char* what) {
  if (rc != 1) throw std::runtime_error(std::string("OpenSSL ") + what + " failed");
}
}  // namespace

std::optional<HashAlgorithm> hash_algorithm_from_name(std::string_view name) {
  if (name == "sha1") return HashAlgorithm::sha1;
  if (name == "sha256") return HashAlgorithm::sha256;
  return std::nullopt;
}

Hasher::Hasher(HashAlgorithm algorithm) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr) throw std::bad_alloc();
  check(EVP_DigestInit_ex(impl_->ctx, md_for(algorithm), nullptr), "EVP_DigestInit_ex");
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, std::size_t n) {
  check(EVP_DigestUpdate(impl_->ctx, data, n), "EVP_DigestUpdate");
}

std::vector<unsigned char> Hasher::finish() {
  std::vector<unsigned char> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(impl_->ctx, out.data(), &len), "EVP_DigestFinal_ex");
  out.resize(len);
  return out;
}

std::string Hasher::finish_hex() {
  const auto d = finish();
  return to_hex(d.data(), d.size());
}

Hasher Hasher::fork() const {
  Hasher copy(HashAlgorithm::sha256);
  check(EVP_MD_CTX_copy_ex(copy.impl_->ctx, impl_->ctx), "EVP_MD_CTX_copy_ex");
  return copy;
}

std::string sha256_hex(std::string_view bytes) {
  Hasher h(HashAlgorithm::sha256);
  h.update(bytes);
  return h.finish_hex();
}

std::string sha1_hex(std::string_view bytes) {
  Hasher h(HashAlgorithm::sha1);
  h.update(bytes);
  return h.finish_hex();
}

Result<std::string> file_digest_hex(const std::filesystem::path& path, HashAlgorithm algorithm) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string() + ": " + std::strerror(errno)};
  Hasher h(algorithm);
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Error{"error reading " + path.string()};
  return h.finish_hex();
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA1 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string base64_encode(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool body =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    const bool pad = c == '=' && i + 2 >= text.size();
    if (!body && !pad) return std::nullopt;
  }
  if (text.empty()) return std::string();
  std::string out(3 * text.size() / 4, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (len < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t real = static_cast<std::size_t>(len);
  if (text.back() == '=') --real;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --real;
  out.resize(real);
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace classcam::util
