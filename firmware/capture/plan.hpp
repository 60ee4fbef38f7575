#pragma once
// What the unit captures and how, as a pure function of the configuration and of what this machine
// offers (Capabilities, found by probe.hpp). Nothing here touches GStreamer: the result is a pipeline
// description in gst-launch syntax that recorder.hpp runs, that tests check as text, and that
// `classcamd --print-pipeline` prints so the same pipeline can be run by hand.
//
// Choices and their fallbacks (each logged with its reason):
//   video source  auto: libcamera (a camera is present) -> v4l2 (the device captures) -> test picture
//   encoder       auto: v4l2h264enc (an M2M encoder exists and the size fits level 4.0) -> x264enc -> openh264enc
//   audio         auto: ALSA (a capture device exists) -> none
// A source the configuration names explicitly and this machine lacks is an error, never a silent
// substitute: a technician who asked for the camera must learn that it is missing.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/unit_config.hpp"
#include "common/protocol/messages.hpp"
#include "common/util/result.hpp"

namespace classcam::capture {

enum class VideoSource { libcamera, v4l2, test, file };
enum class AudioSource { alsa, pulse, test, none };
enum class VideoEncoder { v4l2, x264, openh264 };

std::string_view to_string(VideoSource v);
std::string_view to_string(AudioSource v);
std::string_view to_string(VideoEncoder v);

// What this machine offers. probe.hpp fills it in; tests build it by hand.
struct Capabilities {
  std::set<std::string> elements;  // available GStreamer element factories
  bool libcamera_camera = false;
  std::string libcamera_detail;  // what the libcamera probe found (or why it found nothing)
  bool v4l2_capture = false;
  std::string v4l2_detail;
  bool alsa_capture = false;
  std::string alsa_detail;
  bool file_readable = false;
  std::string file_detail;
  bool has(std::string_view element) const { return elements.count(std::string(element)) != 0; }
};

// The element factories the planner may use; probe.hpp looks each of them up.
const std::vector<std::string>& known_elements();

struct Selection {
  std::optional<VideoSource> video;  // absent in audio-only rooms
  std::string video_reason;
  std::optional<VideoEncoder> encoder;
  std::string encoder_reason;
  AudioSource audio = AudioSource::none;
  std::string audio_reason;
  std::string audio_encoder;          // avenc_aac, voaacenc or opusenc; empty without audio
  bool clock_overlay = false;         // burn the wall clock in (timestamp_overlay, and the test picture)
  std::vector<std::string> warnings;  // a configured choice that could not be honoured
};

// Chooses sources and encoder; an Error says what is missing and what to do about it.
Result<Selection> select(const config::UnitConfig& config, const Capabilities& caps);

// Recording: mp4mux writes one continuous fragmented MP4 (the spool cuts it into segment files at
// keyframes, spool/segment_writer.hpp). A fragment leaves the muxer once it holds this much media, so
// it bounds both what a kill -9 can lose and how soon the first frame is on disk (docs/recording.md
// has the measurements behind the number).
inline constexpr std::uint32_t kFragmentMs = 100;

// Names of the elements the GStreamer glue looks up in a planned pipeline.
inline constexpr const char* kPrivacyElement = "privacy";  // identity; frame probe on its src pad
inline constexpr const char* kMuxElement = "mux";          // mp4mux
inline constexpr const char* kSinkElement = "sink";        // appsink taking the muxed stream
inline constexpr const char* kPreviewElement = "preview";  // appsink (preview pipelines)
inline constexpr const char* kCameraElement = "camera";    // the video source
inline constexpr const char* kEncoderElement = "encoder";  // the H.264 encoder (a GstVideoEncoder)
inline constexpr const char* kVideoTeeElement = "vtee";    // tee after h264parse: live takes H.264 here
inline constexpr const char* kAudioTeeElement = "atee";    // tee on raw audio before the recording's encoder
inline constexpr const char* kLiveBinElement = "live";     // the live branch's bin (firmware/live), when added

// The encoder's own keyframe interval over the grid's (see Plan::keyframe_interval).
inline constexpr std::uint32_t kEncoderIntervalFactor = 4;

struct Plan {
  std::string description;  // gst-launch syntax
  Selection selection;
  std::optional<protocol::VideoFormat> video;
  std::optional<protocol::AudioFormat> audio;
  // Frames between keyframes on the grid: one GOP per segment, so segments start on keyframes. The
  // grid (KeyframeGrid, keyframes.hpp, every keyframe_grid_ms) places them; the encoder's own interval
  // is kEncoderIntervalFactor times longer, a safety net that never fires while the grid runs.
  std::uint32_t keyframe_interval = 0;
  std::uint32_t keyframe_grid_ms = 0;  // 0: no video
  std::uint32_t warmup_frames = 0;     // preview: frames to skip while a real camera settles exposure
};

// The recording pipeline, ending in an appsink named kSinkElement; with `file` set it ends in a
// filesink writing the same stream there instead (for gst-launch comparisons: --print-pipeline, bench/).
Plan plan_recording(const config::UnitConfig& config, const Selection& selection,
                    const std::optional<std::string>& file = std::nullopt);
// Live with no recording running (a coach checks the framing): the recording's source and encoder up
// to the same tees (kVideoTeeElement, kAudioTeeElement), which end in fakesinks; nothing is muxed.
Plan plan_live(const config::UnitConfig& config, const Selection& selection);
// A short video-only pipeline ending in an appsink, for snapshots while idle. Requires video.
Plan plan_preview(const config::UnitConfig& config, const Selection& selection);

// H.264 level for a size and rate (the smallest that fits), as a caps string ("3.1", "4", "4.2", ...).
std::string h264_level(std::uint32_t width, std::uint32_t height, std::uint32_t framerate);

}  // namespace classcam::capture
