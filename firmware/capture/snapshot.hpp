#pragma once
// JPEG snapshots for technicians framing the camera. Both functions block (GStreamer conversions and,
// for the preview, a camera that needs a moment): run them on the worker pool, never on the event loop.
#include <chrono>
#include <string>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/util/result.hpp"
#include "firmware/capture/gst.hpp"

namespace classcam::capture {

// Encodes a raw frame as JPEG, scaled down to at most `max_width` pixels across (aspect kept).
Result<std::string> encode_jpeg(GstSample* frame, std::uint32_t max_width, std::uint32_t quality);

// Runs a preview pipeline (plan_preview) just long enough to take one frame, privacy zones blacked out,
// after skipping `warmup_frames` while a real camera settles its exposure.
Result<SamplePtr> preview_frame(const std::string& description, std::uint32_t warmup_frames,
                                const std::vector<config::PrivacyZone>& zones, std::chrono::milliseconds timeout);

}  // namespace classcam::capture
