// The Range header of a media request against a file of any size: parse_range answers none, a single
// range inside the file, or unsatisfiable, and never anything out of bounds. A plain "bytes=a-b" it
// must read exactly.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "hub/http/files.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam::hub::http;
using classcam::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  // Mostly small files, so the boundaries are reached; sometimes any size at all.
  const std::uint64_t file_size =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 4096) : in.ConsumeIntegral<std::uint64_t>();
  const std::string header = in.ConsumeRemainingBytesAsString();
  const RangeRequest r = parse_range(header, file_size);
  if (r.kind == RangeKind::single) {
    check(r.range.first <= r.range.last, "a range that ends before it starts");
    check(r.range.last < file_size, "a range past the end of the file");
  }

  // An oracle for the common form.
  const std::uint64_t a = file_size == 0 ? 0 : data[0] % file_size;
  const std::uint64_t b = std::min<std::uint64_t>(a + size, file_size == 0 ? 0 : file_size - 1);
  if (file_size > 0) {
    const RangeRequest plain = parse_range("bytes=" + std::to_string(a) + "-" + std::to_string(b), file_size);
    check(plain.kind == RangeKind::single && plain.range.first == a && plain.range.last == b,
          "bytes=a-b inside the file not read as that range");
  }
  return 0;
}
