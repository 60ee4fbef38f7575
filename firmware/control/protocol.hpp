#pragma once
// The local control protocol between classcamctl (or any script) and classcamd, over the unix socket
// control.socket. One JSON object per line each way: a request, then its response. docs/control.md is
// the reference; this header is its code.
//
//   {"cmd": "status"}
//   {"cmd": "start", "title": "Year 8 maths"}      title optional
//   {"cmd": "stop"}
//   {"cmd": "bookmark", "label": "group work"}     label optional
//   {"cmd": "snapshot"}
//   {"cmd": "enroll", "hub": "https://hub.school.example:8443", "code": "7KQ2M-..."}
//   {"cmd": "live_start", "max_s": 600}               max_s optional (default 3600): live to the hub
//   {"cmd": "live_stop"}
//   {"cmd": "live_mute"} / {"cmd": "live_unmute"}      talkback from the hub muted / played again
//
// Responses carry "ok": true with the command's fields, or "ok": false with "error": what went wrong.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol/json_reader.hpp"
#include "common/util/result.hpp"

namespace classcam::control {

using protocol::Json;

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
inline constexpr std::size_t kMaxTextLength = 200;  // titles and labels

enum class Command { status, start, stop, bookmark, snapshot, enroll, live_start, live_stop, live_mute, live_unmute };
inline constexpr std::uint32_t kMaxLiveSeconds = 8 * 3600;
std::string_view to_string(Command c);

struct Request {
  Command cmd = Command::status;
  std::optional<std::string> title;    // start
  std::optional<std::string> label;    // bookmark
  std::optional<std::string> hub;      // enroll: the hub's URL
  std::optional<std::string> code;     // enroll: the pairing code
  std::optional<std::uint32_t> max_s;  // live_start: live stops by itself after this long
};

// Validates one request line; the Error is the text sent back to the client.
Result<Request> parse_request(std::string_view line);
Json encode_request(const Request& r);

Json ok_response(Json fields = Json::object());
Json error_response(const std::string& message);

}  // namespace classcam::control
