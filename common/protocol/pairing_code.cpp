#include "common/protocol/pairing_code.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "common/util/hash.hpp"
#include "common/util/utf8.hpp"

namespace classcam::protocol {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32

// Base32 of the first `chars` * 5 bits of `bytes`, most significant bit first.
std::string base32_prefix(const unsigned char* bytes, std::size_t n, std::size_t chars) {
  if (chars * 5 > n * 8) throw std::logic_error("base32_prefix: not enough bytes");
  std::string out;
  out.reserve(chars);
  for (std::size_t i = 0; i < chars; ++i) {
    unsigned value = 0;
    for (std::size_t b = 0; b < 5; ++b) {
      const std::size_t bit = i * 5 + b;
      value = (value << 1U) | ((bytes[bit / 8] >> (7 - bit % 8)) & 1U);
    }
    out.push_back(kAlphabet[value]);
  }
  return out;
}

// The canonical character for what someone typed, or 0 when it is not one.
char canonical(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return '0';
  if (c == 'I' || c == 'L') return '1';
  return kAlphabet.find(c) == std::string_view::npos ? '\0' : c;
}

// How a refusal names what was typed at `at`: the character, quoted, when it is a printable one (a whole
// UTF-8 sequence, never half of one: the message goes out as JSON), else the byte's value.
std::string describe_typed(std::string_view typed, std::size_t at) {
  const auto c = static_cast<unsigned char>(typed[at]);
  if (c >= 0x20 && c < 0x7F) return "'" + std::string(1, static_cast<char>(c)) + "'";
  // The length its lead byte announces (0xF5-0xFF announce none); the sequence is quoted only when it
  // is well-formed (the one rule of common/util/utf8).
  const std::size_t n = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  const bool whole = n > 0 && at + n <= typed.size() && util::is_valid_utf8(typed.substr(at, n));
  if (whole) return "'" + std::string(typed.substr(at, n)) + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("the byte 0x") + kHex[c >> 4] + kHex[c & 0x0F];
}

}  // namespace

std::string PairingCode::text() const {
  const std::string all = secret + ca_pin;
  std::string out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && i % 5 == 0) out.push_back('-');
    out.push_back(all[i]);
  }
  return out;
}

Result<std::string> ca_pin_of(std::string_view ca_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())),
                                                &BIO_free);
  if (!bio) return Error{"out of memory reading the CA certificate"};
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return Error{"the CA certificate is not a PEM certificate"};
  std::array<unsigned char, 32> digest{};
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest.data(), &len) != 1 || len != digest.size()) {
    return Error{"cannot take the SHA-256 of the CA certificate"};
  }
  return base32_prefix(digest.data(), digest.size(), kPairingPinChars);
}

PairingCode make_pairing_code(std::string_view ca_pem) {
  auto pin = ca_pin_of(ca_pem);
  if (!pin) throw std::invalid_argument("pairing code: " + pin.error().message);
  std::array<unsigned char, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("pairing code: the random generator failed");
  }
  return PairingCode{base32_prefix(random.data(), random.size(), kPairingSecretChars), *pin};
}

Result<PairingCode> parse_pairing_code(std::string_view typed) {
  std::string chars;
  for (std::size_t i = 0; i < typed.size(); ++i) {
    const char c = typed[i];
    if (c == '-' || c == ' ') continue;
    const char k = canonical(c);
    if (k == '\0') {
      return Error{"the pairing code cannot contain " + describe_typed(typed, i) +
                   ": it uses the digits 0-9 and the letters A-Z except I, L, O and U"};
    }
    chars.push_back(k);
  }
  constexpr std::size_t kTotal = kPairingSecretChars + kPairingPinChars;
  if (chars.size() != kTotal) {
    return Error{"the pairing code has " + std::to_string(kTotal) + " characters (six groups of five); got " +
                 std::to_string(chars.size())};
  }
  return PairingCode{chars.substr(0, kPairingSecretChars), chars.substr(kPairingSecretChars)};
}

bool pins_ca(const PairingCode& code, std::string_view ca_pem) {
  const auto pin = ca_pin_of(ca_pem);
  return pin && util::constant_time_equal(*pin, code.ca_pin);
}

}  // namespace classcam::protocol
