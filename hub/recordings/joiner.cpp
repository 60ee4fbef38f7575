#include "hub/recordings/joiner.hpp"

#include <fcntl.h>
#include <gst/gst.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include "common/log/log.hpp"

namespace classcam::hub::recordings {

namespace fs = std::filesystem;

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

std::string_view describe(JoinProblem p) {
  switch (p) {
    case JoinProblem::none: return "joined";
    case JoinProblem::no_space: return "the hub's disk is full";
    case JoinProblem::write_failed: return "the hub could not write the joined file";
    case JoinProblem::missing_segment: return "a segment is missing or unreadable on the hub";
    case JoinProblem::bad_media: return "the segments are not video the hub can join";
    case JoinProblem::timed_out: return "joining took too long";
    case JoinProblem::cancelled: return "the hub stopped while joining";
    case JoinProblem::internal: return "the hub's video tools are missing or broken";
  }
  return "joining failed";
}

bool worth_retrying(JoinProblem p) {
  return p == JoinProblem::no_space || p == JoinProblem::write_failed || p == JoinProblem::timed_out;
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

// The top-level box of an MP4 file that starts at `at`: its type and size. nullopt when there is no
// whole box there.
struct Box {
  std::string type;
  std::uint64_t size = 0;
};
std::optional<Box> box_at(std::ifstream& f, std::uint64_t at, std::uint64_t file_size) {
  unsigned char h[16];
  if (at + 8 > file_size || !f.seekg(static_cast<std::streamoff>(at)) || !f.read(reinterpret_cast<char*>(h), 8)) {
    return std::nullopt;
  }
  std::uint64_t size = (std::uint64_t{h[0]} << 24) | (std::uint64_t{h[1]} << 16) | (std::uint64_t{h[2]} << 8) | h[3];
  if (size == 1) {  // 64-bit size after the type
    if (!f.read(reinterpret_cast<char*>(h + 8), 8)) return std::nullopt;
    size = 0;
    for (int i = 8; i < 16; ++i) size = (size << 8) | h[i];
  } else if (size == 0) {  // to the end of the file
    size = file_size - at;
  }
  if (size < 8 || at + size > file_size) return std::nullopt;
  return Box{std::string(reinterpret_cast<char*>(h) + 4, 4), size};
}

// The init segment (ftyp + moov) of a part that is a cut of a fragmented stream (a moof follows it);
// nullopt for anything else.
std::optional<std::string> fragmented_init(const fs::path& part) {
  std::error_code ec;
  const auto file_size = fs::file_size(part, ec);
  std::ifstream f(part, std::ios::binary);
  if (ec || !f) return std::nullopt;
  const auto ftyp = box_at(f, 0, file_size);
  if (!ftyp || ftyp->type != "ftyp") return std::nullopt;
  const auto moov = box_at(f, ftyp->size, file_size);
  if (!moov || moov->type != "moov") return std::nullopt;
  const auto next = box_at(f, ftyp->size + moov->size, file_size);
  if (!next || next->type != "moof") return std::nullopt;
  std::string init(ftyp->size + moov->size, '\0');
  if (!f.seekg(0) || !f.read(init.data(), static_cast<std::streamsize>(init.size()))) return std::nullopt;
  return init;
}

// Units record one continuous fragmented-MP4 stream and cut it into files at keyframes: each file is
// the same init segment (ftyp + moov) followed by moof+mdat fragments whose decode times continue from
// the previous file. Such parts are joined by appending their fragments after one init segment, which
// keeps every timestamp as recorded (splitmuxsrc would shift each part by the ones before it, as it
// expects parts that each start at zero). Writes that stream to `out` and returns true; false (writing
// nothing) when the parts are not like that; an Error when `out` cannot be written. Only the init
// segment is held in memory: a lesson is gigabytes.
Result<bool> write_fragment_stream(const std::vector<fs::path>& inputs, const fs::path& out, JoinProblem* problem) {
  std::optional<std::string> init;
  for (const auto& in : inputs) {
    const auto this_init = fragmented_init(in);
    if (!this_init) return false;
    if (!init) init = this_init;
    if (*this_init != *init) return false;  // another encoder setting: let splitmuxsrc handle it
  }
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  o.write(init->data(), static_cast<std::streamsize>(init->size()));
  for (const auto& in : inputs) {
    std::ifstream f(in, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(init->size()));
    o << f.rdbuf();
  }
  if (!o.flush()) {
    const int e = errno;  // what the failed write(2) left: the stream keeps no reason of its own
    *problem = e == ENOSPC || e == EDQUOT ? JoinProblem::no_space : JoinProblem::write_failed;
    return Error{"cannot write " + out.string() + ": " + (e != 0 ? std::strerror(e) : "unknown error")};
  }
  return true;
}

Status fsync_file(const fs::path& p, JoinProblem* problem) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *problem = JoinProblem::write_failed;
    return Error{"cannot open " + p.string() + " to sync it"};
  }
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) {
    *problem = e == ENOSPC || e == EDQUOT ? JoinProblem::no_space : JoinProblem::write_failed;
    return Error{"fsync of " + p.string() + " failed: " + std::strerror(e)};
  }
  return ok_status();
}

// Whether `dir`'s filesystem has less room than `needed` bytes: a write error there is then the disk
// being full (muxers report it as a plain write error).
bool short_of_space(const fs::path& dir, std::uint64_t needed) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return false;
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize < needed;
}

// Sorts a GStreamer error into what it means for a join.
JoinProblem problem_of(const GError* err) {
  if (err == nullptr) return JoinProblem::internal;
  if (err->domain == GST_RESOURCE_ERROR) {
    switch (err->code) {
      case GST_RESOURCE_ERROR_NO_SPACE_LEFT: return JoinProblem::no_space;
      case GST_RESOURCE_ERROR_NOT_FOUND:
      case GST_RESOURCE_ERROR_OPEN_READ:
      case GST_RESOURCE_ERROR_READ: return JoinProblem::missing_segment;
      default: return JoinProblem::write_failed;  // writing, opening for writing, syncing, closing
    }
  }
  if (err->domain == GST_STREAM_ERROR) return JoinProblem::bad_media;
  return JoinProblem::internal;
}

}  // namespace

Status join_segments(const std::vector<fs::path>& inputs, const fs::path& output, std::chrono::seconds timeout,
                     const std::atomic<bool>* cancel, JoinProblem* problem_out) {
  ensure_gstreamer();
  JoinProblem ignored = JoinProblem::none;
  JoinProblem* problem = problem_out != nullptr ? problem_out : &ignored;
  *problem = JoinProblem::none;
  if (inputs.empty()) {
    *problem = JoinProblem::missing_segment;
    return Error{"nothing to join"};
  }
  for (const auto& in : inputs) {
    if (!fs::is_regular_file(in)) {
      *problem = JoinProblem::missing_segment;
      return Error{"segment " + in.string() + " is missing"};
    }
  }
  const fs::path tmp = output.parent_path() / ("." + output.filename().string() + ".joining");
  const fs::path faststart_tmp = output.parent_path() / ("." + output.filename().string() + ".moov");
  std::error_code ec;
  fs::remove(tmp, ec);

  // Parts of one fragmented stream become one file first; qtdemux then reads it as recorded.
  const fs::path stream_tmp = output.parent_path() / ("." + output.filename().string() + ".fmp4");
  const auto fragmented = write_fragment_stream(inputs, stream_tmp, problem);
  if (!fragmented) {
    fs::remove(stream_tmp, ec);
    return fragmented.error();
  }
  const bool stream = *fragmented;

  JoinState st;
  for (const auto& in : inputs) st.files.push_back(in.string());
  st.pipeline = gst_pipeline_new("join");
  GstElement* src = nullptr;
  GstElement* demux = nullptr;
  if (stream) {
    src = gst_element_factory_make("filesrc", nullptr);
    demux = gst_element_factory_make("qtdemux", nullptr);
  } else {
    src = gst_element_factory_make("splitmuxsrc", nullptr);
  }
  st.mux = gst_element_factory_make("mp4mux", nullptr);
  GstElement* sink = gst_element_factory_make("filesink", nullptr);
  if (src == nullptr || st.mux == nullptr || sink == nullptr || (stream && demux == nullptr)) {
    gst_object_unref(st.pipeline);
    fs::remove(stream_tmp, ec);
    *problem = JoinProblem::internal;
    return Error{"GStreamer elements splitmuxsrc/qtdemux/mp4mux/filesink are missing (gstreamer1.0-plugins-good)"};
  }
  g_object_set(st.mux, "faststart", TRUE, "faststart-file", faststart_tmp.c_str(), nullptr);
  g_object_set(sink, "location", tmp.c_str(), "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(st.pipeline), src, st.mux, sink, nullptr);
  gst_element_link(st.mux, sink);
  if (stream) {
    g_object_set(src, "location", stream_tmp.c_str(), nullptr);
    gst_bin_add(GST_BIN(st.pipeline), demux);
    gst_element_link(src, demux);
    g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), &st);
  } else {
    g_signal_connect(src, "format-location", G_CALLBACK(on_format_location), &st);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), &st);
  }

  std::string error;
  if (gst_element_set_state(st.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the join pipeline would not start";
    *problem = JoinProblem::internal;
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
      const bool cancelled = cancel != nullptr && cancel->load();
      error = cancelled ? "cancelled" : "the join did not finish within " + std::to_string(timeout.count()) + " s";
      *problem = cancelled ? JoinProblem::cancelled : JoinProblem::timed_out;
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(msg, &err, &debug);
      error = std::string("GStreamer: ") + (err != nullptr ? err->message : "unknown error");
      *problem = problem_of(err);
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
  fs::remove(stream_tmp, ec);
  if (!error.empty()) {
    fs::remove(tmp, ec);
    if (*problem == JoinProblem::missing_segment &&
        std::all_of(inputs.begin(), inputs.end(), [](const fs::path& in) { return fs::is_regular_file(in); })) {
      // splitmuxsrc reports a part it cannot make sense of as a read error ("failed to prepare the part"):
      // when every part is there, it is the media.
      *problem = JoinProblem::bad_media;
    }
    if (*problem == JoinProblem::write_failed) {
      std::uint64_t needed = 0;  // the joined file is about as large as its parts
      for (const auto& in : inputs) {
        const auto n = fs::file_size(in, ec);
        if (!ec) needed += n;
      }
      if (short_of_space(output.parent_path(), needed)) *problem = JoinProblem::no_space;
    }
    return Error{error};
  }
  if (auto s = fsync_file(tmp, problem); !s) {
    fs::remove(tmp, ec);
    return s;
  }
  fs::rename(tmp, output, ec);
  if (ec) {
    *problem = JoinProblem::write_failed;
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    return Error{"cannot move the joined file into place: " + why};
  }
  return ok_status();
}

}  // namespace classcam::hub::recordings
