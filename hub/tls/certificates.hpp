#pragma once
// The hub's TLS material when no certificate is configured: a local CA (EC P-256, 20 years) created
// once in <state_dir>/tls, and a server certificate (EC P-256, 397 days) signed by it for every name
// the hub is reached by. The CA key stays (0600): the broker's certificate is signed by the same CA
// and units are handed the CA at enrolment, pinned by its SHA-256 fingerprint.
//
// Files: ca.pem, ca.key, server.pem (server certificate followed by the CA), server.key.
#include <filesystem>
#include <string>
#include <vector>

namespace classcam::hub::tls {

struct Material {
  std::filesystem::path cert_chain;  // PEM: leaf first
  std::filesystem::path key;
  std::filesystem::path ca_cert;  // empty when the operator configured their own certificate
  std::string ca_fingerprint;     // SHA-256, "AB:CD:..." (empty without a local CA)
  std::string cert_fingerprint;   // of the leaf
  bool issued_now = false;        // a server certificate was (re)issued by this call
};

// The names a generated server certificate covers: localhost, 127.0.0.1, ::1, the host of
// `public_url` (when set) and this machine's hostname.
std::vector<std::string> default_names(const std::string& public_url);

// Creates the CA if absent; issues a server certificate when there is none, when it expires within
// 30 days, when it does not cover every name in `names`, or when it was not signed by this CA.
// Throws std::runtime_error (start-up error) when files cannot be written or read.
Material ensure_local_material(const std::filesystem::path& dir, const std::vector<std::string>& names);

// Material for an operator's own certificate and key (checked to load and to match each other).
Material configured_material(const std::filesystem::path& cert_chain, const std::filesystem::path& key);

// Signs a leaf certificate for `names` (DNS names or IP addresses) with the CA in `dir`, writing
// `out_cert` (leaf + CA) and `out_key` (0600). For the broker's certificate in a later issue.
void issue_leaf(const std::filesystem::path& dir, const std::vector<std::string>& names,
                const std::filesystem::path& out_cert, const std::filesystem::path& out_key, int days);

// SHA-256 fingerprint of the first certificate in a PEM file, "AB:CD:...".
std::string fingerprint(const std::filesystem::path& pem_file);

}  // namespace classcam::hub::tls
