#pragma once
// Writes an exposition to a file for node_exporter's textfile collector. The file is written beside
// its final name and renamed into place, so the collector never reads half a file (it would drop every
// metric in it and log an error). No fsync: a lost file after a power cut is rewritten at the next tick.
#include <filesystem>
#include <string>

#include "common/util/result.hpp"

namespace classcam::metrics {

Status write_textfile(const std::filesystem::path& path, const std::string& text);

}  // namespace classcam::metrics
