#pragma once
// The [log] section, shared by the unit's and the hub's config.
#include "common/config/toml_reader.hpp"
#include "common/log/log.hpp"

namespace classcam::config {

// level = "info"; [log.components] capture = "debug" ...
log::Options read_log_section(TomlReader& section);

}  // namespace classcam::config
