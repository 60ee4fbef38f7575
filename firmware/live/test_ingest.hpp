#pragma once
// TestIngest: the hub's side of docs/live.md "Unit -> hub" for tests: a real HTTPS endpoint (OpenSSL,
// a CA and certificate from hub/tls) taking POST /api/v1/unit/live and DELETE of its Location, and a
// real receiving webrtcbin that answers each offer (non-trickle, after its ICE gathering completed) and
// decodes what arrives (avdec_h264, opusdec), counting decoded frames; optionally it sends a tone back
// on the audio m-line as the hub's talkback does (send_talkback).
//
// Threading: the server has its own thread; webrtcbin its own. Counters are atomics; the rest of the
// recorded requests is read under a mutex.
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace classcam::live::testing {

class TestIngest {
 public:
  explicit TestIngest(const std::filesystem::path& dir, std::string token = "unit-secret-token");
  ~TestIngest();
  TestIngest(const TestIngest&) = delete;
  TestIngest& operator=(const TestIngest&) = delete;

  std::string url() const;
  const std::filesystem::path& ca_file() const { return ca_file_; }
  const std::string& token() const { return token_; }

  // Answer the next POSTs with this status and a problem+json body instead (0: answer normally).
  void refuse_with(int status) { refuse_status_ = status; }
  // The hub's talkback: the next answers send a sine of `hz` on the unit's audio m-line (when the offer
  // receives audio), silent until talk(true). 0: no talkback sender.
  void send_talkback(double hz) { talk_hz_ = hz; }
  // Unmutes (or mutes) the tone at its source; returns when it did. False: no talkback sender runs.
  std::optional<std::chrono::steady_clock::time_point> talk(bool on);

  std::uint64_t video_frames() const { return video_frames_.load(); }
  std::uint64_t audio_frames() const { return audio_frames_.load(); }
  // Keyframes (IDR access units) out of the depayloader, and when the first of them arrived: before it a
  // viewer joining mid-stream has nothing whole to show.
  std::uint64_t video_keyframes() const { return video_keyframes_.load(); }
  std::optional<std::chrono::steady_clock::time_point> first_keyframe_at() const;
  int posts() const { return posts_.load(); }
  int deletes() const { return deletes_.load(); }
  bool receiving() const;  // a receiver webrtcbin exists (between a POST and its DELETE)

  struct Request {
    std::string method, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const;
  };
  std::vector<Request> requests() const;
  std::string last_answer() const;
  // Asks the sender for a keyframe the way a receiver does: an upstream force-key-unit event from the
  // depayloader, which the receiving webrtcbin turns into RTCP PLI.
  bool request_keyframe();

 private:
  void serve();
  void handle(void* ssl);
  std::string answer(const std::string& offer, std::string& error);
  // Links a muted tone to `webrtc` for the offer's audio m-line; its volume element (a ref), or null.
  GstElement* add_talkback(GstElement* pipeline, GstElement* webrtc, const std::string& offer);
  void drop_receiver();

  std::string token_;
  std::filesystem::path cert_, key_, ca_file_;
  void* ctx_ = nullptr;  // SSL_CTX
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<int> refuse_status_{0};
  std::atomic<std::uint64_t> video_frames_{0}, audio_frames_{0}, video_keyframes_{0};
  std::atomic<std::int64_t> first_keyframe_ns_{0};  // steady_clock since epoch; 0: none yet
  std::atomic<int> posts_{0}, deletes_{0};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::string last_answer_;
  GstElement* receiver_ = nullptr;     // pipeline with the receiving webrtcbin (under mu_)
  GstElement* talk_volume_ = nullptr;  // the talkback tone's volume in receiver_ (under mu_)
  std::atomic<double> talk_hz_{0};
  int ingests_ = 0;
};

}  // namespace classcam::live::testing
