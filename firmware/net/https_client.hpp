#pragma once
// A small blocking HTTPS/1.1 client for the unit (OpenSSL directly: no Beast, which costs ~20 s of
// compile per translation unit): one keep-alive connection to one hub, the certificate verified against
// the pinned hub CA (or, only to fetch that CA at enrolment, not verified at all), socket timeouts on
// every read and write, an optional bandwidth cap on request bodies. Network failures are values
// (Result), never exceptions.
//
// Threading: an HttpsClient is used by one thread at a time; it blocks. The uploader runs it on its
// worker thread, enrolment on the daemon's worker pool.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/result.hpp"

namespace classcam::net {

struct Url {
  std::string host;
  std::uint16_t port = 443;
  std::string base_path;  // without a trailing '/', "" for the root
};
// "https://host[:port][/path]"; http:// is refused (the unit never talks to the hub in clear).
Result<Url> parse_url(std::string_view text);

struct TlsOptions {
  std::filesystem::path ca_file;  // the pinned hub CA
  bool verify = true;             // false only to fetch the CA before pinning it
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
};

class HttpsClient {
 public:
  HttpsClient(Url url, TlsOptions tls, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // One request on the keep-alive connection (connecting first when needed). `target` is appended to
  // the URL's base path. A request whose connection turned out to be stale (closed by the server while
  // idle) is retried once on a new connection, only when nothing of it was answered.
  Result<Response> request(std::string_view method, std::string_view target, const Headers& headers = {},
                           std::string_view body = {});
  void close();
  // Caps request-body bytes per second (0 = unlimited).
  void set_rate_limit(std::uint64_t bytes_per_s) { rate_ = bytes_per_s; }
  std::uint64_t body_bytes_sent() const { return body_sent_; }
  const Url& url() const { return url_; }

 private:
  Status connect();
  Result<Response> exchange(std::string_view method, const std::string& head, std::string_view body);
  Status write_all(std::string_view bytes, bool throttle);
  Result<std::string> read_line();
  Status fill();

  Url url_;
  TlsOptions tls_;
  std::chrono::milliseconds timeout_;
  void* ctx_ = nullptr;  // SSL_CTX
  void* ssl_ = nullptr;  // SSL
  int fd_ = -1;
  std::string pending_;
  std::uint64_t rate_ = 0;
  std::uint64_t body_sent_ = 0;
  std::chrono::steady_clock::time_point rate_start_{};
  std::uint64_t rate_bytes_ = 0;
};

}  // namespace classcam::net
