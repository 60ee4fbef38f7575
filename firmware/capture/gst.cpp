#include "firmware/capture/gst.hpp"

#include <mutex>

namespace classcam::capture {

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

ElementPtr parse_pipeline(const std::string& description, std::string& error) {
  ensure_gstreamer();
  GError* err = nullptr;
  // Fatal errors only: a missing element must fail here, not later as a half-built pipeline.
  GstElement* e = gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (err != nullptr) {
    error = err->message;
    g_error_free(err);
    if (e != nullptr) gst_object_unref(e);
    return nullptr;
  }
  return ElementPtr(e);
}

std::string describe(GstMessage* message) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(message, &err, &debug);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    gst_message_parse_warning(message, &err, &debug);
  } else {
    return GST_MESSAGE_TYPE_NAME(message);
  }
  std::string out = GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
  out += ": ";
  out += err != nullptr ? err->message : "unknown error";
  if (debug != nullptr) {
    std::string d = debug;
    // The debug string starts with a source file path and line; keep only what follows it.
    if (auto colon = d.rfind(":\n"); colon != std::string::npos) d = d.substr(colon + 2);
    if (d.size() > 300) d = d.substr(0, 300) + "...";
    out += " (" + d + ")";
  }
  if (err != nullptr) g_error_free(err);
  g_free(debug);
  return out;
}

}  // namespace classcam::capture
