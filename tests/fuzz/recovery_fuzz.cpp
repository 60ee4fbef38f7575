// Crash recovery through its real entry point (Spool::open + Spool::recover) on a spool in a scratch
// directory: one unfinished session whose manifest has a valid session record followed by fuzzed lines,
// and one segment file (.part, or already renamed) holding fuzzed bytes. Recovery must not crash or hang,
// and must lose nothing: the segment's bytes stay on disk, split at most into the segment and its .torn
// tail. A second recovery of the result must not crash either.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/protocol/messages.hpp"
#include "firmware/spool/manifest.hpp"
#include "firmware/spool/spool.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using classcam::fuzz::check;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const bool renamed = in.ConsumeBool();  // a segment renamed before its manifest line was written
  const std::string manifest_tail = in.ConsumeRandomLengthString(2048);
  const std::string segment = in.ConsumeRemainingBytesAsString();

  const fs::path root = fuzz::scratch_dir() / "spool";
  std::error_code ec;
  fs::remove_all(root, ec);
  protocol::SessionInfo info;
  info.session_id = "s-fuzz";
  info.unit_id = "u-fuzz";
  info.started_at = util::from_unix_ms(1'790'000'000'000);
  const fs::path dir = spool::Spool::session_dir_in(root, info.session_id);
  fs::create_directories(dir);
  fuzz::write_file(dir / spool::kManifestFile, spool::session_record(info) + "\n" + manifest_tail);
  const std::string name = spool::Spool::segment_name(0) + (renamed ? "" : ".part");
  fuzz::write_file(dir / name, segment);

  config::UnitConfig::Spool cfg;
  cfg.dir = root;
  {
    spool::Spool s(cfg);
    if (!s.open()) return 0;
    (void)s.recover();
  }

  // Nothing lost: the file as it was, or the segment plus its torn tail, byte for byte.
  const fs::path closed = dir / spool::Spool::segment_name(0);
  const fs::path part = dir / (spool::Spool::segment_name(0) + ".part");
  const fs::path torn = dir / (spool::Spool::segment_name(0) + ".torn");
  std::string kept;
  for (const auto& p : {closed, part}) {
    if (fs::exists(p)) kept += fuzz::read_file(p);
  }
  if (fs::exists(torn)) kept += fuzz::read_file(torn);
  check(kept == segment, "recovery lost or changed bytes of the segment");

  spool::Spool again(cfg);
  if (again.open()) (void)again.recover();
  return 0;
}
