#include "hub/uploads/headers.hpp"

#include <charconv>

#include "common/util/utf8.hpp"

namespace classcam::hub::uploads {

Metadata parse_metadata(std::string_view header) {
  Metadata m;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view pair = header.substr(0, comma);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (!pair.empty()) {
      const auto space = pair.find(' ');
      const std::string key(pair.substr(0, space));
      std::string value;
      if (space != std::string_view::npos) {
        const auto decoded = util::base64_decode(pair.substr(space + 1));
        if (!decoded) {
          m.error = "the value of \"" + key + "\" is not base64";
          return m;
        }
        value = *decoded;
      }
      // Base64 hides the bytes from the header check; the values are echoed in errors and stored.
      if (!util::is_valid_utf8(key) || !util::is_valid_utf8(value)) {
        m.error =
            util::is_valid_utf8(key) ? "the value of \"" + key + "\" is not valid UTF-8" : "a key is not valid UTF-8";
        return m;
      }
      if (m.values.count(key) != 0) {
        m.error = "\"" + key + "\" appears twice";
        return m;
      }
      m.values[key] = value;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return m;
}

Result<UploadChecksum> parse_upload_checksum(std::string_view header) {
  const auto space = header.find(' ');
  UploadChecksum c;
  c.name = std::string(header.substr(0, space));
  const auto algorithm = util::hash_algorithm_from_name(c.name);
  if (!algorithm) return Error{"unsupported algorithm \"" + c.name + "\" (use sha1 or sha256)"};
  c.algorithm = *algorithm;
  const auto digest = space == std::string_view::npos ? std::nullopt : util::base64_decode(header.substr(space + 1));
  if (!digest) return Error{"expected \"<algorithm> <base64 digest>\""};
  c.digest = *digest;
  return c;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace classcam::hub::uploads
