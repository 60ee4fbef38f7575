// A request target as the server hands it to the router: split_target splits path and query and
// percent-decodes the query; percent_decode refuses malformed escapes. The path is the target up to the
// first '?', untouched; decoding never grows a string; encoding then decoding gives back any bytes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "hub/http/message.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam::hub::http;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  std::string path;
  std::map<std::string, std::string> query;
  split_target(target, path, query);
  check(path == target.substr(0, target.find('?')), "the path is not the target before '?'");
  for (const auto& [k, v] : query) {
    check(!k.empty(), "an empty query parameter name");
    check(k.size() + v.size() <= size, "query parameters longer than the target");
  }
  for (const bool plus : {false, true}) {
    if (const auto d = percent_decode(target, plus)) check(d->size() <= size, "decoding made a string longer");
  }
  const auto round = percent_decode(percent_encode(target));
  check(round && *round == target, "percent_encode then percent_decode changed the bytes");
  return 0;
}
