#pragma once
// The pairing code a technician reads off the hub and types on a unit to enrol it.
//
// It binds two things so that enrolment is safe on a network nobody controls:
//   - a one-time random secret (50 bits) the hub checks, rate-limited, before it hands out credentials;
//   - a pin of the hub's CA certificate (the first 100 bits of the SHA-256 of its DER encoding), so the
//     unit can check the CA it is offered before it sends the secret or trusts anything.
//
// Text form: 30 Crockford base32 characters in six dash-separated groups of five, e.g.
// "7KQ2M-XH4TD-0B9ZC-RW31P-Y8NFG-6JS2A": groups 1-2 are the secret, groups 3-6 the CA pin.
// Parsing forgives what people do when typing: lower case, spaces or no dashes, O for 0, I or L for 1.
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace classcam::protocol {

inline constexpr std::size_t kPairingSecretChars = 10;  // 50 bits
inline constexpr std::size_t kPairingPinChars = 20;     // 100 bits

struct PairingCode {
  std::string secret;  // kPairingSecretChars canonical base32 characters
  std::string ca_pin;  // kPairingPinChars canonical base32 characters

  // "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
  std::string text() const;
  bool operator==(const PairingCode&) const = default;
};

// A new code with a fresh random secret, pinned to the CA certificate in `ca_pem`.
// Throws std::invalid_argument when `ca_pem` holds no certificate (a start-up error on the hub).
PairingCode make_pairing_code(std::string_view ca_pem);

// Reads what a person typed. The error says what is wrong (length, a character that is not allowed).
Result<PairingCode> parse_pairing_code(std::string_view typed);

// The pin of the first certificate in `ca_pem`; an Error when it holds no readable certificate.
Result<std::string> ca_pin_of(std::string_view ca_pem);

// True when `ca_pem`'s first certificate is the one `code` was made for (compared in constant time).
bool pins_ca(const PairingCode& code, std::string_view ca_pem);

}  // namespace classcam::protocol
