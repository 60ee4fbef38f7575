#pragma once
// What every route module shares: turning store refusals into problem responses, running blocking
// work on the worker pool, and reading the common query parameters.
#include <functional>
#include <optional>
#include <string>

#include "hub/access/policy.hpp"
#include "hub/http/message.hpp"
#include "hub/http/responses.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::api {

// Runs a job on a worker pool (blocking work: password hashing, file hashing, joins).
using Executor = std::function<void(std::function<void()>)>;

// not_found -> 404, conflict -> 409, invalid -> 400; the detail names the field.
http::Response refused(const store::Refused& r);

// Unwraps an Outcome or throws the refusal as an HttpError (the router answers it).
template <typename T>
T take(store::Outcome<T> o) {
  if (const auto* r = store::refusal(o)) {
    const int status = r->kind == store::Refusal::not_found ? 404 : r->kind == store::Refusal::conflict ? 409 : 400;
    throw http::HttpError(status, r->message, r->field);
  }
  return std::get<T>(std::move(o));
}

// Runs `work` on `pool` and replies with its response; exceptions become problems as in the router.
void on_worker(const Executor& pool, http::Request& req, const http::Reply& reply,
               std::function<http::Response(http::Request&)> work);

// ?name=<RFC 3339>; throws HttpError 400 naming the parameter when malformed.
std::optional<util::TimePoint> query_time(const http::Request& req, const std::string& name);
// ?limit=N within [1, max]; `fallback` when absent.
std::size_t query_limit(const http::Request& req, std::size_t fallback, std::size_t max);

std::string time_text(util::TimePoint t);

// Who teaches in a room at `now` (for access::unit_rights): its default teacher and the teachers of
// the observations under way there and of the next one.
access::RoomFacts room_facts(store::Store& store, const std::optional<std::string>& room_id, util::TimePoint now);

}  // namespace classcam::hub::api
