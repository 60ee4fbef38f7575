#include "hub/auth/password.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace classcam::hub::auth {

namespace {
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

const std::string& dummy_hash() {
  static const std::string h = hash_password("classcam-dummy-password-for-timing");
  return h;
}
}  // namespace

std::string hash_password(std::string_view password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("crypto_pwhash_str failed (out of memory?)");
  }
  return out;
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  ensure_sodium();
  const std::string h(encoded_hash);  // crypto_pwhash_str_verify wants a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

void verify_dummy(std::string_view password) { (void)verify_password(dummy_hash(), password); }

std::string generate_password() {
  ensure_sodium();
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";  // no i, l, o, 0, 1
  constexpr std::uint32_t n = sizeof(kAlphabet) - 1;
  std::string out;
  for (int group = 0; group < 4; ++group) {
    if (group > 0) out += '-';
    for (int i = 0; i < 5; ++i) out += kAlphabet[randombytes_uniform(n)];
  }
  return out;
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password.size() < 10) return "must be at least 10 characters";
  if (password.size() > 1024) return "must be at most 1024 characters";
  return std::nullopt;
}

}  // namespace classcam::hub::auth
