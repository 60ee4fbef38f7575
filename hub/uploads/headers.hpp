#pragma once
// The tus request headers the hub parses, read without the store or the disk (tests/fuzz feeds them
// arbitrary bytes): Upload-Metadata, Upload-Checksum, and the numbers of Upload-Offset and Upload-Length.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/hash.hpp"
#include "common/util/result.hpp"

namespace classcam::hub::uploads {

// Upload-Metadata: "key base64value,key2 base64value2" (values optional). `error` names what is wrong
// (values that are not base64, or do not decode to UTF-8).
struct Metadata {
  std::map<std::string, std::string> values;
  std::string error;
};
Metadata parse_metadata(std::string_view header);

// Upload-Checksum: "<algorithm> <base64 digest>", algorithm sha1 or sha256.
struct UploadChecksum {
  util::HashAlgorithm algorithm = util::HashAlgorithm::sha256;
  std::string name;    // as sent ("sha256"), for messages
  std::string digest;  // decoded bytes
};
// The Error says what is wrong: an unsupported algorithm, or no base64 digest after it.
Result<UploadChecksum> parse_upload_checksum(std::string_view header);

// Upload-Offset and Upload-Length: a non-negative decimal number of at most 19 digits, nothing else.
std::optional<std::uint64_t> parse_u64(std::string_view s);

}  // namespace classcam::hub::uploads
