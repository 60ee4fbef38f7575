#pragma once
// The request and response types handlers see. Boost.Beast stays inside server.cpp: handlers (and
// their tests) never include it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/access/principal.hpp"

namespace classcam::hub::http {

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  void set(std::string name, std::string value);  // replaces every field of that name
  void add(std::string name, std::string value);
  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(std::string_view a, std::string_view b);

// An open file to send (or part of it). The descriptor is closed when the last reference goes.
class OpenFile {
 public:
  // nullptr when the file cannot be opened.
  static std::shared_ptr<OpenFile> open(const std::filesystem::path& path);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }
  std::int64_t mtime_ns() const { return mtime_ns_; }

 private:
  OpenFile(int fd, std::uint64_t size, std::int64_t mtime_ns) : fd_(fd), size_(size), mtime_ns_(mtime_ns) {}
  int fd_;
  std::uint64_t size_;
  std::int64_t mtime_ns_;
};

struct FileSpan {
  std::shared_ptr<OpenFile> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Request {
  std::string method;                        // "GET", "PATCH" ...
  std::string target;                        // as sent: path and query
  std::string path;                          // the target without its query, not yet percent-decoded
  std::map<std::string, std::string> query;  // decoded
  Headers headers;
  std::string body;
  std::string remote_address;
  bool keep_alive = true;

  // Filled in by the router.
  std::map<std::string, std::string> params;  // decoded path parameters ("{id}")
  access::Principal principal;

  std::string header(std::string_view name) const { return headers.get(name).value_or(""); }
  const std::string& param(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::optional<FileSpan> file;  // when set, the body is these bytes of the file instead of `body`
  bool close = false;            // close the connection after this response

  std::uint64_t body_size() const { return file ? file->length : body.size(); }
};

// Called exactly once per request with its response, from any thread.
using Reply = std::function<void(Response)>;
// A handler may reply at once or later (after work on the worker pool).
using Handler = std::function<void(Request&, Reply)>;

// Where a body goes that must not be held in memory (a tus PATCH chunk goes to its upload's file).
// The server calls write() for each piece as it arrives, in order, on the connection's strand, so it
// must not block for long (a pwrite into the page cache, not an fsync). Then exactly one of: the
// request's handler runs (the body is complete, or write() returned false), or abandon() is called (the
// body will never be complete: the connection broke or missed its deadline, or the hub is stopping).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // False stops reading: the handler then runs and answers (it knows why from its sink), and the
  // connection is closed after the answer, because the rest of the body was not read.
  virtual bool write(std::string_view piece) = 0;
  virtual void abandon() noexcept = 0;
};

// What to do with a request whose header is in, decided before any of its body is read (the router
// resolves the route and authenticates from the header). Either `refusal` is set (sent at once; the
// connection is closed when the request announced a body, rather than reading it), or `handler` is,
// and runs once the body is in: in Request::body, up to `max_body_bytes` (more is refused with 413),
// or, when `sink` is set, written to the sink instead.
struct Admission {
  std::optional<Response> refusal;
  std::uint64_t max_body_bytes = 0;
  std::shared_ptr<BodySink> sink;
  Handler handler;

  static Admission refuse(Response r) {
    Admission a;
    a.refusal = std::move(r);
    return a;
  }
};

// Called by the server with a request's header (Request::body empty), on the connection's strand.
// Must not block and must not throw.
using Admit = std::function<Admission(Request&)>;

// Admits every request to `handler`, with bodies in memory up to `max_body_bytes` (fakes in tests).
Admit admit_all(Handler handler, std::uint64_t max_body_bytes);

// Splits "/a/b?x=1&y=%20" into the path and decoded query parameters.
void split_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query);
// Percent-decoding; nullopt when malformed. `plus_is_space` for query strings.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
std::string percent_encode(std::string_view s);

// "Tue, 24 Nov 2026 09:00:00 GMT" (IMF-fixdate, RFC 7231), for Upload-Expires and Last-Modified.
std::string http_date(std::int64_t unix_seconds);

std::string_view reason_phrase(int status);

}  // namespace classcam::hub::http
