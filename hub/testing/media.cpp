#include "hub/testing/media.hpp"

#include <gst/gst.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "common/util/hash.hpp"

namespace classcam::hub::testkit {

namespace fs = std::filesystem;

namespace {

// Cuts one fragmented MP4 file into parts of one moof+mdat pair each, every part starting with the
// file's init segment (what firmware/spool's segment writer does at keyframes).
void cut_fragments(const fs::path& stream, const fs::path& dir) {
  std::ifstream f(stream, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  std::string init;
  std::string part;
  int n = 0;
  auto flush = [&] {
    if (part.empty()) return;
    char name[32];
    std::snprintf(name, sizeof name, "seg-%05d.mp4", n++);
    std::ofstream(dir / name, std::ios::binary) << init << part;
    part.clear();
  };
  while (at + 8 <= b.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
    const std::size_t size = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    if (size < 8 || at + size > b.size()) throw std::runtime_error("test media: bad box in " + stream.string());
    const std::string type(b.data() + at + 4, 4);
    const std::string box = b.substr(at, size);
    if (type == "ftyp" || type == "moov") {
      init += box;
    } else if (type == "moof") {
      flush();
      part = box;
    } else if (type == "mdat") {
      part += box;
    }  // mfra and the like: not part of a unit's segments
    at += size;
  }
  flush();
}

}  // namespace

MadeSegments make_segments(const fs::path& dir, const std::string& session_id, int seconds,
                           const MediaOptions& options) {
  gst_init(nullptr, nullptr);
  fs::create_directories(dir);
  const int frames = seconds * 25;
  // Keyframe every 25 frames so splitmuxsink can cut each second; I420 + baseline as a browser plays.
  const std::string bitrate = options.bitrate_kbps > 0 ? " bitrate=" + std::to_string(options.bitrate_kbps) : "";
  const std::string desc =
      "videotestsrc pattern=" + std::string(options.pattern) + " num-buffers=" + std::to_string(frames) +
      " ! video/x-raw,format=I420,width=" + std::to_string(options.width) +
      ",height=" + std::to_string(options.height) +
      ",framerate=25/1 ! x264enc speed-preset=ultrafast tune=zerolatency key-int-max=25" + bitrate +
      " ! video/x-h264,profile=baseline ! h264parse ! queue ! " +
      (options.fragmented ? "mp4mux name=mux fragment-duration=1000 streamable=true ! filesink location=" +
                                (dir / "stream.fmp4").string()
                          : "splitmuxsink name=mux muxer=mp4mux max-size-time=1000000000 location=" +
                                (dir / "seg-%05d.mp4").string()) +
      " audiotestsrc num-buffers=" + std::to_string(seconds * 40) +
      " samplesperbuffer=1200 ! audio/x-raw,rate=48000,channels=1 ! avenc_aac ! aacparse ! queue ! mux.audio_0";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  if (pipeline == nullptr || err != nullptr) {
    const std::string msg = err != nullptr ? err->message : "unknown";
    g_clear_error(&err);
    throw std::runtime_error("test pipeline: " + msg);
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string error;
  if (msg == nullptr) error = "no EOS within 120 s";
  if (msg != nullptr && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    error = e != nullptr ? e->message : "error";
    g_clear_error(&e);
  }
  if (msg != nullptr) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  if (!error.empty()) throw std::runtime_error("test pipeline: " + error);
  if (options.fragmented) {
    cut_fragments(dir / "stream.fmp4", dir);
    fs::remove(dir / "stream.fmp4");
  }

  MadeSegments out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".mp4") out.files.push_back(e.path());
  }
  std::sort(out.files.begin(), out.files.end());
  const auto start = util::now_utc();
  for (std::size_t i = 0; i < out.files.size(); ++i) {
    protocol::SegmentEntry s;
    s.session_id = session_id;
    s.index = static_cast<std::uint32_t>(i);
    s.file = out.files[i].filename().string();
    s.start_utc = start + std::chrono::seconds(i);
    s.start_pts_ns = static_cast<std::int64_t>(i) * 1'000'000'000;
    s.duration_ns = 1'000'000'000;
    s.size_bytes = fs::file_size(out.files[i]);
    s.sha256 = util::file_digest_hex(out.files[i]).value();
    out.entries.push_back(s);
  }
  return out;
}

protocol::SessionInfo session_info(const std::string& unit_id, const std::string& session_id) {
  protocol::SessionInfo s;
  s.session_id = session_id;
  s.unit_id = unit_id;
  s.trigger = protocol::Trigger::button;
  s.started_at = util::now_utc();
  s.video = protocol::VideoFormat{protocol::VideoCodec::h264, 320, 240, 25, 500};
  s.audio = protocol::AudioFormat{protocol::AudioCodec::aac, 48000, 1, 64};
  s.segment_duration_ms = 1000;
  return s;
}

}  // namespace classcam::hub::testkit
