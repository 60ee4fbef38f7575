#include "firmware/ctl/ctl.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>

#include "common/config/toml_reader.hpp"
#include "common/config/unit_config.hpp"
#include "common/util/hash.hpp"
#include "common/util/time.hpp"
#include "firmware/spool/quota.hpp"

namespace classcam::ctl {

namespace {

using namespace std::chrono_literals;

std::string str(const Json& j, const char* key, const std::string& fallback = "") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

std::uint64_t num(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<std::uint64_t>() : 0;
}

// "17:16:09" in local time, from an RFC 3339 UTC time.
std::string local_clock(const std::string& rfc3339) {
  const auto t = util::parse_rfc3339(rfc3339);
  if (!t) return rfc3339;
  const std::time_t tt = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
  return buf;
}

std::int64_t ms_between(const std::string& from, const std::string& to) {
  const auto a = util::parse_rfc3339(from);
  const auto b = util::parse_rfc3339(to);
  if (!a || !b) return 0;
  return util::to_unix_ms(*b) - util::to_unix_ms(*a);
}

std::string session_label(const Json& s) {
  std::string out = str(s, "session_id");
  if (s.contains("title") && s["title"].is_string()) out += " \"" + s["title"].get<std::string>() + "\"";
  return out;
}

std::string default_snapshot_name() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "snapshot-%Y%m%d-%H%M%S.jpg", &tm);
  return buf;
}

}  // namespace

std::string usage() {
  return "usage: classcamctl [--socket PATH | --config FILE] [--json] COMMAND\n"
         "commands:\n"
         "  start [--title TEXT]   start recording; returns once the first frame is on disk\n"
         "  stop                   stop recording; returns once the last segment is closed\n"
         "  status                 what the unit is doing\n"
         "  bookmark [LABEL]       mark this moment of the recording\n"
         "  snapshot [-o FILE]     save a JPEG of the current picture (FILE \"-\" writes it to stdout)\n"
         "  enroll --hub URL --code CODE\n"
         "                         enrol this unit with a hub, using the pairing code a technician got there\n"
         "  live start [--max-s N] stream live to the hub (N seconds, default 3600); the LED shows it\n"
         "  live stop              end live\n"
         "  live mute|unmute       mute (or play again) the coach's talkback in the earpiece\n"
         "options:\n"
         "  --socket PATH          classcamd's control socket (default /run/classcam/classcamd.sock)\n"
         "  --config FILE          take the socket from this classcamd configuration\n"
         "  --json                 print classcamd's answer as JSON, for scripts\n"
         "exit codes: 0 done, 1 refused by classcamd, 2 usage error, 3 classcamd not reachable\n";
}

std::string format_duration(std::int64_t ms) {
  if (ms < 0) ms = 0;
  const std::int64_t s = ms / 1000;
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

std::string format_status(const Json& j) {
  std::string out;
  const Json& unit = j.value("unit", Json::object());
  const Json& state = j.value("state", Json::object());
  const std::string st = str(state, "state", "unknown");
  std::string line = fmt::format("{} ({}): {}", str(unit, "name", "classcam unit"), str(unit, "id", "?"), st);
  if (state.contains("since")) {
    line += " since " + local_clock(str(state, "since"));
    const auto elapsed = ms_between(str(state, "since"), util::to_rfc3339(util::now_utc()));
    if (st == "recording") line += " (" + format_duration(elapsed) + ")";
  }
  out += line + "\n";
  if (state.contains("reason")) out += "  reason    " + str(state, "reason") + "\n";
  if (j.contains("session")) {
    const Json& s = j["session"];
    out += fmt::format("  session   {}, started by {}\n", session_label(s), str(s, "trigger"));
    if (j.contains("progress")) {
      const Json& p = j["progress"];
      out += fmt::format("  recorded  {} in {} segment{}, {} bookmark{}\n",
                         format_duration(static_cast<std::int64_t>(num(p, "recorded_ms"))), num(p, "segments"),
                         num(p, "segments") == 1 ? "" : "s", num(p, "bookmarks"), num(p, "bookmarks") == 1 ? "" : "s");
    }
  }
  if (j.contains("capture")) {
    const Json& c = j["capture"];
    if (c.contains("error")) {
      out += "  capture   not possible: " + str(c, "error") + "\n";
    } else {
      std::string v = str(c, "video") == "none"
                          ? std::string("no video")
                          : fmt::format("video {} {} ({})", str(c, "video"), str(c, "resolution"), str(c, "encoder"));
      out += fmt::format("  capture   {}, audio {}\n", v, str(c, "audio"));
    }
  }
  if (j.contains("spool")) {
    const Json& s = j["spool"];
    out += fmt::format("  spool     {} used of {} allowed; {} segments ({}) waiting for upload\n",
                       spool::human_bytes(num(s, "used_bytes")), spool::human_bytes(num(s, "limit_bytes")),
                       num(s, "backlog_segments"), spool::human_bytes(num(s, "backlog_bytes")));
  }
  if (j.contains("led")) out += std::string("  LED       ") + (j["led"].get<bool>() ? "on" : "off") + "\n";
  if (j.contains("enrolment")) {
    const Json& e = j["enrolment"];
    if (e.value("enrolled", false)) {
      out += fmt::format("  hub       {} (unit {})\n", str(e, "hub_url"), str(e, "unit_id"));
    } else {
      out += "  hub       not enrolled (classcamctl enroll --hub URL --code CODE)\n";
    }
  }
  if (j.contains("link") && j.contains("enrolment") && j["enrolment"].value("enrolled", false)) {
    const Json& l = j["link"];
    std::string mqtt =
        l.value("connected", false) ? "connected to " + str(l, "broker") : "not connected to " + str(l, "broker");
    if (l.contains("last_error") && !l.value("connected", false)) mqtt += ": " + str(l, "last_error");
    if (num(l, "outbox") > 0) mqtt += fmt::format(" ({} messages waiting)", num(l, "outbox"));
    out += "  mqtt      " + mqtt + "\n";
  }
  if (j.contains("upload") && j["upload"].contains("backlog_segments")) {
    const Json& u = j["upload"];
    std::string up = fmt::format("{}; {} segments ({}) to send", str(u, "state"), num(u, "backlog_segments"),
                                 spool::human_bytes(num(u, "backlog_bytes")));
    if (num(u, "rate_bps") > 0) up += fmt::format(", {:.1f} Mbit/s", static_cast<double>(num(u, "rate_bps")) / 1e6);
    if (num(u, "set_aside") > 0) up += fmt::format("; {} set aside, tried again later", num(u, "set_aside"));
    out += "  upload    " + up + "\n";
    if (u.contains("last_error")) out += "  upload    last error: " + str(u, "last_error") + "\n";
  }
  if (j.contains("schedule") && !j["schedule"].value("revision", Json()).is_null()) {
    const Json& s = j["schedule"];
    if (s.contains("active")) {
      out += fmt::format("  schedule  recording \"{}\" until {}\n", str(s["active"], "title"),
                         local_clock(str(s["active"], "end")));
    } else if (s.contains("next")) {
      out += fmt::format("  schedule  next: \"{}\" at {}\n", str(s["next"], "title"),
                         local_clock(str(s["next"], "start")));
    } else {
      out += "  schedule  nothing scheduled\n";
    }
  }
  return out;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const Caller& caller) {
  std::filesystem::path socket = config::UnitConfig{}.control.socket;
  bool json = false;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--socket" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (a == "--config" && i + 1 < args.size()) {
      try {
        socket = config::load_unit_config(args[++i]).control.socket;
      } catch (const std::exception& e) {
        err << "classcamctl: " << e.what() << "\n";
        return kExitUsage;
      }
    } else if (a == "--json") {
      json = true;
    } else if (a == "--help" || a == "-h") {
      out << usage();
      return kExitOk;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) {
    err << usage();
    return kExitUsage;
  }
  const std::string cmd = rest[0];
  control::Request req;
  std::chrono::milliseconds timeout = 10s;
  std::string snapshot_file;
  auto too_many = [&](std::size_t max) {
    if (rest.size() <= max) return false;
    err << "classcamctl: unexpected argument '" << rest[max] << "' for " << cmd << "\n" << usage();
    return true;
  };
  if (cmd == "status") {
    if (too_many(1)) return kExitUsage;
    req.cmd = control::Command::status;
  } else if (cmd == "start") {
    req.cmd = control::Command::start;
    timeout = 40s;  // the camera may take a while to deliver its first frame
    if (rest.size() >= 3 && rest[1] == "--title") {
      req.title = rest[2];
      if (too_many(3)) return kExitUsage;
    } else if (too_many(1)) {
      return kExitUsage;
    }
  } else if (cmd == "stop") {
    if (too_many(1)) return kExitUsage;
    req.cmd = control::Command::stop;
    timeout = 90s;  // stop_timeout_ms is at most 60 s, then recovery
  } else if (cmd == "bookmark") {
    req.cmd = control::Command::bookmark;
    if (rest.size() >= 2) req.label = rest[1];
    if (too_many(2)) return kExitUsage;
  } else if (cmd == "snapshot") {
    req.cmd = control::Command::snapshot;
    timeout = 30s;
    if (rest.size() >= 3 && rest[1] == "-o") {
      snapshot_file = rest[2];
      if (too_many(3)) return kExitUsage;
    } else if (too_many(1)) {
      return kExitUsage;
    }
    if (snapshot_file.empty() && !json) snapshot_file = default_snapshot_name();
  } else if (cmd == "enroll") {
    req.cmd = control::Command::enroll;
    timeout = 60s;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] == "--hub" && i + 1 < rest.size()) {
        req.hub = rest[++i];
      } else if (rest[i] == "--code" && i + 1 < rest.size()) {
        req.code = rest[++i];
      } else {
        err << "classcamctl: unexpected argument '" << rest[i] << "' for enroll\n" << usage();
        return kExitUsage;
      }
    }
    if (!req.hub || !req.code) {
      err << "classcamctl: enroll needs --hub URL and --code CODE\n" << usage();
      return kExitUsage;
    }
  } else if (cmd == "live" && rest.size() >= 2 && rest[1] == "start") {
    req.cmd = control::Command::live_start;
    timeout = 30s;  // ICE gathering and the hub's answer
    if (rest.size() >= 4 && rest[2] == "--max-s") {
      try {
        req.max_s = static_cast<std::uint32_t>(std::stoul(rest[3]));
      } catch (const std::exception&) {
        err << "classcamctl: --max-s needs a number of seconds\n";
        return kExitUsage;
      }
      if (too_many(4)) return kExitUsage;
    } else if (too_many(2)) {
      return kExitUsage;
    }
  } else if (cmd == "live" && rest.size() >= 2 && rest[1] == "stop") {
    if (too_many(2)) return kExitUsage;
    req.cmd = control::Command::live_stop;
    timeout = 15s;
  } else if (cmd == "live" && rest.size() >= 2 && (rest[1] == "mute" || rest[1] == "unmute")) {
    if (too_many(2)) return kExitUsage;
    req.cmd = rest[1] == "mute" ? control::Command::live_mute : control::Command::live_unmute;
  } else {
    err << "classcamctl: unknown command '" << cmd << "'\n" << usage();
    return kExitUsage;
  }

  const auto result = caller(socket, control::encode_request(req), timeout);
  if (std::holds_alternative<control::CallError>(result)) {
    const auto& e = std::get<control::CallError>(result);
    if (json) {
      out << protocol::dump(Json{{"ok", false}, {"error", e.message}}) << "\n";
    } else {
      err << "classcamctl: " << e.message << "\n";
    }
    return kExitUnreachable;
  }
  Json r = std::get<Json>(result);
  if (!r.value("ok", false)) {
    if (json) {
      out << protocol::dump(r) << "\n";
    } else {
      err << "classcamctl: " << cmd << " refused: " << str(r, "error", "no reason given") << "\n";
    }
    return kExitRefused;
  }

  if (req.cmd == control::Command::snapshot && !snapshot_file.empty()) {
    const auto jpeg = util::base64_decode(str(r, "jpeg_base64"));
    if (!jpeg) {
      err << "classcamctl: classcamd sent a snapshot that is not valid base64\n";
      return kExitUnreachable;
    }
    if (snapshot_file == "-") {
      out.write(jpeg->data(), static_cast<std::streamsize>(jpeg->size()));
      return kExitOk;
    }
    std::ofstream f(snapshot_file, std::ios::binary);
    f.write(jpeg->data(), static_cast<std::streamsize>(jpeg->size()));
    if (!f) {
      err << "classcamctl: cannot write " << snapshot_file << "\n";
      return kExitRefused;
    }
    r.erase("jpeg_base64");
    r["file"] = snapshot_file;
  }

  if (json) {
    out << protocol::dump(r) << "\n";
    return kExitOk;
  }
  switch (req.cmd) {
    case control::Command::status: out << format_status(r); break;
    case control::Command::start: out << "Recording: session " << session_label(r["session"]) << "\n"; break;
    case control::Command::stop: {
      const Json& s = r["session"];
      out << fmt::format("Stopped session {}: {} segments, {} ({})\n", session_label(s), num(s, "segment_count"),
                         format_duration(ms_between(str(s, "started_at"), str(s, "ended_at"))),
                         str(s, "end_reason", "stopped"));
      break;
    }
    case control::Command::bookmark: {
      const Json& b = r["bookmark"];
      out << "Bookmark at " << format_duration(static_cast<std::int64_t>(num(b, "offset_ms")));
      if (!str(b, "label").empty()) out << " \"" << str(b, "label") << "\"";
      out << "\n";
      break;
    }
    case control::Command::snapshot:
      out << "Snapshot saved to " << snapshot_file << " (" << spool::human_bytes(num(r, "bytes")) << ")\n";
      break;
    case control::Command::enroll:
      out << fmt::format("Enrolled with {} as {} (\"{}\"); connecting to the hub\n", str(r, "hub_url"),
                         str(r, "unit_id"), str(r, "unit_name"));
      break;
    case control::Command::live_start: out << "Live: " << str(r, "live_id") << " (the LED shows it)\n"; break;
    case control::Command::live_stop: out << "Live stopped\n"; break;
    case control::Command::live_mute: out << "Talkback muted\n"; break;
    case control::Command::live_unmute: out << "Talkback plays again\n"; break;
  }
  return kExitOk;
}

}  // namespace classcam::ctl
