#include "hub/broker/files.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/protocol/topics.hpp"
#include "common/util/hash.hpp"

namespace classcam::hub::broker {

namespace fs = std::filesystem;

namespace {
constexpr int kIterations = 101;  // what mosquitto_passwd uses: the password is random and long, not a person's
constexpr std::size_t kSaltBytes = 12;
constexpr std::size_t kHashBytes = 64;

std::string pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha512(), static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}
}  // namespace

std::string hash_password(const std::string& password) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("no random bytes for a salt");
  }
  return "$7$" + std::to_string(kIterations) + "$" + util::base64_encode(salt) + "$" +
         util::base64_encode(pbkdf2(password, salt, kIterations));
}

bool check_password(const std::string& password, const std::string& hash) {
  // $7$<iterations>$<salt>$<hash>
  if (hash.rfind("$7$", 0) != 0) return false;
  const auto a = hash.find('$', 3);
  const auto b = a == std::string::npos ? a : hash.find('$', a + 1);
  if (b == std::string::npos) return false;
  const int iterations = std::atoi(hash.substr(3, a - 3).c_str());
  const auto salt = util::base64_decode(hash.substr(a + 1, b - a - 1));
  const auto digest = util::base64_decode(hash.substr(b + 1));
  if (iterations <= 0 || !salt || !digest) return false;
  return util::constant_time_equal(pbkdf2(password, *salt, iterations), *digest);
}

std::string config_text(const Layout& l, const ListenerSettings& s) {
  std::string t =
      "# Written by classcam-hub before every start of the broker, from its database: edits are lost.\n"
      "per_listener_settings false\n"
      "allow_anonymous false\n"
      "password_file " +
      l.passwd().string() +
      "\n"
      "acl_file " +
      l.acl().string() +
      "\n"
      // Units connect with clean session off: QoS 1 commands wait for them, across broker restarts too.
      "persistence true\n"
      "persistence_location " +
      l.data().string() +
      "/\n"
      "autosave_interval 60\n"
      "log_dest stderr\n"
      "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
      "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
      "max_inflight_messages 20\n"
      "max_packet_size 2097152\n";
  if (!s.run_as_user.empty()) t += "user " + s.run_as_user + "\n";
  t += "\nlistener " + std::to_string(s.port) + (s.listen.empty() ? "" : " " + s.listen) +
       "\n"
       "protocol mqtt\n"
       "cafile " +
       s.ca_file.string() +
       "\n"
       "certfile " +
       l.cert().string() +
       "\n"
       "keyfile " +
       l.key().string() +
       "\n"
       "tls_version tlsv1.2\n"
       "require_certificate false\n"
       // A client's id is its login: without this any unit could connect with the hub's (or another
       // unit's) client id and so disconnect it, as MQTT lets a new connection take over an id.
       "use_username_as_clientid true\n";
  return t;
}

std::string passwd_text(const std::string& hub_password_hash, const std::vector<store::BrokerCredential>& units) {
  std::string t = std::string(kHubUser) + ":" + hub_password_hash + "\n";
  for (const auto& u : units) {
    if (u.unit_id != kHubUser) t += u.unit_id + ":" + u.password_hash + "\n";  // the store refuses it anyway
  }
  return t;
}

std::string acl_text(const std::vector<store::BrokerCredential>& units) {
  using protocol::Channel;
  std::string t = "# Written by classcam-hub: each unit publishes and subscribes only under its own prefix.\n";
  t += "user " + std::string(kHubUser) + "\ntopic readwrite #\n";
  for (const auto& u : units) {
    if (u.unit_id == kHubUser) continue;
    t += "\nuser " + u.unit_id + "\n";
    for (const auto c : {Channel::state, Channel::telemetry, Channel::events, Channel::results}) {
      t += "topic write " + protocol::topic(u.unit_id, c) + "\n";
    }
    for (const auto c : {Channel::commands, Channel::schedule, Channel::live}) {
      t += "topic read " + protocol::topic(u.unit_id, c) + "\n";
    }
  }
  return t;
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  fs::rename(tmp, path);
}

}  // namespace classcam::hub::broker
