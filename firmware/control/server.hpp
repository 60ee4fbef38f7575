#pragma once
// The control socket server: a unix stream socket (mode 0660: the daemon's user and group may use it)
// on the event loop. Each connection reads one request line at a time (at most 64 KiB), hands it to the
// handler and writes the response line before reading the next.
//
// Local clients must never be able to starve the daemon (a recording needs file descriptors too):
// at most Limits::max_connections are open at once; at the cap the server stops accepting (further
// clients wait in the listen backlog, holding none of the daemon's descriptors) and connections idle
// between requests get a short idle timeout instead of a minute; a response not written within
// write_timeout (a client that does not read) closes its connection; when accept fails (EMFILE,
// ENFILE, ENOBUFS) it is tried again after a backoff instead of at once.
//
// Threading: all on the io_context. The handler may answer later (start waits for the first frame):
// the connection stays open until it does.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "common/util/result.hpp"
#include "firmware/control/protocol.hpp"

namespace classcam::control {

struct ServerLimits {
  std::size_t max_connections = 16;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(1)};
  std::chrono::milliseconds busy_idle_timeout{std::chrono::seconds(2)};  // while at max_connections
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds accept_retry_min{std::chrono::milliseconds(50)};
  std::chrono::milliseconds accept_retry_max{std::chrono::seconds(2)};
};

class Server {
 public:
  using Reply = std::function<void(Json response)>;
  using Handler = std::function<void(const Request& request, Reply reply)>;
  struct Registry;  // the open connections, shared with them (they may outlive the server)

  Server(boost::asio::io_context& io, std::filesystem::path path, Handler handler, ServerLimits limits = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. A stale socket left by a crash is replaced; a live one (another classcamd) or a
  // file that is not a socket is an Error.
  Status listen();
  void close();

  std::size_t connections() const;
  // Accepts that failed (EMFILE and the like) since start.
  std::uint64_t accept_failures() const { return accept_failures_; }

 private:
  void accept();
  void on_accept_error(const boost::system::error_code& ec);

  boost::asio::io_context& io_;
  std::filesystem::path path_;
  Handler handler_;
  ServerLimits limits_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::shared_ptr<Registry> registry_;
  std::chrono::milliseconds retry_delay_{0};
  std::uint64_t accept_failures_ = 0;
  bool accepting_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace classcam::control
