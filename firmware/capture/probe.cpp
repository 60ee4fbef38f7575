#include "firmware/capture/probe.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "firmware/capture/gst.hpp"

namespace classcam::capture {

std::string probe_libcamera(const std::string& camera, bool& found, std::chrono::milliseconds timeout) {
  found = false;
  ensure_gstreamer();
  std::string error;
  const std::string desc =
      "libcamerasrc name=probe" + (camera.empty() ? std::string() : " camera-name=\"" + camera + "\"") + " ! fakesink";
  ElementPtr p = parse_pipeline(desc, error);
  if (!p) return "libcamerasrc unavailable: " + error;
  // PAUSED opens the camera: it fails at once when libcamera lists none.
  GstStateChangeReturn r = gst_element_set_state(p.get(), GST_STATE_PAUSED);
  if (r == GST_STATE_CHANGE_ASYNC) {
    r = gst_element_get_state(p.get(), nullptr, nullptr, static_cast<GstClockTime>(timeout.count()) * GST_MSECOND);
  }
  std::string detail;
  if (r == GST_STATE_CHANGE_FAILURE) {
    BusPtr bus(gst_element_get_bus(p.get()));
    MessagePtr m(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    detail = "no camera: " + (m ? describe(m.get()) : std::string("libcamerasrc could not open a camera"));
  } else if (r == GST_STATE_CHANGE_ASYNC) {
    detail = fmt::format("no answer from libcamera within {} ms", timeout.count());
  } else {
    found = true;
    ElementPtr src(gst_bin_get_by_name(GST_BIN(p.get()), "probe"));
    gchar* name = nullptr;
    g_object_get(src.get(), "camera-name", &name, nullptr);
    detail = name != nullptr && *name != '\0' ? std::string("camera ") + name : std::string("a camera is present");
    g_free(name);
  }
  gst_element_set_state(p.get(), GST_STATE_NULL);
  return detail;
}

std::string probe_v4l2(const std::string& device, bool& found) {
  found = false;
  const int fd = ::open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fmt::format("{} cannot be opened ({})", device, std::strerror(errno));
  v4l2_capability cap{};
  const int r = ::ioctl(fd, VIDIOC_QUERYCAP, &cap);
  ::close(fd);
  if (r != 0) return device + " is not a V4L2 device";
  const std::uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities;
  const std::string card(reinterpret_cast<const char*>(cap.card));
  const std::string driver(reinterpret_cast<const char*>(cap.driver));
  if ((caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) != 0) {
    return fmt::format("{} is a memory-to-memory device ({}), not a camera", device, driver);
  }
  if ((caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) == 0) {
    return fmt::format("{} ({}) cannot capture video", device, card);
  }
  found = true;
  return fmt::format("{} ({})", card, driver);
}

std::string probe_alsa(bool& found) {
  found = false;
  std::ifstream pcm("/proc/asound/pcm");
  if (!pcm) return "no sound cards (/proc/asound/pcm is missing)";
  std::string line;
  while (std::getline(pcm, line)) {
    if (line.find("capture") != std::string::npos) {
      found = true;
      // "00-00: USB Audio : USB Audio : capture 1" -> "00-00: USB Audio"
      return "capture device " + line.substr(0, line.find(" : "));
    }
  }
  return "no ALSA capture device in /proc/asound/pcm";
}

Capabilities probe(const config::UnitConfig& config) {
  ensure_gstreamer();
  Capabilities caps;
  for (const auto& name : known_elements()) {
    if (GstElementFactory* f = gst_element_factory_find(name.c_str())) {
      caps.elements.insert(name);
      gst_object_unref(f);
    }
  }
  const auto& v = config.video;
  if (v.enabled && (v.source == "auto" || v.source == "libcamera")) {
    if (caps.has("libcamerasrc")) {
      caps.libcamera_detail = probe_libcamera(v.camera, caps.libcamera_camera);
    } else {
      caps.libcamera_detail = "libcamerasrc is not installed";
    }
  } else {
    caps.libcamera_detail = "not probed";
  }
  if (v.enabled && (v.source == "auto" || v.source == "v4l2")) {
    caps.v4l2_detail = probe_v4l2(v.device, caps.v4l2_capture);
  } else {
    caps.v4l2_detail = "not probed";
  }
  if (config.audio.source == "auto" || config.audio.source == "alsa") {
    caps.alsa_detail = probe_alsa(caps.alsa_capture);
  }
  if (v.source == "file") {
    caps.file_readable = ::access(v.file.c_str(), R_OK) == 0;
    caps.file_detail = caps.file_readable
                           ? v.file.string()
                           : fmt::format("{} cannot be read ({})", v.file.string(), std::strerror(errno));
  }
  return caps;
}

}  // namespace classcam::capture
