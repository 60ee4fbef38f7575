#pragma once
// classcamctl: the unit's command-line client. The logic lives here so tests can run it with a
// canned daemon; main.cpp only passes argv and the real socket.
//
//   classcamctl [--socket PATH | --config FILE] [--json] start [--title TEXT] | stop | status |
//               bookmark [LABEL] | snapshot [-o FILE]
//
// Exit codes: 0 done; 1 classcamd refused (its message says why); 2 usage error; 3 classcamd not
// reachable (not running, no permission, no answer).
#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "firmware/control/client.hpp"
#include "firmware/control/protocol.hpp"

namespace classcam::ctl {

using control::Json;

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// Sends one request to the daemon (the real one: control::call on the socket).
using Caller = std::function<std::variant<Json, control::CallError>(
    const std::filesystem::path& socket, const Json& request, std::chrono::milliseconds timeout)>;

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const Caller& caller);

// Human-readable renderings of daemon responses (exposed for tests).
std::string format_status(const Json& status);
std::string format_duration(std::int64_t ms);  // "0:12:30", "1:02:03"
std::string usage();

}  // namespace classcam::ctl
