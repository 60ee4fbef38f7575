#pragma once
// A blocking client of the control socket, for classcamctl and tests: connect, send one request line,
// read one response line.
#include <chrono>
#include <filesystem>
#include <string>
#include <variant>

#include "common/util/result.hpp"
#include "firmware/control/protocol.hpp"

namespace classcam::control {

enum class ClientError { not_running, permission, io, timeout, bad_response };

struct CallError {
  ClientError kind;
  std::string message;
};

// The parsed response (ok or not), or why there is none.
std::variant<Json, CallError> call(const std::filesystem::path& socket, const Json& request,
                                   std::chrono::milliseconds timeout);

}  // namespace classcam::control
