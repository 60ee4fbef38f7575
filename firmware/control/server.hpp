#pragma once
// The control socket server: a unix stream socket (mode 0660: the daemon's user and group may use it)
// on the event loop. Each connection reads one request line at a time (at most 64 KiB), hands it to the
// handler and writes the response line before reading the next; a connection idle for a minute is
// closed.
//
// Threading: all on the io_context. The handler may answer later (start waits for the first frame):
// the connection stays open until it does.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>
#include <functional>
#include <memory>

#include "common/util/result.hpp"
#include "firmware/control/protocol.hpp"

namespace classcam::control {

class Server {
 public:
  using Reply = std::function<void(Json response)>;
  using Handler = std::function<void(const Request& request, Reply reply)>;

  Server(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. A stale socket left by a crash is replaced; a live one (another classcamd) or a
  // file that is not a socket is an Error.
  Status listen();
  void close();

 private:
  void accept();

  boost::asio::io_context& io_;
  std::filesystem::path path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace classcam::control
