#include "hub/http/responses.hpp"

#include "common/log/log.hpp"
#include "common/util/utf8.hpp"

namespace classcam::hub::http {

Response problem(int status, const std::string& detail, const std::string& field) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/problem+json");
  r.headers.set("Cache-Control", "no-store");
  std::string text = detail;
  if (!field.empty() && text.rfind(field, 0) != 0) text = field + ": " + text;
  protocol::Json j = {
      {"type", "about:blank"}, {"title", std::string(reason_phrase(status))}, {"status", status}, {"detail", text}};
  if (!field.empty()) j["field"] = field;
  r.body = protocol::dump(j);
  return r;
}

Response json(int status, const protocol::Json& body) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.headers.set("Cache-Control", "no-store");
  r.body = protocol::dump(body);
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

protocol::Json json_body(const Request& req) {
  if (req.body.empty()) return protocol::Json::object();
  const std::string type = req.header("Content-Type");
  const bool is_json = type.rfind("application/json", 0) == 0 || type.rfind("application/merge-patch+json", 0) == 0;
  if (!is_json) {
    throw HttpError(415, "the request body must be JSON (Content-Type: application/json), got \"" + type + "\"",
                    "Content-Type");
  }
  // nlohmann refuses such bytes too, but says so only as "not valid JSON".
  if (const auto bad = util::first_invalid_utf8(req.body)) {
    throw protocol::DecodeError("body: not valid UTF-8 (at byte " + std::to_string(*bad) + ")");
  }
  protocol::Json j = protocol::Json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw protocol::DecodeError("body: not valid JSON");
  if (!j.is_object())
    throw protocol::DecodeError("body: expected a JSON object, got " + protocol::Reader::type_name(j));
  return j;
}

namespace {
// "observations[2].end: must be after start" -> "observations[2].end"
std::string field_of(const std::string& message) {
  const auto colon = message.find(": ");
  if (colon == std::string::npos) return "";
  const std::string f = message.substr(0, colon);
  return f.find(' ') == std::string::npos ? f : "";
}
}  // namespace

Response internal_error() {
  Response r;
  r.status = 500;
  r.headers.set("Content-Type", "application/problem+json");
  r.headers.set("Cache-Control", "no-store");
  r.body = R"({"type":"about:blank","title":"Internal Server Error","status":500,)"
           R"("detail":"the hub could not complete this request; the error is in its log"})";
  return r;
}

Response guarded(const Request& req, const std::function<Response()>& fn) {
  // The inner handlers build the answer for an error; the outer one answers when building it fails too.
  try {
    try {
      return fn();
    } catch (const HttpError& e) {
      return problem(e.status(), e.what(), e.field());
    } catch (const protocol::DecodeError& e) {
      return problem(400, e.what(), field_of(e.what()));
    } catch (const std::exception& e) {
      log::get("http")->error("{} {} failed: {}", req.method, req.path, e.what());
      return internal_error();
    } catch (...) {
      log::get("http")->error("{} {} failed: an exception that is not a std::exception", req.method, req.path);
      return internal_error();
    }
  } catch (...) {
    return internal_error();
  }
}

std::optional<Response> refuse_invalid_text(const Request& req) {
  if (!util::is_valid_utf8(req.path)) return problem(400, "not valid UTF-8", "path");
  for (const auto& [key, value] : req.query) {
    if (!util::is_valid_utf8(key)) return problem(400, "a parameter's name is not valid UTF-8", "query");
    if (!util::is_valid_utf8(value)) return problem(400, "not valid UTF-8 (after percent-decoding)", key);
  }
  for (const auto& [name, value] : req.headers.fields()) {
    if (iequals(name, "Cookie")) continue;
    if (!util::is_valid_utf8(value)) return problem(400, "the header's value is not valid UTF-8", name);
  }
  return std::nullopt;
}

}  // namespace classcam::hub::http
