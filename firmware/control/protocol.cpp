#include "firmware/control/protocol.hpp"

#include <array>
#include <utility>

namespace classcam::control {

namespace {

constexpr std::array<std::pair<Command, std::string_view>, 10> kCommands = {{{Command::status, "status"},
                                                                             {Command::start, "start"},
                                                                             {Command::stop, "stop"},
                                                                             {Command::bookmark, "bookmark"},
                                                                             {Command::snapshot, "snapshot"},
                                                                             {Command::enroll, "enroll"},
                                                                             {Command::live_start, "live_start"},
                                                                             {Command::live_stop, "live_stop"},
                                                                             {Command::live_mute, "live_mute"},
                                                                             {Command::live_unmute, "live_unmute"}}};

std::string known() {
  std::string s;
  for (const auto& [c, n] : kCommands) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

Result<std::optional<std::string>> text_field(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::string>{};
  if (!j[key].is_string()) return Error{std::string("\"") + key + "\" must be a string"};
  auto s = j[key].get<std::string>();
  if (s.size() > kMaxTextLength) {
    return Error{std::string("\"") + key + "\" is too long (" + std::to_string(s.size()) + " bytes, at most " +
                 std::to_string(kMaxTextLength) + ")"};
  }
  for (unsigned char c : s) {
    if (c < 0x20) return Error{std::string("\"") + key + "\" contains a control character"};
  }
  return std::optional<std::string>{std::move(s)};
}

}  // namespace

std::string_view to_string(Command c) {
  for (const auto& [cmd, name] : kCommands) {
    if (cmd == c) return name;
  }
  return "?";
}

Result<Request> parse_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return Error{"request too long (at most 64 KiB)"};
  const Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded()) return Error{"malformed request: not JSON"};
  if (!j.is_object()) return Error{"malformed request: expected a JSON object such as {\"cmd\": \"status\"}"};
  if (!j.contains("cmd") || !j["cmd"].is_string()) {
    return Error{"malformed request: \"cmd\" is required (one of: " + known() + ")"};
  }
  const std::string name = j["cmd"].get<std::string>();
  Request r;
  bool found = false;
  for (const auto& [cmd, n] : kCommands) {
    if (n == name) {
      r.cmd = cmd;
      found = true;
    }
  }
  if (!found) return Error{"unknown command \"" + name + "\" (expected one of: " + known() + ")"};

  const char* allowed = r.cmd == Command::start        ? "title"
                        : r.cmd == Command::bookmark   ? "label"
                        : r.cmd == Command::live_start ? "max_s"
                                                       : nullptr;
  for (const auto& [key, value] : j.items()) {
    const bool enroll_field = r.cmd == Command::enroll && (key == "hub" || key == "code");
    if (key != "cmd" && !enroll_field && (allowed == nullptr || key != allowed)) {
      return Error{"unknown field \"" + key + "\" for " + name};
    }
  }
  if (r.cmd == Command::enroll) {
    for (const char* key : {"hub", "code"}) {
      auto v = text_field(j, key);
      if (!v) return v.error();
      if (!*v || (*v)->empty()) return Error{std::string("enroll needs \"") + key + "\""};
      (key == std::string_view("hub") ? r.hub : r.code) = **v;
    }
  }
  if (r.cmd == Command::start) {
    auto t = text_field(j, "title");
    if (!t) return t.error();
    r.title = *t;
  }
  if (r.cmd == Command::live_start && j.contains("max_s")) {
    const auto& v = j["max_s"];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxLiveSeconds) {
      return Error{"\"max_s\" must be a whole number of seconds from 1 to " + std::to_string(kMaxLiveSeconds)};
    }
    r.max_s = static_cast<std::uint32_t>(v.get<std::int64_t>());
  }
  if (r.cmd == Command::bookmark) {
    auto l = text_field(j, "label");
    if (!l) return l.error();
    r.label = *l;
  }
  return r;
}

Json encode_request(const Request& r) {
  Json j = {{"cmd", to_string(r.cmd)}};
  if (r.title) j["title"] = *r.title;
  if (r.label) j["label"] = *r.label;
  if (r.hub) j["hub"] = *r.hub;
  if (r.code) j["code"] = *r.code;
  if (r.max_s) j["max_s"] = *r.max_s;
  return j;
}

Json ok_response(Json fields) {
  fields["ok"] = true;
  return fields;
}

Json error_response(const std::string& message) { return {{"ok", false}, {"error", message}}; }

}  // namespace classcam::control
