#pragma once
// A small blocking HTTPS/1.1 client for tests and benchmarks (OpenSSL directly, no Beast): one
// keep-alive connection, certificate verified against a CA file, raw writes for pipelining tests.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/protocol/json_reader.hpp"

namespace classcam::hub::testkit {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
  protocol::Json json() const;                      // throws when the body is not JSON
};

struct ClientOptions {
  std::filesystem::path ca_file;  // empty: do not verify (only for tests of the TLS layer itself)
  std::string verify_host = "localhost";
  int max_tls_version = 0;  // e.g. TLS1_1_VERSION to check that old clients are refused; 0 = newest
  std::chrono::milliseconds timeout{30000};
  std::string source_address;  // bind to this local address first (e.g. "127.0.0.2": another client on loopback)
};

class HttpsClient {
 public:
  HttpsClient(std::string host, std::uint16_t port, ClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;
  HttpsClient(HttpsClient&& other) noexcept;
  HttpsClient& operator=(HttpsClient&&) = delete;

  // Connects and completes the TLS handshake; throws with OpenSSL's reason when it fails.
  void connect();
  bool connected() const { return ssl_ != nullptr; }
  void close();
  std::string tls_version() const;  // "TLSv1.3"

  // One request on the keep-alive connection (connecting first when needed). `headers` are added
  // to the defaults (Host, Content-Length, and any set with set_header).
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
  void set_header(const std::string& name, const std::string& value);  // sent with every request

  // For pipelining and malformed-request tests.
  void send_raw(std::string_view bytes);
  // With `interim`, a 1xx response (100 Continue) is returned instead of skipped.
  HttpResponse read_response(bool head = false, bool interim = false);
  // True when the server closed the connection (reads EOF) within the timeout.
  bool closed_by_peer();

 private:
  std::size_t read_some(char* buf, std::size_t n);
  std::string read_line();
  void fill();

  std::string host_;
  std::uint16_t port_;
  ClientOptions options_;
  std::vector<std::pair<std::string, std::string>> defaults_;
  void* ctx_ = nullptr;  // SSL_CTX
  void* ssl_ = nullptr;  // SSL
  int fd_ = -1;
  std::string pending_;  // bytes read but not consumed
};

}  // namespace classcam::hub::testkit
