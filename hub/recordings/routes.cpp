#include "hub/recordings/routes.hpp"

#include <charconv>

#include "hub/access/policy.hpp"
#include "hub/api/common.hpp"
#include "hub/http/files.hpp"

namespace classcam::hub::recordings {

namespace {

using access::Access;
using http::HttpError;
using http::Request;
using http::Response;
using protocol::Json;

struct Loaded {
  store::Recording rec;
  access::RecordingFacts facts;
  access::RecordingRights rights;
};

// The recording named in the path, if the caller may know it exists (404 otherwise, so ids cannot be
// probed).
Loaded load(store::Store& store, const Request& req) {
  const std::string& id = req.param("id");
  auto rec = store.recording(id);
  if (!rec) throw HttpError(404, "no recording " + id);
  Loaded l{*rec, {rec->owner_id, req.principal.is_user() && store.is_shared_with(rec->id, req.principal.id)}, {}};
  l.rights = access::recording_rights(req.principal, l.facts);
  if (!l.rights.see) throw HttpError(404, "no recording " + id);
  return l;
}

void require(bool allowed, const std::string& why) {
  if (!allowed) throw HttpError(403, why);
}

constexpr const char* kWatchRule = "only the recording's owner and the people they shared it with can watch it";

std::string display_name(store::Store& store, const std::optional<std::string>& user_id) {
  if (!user_id) return "";
  const auto u = store.user(*user_id);
  return u ? u->display_name : "";
}

Json recording_json(store::Store& store, const store::Recording& r, const access::RecordingRights& rights) {
  Json j = {{"id", r.id},
            {"title", r.title},
            {"state", std::string(store::to_string(r.state))},
            {"unit_id", r.unit_id},
            {"session_id", r.session_id},
            {"trigger", r.trigger},
            {"started_at", api::time_text(r.started_at)},
            {"segments_received", r.segments_received},
            {"duration_ms", r.duration_ms}};
  j["room_id"] = r.room_id ? Json(*r.room_id) : Json(nullptr);
  if (r.room_id) {
    if (const auto room = store.room(*r.room_id)) j["room_name"] = room->name;
  }
  j["owner_id"] = r.owner_id ? Json(*r.owner_id) : Json(nullptr);
  if (r.owner_id) j["owner_name"] = display_name(store, r.owner_id);
  j["observation_id"] = r.observation_id ? Json(*r.observation_id) : Json(nullptr);
  j["ended_at"] = r.ended_at ? Json(api::time_text(*r.ended_at)) : Json(nullptr);
  if (r.end_reason) j["end_reason"] = *r.end_reason;
  j["expected_segments"] = r.expected_segments ? Json(*r.expected_segments) : Json(nullptr);
  if (r.joined_bytes) j["bytes"] = *r.joined_bytes;
  if (r.failure) j["failure"] = *r.failure;
  Json may = Json::array();
  if (rights.watch) may.push_back("watch");
  if (rights.annotate) may.push_back("annotate");
  if (rights.share) may.push_back("share");
  if (rights.retitle) may.push_back("retitle");
  if (rights.remove) may.push_back("delete");
  if (rights.assign_owner) may.push_back("assign_owner");
  j["you_may"] = may;
  if (rights.watch) j["media_url"] = "/api/v1/recordings/" + r.id + "/media";
  return j;
}

Json session_json(const store::Recording& r, const std::vector<store::Segment>& segments) {
  Json received = Json::array();
  for (const auto& s : segments) received.push_back(s.index);
  return {{"recording_id", r.id},
          {"session_id", r.session_id},
          {"state", std::string(store::to_string(r.state))},
          {"expected_segments", r.expected_segments ? Json(*r.expected_segments) : Json(nullptr)},
          {"received", received}};
}

Json comment_json(const store::Comment& c) {
  return {{"id", c.id},
          {"recording_id", c.recording_id},
          {"author_id", c.author_id ? Json(*c.author_id) : Json(nullptr)},
          {"author_name", c.author_name},
          {"offset_ms", c.offset_ms},
          {"tag", std::string(store::to_string(c.tag))},
          {"text", c.text},
          {"created_at", api::time_text(c.created_at)}};
}

Json bookmark_json(const store::Bookmark& b) {
  return {{"id", b.id},
          {"recording_id", b.recording_id},
          {"author_id", b.author_id ? Json(*b.author_id) : Json(nullptr)},
          {"offset_ms", b.offset_ms},
          {"label", b.label},
          {"source", b.source},
          {"created_at", api::time_text(b.created_at)}};
}

constexpr std::int64_t kMaxOffsetMs = 24LL * 3600 * 1000;

}  // namespace

void add_routes(http::Router& router, store::Store& store, Library& library, audit::Auditor& auditor) {
  // ---- unit-facing: session announcements ----
  router.add(
      "PUT", "/api/v1/unit/sessions/{session_id}", Access::unit(),
      [&store, &library](Request& req) {
        auto info = protocol::decode<protocol::SessionInfo>(req.body);
        if (!info) throw protocol::DecodeError(info.error().message);
        if (info->session_id != req.param("session_id")) {
          throw HttpError(400, "is \"" + info->session_id + "\" but the path names \"" + req.param("session_id") + "\"",
                          "session_id");
        }
        const bool existed = store.recording_by_session(req.principal.id, info->session_id).has_value();
        const auto rec = api::take(library.announce(req.principal, *info));
        return http::json(existed ? 200 : 201, session_json(rec, store.segments(rec.id)));
      },
      "announce a recording session (start, and again at its end)");

  router.add(
      "GET", "/api/v1/unit/sessions/{session_id}", Access::unit(),
      [&store](Request& req) {
        const auto rec = store.recording_by_session(req.principal.id, req.param("session_id"));
        if (!rec) throw HttpError(404, "this unit announced no session " + req.param("session_id"));
        return http::json(200, session_json(*rec, store.segments(rec->id)));
      },
      "what the hub has of a session (which segments are in)");

  // ---- recordings ----
  router.add(
      "GET", "/api/v1/recordings", Access::any_user(),
      [&store](Request& req) {
        store::RecordingFilter f;
        if (!access::sees_everything_in_lists(req.principal)) f.visible_to = req.principal.id;
        f.room_id = req.query_param("room_id");
        f.from = api::query_time(req, "from");
        f.to = api::query_time(req, "to");
        f.limit = api::query_limit(req, 200, 1000);
        Json out = Json::array();
        for (const auto& r : store.recordings(f)) {
          const access::RecordingFacts facts{
              r.owner_id, r.owner_id != req.principal.id && store.is_shared_with(r.id, req.principal.id)};
          const auto rights = access::recording_rights(req.principal, facts);
          if (rights.see) out.push_back(recording_json(store, r, rights));
        }
        return http::json(200, {{"recordings", out}});
      },
      "recordings the caller may see");

  router.add(
      "GET", "/api/v1/recordings/{id}", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        return http::json(200, recording_json(store, l.rec, l.rights));
      },
      "one recording");

  router.add(
      "PATCH", "/api/v1/recordings/{id}", Access::any_user(),
      [&store, &auditor](Request& req) {
        const auto l = load(store, req);
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        if (r.has("title")) {
          require(l.rights.retitle, "only the recording's owner can rename it");
          store.set_recording_title(l.rec.id, r.string("title", 200));
        }
        if (r.has("owner_id")) {
          require(l.rights.assign_owner, "only an admin can assign an owner, and only to a recording that has none");
          const std::string owner = r.string("owner_id", 64);
          const auto u = store.user(owner);
          if (!u) throw HttpError(400, "no user " + owner, "owner_id");
          if (u->role != store::Role::teacher || u->disabled) {
            throw HttpError(400, "recordings belong to teachers; " + u->login + " is not an active teacher",
                            "owner_id");
          }
          store.set_recording_owner(l.rec.id, owner);
          auditor.record(req.principal, "recording.assign_owner", "recording", l.rec.id, "to " + u->login);
        }
        const auto updated = load(store, req);
        return http::json(200, recording_json(store, updated.rec, updated.rights));
      },
      "rename (owner) or assign an owner to an unowned recording (admin)");

  router.add(
      "DELETE", "/api/v1/recordings/{id}", Access::any_user(),
      [&store, &library](Request& req) {
        const auto l = load(store, req);
        require(l.rights.remove, "only the recording's owner or an admin can delete it");
        library.remove(l.rec, req.principal, "deleted by " + std::string(access::to_string(req.principal.caller)));
        return http::no_content();
      },
      "delete a recording and its files");

  router.add_async(
      "GET", "/api/v1/recordings/{id}/media", Access::any_user(),
      [&store, &library, &auditor](Request& req, const http::Reply& reply) {
        const auto resp = http::guarded(req, [&]() -> Response {
          const auto l = load(store, req);
          require(l.rights.watch, kWatchRule);
          const bool download = req.query_param("download") == "1";
          const std::string action = download ? "recording.download" : "recording.view";
          // A HEAD (a player asking the size) shows nothing: it is not a view to audit.
          const bool probe = req.method == "HEAD";
          if (l.rec.state == store::RecordingState::ready && l.rec.joined_file) {
            if (!probe) auditor.record_view(req.principal, action, "recording", l.rec.id);
            auto res = http::file_response(req, library.layout().root / *l.rec.joined_file, "video/mp4");
            if (download)
              res.headers.set("Content-Disposition", "attachment; filename=\"recording-" + l.rec.id + ".mp4\"");
            return res;
          }
          // Not joined yet: a joined-so-far preview of the segments that are in without a gap.
          if (const auto part = req.query_param("segments")) {
            // The number a Content-Location named: 1 or more, digits only (atoi read "x" as 0 and "-1" as 2^32-1).
            std::uint32_t count = 0;
            const auto* end = part->data() + part->size();
            const auto [ptr, ec] = std::from_chars(part->data(), end, count);
            if (part->empty() || ec != std::errc() || ptr != end || count == 0) {
              throw HttpError(400, "segments must be a whole number of segments, 1 or more", "segments");
            }
            const auto path = library.layout().preview(l.rec.id, count);
            if (!std::filesystem::exists(path)) {
              throw HttpError(410, "that preview has been replaced; fetch the media URL without ?segments", "segments");
            }
            if (!probe) auditor.record_view(req.principal, action, "recording", l.rec.id, "partial");
            return http::file_response(req, path, "video/mp4");
          }
          const auto n = library.contiguous_segments(l.rec.id);
          if (n == 0) throw HttpError(409, "no segment of this recording has arrived yet");
          if (!probe)
            auditor.record_view(req.principal, action, "recording", l.rec.id,
                                "partial, " + std::to_string(n) + " segments");
          auto shared = std::make_shared<Request>(req);
          const std::string id = l.rec.id;
          const std::string expected = l.rec.expected_segments ? std::to_string(*l.rec.expected_segments) : "?";
          library.preview(id, n, [shared, reply, id, n, expected](Result<std::filesystem::path> p) {
            if (!p) return reply(http::problem(503, "the preview could not be built: " + p.error().message));
            auto res = http::file_response(*shared, *p, "video/mp4");
            // Range requests for this preview should name it, so the bytes cannot change under them.
            res.headers.set("Content-Location", "/api/v1/recordings/" + id + "/media?segments=" + std::to_string(n));
            res.headers.set("X-Classcam-Segments", std::to_string(n) + "/" + expected);
            reply(std::move(res));
          });
          Response pending;
          pending.status = 0;  // answered by the preview callback
          return pending;
        });
        if (resp.status != 0) reply(resp);
      },
      "the recording as one MP4 (Range requests); joined-so-far while incomplete");

  router.add(
      "GET", "/api/v1/recordings/{id}/segments", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        Json out = Json::array();
        for (const auto& s : store.segments(l.rec.id)) {
          out.push_back({{"index", s.index},
                         {"start_utc", api::time_text(s.start_utc)},
                         {"duration_ms", s.duration_ns / 1'000'000},
                         {"size_bytes", s.size_bytes},
                         {"sha256", s.sha256},
                         {"recovered", s.recovered},
                         {"url", "/api/v1/recordings/" + l.rec.id + "/segments/" + std::to_string(s.index)}});
        }
        return http::json(200, {{"segments", out}});
      },
      "the segments received so far");

  router.add(
      "GET", "/api/v1/recordings/{id}/segments/{index}", Access::any_user(),
      [&store, &library, &auditor](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        const auto& idx = req.param("index");
        if (idx.empty() || idx.size() > 7 || idx.find_first_not_of("0123456789") != std::string::npos) {
          throw HttpError(400, "expected a segment number", "index");
        }
        const auto s = store.segment(l.rec.id, static_cast<std::uint32_t>(std::stoul(idx)));
        if (!s) throw HttpError(404, "segment " + idx + " has not arrived");
        if (req.method != "HEAD")
          auditor.record_view(req.principal, "recording.view", "recording", l.rec.id, "segment " + idx);
        return http::file_response(req, library.layout().root / s->file, "video/mp4");
      },
      "one segment as MP4 (Range requests)");

  // ---- shares ----
  router.add(
      "GET", "/api/v1/recordings/{id}/shares", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.share, "only the recording's owner sees who it is shared with");
        Json out = Json::array();
        for (const auto& s : store.shares(l.rec.id)) {
          out.push_back({{"user_id", s.user_id},
                         {"display_name", display_name(store, s.user_id)},
                         {"created_at", api::time_text(s.created_at)}});
        }
        return http::json(200, {{"shares", out}});
      },
      "who the recording is shared with (owner)");

  router.add(
      "PUT", "/api/v1/recordings/{id}/shares/{user_id}", Access::any_user(),
      [&store, &auditor](Request& req) {
        const auto l = load(store, req);
        const auto& target = req.param("user_id");
        require(l.rights.share, "only the recording's owner can share it (a share cannot be passed on)");
        if (!access::may_share_with(req.principal, l.facts, target)) {
          throw HttpError(400, "you cannot share a recording with yourself", "user_id");
        }
        const auto u = store.user(target);
        if (!u) throw HttpError(404, "no user " + target, "user_id");
        if (u->disabled) throw HttpError(400, u->login + " is disabled", "user_id");
        const bool added = store.add_share(l.rec.id, target, req.principal.id);
        if (added) auditor.record(req.principal, "recording.share", "recording", l.rec.id, "with " + u->login);
        return http::json(added ? 201 : 200, {{"user_id", target}, {"display_name", u->display_name}});
      },
      "share with a person (owner)");

  router.add(
      "DELETE", "/api/v1/recordings/{id}/shares/{user_id}", Access::any_user(),
      [&store, &auditor](Request& req) {
        const auto l = load(store, req);
        require(l.rights.share, "only the recording's owner can withdraw a share");
        if (!store.remove_share(l.rec.id, req.param("user_id"))) {
          throw HttpError(404, "the recording is not shared with " + req.param("user_id"));
        }
        auditor.record(req.principal, "recording.unshare", "recording", l.rec.id, "from " + req.param("user_id"));
        return http::no_content();
      },
      "withdraw a share (owner)");

  // ---- comments ----
  router.add(
      "GET", "/api/v1/recordings/{id}/comments", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        Json out = Json::array();
        for (const auto& c : store.comments(l.rec.id)) out.push_back(comment_json(c));
        return http::json(200, {{"comments", out}});
      },
      "time-stamped comments");

  router.add(
      "POST", "/api/v1/recordings/{id}/comments", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.annotate, kWatchRule);
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::Comment c;
        c.recording_id = l.rec.id;
        c.author_id = req.principal.id;
        c.offset_ms = r.integer("offset_ms", 0, kMaxOffsetMs);
        const std::string tag = r.string("tag", 32);
        const auto t = store::comment_tag_from_string(tag);
        if (!t) r.fail("tag", "unknown value \"" + tag + "\" (expected one of: strength, question, suggestion, note)");
        c.tag = *t;
        c.text = r.string("text", 5000);
        return http::json(201, comment_json(store.add_comment(c)));
      },
      "comment at a moment, tagged strength, question, suggestion or note");

  router.add(
      "DELETE", "/api/v1/recordings/{id}/comments/{comment_id}", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        const auto c = store.comment(req.param("comment_id"));
        if (!c || c->recording_id != l.rec.id) {
          throw HttpError(404, "no comment " + req.param("comment_id") + " on this recording");
        }
        require(access::may_delete_annotation(req.principal, c->author_id, l.facts),
                "only the comment's author or the recording's owner can delete it");
        store.delete_comment(c->id);
        return http::no_content();
      },
      "delete a comment (author or owner)");

  // ---- bookmarks ----
  router.add(
      "GET", "/api/v1/recordings/{id}/bookmarks", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        Json out = Json::array();
        for (const auto& b : store.bookmarks(l.rec.id)) out.push_back(bookmark_json(b));
        return http::json(200, {{"bookmarks", out}});
      },
      "bookmarks (from the unit's button and from people)");

  router.add(
      "POST", "/api/v1/recordings/{id}/bookmarks", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.annotate, kWatchRule);
        const auto body = http::json_body(req);
        const protocol::Reader r(body, "");
        store::Bookmark b;
        b.recording_id = l.rec.id;
        b.author_id = req.principal.id;
        b.offset_ms = r.integer("offset_ms", 0, kMaxOffsetMs);
        b.label = r.opt_string("label", 500).value_or("");
        b.source = "user";
        return http::json(201, bookmark_json(store.add_bookmark(b)));
      },
      "add a bookmark");

  router.add(
      "DELETE", "/api/v1/recordings/{id}/bookmarks/{bookmark_id}", Access::any_user(),
      [&store](Request& req) {
        const auto l = load(store, req);
        require(l.rights.watch, kWatchRule);
        const auto b = store.bookmark(req.param("bookmark_id"));
        if (!b || b->recording_id != l.rec.id) {
          throw HttpError(404, "no bookmark " + req.param("bookmark_id") + " on this recording");
        }
        require(access::may_delete_annotation(req.principal, b->author_id, l.facts),
                "only the bookmark's author or the recording's owner can delete it");
        store.delete_bookmark(b->id);
        return http::no_content();
      },
      "delete a bookmark (author or owner)");
}

}  // namespace classcam::hub::recordings
