#pragma once
// Small RAII helpers for GStreamer objects, so every ref taken is released on every path.
#include <gst/gst.h>

#include <memory>
#include <string>

namespace classcam::capture {

// Initialises GStreamer once per process (thread-safe, idempotent).
void ensure_gstreamer();

struct GstObjectUnref {
  void operator()(gpointer p) const {
    if (p != nullptr) gst_object_unref(p);
  }
};
struct GstMessageUnref {
  void operator()(GstMessage* m) const {
    if (m != nullptr) gst_message_unref(m);
  }
};
struct GstSampleUnref {
  void operator()(GstSample* s) const {
    if (s != nullptr) gst_sample_unref(s);
  }
};
struct GstCapsUnref {
  void operator()(GstCaps* c) const {
    if (c != nullptr) gst_caps_unref(c);
  }
};

using ElementPtr = std::unique_ptr<GstElement, GstObjectUnref>;
using BusPtr = std::unique_ptr<GstBus, GstObjectUnref>;
using PadPtr = std::unique_ptr<GstPad, GstObjectUnref>;
using MessagePtr = std::unique_ptr<GstMessage, GstMessageUnref>;
using SamplePtr = std::unique_ptr<GstSample, GstSampleUnref>;
using CapsPtr = std::unique_ptr<GstCaps, GstCapsUnref>;

// Parses a gst-launch description; the error says what GStreamer did not like.
std::unique_ptr<GstElement, GstObjectUnref> parse_pipeline(const std::string& description, std::string& error);

// "element-name: message (debug detail)" of an ERROR or WARNING message.
std::string describe(GstMessage* message);

}  // namespace classcam::capture
