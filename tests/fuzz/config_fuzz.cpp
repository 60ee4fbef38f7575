// Arbitrary bytes as a unit or hub config: either parsed or refused with a ConfigError, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config/hub_config.hpp"
#include "common/config/toml_reader.hpp"
#include "common/config/unit_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    (void)classcam::config::parse_unit_config(input, "fuzz.toml");
  } catch (const classcam::config::ConfigError&) {
  }
  try {
    (void)classcam::config::parse_hub_config(input, "fuzz.toml");
  } catch (const classcam::config::ConfigError&) {
  }
  return 0;
}
