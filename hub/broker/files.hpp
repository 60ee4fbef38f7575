#pragma once
// What Mosquitto is given: its configuration, a password file (PBKDF2-SHA512 hashes, Mosquitto's "$7$"
// format, so the hub never stores a unit's MQTT password in clear) and an ACL file that confines every
// unit to its own topics (docs/protocol.md, "ACL"). Everything here is pure text, so tests read it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hub/store/types.hpp"

namespace classcam::hub::broker {

inline constexpr const char* kHubUser = "classcam-hub";

// A hash for Mosquitto's password file ("$7$101$<salt>$<hash>", base64), from a fresh random salt.
std::string hash_password(const std::string& password);
// True when `password` matches a "$7$" hash made by hash_password (or mosquitto_passwd).
bool check_password(const std::string& password, const std::string& hash);

struct Layout {
  std::filesystem::path dir;  // <state_dir>/broker
  std::filesystem::path conf() const { return dir / "mosquitto.conf"; }
  std::filesystem::path passwd() const { return dir / "passwd"; }
  std::filesystem::path acl() const { return dir / "acl"; }
  std::filesystem::path cert() const { return dir / "broker.pem"; }
  std::filesystem::path key() const { return dir / "broker.key"; }
  std::filesystem::path data() const { return dir / "data"; }
  std::filesystem::path log() const { return dir / "mosquitto.log"; }
  std::filesystem::path hub_secret() const { return dir / "hub.secret"; }
};

struct ListenerSettings {
  std::string listen;
  std::uint16_t port = 8883;
  std::filesystem::path ca_file;
  std::string run_as_user;  // set only when the hub runs as root (Mosquitto would drop to "mosquitto")
};

std::string config_text(const Layout& l, const ListenerSettings& s);
std::string passwd_text(const std::string& hub_password_hash, const std::vector<store::BrokerCredential>& units);
std::string acl_text(const std::vector<store::BrokerCredential>& units);

// Writes `text` to `path` by rename, mode 0600: a reload never reads a half-written file.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace classcam::hub::broker
