#include "hub/recordings/joiner.hpp"

#include <fcntl.h>
#include <gst/gst.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "common/log/log.hpp"

namespace classcam::hub::recordings {

namespace fs = std::filesystem;

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

namespace {

struct JoinState {
  GstElement* pipeline = nullptr;
  GstElement* mux = nullptr;
  std::vector<std::string> files;
};

// splitmuxsrc asks for its list of parts; we give exactly ours, in order (a glob would take any file).
gchar** on_format_location(GstElement* /*src*/, gpointer data) {
  auto* st = static_cast<JoinState*>(data);
  auto** out = g_new0(gchar*, st->files.size() + 1);
  for (std::size_t i = 0; i < st->files.size(); ++i) out[i] = g_strdup(st->files[i].c_str());
  return out;
}

// Runs on a GStreamer streaming thread: only links the new stream into the muxer.
void on_pad_added(GstElement* /*src*/, GstPad* pad, gpointer data) {
  auto* st = static_cast<JoinState*>(data);
  gchar* name = gst_pad_get_name(pad);
  const std::string n = name;
  g_free(name);
  const char* templ = nullptr;
  if (n.rfind("video", 0) == 0) templ = "video_%u";
  if (n.rfind("audio", 0) == 0) templ = "audio_%u";
  if (templ == nullptr) return;  // subtitles and the like are not kept
  GstElement* queue = gst_element_factory_make("queue", nullptr);
  gst_bin_add(GST_BIN(st->pipeline), queue);
  gst_element_sync_state_with_parent(queue);
  GstPad* qsink = gst_element_get_static_pad(queue, "sink");
  gst_pad_link(pad, qsink);
  gst_object_unref(qsink);
  GstPad* muxpad = gst_element_request_pad_simple(st->mux, templ);
  GstPad* qsrc = gst_element_get_static_pad(queue, "src");
  gst_pad_link(qsrc, muxpad);
  gst_object_unref(qsrc);
  gst_object_unref(muxpad);
}

Status fsync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + p.string() + " to sync it"};
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error{"fsync of " + p.string() + " failed"};
  return ok_status();
}

}  // namespace

Status join_segments(const std::vector<fs::path>& inputs, const fs::path& output, std::chrono::seconds timeout,
                     const std::atomic<bool>* cancel) {
  ensure_gstreamer();
  if (inputs.empty()) return Error{"nothing to join"};
  for (const auto& in : inputs) {
    if (!fs::is_regular_file(in)) return Error{"segment " + in.string() + " is missing"};
  }
  const fs::path tmp = output.parent_path() / ("." + output.filename().string() + ".joining");
  const fs::path faststart_tmp = output.parent_path() / ("." + output.filename().string() + ".moov");
  std::error_code ec;
  fs::remove(tmp, ec);

  JoinState st;
  for (const auto& in : inputs) st.files.push_back(in.string());
  st.pipeline = gst_pipeline_new("join");
  GstElement* src = gst_element_factory_make("splitmuxsrc", nullptr);
  st.mux = gst_element_factory_make("mp4mux", nullptr);
  GstElement* sink = gst_element_factory_make("filesink", nullptr);
  if (src == nullptr || st.mux == nullptr || sink == nullptr) {
    gst_object_unref(st.pipeline);
    return Error{"GStreamer elements splitmuxsrc/mp4mux/filesink are missing (gstreamer1.0-plugins-good)"};
  }
  g_object_set(st.mux, "faststart", TRUE, "faststart-file", faststart_tmp.c_str(), nullptr);
  g_object_set(sink, "location", tmp.c_str(), "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(st.pipeline), src, st.mux, sink, nullptr);
  gst_element_link(st.mux, sink);
  g_signal_connect(src, "format-location", G_CALLBACK(on_format_location), &st);
  g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), &st);

  std::string error;
  if (gst_element_set_state(st.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the join pipeline would not start";
  } else {
    GstBus* bus = gst_element_get_bus(st.pipeline);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    GstMessage* msg = nullptr;
    // Short waits, so a shutdown does not wait for a long join to finish.
    while (msg == nullptr && std::chrono::steady_clock::now() < deadline && (cancel == nullptr || !cancel->load())) {
      msg = gst_bus_timed_pop_filtered(bus, 200 * GST_MSECOND,
                                       static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    }
    if (msg == nullptr) {
      error = cancel != nullptr && cancel->load()
                  ? "cancelled"
                  : "the join did not finish within " + std::to_string(timeout.count()) + " s";
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(msg, &err, &debug);
      error = std::string("GStreamer: ") + (err != nullptr ? err->message : "unknown error");
      log::get("recordings")->debug("join error detail: {}", debug != nullptr ? debug : "");
      g_clear_error(&err);
      g_free(debug);
    }
    if (msg != nullptr) gst_message_unref(msg);
    gst_object_unref(bus);
  }
  gst_element_set_state(st.pipeline, GST_STATE_NULL);
  gst_object_unref(st.pipeline);
  fs::remove(faststart_tmp, ec);
  if (!error.empty()) {
    fs::remove(tmp, ec);
    return Error{error};
  }
  if (auto s = fsync_file(tmp); !s) return s;
  fs::rename(tmp, output, ec);
  if (ec) return Error{"cannot move the joined file into place: " + ec.message()};
  return ok_status();
}

}  // namespace classcam::hub::recordings
