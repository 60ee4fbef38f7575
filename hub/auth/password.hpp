#pragma once
// Argon2id password hashes (libsodium crypto_pwhash_str, "interactive" cost: 64 MiB, 2 passes) and
// generated passwords. Hashing takes ~0.1 s of CPU on purpose: call it from the worker pool, never
// from the io_context.
#include <optional>
#include <string>
#include <string_view>

namespace classcam::hub::auth {

// The encoded hash ("$argon2id$v=19$m=65536,t=2,p=1$..."), salt included.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view encoded_hash, std::string_view password);

// Spends about as long as verify_password on a known hash, so an unknown login takes as long as a
// wrong password and logins cannot be probed by timing.
void verify_dummy(std::string_view password);

// A random password people can type: four groups of five from an alphabet without look-alikes
// (about 100 bits).
std::string generate_password();

// nullopt when acceptable, else why not (for passwords people choose themselves).
std::optional<std::string> password_problem(std::string_view password);

}  // namespace classcam::hub::auth
