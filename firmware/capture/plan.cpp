#include "firmware/capture/plan.hpp"

#include <fmt/format.h>

#include <array>

namespace classcam::capture {

std::string_view to_string(VideoSource v) {
  switch (v) {
    case VideoSource::libcamera: return "libcamera";
    case VideoSource::v4l2: return "v4l2";
    case VideoSource::test: return "test";
    case VideoSource::file: return "file";
  }
  return "?";
}

std::string_view to_string(AudioSource v) {
  switch (v) {
    case AudioSource::alsa: return "alsa";
    case AudioSource::pulse: return "pulse";
    case AudioSource::test: return "test";
    case AudioSource::none: return "none";
  }
  return "?";
}

std::string_view to_string(VideoEncoder v) {
  switch (v) {
    case VideoEncoder::v4l2: return "v4l2h264enc";
    case VideoEncoder::x264: return "x264enc";
    case VideoEncoder::openh264: return "openh264enc";
  }
  return "?";
}

const std::vector<std::string>& known_elements() {
  static const std::vector<std::string> kElements = {
      "libcamerasrc", "v4l2src",     "videotestsrc", "filesrc",      "decodebin",   "alsasrc",   "pulsesrc",
      "audiotestsrc", "v4l2h264enc", "v4l2convert",  "x264enc",      "openh264enc", "avenc_aac", "voaacenc",
      "opusenc",      "h264parse",   "mp4mux",       "clockoverlay", "appsink",     "jpegenc"};
  return kElements;
}

namespace {

struct Level {
  const char* name;
  std::uint64_t max_fs;    // macroblocks per frame
  std::uint64_t max_mbps;  // macroblocks per second
  std::uint64_t max_kbps;  // Main profile; High allows 1.25x
};
constexpr std::array<Level, 11> kLevels = {{{"2.1", 792, 19800, 4000},
                                            {"2.2", 1620, 20250, 4000},
                                            {"3", 1620, 40500, 10000},
                                            {"3.1", 3600, 108000, 14000},
                                            {"3.2", 5120, 216000, 20000},
                                            {"4", 8192, 245760, 20000},
                                            {"4.1", 8192, 245760, 50000},
                                            {"4.2", 8704, 522240, 50000},
                                            {"5", 22080, 589824, 135000},
                                            {"5.1", 36864, 983040, 240000},
                                            {"5.2", 36864, 2073600, 240000}}};

std::string level_for(std::uint32_t width, std::uint32_t height, std::uint32_t fps, std::uint32_t kbps) {
  const std::uint64_t mbs = ((width + 15) / 16) * static_cast<std::uint64_t>((height + 15) / 16);
  for (const auto& l : kLevels) {
    if (mbs <= l.max_fs && mbs * fps <= l.max_mbps && kbps <= l.max_kbps * 5 / 4) return l.name;
  }
  return kLevels.back().name;
}

bool level_at_most_4(const std::string& level) {
  return level == "2.1" || level == "2.2" || level[0] == '3' || level == "4";
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

Result<std::optional<VideoSource>> select_video(const config::UnitConfig& c, const Capabilities& caps,
                                                std::string& reason) {
  if (!c.video.enabled) {
    reason = "video.enabled = false: audio-only room, no video is captured";
    return std::optional<VideoSource>{};
  }
  const std::string& s = c.video.source;
  if (s == "libcamera" || s == "auto") {
    if (caps.has("libcamerasrc") && caps.libcamera_camera) {
      reason = "libcamera camera: " + caps.libcamera_detail;
      return std::optional<VideoSource>{VideoSource::libcamera};
    }
    if (s == "libcamera") {
      if (!caps.has("libcamerasrc")) {
        return Error{
            "video.source = \"libcamera\" but libcamerasrc is not installed "
            "(Debian package gstreamer1.0-libcamera)"};
      }
      return Error{"libcamera found no camera (" + caps.libcamera_detail +
                   "). Check the camera cable and that the camera is enabled, or set video.source to \"v4l2\" or "
                   "\"test\""};
    }
  }
  if (s == "v4l2" || s == "auto") {
    if (caps.has("v4l2src") && caps.v4l2_capture) {
      reason = c.video.device + ": " + caps.v4l2_detail;
      return std::optional<VideoSource>{VideoSource::v4l2};
    }
    if (s == "v4l2") return Error{"video.source = \"v4l2\" but " + caps.v4l2_detail};
  }
  if (s == "file") {
    if (!caps.file_readable) return Error{"video.source = \"file\" but " + caps.file_detail};
    reason = "replaying " + c.video.file.string();
    return std::optional<VideoSource>{VideoSource::file};
  }
  if (s == "test") {
    reason = "video.source = \"test\": generated test picture with a clock";
  } else {
    reason = "no camera found (libcamera: " + caps.libcamera_detail + "; v4l2: " + caps.v4l2_detail +
             "), recording the test picture";
  }
  return std::optional<VideoSource>{VideoSource::test};
}

Result<VideoEncoder> select_encoder(const config::UnitConfig& c, const Capabilities& caps, std::string& reason,
                                    std::vector<std::string>& warnings) {
  const auto& v = c.video;
  const std::string level = level_for(v.width, v.height, v.framerate, c.encoder.bitrate_kbps);
  // The Pi's encoder stops at level 4.0 (1080p30) and 2032 pixels across.
  std::string v4l2_problem;
  if (!caps.has("v4l2h264enc")) {
    v4l2_problem = "no hardware H.264 encoder on this board (no v4l2h264enc)";
  } else if (!caps.has("v4l2convert")) {
    v4l2_problem = "v4l2convert is missing";
  } else if (v.width > 2032 || !level_at_most_4(level)) {
    v4l2_problem = fmt::format("{}x{}@{} needs H.264 level {}, beyond the hardware encoder's 4.0", v.width, v.height,
                               v.framerate, level);
  }
  const std::string& kind = c.encoder.kind;
  if (kind == "v4l2" || kind == "auto") {
    if (v4l2_problem.empty()) {
      reason = "hardware encoder (v4l2h264enc), level " + level;
      return VideoEncoder::v4l2;
    }
    if (kind == "v4l2") warnings.push_back("encoder.kind = \"v4l2\" but " + v4l2_problem + "; using software");
  }
  const std::string why_soft = kind == "auto" ? v4l2_problem + "; " : "";
  if ((kind == "x264" || kind == "auto" || kind == "v4l2") && caps.has("x264enc")) {
    reason = why_soft + "x264enc preset " + c.encoder.preset;
    return VideoEncoder::x264;
  }
  if (kind == "x264") warnings.push_back("encoder.kind = \"x264\" but x264enc is not installed; trying openh264enc");
  if (caps.has("openh264enc")) {
    reason = why_soft + "openh264enc (x264enc is not installed)";
    if (kind == "openh264") reason = "encoder.kind = \"openh264\"";
    return VideoEncoder::openh264;
  }
  return Error{"no H.264 encoder available (v4l2h264enc: " + v4l2_problem +
               "; x264enc and openh264enc not installed: Debian packages gstreamer1.0-plugins-ugly, "
               "gstreamer1.0-plugins-bad)"};
}

Status select_audio(const config::UnitConfig& c, const Capabilities& caps, Selection& sel) {
  const std::string& s = c.audio.source;
  if (s == "none") {
    sel.audio = AudioSource::none;
    sel.audio_reason = "audio.source = \"none\": no sound is recorded";
  } else if (s == "test") {
    sel.audio = AudioSource::test;
    sel.audio_reason = "audio.source = \"test\": a quiet test tone";
  } else if (s == "pulse") {
    if (!caps.has("pulsesrc")) return Error{"audio.source = \"pulse\" but pulsesrc is not installed"};
    sel.audio = AudioSource::pulse;
    sel.audio_reason = "PulseAudio source " + (c.audio.device.empty() ? std::string("(default)") : c.audio.device);
  } else if (caps.has("alsasrc") && caps.alsa_capture) {
    sel.audio = AudioSource::alsa;
    sel.audio_reason =
        "ALSA " + (c.audio.device.empty() ? std::string("default device") : c.audio.device) + ": " + caps.alsa_detail;
  } else if (s == "alsa") {
    return Error{"audio.source = \"alsa\" but " + (caps.has("alsasrc")
                                                       ? caps.alsa_detail
                                                       : std::string("alsasrc is not installed (gstreamer1.0-alsa)"))};
  } else {
    sel.audio = AudioSource::none;
    sel.audio_reason = "no microphone found (" + caps.alsa_detail + "), recording without sound";
  }
  if (sel.audio == AudioSource::none) return ok_status();
  if (c.audio.codec == "opus") {
    if (!caps.has("opusenc")) return Error{"audio.codec = \"opus\" but opusenc is not installed"};
    sel.audio_encoder = "opusenc";
  } else if (caps.has("avenc_aac")) {
    sel.audio_encoder = "avenc_aac";
  } else if (caps.has("voaacenc")) {
    sel.audio_encoder = "voaacenc";
  } else {
    return Error{"audio.codec = \"aac\" but no AAC encoder is installed (gstreamer1.0-libav)"};
  }
  return ok_status();
}

// The video branch up to (and including) the privacy element: raw frames pinned to I420 or NV12.
std::string video_source(const config::UnitConfig& c, const Selection& sel) {
  const VideoSource src = *sel.video;
  const auto& v = c.video;
  const std::string size = fmt::format("width={},height={},framerate={}/1", v.width, v.height, v.framerate);
  std::string d;
  switch (src) {
    case VideoSource::libcamera:
      d = fmt::format("libcamerasrc name={}{} ! video/x-raw,format=NV12,{}", kCameraElement,
                      v.camera.empty() ? "" : " camera-name=" + quote(v.camera), size);
      break;
    case VideoSource::v4l2:
      d = fmt::format(
          "v4l2src name={} device={} ! decodebin ! videoconvert ! videoscale ! videorate ! "
          "video/x-raw,format=I420,{}",
          kCameraElement, quote(v.device), size);
      break;
    case VideoSource::test:
      d = fmt::format("videotestsrc name={} is-live=true ! video/x-raw,format=I420,{}", kCameraElement, size);
      break;
    case VideoSource::file:
      // Paced by the clock (identity sync=true) so a file behaves like a camera.
      d = fmt::format(
          "filesrc name={} location={} ! decodebin ! videoconvert ! videoscale ! videorate ! "
          "video/x-raw,format=I420,{} ! identity sync=true",
          kCameraElement, quote(v.file.string()), size);
      break;
  }
  if (sel.clock_overlay) {
    d += " ! clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" halignment=left valignment=top shaded-background=true "
         "font-desc=\"Sans 18\"";
  }
  d += fmt::format(" ! identity name={} silent=true", kPrivacyElement);
  return d;
}

// `keyint`: the encoder's own keyframe interval, only a safety net well beyond the grid (keyframes.hpp).
std::string video_encoder(const config::UnitConfig& c, VideoEncoder enc, std::uint32_t keyint) {
  const auto& v = c.video;
  const auto& e = c.encoder;
  const std::string level = level_for(v.width, v.height, v.framerate, e.bitrate_kbps);
  switch (enc) {
    case VideoEncoder::v4l2:
      return fmt::format(
          "v4l2convert ! video/x-raw,format=I420 ! v4l2h264enc name=encoder "
          "extra-controls=\"controls,video_bitrate={},h264_i_frame_period={},repeat_sequence_header=1\" ! "
          "video/x-h264,profile={},level=(string){}",
          e.bitrate_kbps * 1000, keyint, e.profile, level);
    case VideoEncoder::x264:
      return fmt::format(
          "x264enc name=encoder tune=zerolatency speed-preset={} bitrate={} key-int-max={} ! video/x-h264,profile={}",
          e.preset, e.bitrate_kbps, keyint, e.profile);
    case VideoEncoder::openh264:
      return fmt::format(
          "openh264enc name=encoder bitrate={} gop-size={} rate-control=bitrate ! video/x-h264,profile={}",
          e.bitrate_kbps * 1000, keyint, e.profile);
  }
  return {};
}

std::string audio_branch(const config::UnitConfig& c, const Selection& sel) {
  const auto& a = c.audio;
  std::string src;
  switch (sel.audio) {
    case AudioSource::alsa:
      src = "alsasrc name=mic" + (a.device.empty() ? std::string() : " device=" + quote(a.device));
      break;
    case AudioSource::pulse:
      src = "pulsesrc name=mic" + (a.device.empty() ? std::string() : " device=" + quote(a.device));
      break;
    case AudioSource::test: src = "audiotestsrc name=mic is-live=true wave=sine freq=440 volume=0.05"; break;
    case AudioSource::none: return {};
  }
  const std::string enc = sel.audio_encoder == "opusenc" ? fmt::format("opusenc bitrate={}", a.bitrate_kbps * 1000)
                          : sel.audio_encoder == "voaacenc"
                              ? fmt::format("voaacenc bitrate={}", a.bitrate_kbps * 1000)
                              : fmt::format("avenc_aac bitrate={}", a.bitrate_kbps * 1000);
  // The tee before the encoder is where a live branch takes raw audio for its own Opus encode
  // (firmware/live): the recording's path through it is unchanged whether a branch is linked or not.
  return fmt::format("{} ! audioconvert ! audioresample ! audio/x-raw,rate={},channels={} ! tee name={} ! {} ! queue",
                     src, a.sample_rate, a.channels, kAudioTeeElement, enc);
}

// Raw audio up to the tee, for a live-only pipeline (no recording encoder behind it).
std::string audio_source_to_tee(const config::UnitConfig& c, const Selection& sel) {
  const std::string b = audio_branch(c, sel);
  const std::string tee = fmt::format("tee name={}", kAudioTeeElement);
  return b.substr(0, b.find(tee) + tee.size());
}

}  // namespace

std::string h264_level(std::uint32_t width, std::uint32_t height, std::uint32_t framerate) {
  return level_for(width, height, framerate, 0);
}

Result<Selection> select(const config::UnitConfig& config, const Capabilities& caps) {
  Selection sel;
  auto video = select_video(config, caps, sel.video_reason);
  if (!video) return video.error();
  sel.video = *video;
  if (sel.video == VideoSource::test && config.video.source == "auto") {
    sel.warnings.push_back("no camera found: recording the test picture until one is connected (see video.source)");
  }
  if (sel.video) {
    auto enc = select_encoder(config, caps, sel.encoder_reason, sel.warnings);
    if (!enc) return enc.error();
    sel.encoder = *enc;
    if (config.video.timestamp_overlay || *sel.video == VideoSource::test) {
      sel.clock_overlay = caps.has("clockoverlay");
      if (!sel.clock_overlay) {
        sel.warnings.push_back("clockoverlay is not installed (gstreamer1.0-x): the picture carries no clock");
      }
    }
  }
  if (auto st = select_audio(config, caps, sel); !st) return st.error();
  if (!sel.video && sel.audio == AudioSource::none) {
    return Error{"audio-only room (video.enabled = false) but no sound source: " + sel.audio_reason};
  }
  return sel;
}

Plan plan_recording(const config::UnitConfig& config, const Selection& sel, const std::optional<std::string>& file) {
  Plan p;
  p.selection = sel;
  const auto& v = config.video;
  const auto& r = config.recording;
  // streamable: the muxer never seeks back (an appsink cannot), every fragment goes out once.
  std::string d = fmt::format("mp4mux name={} fragment-duration={} streamable=true ! ", kMuxElement, kFragmentMs);
  d += file ? fmt::format("filesink location={} buffer-mode=2", quote(*file))
            : fmt::format("appsink name={} sync=false async=false", kSinkElement);
  if (sel.video) {
    p.keyframe_interval = std::max<std::uint32_t>(1, r.segment_ms * v.framerate / 1000);
    p.keyframe_grid_ms = r.segment_ms;
    // A short queue: when the encoder falls behind, the camera drops frames instead of memory growing.
    // The tee after h264parse hands the encoded stream to a live branch as it is (firmware/live): no
    // second encode, and the recording's path is the same whether a branch is linked or not.
    d += fmt::format(
        " {} ! queue max-size-buffers=6 max-size-bytes=0 max-size-time=0 ! {} ! h264parse ! tee name={} ! queue ! {}.",
        video_source(config, sel), video_encoder(config, *sel.encoder, p.keyframe_interval * kEncoderIntervalFactor),
        kVideoTeeElement, kMuxElement);
    p.video =
        protocol::VideoFormat{protocol::VideoCodec::h264, v.width, v.height, v.framerate, config.encoder.bitrate_kbps};
  }
  if (sel.audio != AudioSource::none) {
    d += fmt::format(" {} ! {}.", audio_branch(config, sel), kMuxElement);
    p.audio =
        protocol::AudioFormat{sel.audio_encoder == "opusenc" ? protocol::AudioCodec::opus : protocol::AudioCodec::aac,
                              config.audio.sample_rate, config.audio.channels, config.audio.bitrate_kbps};
  }
  p.description = d;
  return p;
}

Plan plan_live(const config::UnitConfig& config, const Selection& sel) {
  Plan p;
  p.selection = sel;
  const auto& v = config.video;
  // The same source, encoder and keyframe interval as a recording, so a live branch sees the stream a
  // recording would give it; the tees end in fakesinks instead of the muxer.
  std::string d;
  if (sel.video) {
    p.keyframe_interval = std::max<std::uint32_t>(1, config.recording.segment_ms * v.framerate / 1000);
    p.keyframe_grid_ms = config.recording.segment_ms;
    d += fmt::format(
        "{} ! queue max-size-buffers=6 max-size-bytes=0 max-size-time=0 ! {} ! h264parse ! tee name={} ! "
        "fakesink sync=false async=false",
        video_source(config, sel), video_encoder(config, *sel.encoder, p.keyframe_interval * kEncoderIntervalFactor),
        kVideoTeeElement);
    p.video =
        protocol::VideoFormat{protocol::VideoCodec::h264, v.width, v.height, v.framerate, config.encoder.bitrate_kbps};
  }
  if (sel.audio != AudioSource::none) {
    if (!d.empty()) d += " ";
    d += audio_source_to_tee(config, sel) + " ! fakesink sync=false async=false";
    p.audio = protocol::AudioFormat{protocol::AudioCodec::opus, 48000, config.audio.channels, 0};
  }
  p.description = d;
  return p;
}

Plan plan_preview(const config::UnitConfig& config, const Selection& sel) {
  Plan p;
  p.selection = sel;
  if (!sel.video) return p;
  const bool real_camera = *sel.video == VideoSource::libcamera || *sel.video == VideoSource::v4l2;
  p.warmup_frames = real_camera ? config.video.framerate / 2 : 0;
  p.description = fmt::format("{} ! appsink name={} max-buffers=1 drop=true sync=false", video_source(config, sel),
                              kPreviewElement);
  const auto& v = config.video;
  p.video = protocol::VideoFormat{protocol::VideoCodec::h264, v.width, v.height, v.framerate, 0};
  return p;
}

}  // namespace classcam::capture
