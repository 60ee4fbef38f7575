#include "hub/testing/https_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace classcam::hub::testkit {

namespace {
SSL* S(void* p) { return static_cast<SSL*>(p); }
SSL_CTX* C(void* p) { return static_cast<SSL_CTX*>(p); }

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown TLS error" : out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return "";
}

protocol::Json HttpResponse::json() const { return protocol::Json::parse(body); }

HttpsClient::HttpsClient(std::string host, std::uint16_t port, ClientOptions options)
    : host_(std::move(host)), port_(port), options_(std::move(options)) {
  // A server that answers early (413) and closes must not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
}

HttpsClient::HttpsClient(HttpsClient&& o) noexcept
    : host_(std::move(o.host_)),
      port_(o.port_),
      options_(std::move(o.options_)),
      defaults_(std::move(o.defaults_)),
      ctx_(std::exchange(o.ctx_, nullptr)),
      ssl_(std::exchange(o.ssl_, nullptr)),
      fd_(std::exchange(o.fd_, -1)),
      pending_(std::move(o.pending_)) {}

HttpsClient::~HttpsClient() {
  close();
  if (ctx_ != nullptr) SSL_CTX_free(C(ctx_));
}

void HttpsClient::close() {
  if (ssl_ != nullptr) {
    SSL_shutdown(S(ssl_));  // close_notify, as browsers and curl send it
    SSL_free(S(ssl_));
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  pending_.clear();
}

void HttpsClient::connect() {
  close();
  if (ctx_ == nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (options_.max_tls_version != 0) {
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx, 0);
      SSL_CTX_set_max_proto_version(ctx, options_.max_tls_version);
    }
    if (!options_.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, options_.ca_file.c_str(), nullptr) != 1) {
        SSL_CTX_free(ctx);
        throw std::runtime_error("cannot load CA " + options_.ca_file.string());
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    ctx_ = ctx;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res) != 0 || res == nullptr) {
    throw std::runtime_error("cannot resolve " + host_);
  }
  fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!options_.source_address.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, options_.source_address.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      const std::string err = std::strerror(errno);
      freeaddrinfo(res);
      close();
      throw std::runtime_error("cannot bind to " + options_.source_address + ": " + err);
    }
  }
  const int rc = ::connect(fd_, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    const std::string err = std::strerror(errno);
    close();
    throw std::runtime_error("connect to " + host_ + ":" + std::to_string(port_) + " failed: " + err);
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(options_.timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((options_.timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL* ssl = SSL_new(C(ctx_));
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, options_.verify_host.data());
  if (!options_.ca_file.empty()) SSL_set1_host(ssl, options_.verify_host.c_str());
  if (SSL_connect(ssl) != 1) {
    const std::string err = openssl_errors();
    close();
    throw std::runtime_error("TLS handshake failed: " + err);
  }
}

std::string HttpsClient::tls_version() const { return ssl_ != nullptr ? SSL_get_version(S(ssl_)) : ""; }

void HttpsClient::set_header(const std::string& name, const std::string& value) {
  for (auto& [k, v] : defaults_) {
    if (iequal(k, name)) {
      v = value;
      return;
    }
  }
  defaults_.emplace_back(name, value);
}

void HttpsClient::send_raw(std::string_view bytes) {
  if (ssl_ == nullptr) connect();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const int n = SSL_write(S(ssl_), bytes.data() + done, static_cast<int>(bytes.size() - done));
    if (n <= 0) throw std::runtime_error("TLS write failed: " + openssl_errors());
    done += static_cast<std::size_t>(n);
  }
}

std::size_t HttpsClient::read_some(char* buf, std::size_t n) {
  const int got = SSL_read(S(ssl_), buf, static_cast<int>(n));
  if (got <= 0) return 0;
  return static_cast<std::size_t>(got);
}

void HttpsClient::fill() {
  char buf[65536];
  const std::size_t n = read_some(buf, sizeof buf);
  if (n == 0) throw std::runtime_error("connection closed while reading a response");
  pending_.append(buf, n);
}

std::string HttpsClient::read_line() {
  for (;;) {
    const auto pos = pending_.find("\r\n");
    if (pos != std::string::npos) {
      std::string line = pending_.substr(0, pos);
      pending_.erase(0, pos + 2);
      return line;
    }
    fill();
  }
}

bool HttpsClient::closed_by_peer() {
  if (ssl_ == nullptr) return true;
  char c;
  const int got = SSL_read(S(ssl_), &c, 1);
  if (got > 0) return false;
  // EOF or close_notify: answer it and close, like a well-behaved client. A timeout is not a close.
  const bool closed = SSL_get_error(S(ssl_), got) == SSL_ERROR_ZERO_RETURN || errno != EAGAIN;
  close();
  return closed;
}

HttpResponse HttpsClient::read_response(bool head, bool interim) {
  HttpResponse r;
  for (;;) {
    const std::string status_line = read_line();
    if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0) {
      throw std::runtime_error("bad status line: " + status_line);
    }
    r.status = std::stoi(status_line.substr(9, 3));
    r.headers.clear();
    for (;;) {
      const std::string line = read_line();
      if (line.empty()) break;
      const auto colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    if (r.status != 100 || interim) break;  // an interim response; the real one follows
  }
  if (head || r.status == 204 || r.status == 304 || r.status / 100 == 1) return r;
  const std::string te = r.header("Transfer-Encoding");
  if (iequal(te, "chunked")) {
    for (;;) {
      const std::size_t n = std::stoul(read_line(), nullptr, 16);
      if (n == 0) {
        read_line();
        break;
      }
      while (pending_.size() < n + 2) fill();
      r.body += pending_.substr(0, n);
      pending_.erase(0, n + 2);
    }
  } else if (const std::string cl = r.header("Content-Length"); !cl.empty()) {
    const std::size_t n = std::stoul(cl);
    while (pending_.size() < n) fill();
    r.body = pending_.substr(0, n);
    pending_.erase(0, n);
  } else {
    char buf[65536];
    while (const std::size_t n = read_some(buf, sizeof buf)) r.body.append(buf, n);
    close();
  }
  if (iequal(r.header("Connection"), "close")) close();
  return r;
}

HttpResponse HttpsClient::request(const std::string& method, const std::string& target, const std::string& body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  // A Host set with set_header replaces ours (tests of what the hub does with a client's Host).
  const bool own_host =
      std::none_of(defaults_.begin(), defaults_.end(), [](const auto& f) { return iequal(f.first, "Host"); });
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  if (own_host) req += "Host: " + host_ + ":" + std::to_string(port_) + "\r\n";
  for (const auto& [k, v] : defaults_) req += k + ": " + v + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  // A kept-alive connection the server has since closed fails on first use: retry once afresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (ssl_ == nullptr) connect();
      try {
        send_raw(req);
      } catch (const std::runtime_error&) {
        // The server may have answered early (413) and closed: its answer is still worth reading.
        return read_response(method == "HEAD");
      }
      return read_response(method == "HEAD");
    } catch (const std::runtime_error&) {
      if (attempt == 1 || !pending_.empty()) throw;
      close();
    }
  }
  throw std::logic_error("unreachable");
}

}  // namespace classcam::hub::testkit
