#include "firmware/control/server.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/log/log.hpp"

namespace classcam::control {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

namespace {

log::Logger logger() { return log::get("control"); }

// One client connection. Shared because the pending read, write, timer and a handler that answers later
// all keep it alive; it goes when the last of them is done.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, Server::Handler& handler)
      : socket_(std::move(socket)), buffer_(kMaxRequestBytes + 1), idle_(socket_.get_executor()), handler_(handler) {}

  void read() {
    idle_.expires_after(std::chrono::seconds(60));
    idle_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
      if (auto s = self.lock(); s && !ec) s->socket_.close();
    });
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_line(ec, n); });
  }

 private:
  void on_line(const boost::system::error_code& ec, std::size_t n) {
    idle_.cancel();
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      respond(error_response("request too long (at most 64 KiB)"), false);
      return;
    }
    if (ec) return;  // closed by the client, or the idle timer
    std::string line(asio::buffers_begin(buffer_.data()),
                     asio::buffers_begin(buffer_.data()) + static_cast<long>(n) - 1);
    buffer_.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto request = parse_request(line);
    if (!request) {
      logger()->warn("refused control request: {}", request.error().message);
      respond(error_response(request.error().message), true);
      return;
    }
    logger()->debug("control request: {}", to_string(request->cmd));
    auto answered = std::make_shared<bool>(false);
    try {
      handler_(*request, [self = shared_from_this(), answered](const Json& response) {
        *answered = true;
        self->respond(response, true);
      });
    } catch (const std::exception& e) {
      // A failing command must not end the daemon (and a recording in progress) on the event loop.
      logger()->error("control request {} failed: {}", to_string(request->cmd), e.what());
      if (!*answered) respond(error_response(std::string("internal error: ") + e.what()), true);
    }
  }

  void respond(const Json& response, bool keep_open) {
    out_ = protocol::dump(response) + "\n";
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep_open](const boost::system::error_code& ec, std::size_t) {
                        if (!ec && keep_open) self->read();
                      });
  }

  Socket socket_;
  asio::streambuf buffer_;
  asio::steady_timer idle_;
  Server::Handler& handler_;
  std::string out_;
};

}  // namespace

Server::Server(asio::io_context& io, std::filesystem::path path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

Server::~Server() { close(); }

Status Server::listen() {
  std::error_code ec;
  if (!path_.parent_path().empty()) std::filesystem::create_directories(path_.parent_path(), ec);
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error{"control: " + path_.string() + " exists and is not a socket; refusing to replace it"};
    }
    Socket probe(io_);
    boost::system::error_code cec;
    probe.connect(asio::local::stream_protocol::endpoint(path_.string()), cec);
    if (!cec) return Error{"control: another classcamd is listening on " + path_.string()};
    std::filesystem::remove(path_, ec);  // stale, from a daemon that did not exit cleanly
  }
  boost::system::error_code bec;
  acceptor_.open(asio::local::stream_protocol(), bec);
  if (!bec) acceptor_.bind(asio::local::stream_protocol::endpoint(path_.string()), bec);
  if (!bec) acceptor_.listen(asio::socket_base::max_listen_connections, bec);
  if (bec) return Error{"control: cannot listen on " + path_.string() + ": " + bec.message()};
  if (::chmod(path_.c_str(), 0660) != 0) {
    return Error{"control: cannot set the mode of " + path_.string() + ": " + std::strerror(errno)};
  }
  logger()->info("control socket {}", path_.string());
  accept();
  return ok_status();
}

void Server::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Connection>(std::move(socket), handler_)->read();
    if (acceptor_.is_open()) accept();
  });
}

void Server::close() {
  if (!acceptor_.is_open()) return;
  boost::system::error_code ec;
  acceptor_.close(ec);
  std::error_code fec;
  std::filesystem::remove(path_, fec);
}

}  // namespace classcam::control
