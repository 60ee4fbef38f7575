// The hub's own routes and handlers, as the server calls them once Beast has parsed a request: a real
// hub::Service (SQLite store, media and uploads in a scratch directory on tmpfs, no broker) that is built
// but never listens, and web::dispatch over its router. Callers are real: API tokens of an admin, a
// technician, a teacher and a coach, and a unit's token, made in the store at start; or no credential.
// The input picks the caller, the method, a route (its {parameters} filled with fuzz bytes) or any
// target, header fields and the body, which is JSON more often than not.
//
// Whatever the bytes: the reply comes exactly once (from the worker pool for handlers that finish their
// work there), with a real status, never 500, and a JSON body that is valid JSON. The store keeps what
// earlier inputs did (users, rooms, recordings), so an input's effect can depend on those before it:
// replay a finding on its own first; if it passes alone, replay the run's corpus in order.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "common/config/hub_config.hpp"
#include "common/protocol/json_reader.hpp"
#include "hub/app/service.hpp"
#include "hub/auth/tokens.hpp"
#include "hub/http/router.hpp"
#include "hub/store/store.hpp"
#include "hub/web/site.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace classcam;
using namespace classcam::hub;
using classcam::fuzz::check;

namespace {

struct Hub {
  std::unique_ptr<Service> service;
  std::vector<std::string> authorizations{""};  // "" = no credential
};

template <typename T>
T take(store::Outcome<T> o) {
  if (const auto* r = store::refusal(o)) fuzz::fail(("cannot set the hub up: " + r->message).c_str());
  return std::get<T>(std::move(o));
}

Hub& the_hub() {
  static Hub* h = [] {
    auto* out = new Hub;  // never destroyed: the worker threads may still run at exit
    auto cfg = config::default_hub_config();
    cfg.hub.state_dir = fuzz::scratch_dir() / "hub";
    cfg.http.listen = "127.0.0.1";
    cfg.http.port = 0;
    cfg.storage.min_free_bytes = 0;
    cfg.broker.enabled = false;
    cfg.log.level = log::Level::off;
    out->service = std::make_unique<Service>(cfg);
    auto& st = out->service->store();
    for (const auto role : {store::Role::admin, store::Role::technician, store::Role::teacher, store::Role::coach}) {
      const std::string login = "fuzz-" + std::string(store::to_string(role));
      const auto user = take(st.create_user(login, login, role, "$argon2id$unused"));
      const auto token = auth::new_secret(auth::kUserTokenPrefix);
      st.create_api_token(user.id, "fuzz", token.hash);
      out->authorizations.push_back("Bearer " + token.value);
    }
    const auto room = take(st.create_room("Room 12", std::nullopt));
    const auto unit_token = auth::new_secret(auth::kUnitTokenPrefix);
    (void)take(st.create_unit("u-fuzz", "Room 12 camera", room.id, unit_token.hash));
    out->authorizations.push_back("Bearer " + unit_token.value);
    return out;
  }();
  return *h;
}

const char* const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
const char* const kHeaders[] = {
    "Origin",        "Sec-Fetch-Site", "Content-Type",       "Cookie",          "Tus-Resumable",
    "Range",         "If-Range",       "Upload-Metadata",    "Upload-Checksum", "Upload-Offset",
    "Upload-Length", "If-None-Match",  "Upload-Defer-Length"};

std::string fill(const std::string& pattern, FuzzedDataProvider& in) {
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find('{', at);
    if (open == std::string::npos) break;
    const auto close = pattern.find('}', open);
    out += pattern.substr(at, open - at);
    out += in.ConsumeRandomLengthString(40);
    at = close + 1;
  }
  return out + pattern.substr(at);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  (void)the_hub();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Hub& h = the_hub();
  const auto& routes = h.service->router().routes();
  FuzzedDataProvider in(data, size);
  http::Request req;
  const auto& authorization = h.authorizations[in.ConsumeIntegralInRange<std::size_t>(0, h.authorizations.size() - 1)];
  if (!authorization.empty()) req.headers.add("Authorization", authorization);
  req.headers.add("Host", "hub.school.example");
  if (in.ConsumeBool()) {
    const auto& r = routes[in.ConsumeIntegralInRange<std::size_t>(0, routes.size() - 1)];
    req.method = r.method;
    req.target = fill(r.pattern, in);
    if (in.ConsumeBool()) req.target += "?" + in.ConsumeRandomLengthString(80);
  } else {
    req.method = in.ConsumeBool() ? in.PickValueInArray(kMethods) : in.ConsumeRandomLengthString(12);
    req.target = in.ConsumeRandomLengthString(200);
  }
  http::split_target(req.target, req.path, req.query);
  // The live routes answer from the hub's I/O loop, which this harness does not run (the service is
  // built, not started): hub_live_test drives them over real TLS instead.
  if (req.path.starts_with("/api/v1/live/") || req.path.starts_with("/api/v1/unit/live")) return 0;
  if (in.ConsumeBool()) req.headers.add("Content-Type", "application/json");
  const auto fields = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < fields; ++i) {
    std::string name = in.ConsumeBool() ? in.PickValueInArray(kHeaders) : in.ConsumeRandomLengthString(20);
    req.headers.add(std::move(name), in.ConsumeRandomLengthString(100));
  }
  req.body = in.ConsumeRemainingBytesAsString();
  req.remote_address = "192.0.2.7";

  // Shared with the reply, which may come from a worker thread (and, were it called twice, after this
  // input is done).
  struct Outcome {
    std::mutex mutex;
    std::condition_variable cv;
    int replies = 0;
    http::Response res;
  };
  const auto out = std::make_shared<Outcome>();
  web::dispatch(h.service->router(), req, [out](http::Response r) {
    const std::lock_guard lock(out->mutex);
    ++out->replies;
    out->res = std::move(r);
    out->cv.notify_all();
  });
  std::unique_lock lock(out->mutex);
  check(out->cv.wait_for(lock, std::chrono::seconds(4), [&] { return out->replies > 0; }), "no reply within 4 s");
  check(out->replies == 1, "the reply was called more than once");
  const http::Response& res = out->res;
  check(res.status >= 100 && res.status <= 599, "a status that is not one");
  check(res.status != 500, "a request answered 500 (the hub failed, or let an exception through)");
  const std::string type = res.headers.get("Content-Type").value_or("");
  if (type.find("json") != std::string::npos && !res.file) {
    check(protocol::Json::accept(res.body), "a JSON response that is not valid JSON");
  }
  return 0;
}
