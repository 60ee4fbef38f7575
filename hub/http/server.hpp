#pragma once
// The HTTPS server (Boost.Beast, TLS 1.2+ only), modelled on Beast's advanced server-flex example:
// a listener accepting up to max_connections, a session per connection on its own strand, a fresh
// parser per request with an explicit body limit, a timeout before every handshake, read, write and
// shutdown, a bounded queue of pipelined responses, and a graceful shutdown.
//
// Threading: the io_context may run on several threads. Each session lives on its own strand; the
// handler is called on that strand and may reply from any thread (the reply is posted back). The
// listener has its own strand. Beast is confined to server.cpp.
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
  std::uint64_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::seconds read_timeout{30};  // the peer must make progress within this (handshake, request, response)
  std::chrono::seconds idle_timeout{60};  // a keep-alive connection waiting for its next request
  std::uint32_t max_connections = 512;
  std::uint32_t max_pipelined = 8;
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Handler handler);
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
