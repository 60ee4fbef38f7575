#include "hub/uploads/tus.hpp"

#include "common/util/hash.hpp"
#include "common/util/uuid.hpp"
#include "hub/uploads/headers.hpp"
#include "hub/uploads/storage.hpp"

namespace classcam::hub::uploads {

namespace fs = std::filesystem;
using access::Access;
using access::Caller;
using http::HttpError;
using http::Request;
using http::Response;

namespace {

constexpr const char* kVersion = "1.0.0";
constexpr const char* kExtensions = "creation,creation-with-upload,checksum,termination,expiration";

Response tus(Response r) {
  r.headers.set("Tus-Resumable", kVersion);
  return r;
}

Response tus_problem(int status, const std::string& detail, const std::string& field = "") {
  return tus(http::problem(status, detail, field));
}

Response tus_status(int status) {
  Response r;
  r.status = status;
  r.headers.set("Cache-Control", "no-store");
  return tus(std::move(r));
}

// Every tus request but OPTIONS must say which protocol version it speaks (412 otherwise).
void check_resumable(const Request& req) {
  const auto v = req.headers.get("Tus-Resumable");
  if (v == kVersion) return;
  throw HttpError(412,
                  v ? "Tus-Resumable " + *v + " is not supported; this server speaks 1.0.0"
                    : "missing Tus-Resumable header (this server speaks tus 1.0.0)",
                  "Tus-Resumable");
}

std::uint64_t header_u64(const Request& req, const std::string& name) {
  const auto v = req.headers.get(name);
  if (!v) throw HttpError(400, "missing", name);
  const auto n = parse_u64(*v);
  if (!n) throw HttpError(400, "expected a non-negative whole number, got \"" + *v + "\"", name);
  return *n;
}

std::string expires_text(util::TimePoint t) { return http::http_date(util::to_unix_ms(t) / 1000); }

// Wraps a handler so tus errors carry Tus-Resumable (and 412 carries Tus-Version).
Response tus_guarded(const Request& req, const std::function<Response()>& fn) {
  auto res = http::guarded(req, fn);
  res.headers.set("Tus-Resumable", kVersion);
  if (res.status == 412) res.headers.set("Tus-Version", kVersion);
  return res;
}

bool is_gone(const store::Upload& u) {
  return u.state == store::UploadState::expired || u.state == store::UploadState::rejected;
}

}  // namespace

TusServer::TusServer(store::Store& store, recordings::Library& library, Limits limits, api::Executor workers)
    : store_(store), library_(library), limits_(limits), workers_(std::move(workers)) {
  std::error_code ec;
  fs::create_directories(library_.layout().uploads(), ec);
}

fs::path TusServer::file_of(const std::string& id) const { return library_.layout().uploads() / (id + ".part"); }

std::uint64_t TusServer::free_space() const {
  if (free_probe_) return free_probe_();
  const auto f = free_bytes(library_.layout().uploads());
  return f ? *f : 0;
}

std::optional<TusServer::Claim> TusServer::try_claim(const std::string& id) {
  const std::lock_guard lock(mutex_);
  if (!busy_.insert(id).second) return std::nullopt;
  return std::optional<Claim>(std::in_place, this, id);
}

void TusServer::release(const std::string& id) {
  const std::lock_guard lock(mutex_);
  busy_.erase(id);
}

void TusServer::add_routes(http::Router& router) {
  router.add(
      "OPTIONS", "/api/v1/uploads", Access::anyone(),
      [this](Request&) {
        Response r = tus_status(204);
        r.headers.set("Tus-Version", kVersion);
        r.headers.set("Tus-Extension", kExtensions);
        r.headers.set("Tus-Max-Size", std::to_string(limits_.max_upload_bytes));
        r.headers.set("Tus-Checksum-Algorithm", "sha1,sha256");
        return r;
      },
      "tus discovery: version, extensions, limits");

  // A creation's first chunk (creation-with-upload) is read into memory: only units send one.
  router
      .add_async(
          "POST", "/api/v1/uploads", Access::unit(),
          [this](Request& req, const http::Reply& reply) {
            auto shared = std::make_shared<Request>(std::move(req));
            workers_([this, shared, reply] { reply(tus_guarded(*shared, [&] { return create(*shared); })); });
          },
          "create an upload for one segment (tus creation, creation-with-upload)")
      .with_body(http::BodySize::upload);

  router.add(
      "HEAD", "/api/v1/uploads/{id}", Access::unit(),
      [this](Request& req) { return tus_guarded(req, [&] { return head(req); }); }, "the upload's offset (tus core)");

  router.add_streaming(
      "PATCH", "/api/v1/uploads/{id}", Access::unit(), [this](Request& req) { return admit_patch(req); },
      "append a chunk at Upload-Offset (tus core, checksum)");

  router.add_async(
      "DELETE", "/api/v1/uploads/{id}", Access::only({Caller::unit, Caller::admin, Caller::technician}),
      [this](Request& req, const http::Reply& reply) {
        auto shared = std::make_shared<Request>(std::move(req));
        workers_([this, shared, reply] { reply(tus_guarded(*shared, [&] { return terminate(*shared); })); });
      },
      "abandon an upload (tus termination); staff remove refused uploads after inspecting them");

  router.add(
      "GET", "/api/v1/uploads", Access::only({Caller::admin, Caller::technician}),
      [this](Request&) {
        protocol::Json out = protocol::Json::array();
        for (const auto& u : store_.uploads_in_states({store::UploadState::open, store::UploadState::rejected})) {
          protocol::Json j = {{"id", u.id},
                              {"unit_id", u.unit_id},
                              {"session_id", u.session_id},
                              {"index", u.index},
                              {"length", u.length},
                              {"offset", u.offset},
                              {"state", std::string(store::to_string(u.state))},
                              {"created_at", api::time_text(u.created_at)},
                              {"expires_at", api::time_text(u.expires_at)}};
          if (u.detail) j["detail"] = *u.detail;
          if (u.state == store::UploadState::rejected) j["file"] = file_of(u.id).string();
          out.push_back(j);
        }
        return http::json(200, {{"uploads", out}});
      },
      "unfinished and refused uploads, for technicians");
}

Response TusServer::create(Request& req) {
  check_resumable(req);
  if (req.headers.has("Upload-Defer-Length")) {
    throw HttpError(400, "deferred lengths are not supported: send Upload-Length", "Upload-Defer-Length");
  }
  const std::uint64_t length = header_u64(req, "Upload-Length");
  if (length > limits_.max_upload_bytes) {
    throw HttpError(413,
                    "is " + std::to_string(length) + " bytes; this hub takes at most " +
                        std::to_string(limits_.max_upload_bytes) + " per upload (Tus-Max-Size)",
                    "Upload-Length");
  }
  const std::string raw_metadata = req.header("Upload-Metadata");
  const auto meta = parse_metadata(raw_metadata);
  if (!meta.error.empty()) throw HttpError(400, meta.error, "Upload-Metadata");
  for (const char* key : {"session_id", "index", "entry"}) {
    if (meta.values.count(key) == 0) throw HttpError(400, std::string("needs \"") + key + "\"", "Upload-Metadata");
  }
  auto decoded = protocol::decode<protocol::SegmentEntry>(meta.values.at("entry"));
  if (!decoded) throw HttpError(400, decoded.error().message, "Upload-Metadata entry");
  const auto& entry = *decoded;
  const std::string& session_id = meta.values.at("session_id");
  if (entry.session_id != session_id) {
    throw HttpError(400, "entry.session_id is \"" + entry.session_id + "\" but session_id is \"" + session_id + "\"",
                    "Upload-Metadata entry.session_id");
  }
  if (meta.values.at("index") != std::to_string(entry.index)) {
    throw HttpError(
        400, "entry.index is " + std::to_string(entry.index) + " but index is \"" + meta.values.at("index") + "\"",
        "Upload-Metadata entry.index");
  }
  if (entry.size_bytes != length) {
    throw HttpError(
        400,
        "entry.size_bytes is " + std::to_string(entry.size_bytes) + " but Upload-Length is " + std::to_string(length),
        "Upload-Metadata entry.size_bytes");
  }
  const auto rec = store_.recording_by_session(req.principal.id, session_id);
  if (!rec) {
    throw HttpError(
        409, "session " + session_id + " has not been announced: PUT /api/v1/unit/sessions/" + session_id + " first",
        "Upload-Metadata session_id");
  }
  if (rec->expected_segments && entry.index >= *rec->expected_segments) {
    throw HttpError(400,
                    "is " + std::to_string(entry.index) + " but the session has " +
                        std::to_string(*rec->expected_segments) + " segments",
                    "Upload-Metadata entry.index");
  }

  const auto now = util::now_utc();
  store::Upload u;
  u.id = util::uuid_v4();
  u.unit_id = req.principal.id;
  u.recording_id = rec->id;
  u.session_id = session_id;
  u.index = entry.index;
  u.length = length;
  u.metadata = raw_metadata;
  u.entry_json = protocol::encode(entry);
  u.created_at = u.updated_at = now;
  u.expires_at = now + limits_.expiry;

  Response res = tus_status(201);
  // Relative (tus allows it): an absolute URL would have to come from the client's Host header.
  res.headers.set("Location", "/api/v1/uploads/" + u.id);

  // Already stored with the same bytes (the unit is retrying after losing our answer): done already.
  if (const auto have = store_.segment(rec->id, entry.index)) {
    if (have->sha256 != entry.sha256) {
      throw HttpError(409,
                      "segment " + std::to_string(entry.index) + " of session " + session_id +
                          " is already stored with a different SHA-256",
                      "Upload-Metadata entry.sha256");
    }
    u.offset = length;
    u.state = store::UploadState::accepted;
    store_.create_upload(u);
    res.headers.set("Upload-Offset", std::to_string(length));
    return res;
  }
  if (free_space() < limits_.min_free_bytes + length) {
    log_->warn("upload refused: {} bytes free, storage.min_free_bytes is {}", free_space(), limits_.min_free_bytes);
    throw HttpError(507, "the hub's disk is too full to take this upload; a technician has been told in the log");
  }
  if (auto st = create_empty(file_of(u.id)); !st) throw std::runtime_error(st.error().message);
  store_.create_upload(u);
  res.headers.set("Upload-Expires", expires_text(u.expires_at));

  if (!req.body.empty()) {
    // creation-with-upload: the first chunk rides along.
    const auto claim = try_claim(u.id);
    if (!claim) throw HttpError(423, "the upload is busy");
    Response chunk = write(req, u, 0);
    if (chunk.status != 204) return chunk;
    res.headers.set("Upload-Offset", *chunk.headers.get("Upload-Offset"));
    if (const auto e = chunk.headers.get("Upload-Expires")) res.headers.set("Upload-Expires", *e);
  }
  log_->debug("upload {} created: unit {}, session {}, segment {}, {} bytes", u.id, u.unit_id, session_id, entry.index,
              length);
  return res;
}

Response TusServer::head(Request& req) {
  check_resumable(req);
  // Claimed before the row is read. Without the claim a PATCH is writing: report the stored offset and
  // touch nothing (cutting "stray" bytes now would cut the chunk arriving).
  const auto claim = try_claim(req.param("id"));
  auto u = store_.upload(req.param("id"));
  if (!u || u->unit_id != req.principal.id || u->state == store::UploadState::terminated) {
    throw HttpError(404, "no such upload");
  }
  if (claim && u->state == store::UploadState::open && u->expires_at <= util::now_utc()) {
    expire_claimed(*u);
    u = store_.upload(u->id);
  }
  if (is_gone(*u)) {
    throw HttpError(410, u->state == store::UploadState::expired
                             ? "the upload expired; create a new one"
                             : "the upload was refused (" + u->detail.value_or("") + "); create a new one");
  }
  if (claim && u->state == store::UploadState::open) (void)truncate_to(file_of(u->id), u->offset);
  Response r = tus_status(200);
  r.headers.set("Upload-Offset", std::to_string(u->offset));
  r.headers.set("Upload-Length", std::to_string(u->length));
  if (!u->metadata.empty()) r.headers.set("Upload-Metadata", u->metadata);
  if (u->state == store::UploadState::open) r.headers.set("Upload-Expires", expires_text(u->expires_at));
  return r;
}

// Where a PATCH's body goes: the upload's file past its stored offset, hashed on the way when the
// request carries Upload-Checksum. Holds the upload's claim until finish() (or abandon()).
class TusServer::ChunkSink final : public http::BodySink {
 public:
  struct Checksum {
    std::string name;
    util::Hasher hasher;
    std::string expected;
  };

  ChunkSink(Claim claim, store::Upload upload, std::unique_ptr<ChunkWriter> writer, std::optional<Checksum> checksum)
      : claim_(std::move(claim)),
        upload_(std::move(upload)),
        writer_(std::move(writer)),
        checksum_(std::move(checksum)) {}

  bool write(std::string_view piece) override {
    if (checksum_) checksum_->hasher.update(piece);
    auto w = writer_->append(piece);
    if (w.ok) return true;
    failure_ = std::move(w);
    return false;
  }

  // Cuts the chunk off and lets go of the upload.
  void abandon() noexcept override { finish(); }

  // Lets go of the upload; the chunk is cut off unless it was kept.
  void finish() noexcept {
    writer_->discard();
    claim_.reset();
  }

  const store::Upload& upload() const { return upload_; }
  ChunkWriter& writer() { return *writer_; }
  std::optional<Checksum>& checksum() { return checksum_; }
  const std::optional<WriteOutcome>& failure() const { return failure_; }

 private:
  std::optional<Claim> claim_;
  store::Upload upload_;
  std::unique_ptr<ChunkWriter> writer_;
  std::optional<Checksum> checksum_;
  std::optional<WriteOutcome> failure_;
};

http::Admission TusServer::admit_patch(Request& req) {
  std::optional<http::Admission> admitted;
  Response answer = tus_guarded(req, [&]() -> Response {
    check_resumable(req);
    if (req.header("Content-Type") != "application/offset+octet-stream") {
      throw HttpError(415, "a PATCH carries Content-Type: application/offset+octet-stream", "Content-Type");
    }
    const std::uint64_t client_offset = header_u64(req, "Upload-Offset");
    // Claimed before the row is read: the offset and state checked below cannot change until the
    // claim goes, so two PATCHes at one offset cannot both pass.
    auto claim = try_claim(req.param("id"));
    if (!claim) throw HttpError(423, "another request is writing this upload; try again shortly");
    const auto u = store_.upload(req.param("id"));
    if (!u || u->unit_id != req.principal.id || u->state == store::UploadState::terminated) {
      throw HttpError(404, "no such upload");
    }
    if (u->state == store::UploadState::open && u->expires_at <= util::now_utc()) {
      expire_claimed(*u);
      throw HttpError(410, "the upload expired; create a new one");
    }
    if (is_gone(*u))
      throw HttpError(410, "the upload is " + std::string(store::to_string(u->state)) + "; create a new one");
    // The body's length when the header says it (Beast has checked Content-Length); chunked: unknown.
    const bool chunked = req.headers.has("Transfer-Encoding");
    const std::uint64_t length = chunked ? 0 : parse_u64(req.header("Content-Length")).value_or(0);
    if (u->state == store::UploadState::accepted) {
      if (client_offset == u->length && length == 0 && !chunked) {
        Response r = tus_status(204);
        r.headers.set("Upload-Offset", std::to_string(u->length));
        return r;
      }
      auto r = tus_problem(409, "the upload is complete (" + std::to_string(u->length) + " bytes)", "Upload-Offset");
      r.headers.set("Upload-Offset", std::to_string(u->length));
      return r;
    }
    auto at_offset = [&](Response r) {
      r.headers.set("Upload-Offset", std::to_string(u->offset));
      return r;
    };
    if (client_offset != u->offset) {
      return at_offset(
          tus_problem(409, "is " + std::to_string(client_offset) + " but the upload is at " + std::to_string(u->offset),
                      "Upload-Offset"));
    }
    const std::uint64_t remaining = u->length - u->offset;
    if (length > remaining) {
      throw HttpError(413, "the chunk would take the upload to " + std::to_string(u->offset + length) +
                               " bytes, past its Upload-Length " + std::to_string(u->length));
    }
    std::optional<ChunkSink::Checksum> checksum;
    if (const auto header = req.headers.get("Upload-Checksum")) {
      auto expected = parse_upload_checksum(*header);
      if (!expected) throw HttpError(400, expected.error().message, "Upload-Checksum");
      checksum.emplace(
          ChunkSink::Checksum{expected->name, util::Hasher(expected->algorithm), std::move(expected->digest)});
    }
    const std::uint64_t need = chunked ? remaining : length;
    if (need > 0 && free_space() < limits_.min_free_bytes + need) {
      log_->warn("chunk refused: the disk is below storage.min_free_bytes ({} bytes)", limits_.min_free_bytes);
      return at_offset(tus_problem(507, "the hub's disk is too full to take this chunk; the upload stays at offset " +
                                            std::to_string(u->offset)));
    }
    auto writer = ChunkWriter::open(file_of(u->id), u->offset);
    if (!writer) {
      log_->error("upload {}: {}", u->id, writer.error().message);
      return at_offset(tus_problem(
          500, "the hub could not store the chunk; the upload stays at offset " + std::to_string(u->offset)));
    }
    auto sink = std::make_shared<ChunkSink>(std::move(*claim), *u, std::move(*writer), std::move(checksum));
    http::Admission a;
    a.max_body_bytes = remaining;
    a.sink = sink;
    a.handler = [this, sink](Request& r, const http::Reply& reply) {
      auto shared = std::make_shared<Request>(std::move(r));
      workers_([this, sink, shared, reply] {
        auto res = tus_guarded(*shared, [&] { return finish_patch(*shared, *sink); });
        // Before the answer, so the client's next request finds the upload free.
        sink->finish();
        reply(std::move(res));
      });
    };
    admitted = std::move(a);
    return Response{};
  });
  if (admitted) return std::move(*admitted);
  return http::Admission::refuse(std::move(answer));
}

// On the worker pool, with the whole body in the file (or the sink stopped by a failed write).
Response TusServer::finish_patch(Request& /*req*/, ChunkSink& sink) {
  const store::Upload& u = sink.upload();
  auto at_offset = [&](Response r) {
    r.headers.set("Upload-Offset", std::to_string(u.offset));
    return r;
  };
  auto failed = [&](const WriteOutcome& w) {
    log_->error("upload {}: {}", u.id, w.message);
    return at_offset(tus_problem(w.no_space ? 507 : 500,
                                 (w.no_space ? "the hub's disk is full" : "the hub could not store the chunk") +
                                     std::string("; the upload stays at offset ") + std::to_string(u.offset)));
  };
  if (sink.failure()) return failed(*sink.failure());
  if (auto& checksum = sink.checksum()) {
    const auto digest = checksum->hasher.finish();
    if (!util::constant_time_equal(std::string(digest.begin(), digest.end()), checksum->expected)) {
      return at_offset(tus_problem(
          460,
          "the chunk's " + checksum->name + " does not match; the upload stays at offset " + std::to_string(u.offset),
          "Upload-Checksum"));
    }
  }
  if (const auto w = sink.writer().sync(); !w.ok) return failed(w);
  // Kept before the offset is stored: should storing it fail, bytes past the stored offset are cut
  // off by the next PATCH or HEAD under the claim, as after a crash.
  sink.writer().keep();
  return advance(u, u.offset + sink.writer().written());
}

Response TusServer::write(Request& req, const store::Upload& u, std::uint64_t client_offset) {
  if (client_offset != u.offset) {
    auto r =
        tus_problem(409, "is " + std::to_string(client_offset) + " but the upload is at " + std::to_string(u.offset),
                    "Upload-Offset");
    r.headers.set("Upload-Offset", std::to_string(u.offset));
    return r;
  }
  const std::uint64_t end = u.offset + req.body.size();
  if (end > u.length) {
    throw HttpError(413, "the chunk would take the upload to " + std::to_string(end) +
                             " bytes, past its Upload-Length " + std::to_string(u.length));
  }
  if (const auto checksum = req.headers.get("Upload-Checksum")) {
    const auto expected = parse_upload_checksum(*checksum);
    if (!expected) throw HttpError(400, expected.error().message, "Upload-Checksum");
    util::Hasher h(expected->algorithm);
    h.update(req.body);
    const auto digest = h.finish();
    if (!util::constant_time_equal(std::string(digest.begin(), digest.end()), expected->digest)) {
      auto r = tus_problem(
          460,
          "the chunk's " + expected->name + " does not match; the upload stays at offset " + std::to_string(u.offset),
          "Upload-Checksum");
      r.headers.set("Upload-Offset", std::to_string(u.offset));
      return r;
    }
  }
  if (!req.body.empty()) {
    if (free_space() < limits_.min_free_bytes + req.body.size()) {
      log_->warn("chunk refused: the disk is below storage.min_free_bytes ({} bytes)", limits_.min_free_bytes);
      auto r = tus_problem(
          507, "the hub's disk is too full to take this chunk; the upload stays at offset " + std::to_string(u.offset));
      r.headers.set("Upload-Offset", std::to_string(u.offset));
      return r;
    }
    // A crash after an earlier write but before its offset was stored leaves extra bytes: drop them.
    (void)truncate_to(file_of(u.id), u.offset);
    const auto w = write_chunk(file_of(u.id), u.offset, req.body);
    if (!w.ok) {
      log_->error("upload {}: {}", u.id, w.message);
      auto r = tus_problem(w.no_space ? 507 : 500,
                           (w.no_space ? "the hub's disk is full" : "the hub could not store the chunk") +
                               std::string("; the upload stays at offset ") + std::to_string(u.offset));
      r.headers.set("Upload-Offset", std::to_string(u.offset));
      return r;
    }
  }
  return advance(u, end);
}

// The chunk's bytes are on disk: the offset moves to `end`, and the last chunk completes the segment.
Response TusServer::advance(const store::Upload& u, std::uint64_t end) {
  const auto now = util::now_utc();
  store_.set_upload_offset(u.id, end, now, now + limits_.expiry);
  if (on_stored_ && end > u.offset) on_stored_(end - u.offset);
  if (end == u.length) {
    store::Upload done = u;
    done.offset = end;
    return complete(done);
  }
  Response r = tus_status(204);
  r.headers.set("Upload-Offset", std::to_string(end));
  r.headers.set("Upload-Expires", expires_text(now + limits_.expiry));
  return r;
}

Response TusServer::complete(const store::Upload& u) {
  const fs::path file = file_of(u.id);
  auto refuse = [&](int status, const std::string& field, const std::string& why) {
    store_.set_upload_state(u.id, store::UploadState::rejected, why, std::nullopt);
    if (on_finished_) on_finished_("rejected");
    log_->warn("upload {} (unit {}, session {}, segment {}) refused: {}; kept as {} for inspection", u.id, u.unit_id,
               u.session_id, u.index, why, file.string());
    auto r =
        tus_problem(status, why + "; the upload is kept for inspection, send the segment again as a new upload", field);
    r.headers.set("Upload-Offset", std::to_string(u.offset));
    return r;
  };
  auto entry = protocol::decode<protocol::SegmentEntry>(u.entry_json);
  if (!entry) return refuse(422, "Upload-Metadata entry", entry.error().message);
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size != entry->size_bytes) {
    return refuse(
        422, "Upload-Metadata entry.size_bytes",
        "the file has " + std::to_string(size) + " bytes but entry.size_bytes is " + std::to_string(entry->size_bytes));
  }
  const auto digest = util::file_digest_hex(file);
  if (!digest) throw std::runtime_error(digest.error().message);
  if (*digest != entry->sha256) {
    return refuse(422, "Upload-Metadata entry.sha256",
                  "the file's SHA-256 is " + *digest + " but entry.sha256 is " + entry->sha256);
  }
  const auto rec = store_.recording_by_session(u.unit_id, u.session_id);
  if (!rec) return refuse(409, "Upload-Metadata session_id", "the session's recording has been deleted");
  auto accepted = library_.accept_segment(*rec, *entry, file);
  if (const auto* r = store::refusal(accepted)) {
    return refuse(r->kind == store::Refusal::conflict ? 409 : 422, "Upload-Metadata " + r->field, r->message);
  }
  store_.set_upload_state(u.id, store::UploadState::accepted, std::nullopt, rec->id);
  if (on_finished_) on_finished_("accepted");
  log_->debug("upload {} accepted as segment {} of recording {}", u.id, entry->index, rec->id);
  Response r = tus_status(204);
  r.headers.set("Upload-Offset", std::to_string(u.length));
  return r;
}

Response TusServer::terminate(Request& req) {
  const bool staff = req.principal.is(Caller::admin) || req.principal.is(Caller::technician);
  if (!staff) check_resumable(req);
  const auto claim = try_claim(req.param("id"));
  const auto u = store_.upload(req.param("id"));  // read under the claim (when there is one)
  if (!u || (!staff && u->unit_id != req.principal.id) || u->state == store::UploadState::terminated) {
    throw HttpError(404, "no such upload");
  }
  if (!claim) throw HttpError(423, "another request is writing this upload; try again shortly");
  std::error_code ec;
  if (u->state != store::UploadState::accepted) fs::remove(file_of(u->id), ec);
  store_.set_upload_state(u->id, store::UploadState::terminated, u->detail, std::nullopt);
  return tus_status(204);
}

void TusServer::expire_claimed(const store::Upload& u) {
  std::error_code ec;
  fs::remove(file_of(u.id), ec);
  store_.set_upload_state(u.id, store::UploadState::expired, std::nullopt, std::nullopt);
  log_->info("upload {} (unit {}, session {}, segment {}) expired at offset {} of {}", u.id, u.unit_id, u.session_id,
             u.index, u.offset, u.length);
}

std::size_t TusServer::expire(util::TimePoint now) {
  std::size_t n = 0;
  for (const auto& listed : store_.open_uploads_expired(now)) {
    const auto claim = try_claim(listed.id);
    if (!claim) continue;  // being written right now: not idle, whatever the clock says
    // Read again under the claim: a PATCH may have moved its expiry since the list was made.
    const auto u = store_.upload(listed.id);
    if (!u || u->state != store::UploadState::open || u->expires_at > now) continue;
    expire_claimed(*u);
    ++n;
  }
  return n;
}

}  // namespace classcam::hub::uploads
