#include "common/config/log_section.hpp"

namespace classcam::config {

log::Options read_log_section(TomlReader& s) {
  log::Options o;
  const std::vector<std::string_view> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  o.level = *log::parse_level(s.choice("level", "info", levels));
  auto comps = s.section("components");
  for (const auto& name : comps.keys()) {
    o.components[name] = *log::parse_level(comps.choice(name, "info", levels));
  }
  comps.finish();
  return o;
}

}  // namespace classcam::config
