#include "firmware/control/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace classcam::control {

std::variant<Json, CallError> call(const std::filesystem::path& socket_path, const Json& request,
                                   std::chrono::milliseconds timeout) {
  const std::string path = socket_path.string();
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return CallError{ClientError::io, "socket path too long: " + path};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return CallError{ClientError::io, std::string("socket: ") + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED) {
      return CallError{ClientError::not_running, "classcamd is not running (nothing listens on " + path + ")"};
    }
    if (e == EACCES || e == EPERM) {
      return CallError{ClientError::permission,
                       "permission denied on " + path + " (run as root or as a member of the classcam group)"};
    }
    return CallError{ClientError::io, "cannot connect to " + path + ": " + std::strerror(e)};
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait = [&](short events) -> bool {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  };

  const std::string out = protocol::dump(request) + "\n";
  std::size_t sent = 0;
  while (sent < out.size()) {
    if (!wait(POLLOUT)) return CallError{ClientError::timeout, "timed out sending the request"};
    const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return CallError{ClientError::io, std::string("send: ") + std::strerror(errno)};
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }

  std::string in;
  char buf[65536];
  while (in.find('\n') == std::string::npos) {
    if (!wait(POLLIN)) {
      return CallError{ClientError::timeout,
                       "no answer from classcamd within " + std::to_string(timeout.count() / 1000) + " s"};
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return CallError{ClientError::io, "classcamd closed the connection without answering"};
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return CallError{ClientError::io, std::string("recv: ") + std::strerror(errno)};
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  in.resize(in.find('\n'));
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return CallError{ClientError::bad_response, "classcamd sent an answer that is not a control response"};
  }
  return j;
}

}  // namespace classcam::control
