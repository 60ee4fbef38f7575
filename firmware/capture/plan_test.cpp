#include "firmware/capture/plan.hpp"

#include <gtest/gtest.h>

using namespace classcam;
using namespace classcam::capture;

namespace {

// A machine like this one: software encoders, no camera, no microphone.
Capabilities no_camera() {
  Capabilities c;
  for (const auto& e : known_elements()) {
    if (e != "v4l2h264enc" && e != "v4l2convert") c.elements.insert(e);
  }
  c.libcamera_detail = "no camera: camera: libcamera::CameraMananger::cameras() is empty";
  c.v4l2_detail = "/dev/video0 cannot be opened (No such file or directory)";
  c.alsa_detail = "no sound cards (/proc/asound/pcm is missing)";
  return c;
}

// A Raspberry Pi 4 with its camera, hardware encoder and a USB microphone.
Capabilities pi() {
  Capabilities c;
  for (const auto& e : known_elements()) c.elements.insert(e);
  c.libcamera_camera = true;
  c.libcamera_detail = "camera /base/soc/i2c0mux/i2c@1/imx708@1a";
  c.v4l2_capture = true;
  c.v4l2_detail = "unicam";
  c.alsa_capture = true;
  c.alsa_detail = "capture device 01-00: USB Audio";
  return c;
}

config::UnitConfig cfg() {
  auto c = config::default_unit_config();
  return c;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Plan, AutoFallsBackToTheTestPictureAndSaysWhy) {
  const auto sel = select(cfg(), no_camera());
  ASSERT_TRUE(sel.ok()) << sel.error().message;
  EXPECT_EQ(sel->video, VideoSource::test);
  EXPECT_TRUE(contains(sel->video_reason, "cameras() is empty")) << sel->video_reason;
  EXPECT_TRUE(contains(sel->video_reason, "/dev/video0")) << sel->video_reason;
  ASSERT_EQ(sel->warnings.size(), 1u) << "a unit recording its test picture is worth a warning";
  EXPECT_TRUE(contains(sel->warnings[0], "no camera found")) << sel->warnings[0];
  EXPECT_EQ(sel->encoder, VideoEncoder::x264);
  EXPECT_TRUE(contains(sel->encoder_reason, "no hardware H.264 encoder")) << sel->encoder_reason;
  EXPECT_EQ(sel->audio, AudioSource::none);
  EXPECT_TRUE(contains(sel->audio_reason, "recording without sound")) << sel->audio_reason;
}

TEST(Plan, LibcameraWithoutACameraIsAClearError) {
  auto c = cfg();
  c.video.source = "libcamera";
  const auto sel = select(c, no_camera());
  ASSERT_FALSE(sel.ok());
  EXPECT_TRUE(contains(sel.error().message, "libcamera found no camera")) << sel.error().message;
  EXPECT_TRUE(contains(sel.error().message, "cameras() is empty")) << sel.error().message;
  EXPECT_TRUE(contains(sel.error().message, "Check the camera cable")) << sel.error().message;

  auto caps = no_camera();
  caps.elements.erase("libcamerasrc");
  const auto missing = select(c, caps);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message, "gstreamer1.0-libcamera")) << missing.error().message;
}

TEST(Plan, ExplicitV4l2WithoutADeviceIsAnError) {
  auto c = cfg();
  c.video.source = "v4l2";
  const auto sel = select(c, no_camera());
  ASSERT_FALSE(sel.ok());
  EXPECT_TRUE(contains(sel.error().message, "/dev/video0 cannot be opened")) << sel.error().message;
}

TEST(Plan, PiUsesLibcameraAndTheHardwareEncoderWithExplicitLevel) {
  const auto sel = select(cfg(), pi());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->video, VideoSource::libcamera);
  EXPECT_EQ(sel->encoder, VideoEncoder::v4l2);
  EXPECT_EQ(sel->audio, AudioSource::alsa);
  const auto p = plan_recording(cfg(), *sel);
  EXPECT_TRUE(contains(p.description,
                       "libcamerasrc name=camera ! video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1"))
      << p.description;
  EXPECT_TRUE(contains(p.description, "v4l2convert ! video/x-raw,format=I420 ! v4l2h264enc")) << p.description;
  EXPECT_TRUE(contains(p.description, "video/x-h264,profile=high,level=(string)4 ")) << p.description;
  EXPECT_TRUE(contains(p.description, "h264_i_frame_period=240")) << p.description;
  EXPECT_TRUE(contains(p.description, "video_bitrate=4000000")) << p.description;
  EXPECT_TRUE(contains(p.description, "alsasrc name=mic ! ")) << p.description;
}

TEST(Plan, HardwareEncoderLimitsFallBackToSoftwareWithAReason) {
  auto c = cfg();
  c.video.width = 2560;
  c.video.height = 1440;
  const auto sel = select(c, pi());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->encoder, VideoEncoder::x264);
  EXPECT_TRUE(contains(sel->encoder_reason, "beyond the hardware encoder's 4.0")) << sel->encoder_reason;

  c = cfg();
  c.video.source = "test";
  c.encoder.kind = "v4l2";
  const auto soft = select(c, no_camera());
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(soft->encoder, VideoEncoder::x264);
  ASSERT_EQ(soft->warnings.size(), 1u);
  EXPECT_TRUE(contains(soft->warnings[0], "encoder.kind = \"v4l2\"")) << soft->warnings[0];
}

TEST(Plan, X264IsPinnedToI420AProfileAndOneKeyframePerSegment) {
  auto c = cfg();
  c.video.source = "test";
  c.video.framerate = 25;
  c.recording.segment_ms = 4000;
  c.encoder.preset = "ultrafast";
  c.encoder.profile = "main";
  c.encoder.bitrate_kbps = 2500;
  const auto sel = select(c, no_camera());
  ASSERT_TRUE(sel.ok());
  const auto p = plan_recording(c, *sel);
  // The grid places a keyframe every 4 s (100 frames); the encoder's own interval is only a safety net.
  EXPECT_EQ(p.keyframe_interval, 100u);
  EXPECT_EQ(p.keyframe_grid_ms, 4000u);
  EXPECT_TRUE(contains(p.description, "videotestsrc name=camera is-live=true ! video/x-raw,format=I420,"))
      << p.description;
  EXPECT_TRUE(contains(p.description, "clockoverlay")) << "the test picture carries a clock";
  EXPECT_TRUE(contains(p.description,
                       "x264enc name=encoder tune=zerolatency speed-preset=ultrafast bitrate=2500 key-int-max=400 ! "
                       "video/x-h264,profile=main"))
      << p.description;
  EXPECT_TRUE(contains(p.description, "mp4mux name=mux fragment-duration=" + std::to_string(kFragmentMs) +
                                          " streamable=true ! appsink name=sink"))
      << p.description;
  EXPECT_TRUE(contains(p.description, "h264parse ! tee name=vtee ! queue ! mux.")) << p.description;
  const auto to_file = plan_recording(c, *sel, std::string("/tmp/x.mp4"));
  EXPECT_TRUE(contains(to_file.description, "streamable=true ! filesink location=\"/tmp/x.mp4\" buffer-mode=2"))
      << to_file.description;
  // The privacy element sits after the source and before the encoder.
  EXPECT_LT(p.description.find("identity name=privacy"), p.description.find("x264enc")) << p.description;
  ASSERT_TRUE(p.video);
  EXPECT_EQ(p.video->framerate, 25u);
  EXPECT_FALSE(p.audio);
}

TEST(Plan, Openh264WhenX264IsMissingAndAnErrorWhenNothingEncodes) {
  auto caps = no_camera();
  caps.elements.erase("x264enc");
  const auto sel = select(cfg(), caps);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->encoder, VideoEncoder::openh264);
  const auto p = plan_recording(cfg(), *sel);
  EXPECT_TRUE(contains(p.description, "openh264enc name=encoder bitrate=4000000 gop-size=240")) << p.description;
  EXPECT_TRUE(contains(p.description, "video/x-h264,profile=high")) << p.description;

  caps.elements.erase("openh264enc");
  const auto none = select(cfg(), caps);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(contains(none.error().message, "no H.264 encoder")) << none.error().message;
}

TEST(Plan, AudioOnlyHasNoVideoBranchAtAll) {
  auto c = cfg();
  c.video.enabled = false;
  c.audio.source = "test";
  c.audio.codec = "opus";
  c.audio.bitrate_kbps = 64;
  const auto sel = select(c, no_camera());
  ASSERT_TRUE(sel.ok());
  EXPECT_FALSE(sel->video);
  EXPECT_FALSE(sel->encoder);
  const auto p = plan_recording(c, *sel);
  for (const char* absent : {"video", "camera", "privacy", "h264", "x264"}) {
    EXPECT_FALSE(contains(p.description, absent)) << absent << " in " << p.description;
  }
  EXPECT_TRUE(contains(p.description, "audiotestsrc name=mic is-live=true")) << p.description;
  EXPECT_TRUE(contains(p.description, "tee name=atee ! opusenc bitrate=64000 ! queue ! mux.")) << p.description;
  EXPECT_FALSE(p.video);
  ASSERT_TRUE(p.audio);
  EXPECT_EQ(p.audio->codec, protocol::AudioCodec::opus);

  c.audio.source = "auto";  // and no microphone: nothing to record
  const auto nothing = select(c, no_camera());
  ASSERT_FALSE(nothing.ok());
  EXPECT_TRUE(contains(nothing.error().message, "audio-only room")) << nothing.error().message;
}

TEST(Plan, AacFallsBackToVoaacenc) {
  auto c = cfg();
  c.audio.source = "test";
  auto caps = no_camera();
  auto sel = select(c, caps);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->audio_encoder, "avenc_aac");
  caps.elements.erase("avenc_aac");
  sel = select(c, caps);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->audio_encoder, "voaacenc");
  EXPECT_TRUE(contains(plan_recording(c, *sel).description, "voaacenc bitrate=96000"));
  caps.elements.erase("voaacenc");
  EXPECT_FALSE(select(c, caps).ok());
}

TEST(Plan, ExplicitAlsaWithoutAMicrophoneIsAnError) {
  auto c = cfg();
  c.audio.source = "alsa";
  const auto sel = select(c, no_camera());
  ASSERT_FALSE(sel.ok());
  EXPECT_TRUE(contains(sel.error().message, "/proc/asound/pcm")) << sel.error().message;
}

TEST(Plan, TimestampOverlayAndFileSource) {
  auto c = cfg();
  c.video.source = "file";
  c.video.file = "/media/lesson.mp4";
  c.video.timestamp_overlay = true;
  auto caps = no_camera();
  EXPECT_FALSE(select(c, caps).ok()) << "an unreadable file is refused";
  caps.file_readable = true;
  const auto sel = select(c, caps);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->video, VideoSource::file);
  const auto p = plan_recording(c, *sel);
  EXPECT_TRUE(contains(p.description, "filesrc name=camera location=\"/media/lesson.mp4\" ! decodebin"))
      << p.description;
  EXPECT_TRUE(contains(p.description, "identity sync=true ! clockoverlay")) << p.description;
}

TEST(Plan, PreviewEndsInAnAppsinkAfterThePrivacyElement) {
  auto sel = select(cfg(), pi());
  ASSERT_TRUE(sel.ok());
  const auto p = plan_preview(cfg(), *sel);
  EXPECT_TRUE(contains(p.description, "identity name=privacy silent=true ! appsink name=preview")) << p.description;
  EXPECT_EQ(p.warmup_frames, 15u) << "a real camera gets half a second to settle";
  EXPECT_FALSE(contains(p.description, "mp4mux"));
}

TEST(Plan, H264Levels) {
  EXPECT_EQ(h264_level(1920, 1080, 30), "4");
  EXPECT_EQ(h264_level(1280, 720, 30), "3.1");
  EXPECT_EQ(h264_level(1920, 1080, 60), "4.2");
  EXPECT_EQ(h264_level(3840, 2160, 30), "5.1");
  EXPECT_EQ(h264_level(640, 480, 30), "3");
}

TEST(Plan, LiveOnlyPipelineHasTheRecordingsSourceAndEncoderUpToTheTeesAndNoMuxer) {
  auto c = config::default_unit_config();
  c.video.source = "test";
  c.audio.source = "test";
  const auto sel = select(c, no_camera());
  ASSERT_TRUE(sel.ok()) << sel.error().message;
  const auto rec = plan_recording(c, *sel);
  const auto live = plan_live(c, *sel);
  EXPECT_EQ(live.keyframe_interval, rec.keyframe_interval);
  // The recording's description up to the video tee is the live one's: same picture, same encoder.
  const std::string& r = rec.description;
  const std::size_t from = r.find("videotestsrc");
  ASSERT_NE(from, std::string::npos) << r;
  EXPECT_EQ(live.description.substr(0, live.description.find("tee name=vtee")),
            r.substr(from, r.find("tee name=vtee") - from));
  EXPECT_TRUE(contains(live.description, "h264parse ! tee name=vtee ! fakesink")) << live.description;
  EXPECT_TRUE(contains(live.description, "tee name=atee ! fakesink")) << live.description;
  for (const char* absent : {"mp4mux", "avenc_aac", "appsink"}) {
    EXPECT_FALSE(contains(live.description, absent)) << absent << " in " << live.description;
  }
}
