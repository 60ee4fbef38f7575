#include "hub/api/common.hpp"

#include <charconv>

namespace classcam::hub::api {

http::Response refused(const store::Refused& r) {
  const int status = r.kind == store::Refusal::not_found ? 404 : r.kind == store::Refusal::conflict ? 409 : 400;
  return http::problem(status, r.message, r.field);
}

void on_worker(const Executor& pool, http::Request& req, const http::Reply& reply,
               std::function<http::Response(http::Request&)> work) {
  auto shared = std::make_shared<http::Request>(std::move(req));
  pool([shared, reply, work = std::move(work)] { reply(http::guarded(*shared, [&] { return work(*shared); })); });
}

std::optional<util::TimePoint> query_time(const http::Request& req, const std::string& name) {
  const auto v = req.query_param(name);
  if (!v) return std::nullopt;
  const auto t = util::parse_rfc3339(*v);
  if (!t) throw http::HttpError(400, "expected an RFC 3339 time such as 2026-11-23T09:00:00Z", name);
  return t;
}

std::size_t query_limit(const http::Request& req, std::size_t fallback, std::size_t max) {
  const auto v = req.query_param("limit");
  if (!v) return fallback;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > max) {
    throw http::HttpError(400, "expected a whole number from 1 to " + std::to_string(max), "limit");
  }
  return n;
}

std::string time_text(util::TimePoint t) { return util::to_rfc3339(t); }

access::RoomFacts room_facts(store::Store& store, const std::optional<std::string>& room_id, util::TimePoint now) {
  access::RoomFacts f;
  if (!room_id) return f;
  const auto room = store.room(*room_id);
  if (!room) return f;
  f.in_room = true;
  f.default_teacher_id = room->default_teacher_id;
  store::ObservationFilter filter;
  filter.room_id = *room_id;
  filter.from = now;  // under way or later, by start time
  for (const auto& o : store.observations(filter)) {
    f.lesson_teacher_ids.push_back(o.teacher_id);
    if (o.start > now) break;  // the next one is the last that counts
  }
  return f;
}

}  // namespace classcam::hub::api
