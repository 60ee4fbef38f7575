#pragma once
// Building responses: JSON, problem+json errors (RFC 9457) whose detail names the bad field, and
// reading JSON request bodies with the protocol's validating Reader.
#include <optional>
#include <stdexcept>
#include <string>

#include "common/protocol/json_reader.hpp"
#include "hub/http/message.hpp"

namespace classcam::hub::http {

// Thrown by handlers and helpers for a request that cannot be served; the router turns it into a
// problem response (caught once, like protocol::DecodeError, which becomes a 400).
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& detail, std::string field = "")
      : std::runtime_error(detail), status_(status), field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& field() const { return field_; }

 private:
  int status_;
  std::string field_;
};

// {"type":"about:blank","title":"Conflict","status":409,"detail":"start: overlaps ...","field":"start"}
// When `field` is given and `detail` does not start with it, the detail is prefixed "field: ".
Response problem(int status, const std::string& detail, const std::string& field = "");
Response json(int status, const protocol::Json& body);
Response no_content();

// The body as a JSON object (Content-Type must be application/json when a body is sent); an empty
// body reads as {}. Throws HttpError 415 / protocol::DecodeError ("body: ...") otherwise.
protocol::Json json_body(const Request& req);

// Runs `fn`, turning HttpError, protocol::DecodeError and any other exception (500, logged) into a
// problem response. The router wraps every handler with it; handlers that finish their work on the
// worker pool wrap that work with it too. Building the error response cannot throw again (problem()
// replaces bytes that are not UTF-8; anything else falls back to a fixed 500).
Response guarded(const Request& req, const std::function<Response()>& fn);

// A fixed 500 problem, built without JSON: the answer when nothing better can be built.
Response internal_error();

// A 400 naming the first part of the request that is not UTF-8: the path, a query parameter or a
// header value (Cookie excepted: it carries other sites' cookies, which the hub never reads).
// nullopt when all of it is. Percent-decoded path parameters are the router's to check.
std::optional<Response> refuse_invalid_text(const Request& req);

}  // namespace classcam::hub::http
