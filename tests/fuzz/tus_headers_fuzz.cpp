// The tus request headers the hub parses: Upload-Metadata (comma-separated "key base64"), Upload-Checksum
// ("algorithm base64") and the numbers of Upload-Offset / Upload-Length. Each accepts or names what is
// wrong; what it accepts must read the same once written back the way a tus client writes it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/hash.hpp"
#include "hub/uploads/headers.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using namespace classcam::hub::uploads;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);

  const Metadata m = parse_metadata(header);
  if (m.error.empty()) {
    std::string written;
    for (const auto& [k, v] : m.values) {
      check(!k.empty() && k.find_first_of(", ") == std::string::npos, "a metadata key with a separator in it");
      written += (written.empty() ? "" : ",") + k + (v.empty() ? "" : " " + util::base64_encode(v));
    }
    const Metadata again = parse_metadata(written);
    check(again.error.empty() && again.values == m.values, "Upload-Metadata changed on a round trip");
  }

  if (const auto c = parse_upload_checksum(header)) {
    check(util::hash_algorithm_from_name(c->name) == c->algorithm, "checksum algorithm is not its name's");
    const auto again = parse_upload_checksum(c->name + " " + util::base64_encode(c->digest));
    check(again && again->digest == c->digest && again->algorithm == c->algorithm,
          "Upload-Checksum changed on a round trip");
  } else {
    check(!c.error().message.empty(), "a checksum refusal that says nothing");
  }

  if (const auto n = parse_u64(header)) {
    check(header.find_first_not_of("0123456789") == std::string_view::npos, "a number with more than digits");
    check(parse_u64(std::to_string(*n)) == n, "a number changed on a round trip");
  }
  return 0;
}
