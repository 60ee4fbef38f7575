#pragma once
// SHA-256 / SHA-1 digests through OpenSSL EVP, plus the base64 and constant-time helpers that go with
// them (tus sends checksums in base64; tokens are compared in constant time).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::util {

enum class HashAlgorithm { sha1, sha256 };

// Name as used by tus' Upload-Checksum header ("sha1", "sha256"); nullopt for an unknown name.
std::optional<HashAlgorithm> hash_algorithm_from_name(std::string_view name);

// Incremental hasher. Its state can be copied (fork) so a caller can take a digest of the bytes so far
// and continue, which the tus server needs to check one chunk without rehashing the whole file.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, std::size_t n);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Ends this hasher; further updates are a programming error.
  std::vector<unsigned char> finish();
  std::string finish_hex();
  Hasher fork() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view bytes);
// HMAC-SHA1 of `data` under `key`, raw bytes (TURN's REST credentials: coturn checks exactly this).
std::string hmac_sha1(std::string_view key, std::string_view data);
std::string sha1_hex(std::string_view bytes);
// Digest of a whole file, read in blocks; an I/O error comes back as an Error naming the file.
Result<std::string> file_digest_hex(const std::filesystem::path& path, HashAlgorithm algorithm = HashAlgorithm::sha256);

std::string base64_encode(const unsigned char* data, std::size_t n);
std::string base64_encode(std::string_view bytes);
// Strict decoding of standard base64 with padding; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex to bytes; nullopt when malformed.
std::optional<std::string> from_hex(std::string_view hex);

// Equality that takes the same time whatever the contents, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace classcam::util
