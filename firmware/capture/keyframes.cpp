#include "firmware/capture/keyframes.hpp"

#include <gst/video/video.h>

#include <algorithm>

namespace classcam::capture {

GstEvent* keyframe_request_event(std::chrono::milliseconds min_interval) {
  return gst_event_new_custom(
      GST_EVENT_CUSTOM_UPSTREAM,
      gst_structure_new(kKeyframeRequestEvent, "min-interval-ns", G_TYPE_INT64,
                        static_cast<gint64>(std::chrono::nanoseconds(min_interval).count()), nullptr));
}

std::int64_t buffer_running_time(GstPad* pad, GstBuffer* buffer) {
  if (buffer == nullptr || !GST_BUFFER_PTS_IS_VALID(buffer)) return -1;
  GstEvent* seg_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (seg_event == nullptr) return -1;
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(seg_event, &segment);
  const GstClockTime rt = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  gst_event_unref(seg_event);
  return GST_CLOCK_TIME_IS_VALID(rt) ? static_cast<std::int64_t>(rt) : -1;
}

KeyframeGrid::KeyframeGrid(std::chrono::milliseconds grid) : grid_ns_(std::chrono::nanoseconds(grid).count()) {}

KeyframeGrid::~KeyframeGrid() { detach(); }

void KeyframeGrid::attach(GstElement* encoder) {
  detach();
  pad_ = gst_element_get_static_pad(encoder, "sink");
  if (pad_ == nullptr) return;
  next_grid_ns_ = -1;
  pending_min_ns_ = -1;
  buffer_probe_ = gst_pad_add_probe(pad_, GST_PAD_PROBE_TYPE_BUFFER, &KeyframeGrid::on_buffer, this, nullptr);
  event_probe_ = gst_pad_add_probe(pad_, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &KeyframeGrid::on_request, this, nullptr);
}

void KeyframeGrid::detach() {
  if (pad_ == nullptr) return;
  gst_pad_remove_probe(pad_, buffer_probe_);
  gst_pad_remove_probe(pad_, event_probe_);
  gst_object_unref(pad_);
  pad_ = nullptr;
}

GstPadProbeReturn KeyframeGrid::on_request(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<KeyframeGrid*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  // Any thread: remember the request (the shortest interval asked for wins); the buffer probe acts on it.
  if (event == nullptr || GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM ||
      !gst_event_has_name(event, kKeyframeRequestEvent)) {
    return GST_PAD_PROBE_OK;
  }
  gint64 min_ns = 0;
  gst_structure_get_int64(gst_event_get_structure(event), "min-interval-ns", &min_ns);
  std::int64_t pending = self->pending_min_ns_.load();
  while ((pending < 0 || min_ns < pending) && !self->pending_min_ns_.compare_exchange_weak(pending, min_ns)) {
  }
  return GST_PAD_PROBE_DROP;  // nothing upstream of the encoder has a use for it
}

GstPadProbeReturn KeyframeGrid::on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<KeyframeGrid*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  // Streaming thread, before the encoder sees the frame: decide whether it must be a keyframe.
  const std::int64_t now = buffer_running_time(pad, buffer);
  if (now < 0) return GST_PAD_PROBE_OK;
  std::int64_t next = self->next_grid_ns_.load();
  if (next < 0) {
    // The first frame is a keyframe anyway (the encoder starts with one); the grid starts here.
    self->next_grid_ns_ = now + self->grid_ns_;
    self->last_key_ns_ = now;
    return GST_PAD_PROBE_OK;
  }
  // Half a frame of slack, so a camera's timestamp jitter never pushes a grid keyframe one frame late.
  const std::int64_t slack = GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) / 2 : 0;
  bool key = false;
  if (now + slack >= next) {
    key = true;
    while (next <= now + slack) next += self->grid_ns_;
    self->next_grid_ns_ = next;
    self->pending_min_ns_ = -1;  // the grid keyframe serves whoever asked
    self->grid_keyframes_.fetch_add(1);
  } else if (const std::int64_t min_ns = self->pending_min_ns_.load(); min_ns >= 0) {
    const bool interval_passed = now - self->last_key_ns_.load() >= min_ns;
    const bool grid_far = next - now > std::chrono::nanoseconds(kGridGuard).count();
    if (interval_passed && grid_far) {
      key = true;
      self->pending_min_ns_ = -1;
      self->requested_keyframes_.fetch_add(1);
    }
  }
  if (!key) return GST_PAD_PROBE_OK;
  self->last_key_ns_ = now;
  // Serialized, so it reaches the encoder just before this frame; its running time names this frame.
  gst_pad_send_event(pad, gst_video_event_new_downstream_force_key_unit(GST_BUFFER_PTS(buffer), GST_CLOCK_TIME_NONE,
                                                                        static_cast<GstClockTime>(now), TRUE, 0));
  return GST_PAD_PROBE_OK;
}

}  // namespace classcam::capture
