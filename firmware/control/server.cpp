#include "firmware/control/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log/log.hpp"

namespace classcam::control {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

namespace {

log::Logger logger() { return log::get("control"); }

class Connection;

}  // namespace

struct Server::Registry {
  Handler handler;
  ServerLimits limits;
  std::size_t open = 0;
  bool at_cap = false;
  // Called when a connection goes while the server is at the cap: accept again.
  std::function<void()> slot_freed;
  // The open connections, squeezed to the short idle timeout at the cap.
  std::vector<std::weak_ptr<Connection>> connections;
};

namespace {

// One client connection. Shared because the pending read, write, timers and a handler that answers
// later all keep it alive; it goes when the last of them is done, and frees its slot then.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<Server::Registry> registry)
      : socket_(std::move(socket)),
        buffer_(kMaxRequestBytes + 1),
        idle_(socket_.get_executor()),
        write_timer_(socket_.get_executor()),
        registry_(std::move(registry)) {
    ++registry_->open;
  }
  ~Connection() {
    --registry_->open;
    if (registry_->at_cap && registry_->slot_freed) registry_->slot_freed();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void read() {
    reading_ = true;
    arm_idle(registry_->at_cap ? registry_->limits.busy_idle_timeout : registry_->limits.idle_timeout);
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_line(ec, n); });
  }

  // At the cap: an idle connection is given only a short while more.
  void squeeze() {
    if (reading_ && socket_.is_open()) arm_idle(registry_->limits.busy_idle_timeout);
  }

 private:
  void arm_idle(std::chrono::milliseconds d) {
    idle_.expires_after(d);
    idle_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
      if (auto s = self.lock(); s && !ec) s->close();
    });
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

  void on_line(const boost::system::error_code& ec, std::size_t n) {
    reading_ = false;
    idle_.cancel();
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      respond(error_response("request too long (at most 64 KiB)"), false);
      return;
    }
    if (ec) return;  // closed by the client, or a timer
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
    registry_->handler(*request, [self = shared_from_this()](const Json& response) { self->respond(response, true); });
  }

  void respond(const Json& response, bool keep_open) {
    if (!socket_.is_open()) return;
    out_ = response.dump() + "\n";
    // A client that does not read cannot hold the connection (and its buffers) open for ever.
    write_timer_.expires_after(registry_->limits.write_timeout);
    write_timer_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
      if (auto s = self.lock(); s && !ec) {
        logger()->warn("a control client did not read its answer within {} ms; connection closed",
                       s->registry_->limits.write_timeout.count());
        s->close();
      }
    });
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep_open](const boost::system::error_code& ec, std::size_t) {
                        self->write_timer_.cancel();
                        if (!ec && keep_open) self->read();
                      });
  }

  Socket socket_;
  asio::streambuf buffer_;
  asio::steady_timer idle_;
  asio::steady_timer write_timer_;
  std::shared_ptr<Server::Registry> registry_;
  std::string out_;
  bool reading_ = false;
};

}  // namespace

Server::Server(asio::io_context& io, std::filesystem::path path, Handler handler, ServerLimits limits)
    : io_(io),
      path_(std::move(path)),
      handler_(std::move(handler)),
      limits_(limits),
      acceptor_(io),
      retry_(io),
      registry_(std::make_shared<Registry>()) {
  limits_.max_connections = std::max<std::size_t>(1, limits_.max_connections);
  registry_->handler = handler_;
  registry_->limits = limits_;
  registry_->slot_freed = [this, alive = std::weak_ptr<bool>(alive_)] {
    asio::post(io_, [this, alive] {
      if (alive.lock()) accept();
    });
  };
}

Server::~Server() {
  close();
  registry_->slot_freed = nullptr;
}

std::size_t Server::connections() const { return registry_->open; }

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
  if (accepting_ || !acceptor_.is_open()) return;
  if (registry_->open >= limits_.max_connections) {
    // Full: further clients wait in the listen backlog; the idle ones here get a short while more.
    if (!registry_->at_cap) {
      logger()->warn("control socket: {} connections open (the most there may be); new ones wait", registry_->open);
    }
    registry_->at_cap = true;
    for (const auto& w : registry_->connections) {
      if (auto c = w.lock()) c->squeeze();
    }
    return;
  }
  registry_->at_cap = false;
  accepting_ = true;
  acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
    accepting_ = false;
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      on_accept_error(ec);
      return;
    }
    retry_delay_ = std::chrono::milliseconds(0);
    auto c = std::make_shared<Connection>(std::move(socket), registry_);
    std::erase_if(registry_->connections, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
    registry_->connections.push_back(c);
    c->read();
    accept();
  });
}

void Server::on_accept_error(const boost::system::error_code& ec) {
  // EMFILE and its kind do not go away by asking again at once: back off, and say so once.
  ++accept_failures_;
  if (retry_delay_.count() == 0) {
    logger()->error("control socket: accept failed: {}; trying again with a backoff", ec.message());
    retry_delay_ = limits_.accept_retry_min;
  } else {
    retry_delay_ = std::min(retry_delay_ * 2, limits_.accept_retry_max);
  }
  retry_.expires_after(retry_delay_);
  retry_.async_wait([this](const boost::system::error_code& tec) {
    if (!tec) accept();
  });
}

void Server::close() {
  retry_.cancel();
  if (!acceptor_.is_open()) return;
  boost::system::error_code ec;
  acceptor_.close(ec);
  std::error_code fec;
  std::filesystem::remove(path_, fec);
}

}  // namespace classcam::control
