#pragma once
// The HTTPS server (Boost.Beast, TLS 1.2+ only), modelled on Beast's advanced server-flex example:
// a listener accepting up to max_connections (and max_connections_per_address from any one address),
// a session per connection on its own strand, a fresh parser per request, and a deadline on every
// phase: the TLS handshake, the wait for a request, its header, its body (which must keep up a
// minimum rate), each write and the shutdown. Each request is admitted from its header alone (route,
// credentials, body limit, where the body goes) before any of its body is read; then a bounded queue
// of pipelined responses, and a graceful shutdown.
//
// Threading: the io_context may run on several threads. Each session lives on its own strand; the
// admission, a BodySink's write() and the handler are called on that strand, and the handler may reply
// from any thread (the reply is posted back). BodySink::abandon() may run on any thread that drops the
// session. The listener has its own strand. Beast is confined to server.cpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "hub/http/message.hpp"

namespace boost::asio {
class io_context;
}

namespace classcam::hub::http {

struct ServerOptions {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port (read it back from start())
  std::filesystem::path cert_chain;
  std::filesystem::path key;
  std::chrono::seconds handshake_timeout{10};  // from accepting the connection to the end of the TLS handshake
  // A request's header must be in within this of its first byte (of the handshake, for the first
  // request); its body gets this much grace and then must average min_body_bytes_per_s, so a body of
  // N bytes has at most read_timeout + N / min_body_bytes_per_s. Each write step must progress within it.
  std::chrono::seconds read_timeout{30};
  std::uint64_t min_body_bytes_per_s = 8192;
  std::chrono::seconds idle_timeout{60};  // a keep-alive connection waiting for its next request
  std::uint32_t max_connections = 512;
  std::uint32_t max_connections_per_address = 64;  // more from one address are closed at once
  std::uint32_t max_pipelined = 8;
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Admit admit);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the certificate, binds and starts accepting. Returns the bound port. Throws on failure.
  std::uint16_t start();

  // Stops accepting, closes idle connections, lets requests in flight finish (their responses say
  // Connection: close), and forces whatever is left closed after `grace`. `done` is posted to the
  // io_context once every connection is gone (or the grace period is over).
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t connections() const;

  struct State;  // opaque; public only so server.cpp's sessions can name it

 private:
  std::shared_ptr<State> state_;
};

}  // namespace classcam::hub::http
