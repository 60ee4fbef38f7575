#include "firmware/net/https_client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <thread>

namespace classcam::net {

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
  return out.empty() ? (errno != 0 ? std::string(std::strerror(errno)) : "connection closed") : out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  constexpr std::string_view scheme = "https://";
  if (text.substr(0, scheme.size()) != scheme) {
    return Error{"hub URL \"" + std::string(text) + "\" must start with https://"};
  }
  text.remove_prefix(scheme.size());
  Url u;
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) u.base_path = std::string(text.substr(slash));
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Error{"hub URL: unclosed [ in the host"};
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return Error{"hub URL: junk after the host"};
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (!authority.empty()) {
    unsigned port = 0;
    const auto digits = authority.substr(1);
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 || port > 65535) {
      return Error{"hub URL: bad port \"" + std::string(digits) + "\""};
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  if (host.empty()) return Error{"hub URL: no host"};
  u.host = std::string(host);
  return u;
}

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return "";
}

HttpsClient::HttpsClient(Url url, TlsOptions tls, std::chrono::milliseconds timeout)
    : url_(std::move(url)), tls_(std::move(tls)), timeout_(timeout) {
  // A hub that answers early and closes must not kill the unit with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
}

HttpsClient::~HttpsClient() {
  close();
  if (ctx_ != nullptr) SSL_CTX_free(C(ctx_));
}

void HttpsClient::close() {
  if (ssl_ != nullptr) {
    SSL_free(S(ssl_));
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  pending_.clear();
}

Status HttpsClient::connect() {
  close();
  if (ctx_ == nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (tls_.verify) {
      if (SSL_CTX_load_verify_locations(ctx, tls_.ca_file.c_str(), nullptr) != 1) {
        SSL_CTX_free(ctx);
        return Error{"cannot load the hub CA " + tls_.ca_file.string() + ": " + openssl_errors()};
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    ctx_ = ctx;
  }
  const std::string where = url_.host + ":" + std::to_string(url_.port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(url_.host.c_str(), std::to_string(url_.port).c_str(), &hints, &res);
      rc != 0 || res == nullptr) {
    return Error{"cannot resolve " + url_.host + ": " + gai_strerror(rc)};
  }
  fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int rc = ::connect(fd_, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    const std::string err = std::strerror(errno);
    close();
    return Error{"cannot connect to " + where + ": " + err};
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL* ssl = SSL_new(C(ctx_));
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, url_.host.data());
  if (tls_.verify) SSL_set1_host(ssl, url_.host.c_str());
  ERR_clear_error();
  errno = 0;
  if (SSL_connect(ssl) != 1) {
    const long verify = SSL_get_verify_result(ssl);
    std::string err = verify != X509_V_OK
                          ? std::string("certificate not trusted (") + X509_verify_cert_error_string(verify) + ")"
                          : openssl_errors();
    close();
    return Error{"TLS handshake with " + where + " failed: " + err};
  }
  return ok_status();
}

Status HttpsClient::write_all(std::string_view bytes, bool throttle) {
  constexpr std::size_t kPiece = 64 * 1024;
  while (!bytes.empty()) {
    std::size_t n = std::min(bytes.size(), kPiece);
    if (throttle && rate_ > 0) {
      // Token bucket over the body bytes: sleep until this piece fits the cap.
      const auto now = std::chrono::steady_clock::now();
      if (rate_start_ == std::chrono::steady_clock::time_point{} || now - rate_start_ > std::chrono::seconds(2)) {
        rate_start_ = now;
        rate_bytes_ = 0;
      }
      n = std::min<std::size_t>(n, std::max<std::uint64_t>(1024, rate_ / 8));
      const auto due = rate_start_ + std::chrono::microseconds((rate_bytes_ + n) * 1'000'000 / rate_);
      if (due > now) std::this_thread::sleep_until(due);
      rate_bytes_ += n;
    }
    ERR_clear_error();
    errno = 0;
    const int w = SSL_write(S(ssl_), bytes.data(), static_cast<int>(n));
    if (w <= 0) return Error{"sending to " + url_.host + " failed: " + openssl_errors()};
    if (throttle) body_sent_ += static_cast<std::uint64_t>(w);
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return ok_status();
}

Status HttpsClient::fill() {
  char buf[16384];
  ERR_clear_error();
  errno = 0;
  const int got = SSL_read(S(ssl_), buf, sizeof buf);
  if (got <= 0) {
    const bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
    return Error{timeout ? "no answer from " + url_.host + " within " + std::to_string(timeout_.count() / 1000) + " s"
                         : "connection to " + url_.host + " closed while reading the answer"};
  }
  pending_.append(buf, static_cast<std::size_t>(got));
  return ok_status();
}

Result<std::string> HttpsClient::read_line() {
  for (;;) {
    const auto pos = pending_.find("\r\n");
    if (pos != std::string::npos) {
      std::string line = pending_.substr(0, pos);
      pending_.erase(0, pos + 2);
      return line;
    }
    if (pending_.size() > 64 * 1024) return Error{"answer header line too long"};
    if (auto st = fill(); !st) return st.error();
  }
}

Result<Response> HttpsClient::request(std::string_view method, std::string_view target, const Headers& headers,
                                      std::string_view body) {
  std::string head = std::string(method) + " " + url_.base_path + std::string(target) + " HTTP/1.1\r\n";
  head += "Host: " + url_.host + ":" + std::to_string(url_.port) + "\r\n";
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    head += k + ": " + v + "\r\n";
    if (iequal(k, "Content-Length")) has_length = true;
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  head += "\r\n";
  const bool reused = ssl_ != nullptr;
  auto r = exchange(method, head, body);
  if (!r && reused && r.error().message.find("[stale]") != std::string::npos) {
    close();
    r = exchange(method, head, body);
  }
  if (!r) {
    close();
    std::string msg = r.error().message;
    if (const auto p = msg.find(" [stale]"); p != std::string::npos) msg.erase(p);
    return Error{msg};
  }
  return r;
}

Result<Response> HttpsClient::exchange(std::string_view method, const std::string& head, std::string_view body) {
  if (ssl_ == nullptr) {
    if (auto st = connect(); !st) return st.error();
  }
  if (auto st = write_all(head, false); !st) return Error{st.error().message + " [stale]"};
  if (auto st = write_all(body, true); !st) return st.error();
  Response r;
  auto status_line = read_line();
  if (!status_line) return Error{status_line.error().message + (pending_.empty() ? " [stale]" : "")};
  if (status_line->size() < 12 || status_line->rfind("HTTP/1.", 0) != 0) {
    return Error{"not an HTTP answer: " + status_line->substr(0, 40)};
  }
  r.status = std::atoi(status_line->c_str() + 9);
  for (;;) {
    auto line = read_line();
    if (!line) return line.error();
    if (line->empty()) break;
    const auto colon = line->find(':');
    if (colon == std::string::npos) continue;
    r.headers.emplace_back(line->substr(0, colon), trim(std::string_view(*line).substr(colon + 1)));
  }
  const bool no_body = method == "HEAD" || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  if (!no_body) {
    if (iequal(r.header("Transfer-Encoding"), "chunked")) {
      for (;;) {
        auto size_line = read_line();
        if (!size_line) return size_line.error();
        const std::size_t n = std::strtoul(size_line->c_str(), nullptr, 16);
        while (pending_.size() < n + 2) {
          if (auto st = fill(); !st) return st.error();
        }
        r.body.append(pending_, 0, n);
        pending_.erase(0, n + 2);
        if (n == 0) break;
      }
    } else if (const auto len = r.header("Content-Length"); !len.empty()) {
      const std::size_t n = std::strtoull(len.c_str(), nullptr, 10);
      if (n > 64 * 1024 * 1024) return Error{"answer too large"};
      while (pending_.size() < n) {
        if (auto st = fill(); !st) return st.error();
      }
      r.body = pending_.substr(0, n);
      pending_.erase(0, n);
    } else {
      while (fill()) {
      }
      r.body = std::move(pending_);
      pending_.clear();
      close();
    }
  }
  if (iequal(r.header("Connection"), "close")) close();
  return r;
}

}  // namespace classcam::net
