// Threading: see server.hpp. Lock order: State::mutex is a leaf (no other lock is taken under it).
#include "hub/http/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "common/log/log.hpp"
#include "hub/http/responses.hpp"

namespace classcam::hub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// A response body that is either a string or a span of an open file, streamed in 128 KiB pieces so
// a 2 GB recording never sits in memory.
struct HubBody {
  struct value_type {
    std::string text;
    std::shared_ptr<OpenFile> file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };

  static std::uint64_t size(const value_type& v) { return v.file ? v.length : v.text.size(); }

  class writer {
   public:
    using const_buffers_type = net::const_buffer;

    template <bool isRequest, class Fields>
    writer(const bhttp::header<isRequest, Fields>& /*header*/, const value_type& body) : body_(body) {}

    void init(beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (!body_.file) {
        if (pos_ >= body_.text.size()) return boost::none;
        pos_ = body_.text.size();
        return {{net::buffer(body_.text), false}};
      }
      if (pos_ >= body_.length) return boost::none;
      if (buf_.empty()) buf_.resize(kChunk);
      const std::uint64_t want = std::min<std::uint64_t>(kChunk, body_.length - pos_);
      const ssize_t got = ::pread(body_.file->fd(), buf_.data(), want, static_cast<off_t>(body_.offset + pos_));
      if (got <= 0) {
        // The file shrank or failed under us: end the connection rather than send a short body.
        ec = beast::errc::make_error_code(beast::errc::io_error);
        return boost::none;
      }
      pos_ += static_cast<std::uint64_t>(got);
      return {{net::buffer(buf_.data(), static_cast<std::size_t>(got)), pos_ < body_.length}};
    }

   private:
    static constexpr std::size_t kChunk = 128 * 1024;
    const value_type& body_;
    std::uint64_t pos_ = 0;
    std::vector<char> buf_;
  };
};

// A request body kept in memory, or handed piece by piece to a BodySink as it arrives.
struct InBody {
  struct value_type {
    std::string text;
    std::shared_ptr<BodySink> sink;
    std::uint64_t received = 0;
    bool sink_stopped = false;  // write() returned false: the handler answers
    bool sink_failed = false;   // write() threw: the request is abandoned
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      ec = {};
      // The length was checked against the admission's limit before the body was read.
      if (!body_.sink && length) body_.text.reserve(static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
        const net::const_buffer b = *it;
        const std::string_view piece(static_cast<const char*>(b.data()), b.size());
        if (body_.sink) {
          bool ok = false;
          try {
            ok = body_.sink->write(piece);
          } catch (...) {
            body_.sink_failed = true;
          }
          if (!ok) {
            body_.sink_stopped = !body_.sink_failed;
            ec = beast::errc::make_error_code(beast::errc::operation_canceled);
            return n;
          }
        } else {
          body_.text.append(piece);
        }
        n += piece.size();
        body_.received += piece.size();
      }
      return n;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using OutMessage = bhttp::response<HubBody>;
using OutSerializer = bhttp::response_serializer<HubBody>;
using InParser = bhttp::request_parser<InBody>;
using InMessage = bhttp::request<InBody>;

// RFC 9112 6.1: the hub decodes chunked and nothing else. Anything else (gzip, "chunked" twice, chunked
// not last) would be read as no body at all, and what follows served as the next request: refused.
std::optional<std::string> transfer_encoding_problem(const InMessage& msg) {
  std::vector<std::string> codings;
  for (const auto& f : msg) {
    if (f.name() != bhttp::field::transfer_encoding) continue;
    std::string_view v(f.value().data(), f.value().size());
    while (!v.empty()) {
      const auto comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) codings.emplace_back(token);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  if (codings.empty()) {
    for (const auto& f : msg) {
      if (f.name() == bhttp::field::transfer_encoding) return "an empty Transfer-Encoding is not allowed";
    }
    return std::nullopt;
  }
  if (codings.size() == 1 && iequals(codings.front(), "chunked")) return std::nullopt;
  std::string list;
  for (const auto& c : codings) list += (list.empty() ? "" : ", ") + c;
  return "Transfer-Encoding \"" + list + "\" is not supported; send Content-Length or Transfer-Encoding: chunked";
}

// RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host; no request carries two.
std::optional<std::string> host_problem(const InMessage& msg) {
  std::size_t n = 0;
  for (const auto& f : msg) {
    if (f.name() == bhttp::field::host) ++n;
  }
  if (n > 1) return "the request has " + std::to_string(n) + " Host headers; send exactly one";
  if (n == 0 && msg.version() >= 11) return "an HTTP/1.1 request needs a Host header";
  return std::nullopt;
}

std::string address_of(const tcp::socket& s) {
  beast::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a.to_string();
}

}  // namespace

class Session;

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(net::io_context& io_in, ServerOptions o, Admit a)
      : io(io_in),
        options(std::move(o)),
        admit(std::move(a)),
        acceptor(net::make_strand(io_in)),
        grace_timer(acceptor.get_executor()),
        accept_timer(acceptor.get_executor()) {}

  net::io_context& io;
  ServerOptions options;
  Admit admit;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor;
  net::steady_timer grace_timer;   // on the acceptor's strand
  net::steady_timer accept_timer;  // on the acceptor's strand
  log::Logger logger = log::get("http");

  mutable std::mutex mutex;  // guards the members below
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;
  std::map<std::string, std::uint32_t> per_address;  // open connections by remote address
  std::set<std::string> capped;                      // addresses at their cap (warned about once)
  std::uint64_t next_id = 0;
  bool stopping = false;
  bool accept_paused = false;
  std::function<void()> on_drained;

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void session_ended(std::uint64_t id, const std::string& address);
  void drained();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Server::State> state, std::uint64_t id, std::string remote)
      : state_(std::move(state)), id_(id), remote_(std::move(remote)), stream_(std::move(socket), state_->tls) {}

  ~Session() {
    abandon_pending();
    state_->session_ended(id_, remote_);
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->phase_ = Phase::handshake;
      // Short: a connection that never completes its handshake must not hold a slot for long.
      beast::get_lowest_layer(self->stream_).expires_after(self->state_->options.handshake_timeout);
      self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) { self->on_handshake(ec); });
    });
  }

  // Graceful: idle connections close now, busy ones after their responses.
  void stop() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      const bool idle_read = self->phase_ == Phase::idle ||
                             (self->phase_ == Phase::reading_header && !(self->parser_ && self->parser_->got_some()));
      if ((self->phase_ == Phase::handshake || idle_read) && self->queue_.empty() && !self->writing_) {
        beast::error_code ec;
        beast::get_lowest_layer(self->stream_).socket().cancel(ec);
      }
    });
  }

  void force_close() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().close(ec);
    });
  }

 private:
  // idle: waiting for the first byte of a keep-alive connection's next request.
  enum class Phase { handshake, idle, reading_header, reading_body, waiting, closing };
  using Clock = std::chrono::steady_clock;
  struct Slot {
    std::uint64_t seq = 0;
    std::optional<Response> response;
    bool keep_alive = true;
    std::string method;
    std::string target;
    Clock::time_point started;
  };
  // A request admitted from its header whose body is being read.
  struct Pending {
    Request request;
    Admission admission;
  };

  void on_handshake(beast::error_code ec) {
    if (ec) {
      state_->logger->debug("{}: TLS handshake failed: {}", remote_, ec.message());
      return;
    }
    // The first request's header must be in within read_timeout of the handshake.
    read_header(Clock::now() + state_->options.read_timeout);
  }

  void do_read() {
    if (read_closed_ || phase_ == Phase::closing) return;
    if (stopping_ && !first_) {
      read_closed_ = true;
      finish_if_idle();
      return;
    }
    if (queue_.size() >= state_->options.max_pipelined) {
      phase_ = Phase::waiting;  // resumes once the front response is written
      return;
    }
    if (buffer_.size() > 0) return read_header(Clock::now() + state_->options.read_timeout);  // pipelined
    // A keep-alive connection may idle for idle_timeout; once the next request's first byte is in,
    // its header has read_timeout, however slowly it comes.
    phase_ = Phase::idle;
    beast::get_lowest_layer(stream_).expires_after(state_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code e, std::size_t n) {
                              self->buffer_.commit(n);
                              if (e) return self->on_read_error(e);
                              self->read_header(Clock::now() + self->state_->options.read_timeout);
                            });
  }

  void read_header(Clock::time_point deadline) {
    phase_ = Phase::reading_header;
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    // The body limit is the admission's, set once the header is in; a Content-Length is checked then.
    // (Not boost::none: Beast 1.74 compares a Content-Length with an empty limit as "over it".)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::get_lowest_layer(stream_).expires_at(deadline);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_header(e); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    first_ = false;
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    split_target(req.target, req.path, req.query);
    for (const auto& f : msg) req.headers.add(std::string(f.name_string()), std::string(f.value()));
    req.remote_address = remote_;
    req.keep_alive = msg.keep_alive() && !stopping_;
    if (const auto why = transfer_encoding_problem(msg)) return refuse(501, *why, &req);
    if (const auto why = host_problem(msg)) return refuse(400, *why, &req);

    Admission admission;
    try {
      admission = state_->admit(req);
    } catch (const std::exception& e) {
      state_->logger->error("{} {}: admitting the request failed: {}", req.method, req.path, e.what());
      return refuse(500, "the hub could not take this request; the error is in its log", &req);
    } catch (...) {
      state_->logger->error("{} {}: admitting the request failed", req.method, req.path);
      return refuse(500, "the hub could not take this request; the error is in its log", &req);
    }
    const bool has_body = !parser_->is_done();
    if (admission.refusal) {
      // Refused from the header alone. A body it announced is not read: the connection closes instead.
      if (has_body) return answer(req, std::move(*admission.refusal), /*close=*/true);
      answer(req, std::move(*admission.refusal), !req.keep_alive);
      if (req.keep_alive) do_read();
      return;
    }
    if (!admission.handler) {
      if (admission.sink) admission.sink->abandon();
      state_->logger->error("{} {}: admitted without a handler", req.method, req.path);
      return refuse(500, "the hub could not take this request; the error is in its log", &req);
    }
    body_limit_ = admission.max_body_bytes;
    const auto length = parser_->content_length();
    if (length && *length > body_limit_) {
      if (admission.sink) admission.sink->abandon();
      return refuse(413,
                    "the request body is " + std::to_string(*length) + " bytes; " + req.method + " " + req.path +
                        " takes at most " + std::to_string(body_limit_),
                    &req);
    }
    parser_->body_limit(body_limit_);
    msg.body().sink = admission.sink;
    pending_.emplace(Pending{std::move(req), std::move(admission)});

    if (iequals(std::string(msg[bhttp::field::expect]), "100-continue") && queue_.empty() && !writing_ && has_body) {
      // curl and other clients wait (a second, by default) for this before sending a large body.
      continue_ = std::make_unique<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      writing_ = true;
      beast::get_lowest_layer(stream_).expires_after(state_->options.read_timeout);
      bhttp::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code e, std::size_t) {
        self->writing_ = false;
        self->continue_.reset();
        if (e) return self->close();
        self->body_started_ = Clock::now();
        self->read_body();
        self->maybe_write();
      });
      return;
    }
    body_started_ = Clock::now();
    read_body();
  }

  // The body's deadline moves with what has arrived: read_timeout of grace, then min_body_bytes_per_s
  // on average, so a body trickled in a byte at a time ends at its deadline however often bytes come.
  void read_body() {
    phase_ = Phase::reading_body;
    if (parser_->is_done()) return on_request();
    const auto received = parser_->get().body().received;
    const auto rate = std::max<std::uint64_t>(state_->options.min_body_bytes_per_s, 1);
    const auto earned = std::chrono::microseconds(received / rate * 1'000'000 + received % rate * 1'000'000 / rate);
    beast::get_lowest_layer(stream_).expires_at(body_started_ + state_->options.read_timeout + earned);
    bhttp::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code e, std::size_t) {
      if (self->parser_->get().body().sink_stopped) return self->on_request();
      if (e) return self->on_read_error(e);
      self->read_body();
    });
  }

  void on_read_error(beast::error_code ec) {
    const bool had_body = pending_.has_value();
    const std::uint64_t received = parser_ ? parser_->get().body().received : 0;
    abandon_pending();
    phase_ = Phase::waiting;
    read_closed_ = true;
    if (ec == bhttp::error::body_limit) {
      return refuse(413,
                    "the request body is larger than this request takes (" + std::to_string(body_limit_) + " bytes)");
    }
    if (ec == bhttp::error::header_limit) return refuse(431, "the request headers are too large");
    if (had_body && ec == beast::error::timeout) {
      state_->logger->info("{}: closed a request whose body came too slowly ({} bytes in {} s)", remote_, received,
                           std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - body_started_).count());
      return finish_if_idle();
    }
    const bool quiet = ec == bhttp::error::end_of_stream || ec == net::error::eof ||
                       ec == ssl::error::stream_truncated || ec == beast::error::timeout ||
                       ec == net::error::operation_aborted || ec == net::error::connection_reset;
    if (!quiet && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return refuse(400, "malformed HTTP request: " + ec.message());
    }
    if (!quiet) state_->logger->debug("{}: read failed: {}", remote_, ec.message());
    finish_if_idle();
  }

  // The body of a request admitted from its header will not be completed.
  void abandon_pending() {
    if (!pending_) return;
    auto sink = std::move(pending_->admission.sink);
    pending_.reset();
    if (sink) sink->abandon();
  }

  // Answers a request that cannot be read (or whose body will not be), then closes.
  void refuse(int status, const std::string& detail, const Request* req = nullptr) {
    auto res = problem(status, detail);
    Request unknown;
    unknown.method = "?";
    unknown.target = "?";
    answer(req != nullptr ? *req : unknown, std::move(res), /*close=*/true);
  }

  // Queues a response decided without a handler; with `close`, nothing more is read.
  void answer(const Request& req, Response res, bool close) {
    close = close || res.close;
    Slot s;
    s.seq = ++seq_;
    s.keep_alive = !close;
    s.method = req.method;
    s.target = req.target;
    s.started = Clock::now();
    if (close) {
      res.close = true;
      read_closed_ = true;
      phase_ = Phase::waiting;
    }
    s.response = std::move(res);
    queue_.push_back(std::move(s));
    maybe_write();
  }

  void on_request() {
    auto msg = parser_->release();
    parser_.reset();
    Pending p = std::move(*pending_);
    pending_.reset();
    Request& req = p.request;
    req.body = std::move(msg.body().text);
    // A sink that stopped early leaves the rest of the body unread: nothing more can be read after it.
    if (msg.body().sink_stopped || stopping_) req.keep_alive = false;

    Slot s;
    s.seq = ++seq_;
    s.keep_alive = req.keep_alive;
    s.method = req.method;
    s.target = req.target;
    s.started = Clock::now();
    const std::uint64_t seq = s.seq;
    queue_.push_back(std::move(s));

    // The reply owns the session until it is called: with Connection: close nothing else may be
    // keeping it alive while the handler works.
    auto replied = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self = shared_from_this(), seq, replied](Response res) {
      if (replied->exchange(true)) return;  // a second reply is a handler bug; the first one stands
      net::post(self->stream_.get_executor(),
                [self, seq, res = std::move(res)]() mutable { self->on_response(seq, std::move(res)); });
    };
    try {
      p.admission.handler(req, reply);
    } catch (const std::exception& e) {
      state_->logger->error("{} {}: the handler failed: {}", req.method, req.path, e.what());
      reply(internal_error());
    } catch (...) {
      // Last resort on the I/O thread: the handler failed before replying (its own guard failed too).
      state_->logger->error("{} {}: the handler failed", req.method, req.path);
      reply(internal_error());
    }

    if (req.keep_alive) {
      do_read();
    } else {
      read_closed_ = true;
      phase_ = Phase::waiting;
    }
  }

  void on_response(std::uint64_t seq, Response res) {
    for (auto& s : queue_) {
      if (s.seq != seq) continue;
      if (res.close || stopping_) s.keep_alive = false;
      s.response = std::move(res);
      break;
    }
    maybe_write();
  }

  void maybe_write() {
    if (writing_ || queue_.empty() || !queue_.front().response || phase_ == Phase::closing) return;
    Slot& s = queue_.front();
    Response& r = *s.response;
    out_ = std::make_unique<OutMessage>();
    out_->version(11);
    out_->result(static_cast<unsigned>(r.status));
    out_->reason(std::string(reason_phrase(r.status)));
    for (const auto& [k, v] : r.headers.fields()) out_->insert(k, v);
    out_->set(bhttp::field::server, "classcam-hub");
    if (r.file) {
      out_->body().file = r.file->file;
      out_->body().offset = r.file->offset;
      out_->body().length = r.file->length;
    } else {
      out_->body().text = std::move(r.body);
    }
    out_->keep_alive(s.keep_alive);
    if (r.status != 204 && r.status / 100 != 1 && r.status != 304) {
      out_->content_length(HubBody::size(out_->body()));
    }
    if (s.method == "HEAD") {
      // The headers describe the body a GET would get; the body itself is never sent.
      out_->body() = {};
    }
    bytes_ = HubBody::size(out_->body());
    serializer_ = std::make_unique<OutSerializer>(*out_);
    writing_ = true;
    write_some();
  }

  void write_some() {
    beast::get_lowest_layer(stream_).expires_after(state_->options.read_timeout);
    bhttp::async_write_some(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->state_->logger->debug("{}: write failed: {}", self->remote_, ec.message());
        self->writing_ = false;
        return self->close();
      }
      if (!self->serializer_->is_done()) return self->write_some();
      self->on_written();
    });
  }

  void on_written() {
    writing_ = false;
    const Slot& s = queue_.front();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - s.started).count();
    state_->logger->debug("{} \"{} {}\" {} {} {}ms", remote_, s.method, s.target, out_->result_int(), bytes_, ms);
    const bool keep = s.keep_alive;
    queue_.pop_front();
    serializer_.reset();
    out_.reset();
    if (!keep) return close();
    maybe_write();
    if (phase_ == Phase::waiting && !read_closed_) do_read();
    finish_if_idle();
  }

  void finish_if_idle() {
    if (queue_.empty() && !writing_ && (read_closed_ || stopping_) && phase_ != Phase::reading_body &&
        phase_ != Phase::closing) {
      if ((phase_ == Phase::idle || phase_ == Phase::reading_header) && !stopping_) return;
      close();
    }
  }

  void close() {
    if (phase_ == Phase::closing) return;
    abandon_pending();
    phase_ = Phase::closing;
    // Clients normally answer close_notify at once; one that does not is not waited for long.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->stream_).close();
    });
  }

  std::shared_ptr<Server::State> state_;
  std::uint64_t id_;
  std::string remote_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<InParser> parser_;
  std::deque<Slot> queue_;
  std::unique_ptr<OutMessage> out_;
  std::unique_ptr<OutSerializer> serializer_;
  std::unique_ptr<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<Pending> pending_;
  std::uint64_t body_limit_ = 0;
  Clock::time_point body_started_;
  std::uint64_t bytes_ = 0;
  std::uint64_t seq_ = 0;
  Phase phase_ = Phase::handshake;
  bool first_ = true;
  bool writing_ = false;
  bool read_closed_ = false;
  bool stopping_ = false;
};

void Server::State::accept() {
  acceptor.async_accept(net::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void Server::State::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    logger->warn("accept failed: {}", ec.message());
    // EMFILE and the like: back off briefly rather than spin.
    accept_timer.expires_after(std::chrono::milliseconds(100));
    accept_timer.async_wait([self = shared_from_this()](beast::error_code) { self->accept(); });
    return;
  }
  std::string address = address_of(socket);
  std::shared_ptr<Session> session;
  bool pause = false;
  bool over = false;
  bool warn_over = false;
  {
    const std::lock_guard lock(mutex);
    if (stopping) return;
    auto& open = per_address[address];
    if (open >= options.max_connections_per_address) {
      over = true;
      warn_over = capped.insert(address).second;
      // Closed before any TLS work: one address must not take the slots everyone else needs.
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      ++open;
      const std::uint64_t id = ++next_id;
      session = std::make_shared<Session>(std::move(socket), shared_from_this(), id, address);
      sessions.emplace(id, session);
      pause = sessions.size() >= options.max_connections;
      accept_paused = pause;
    }
  }
  if (over) {
    if (warn_over) {
      logger->warn("{} has {} connections open (http.max_connections_per_address): closing more from it", address,
                   options.max_connections_per_address);
    }
    accept();
    return;
  }
  session->run();
  if (pause) {
    logger->warn("{} connections open (http.max_connections): not accepting more until one closes",
                 options.max_connections);
    return;
  }
  accept();
}

void Server::State::session_ended(std::uint64_t id, const std::string& address) {
  bool resume = false;
  bool done = false;
  {
    const std::lock_guard lock(mutex);
    sessions.erase(id);
    if (const auto it = per_address.find(address); it != per_address.end()) {
      if (--it->second < options.max_connections_per_address) capped.erase(address);
      if (it->second == 0) per_address.erase(it);
    }
    if (accept_paused && !stopping && sessions.size() < options.max_connections) {
      accept_paused = false;
      resume = true;
    }
    done = stopping && sessions.empty() && on_drained;
  }
  if (resume) net::post(acceptor.get_executor(), [self = shared_from_this()] { self->accept(); });
  if (done) drained();
}

void Server::State::drained() {
  std::function<void()> cb;
  {
    const std::lock_guard lock(mutex);
    cb = std::move(on_drained);
    on_drained = nullptr;
  }
  if (cb) {
    net::post(acceptor.get_executor(), [self = shared_from_this()] { self->grace_timer.cancel(); });
    net::post(io, std::move(cb));
  }
}

Server::Server(net::io_context& io, ServerOptions options, Admit admit)
    : state_(std::make_shared<State>(io, std::move(options), std::move(admit))) {}

Server::~Server() {
  beast::error_code ec;
  state_->acceptor.close(ec);
}

std::uint16_t Server::start() {
  auto& s = *state_;
  s.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(s.tls.native_handle(), TLS1_2_VERSION);
  // TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all fine by default.
  SSL_CTX_set_cipher_list(s.tls.native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20");
  s.tls.use_certificate_chain_file(s.options.cert_chain.string());
  s.tls.use_private_key_file(s.options.key.string(), ssl::context::pem);

  const auto address = net::ip::make_address(s.options.listen);
  const tcp::endpoint ep(address, s.options.port);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(net::socket_base::reuse_address(true));
  if (address.is_v6()) s.acceptor.set_option(net::ip::v6_only(false));
  s.acceptor.bind(ep);
  s.acceptor.listen(net::socket_base::max_listen_connections);
  const auto port = s.acceptor.local_endpoint().port();
  net::post(s.acceptor.get_executor(), [st = state_] { st->accept(); });
  return port;
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  auto st = state_;
  net::post(st->acceptor.get_executor(), [st, grace, done = std::move(done)]() mutable {
    beast::error_code ec;
    st->acceptor.close(ec);
    std::vector<std::shared_ptr<Session>> live;
    bool empty = false;
    {
      const std::lock_guard lock(st->mutex);
      st->stopping = true;
      st->on_drained = std::move(done);
      for (auto& [id, w] : st->sessions) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
      empty = st->sessions.empty();
    }
    if (empty) return st->drained();
    for (auto& s : live) s->stop();
    st->grace_timer.expires_after(grace);
    st->grace_timer.async_wait([st](beast::error_code e) {
      if (e) return;
      std::vector<std::shared_ptr<Session>> left;
      {
        const std::lock_guard lock(st->mutex);
        for (auto& [id, w] : st->sessions) {
          if (auto s = w.lock()) left.push_back(std::move(s));
        }
      }
      if (!left.empty()) st->logger->warn("closing {} connection(s) still busy after the grace period", left.size());
      for (auto& s : left) s->force_close();
      st->drained();
    });
  });
}

std::size_t Server::connections() const {
  const std::lock_guard lock(state_->mutex);
  return state_->sessions.size();
}

}  // namespace classcam::hub::http
