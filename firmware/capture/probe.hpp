#pragma once
// Finds out what this machine offers for capture (Capabilities, plan.hpp). Blocking: the libcamera
// check opens the camera stack (a few hundred ms with a camera, ~0.1 s without). Run at start-up, or on
// the worker pool.
#include <chrono>
#include <string>

#include "common/config/unit_config.hpp"
#include "firmware/capture/plan.hpp"

namespace classcam::capture {

// Probes only what the configuration could use (no libcamera check when video.source = "test" ...).
Capabilities probe(const config::UnitConfig& config);

// Each returns a sentence for the log and sets `found`.
std::string probe_libcamera(const std::string& camera, bool& found,
                            std::chrono::milliseconds timeout = std::chrono::seconds(3));
std::string probe_v4l2(const std::string& device, bool& found);
std::string probe_alsa(bool& found);

}  // namespace classcam::capture
