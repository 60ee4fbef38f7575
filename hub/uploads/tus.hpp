#pragma once
// A tus 1.0.0 server for segment uploads under /api/v1/uploads/: core, creation,
// creation-with-upload, checksum (sha1, sha256), termination and expiration.
//
// Each upload is one segment of one announced session. Its Upload-Metadata carries session_id, index
// and entry (the unit's SegmentEntry JSON); when the last byte is in, the hub checks the file's
// SHA-256 and size against the entry before it takes the segment into the recording. Offsets live in
// the store (and the file on disk), fsync'd, so they survive restarts.
//
// A PATCH is decided from its header, on the io_context: the upload is claimed (one locked
// check-and-insert in the busy-set, before its row is read, so the offset and state it checks cannot
// change under it), checked, and its body then streams into the file past the stored offset (pwrite
// only, hashed on the way for Upload-Checksum). The rest runs on the worker pool once the body is in:
// the checksum, fsync, committing the offset, and at the end the segment's checks. A chunk that fails
// anywhere is cut back off; the stored offset only ever moves after its bytes are durable.
//
// Threading: creation, the end of a PATCH, and termination run on the worker pool (disk writes, fsync,
// hashing); a PATCH's admission and body, HEAD and OPTIONS run on the io_context. Every writer of an
// upload's file or row (PATCH, creation with a body, termination, expiry, HEAD cutting stray bytes)
// holds its claim; the busy-set's mutex is a leaf.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "hub/api/common.hpp"
#include "hub/http/router.hpp"
#include "hub/recordings/library.hpp"
#include "hub/store/store.hpp"

namespace classcam::hub::uploads {

struct Limits {
  std::uint64_t max_upload_bytes = 512ULL * 1024 * 1024;
  std::uint64_t min_free_bytes = 1ULL * 1024 * 1024 * 1024;
  std::chrono::hours expiry{72};
};

class TusServer {
 public:
  TusServer(store::Store& store, recordings::Library& library, Limits limits, api::Executor workers);

  void add_routes(http::Router& router);

  // Removes unfinished uploads whose expiry has passed (their files and rows go to state expired).
  std::size_t expire(util::TimePoint now);

  // For the metrics, called on the thread that handled the chunk: bytes stored (offset moved), and each
  // finished segment's outcome ("accepted" or "rejected"). Set before the server starts.
  void set_observers(std::function<void(std::uint64_t bytes)> stored,
                     std::function<void(const char* outcome)> finished) {
    on_stored_ = std::move(stored);
    on_finished_ = std::move(finished);
  }

  // Tests replace the free-space probe to simulate a full disk.
  void set_free_space_probe(std::function<std::uint64_t()> probe) { free_probe_ = std::move(probe); }

 private:
  class ChunkSink;

  // Holds an upload's place in the busy-set until it is destroyed.
  class Claim {
   public:
    Claim(TusServer* tus, std::string id) : tus_(tus), id_(std::move(id)) {}
    ~Claim() {
      if (tus_ != nullptr) tus_->release(id_);
    }
    Claim(Claim&& o) noexcept : tus_(std::exchange(o.tus_, nullptr)), id_(std::move(o.id_)) {}
    Claim& operator=(Claim&&) = delete;
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

   private:
    TusServer* tus_;
    std::string id_;
  };

  http::Response create(http::Request& req);
  http::Response head(http::Request& req);
  http::Admission admit_patch(http::Request& req);
  http::Response finish_patch(http::Request& req, ChunkSink& sink);
  http::Response terminate(http::Request& req);
  // Marks an open upload past its expiry expired (its claim held).
  void expire_claimed(const store::Upload& u);
  std::optional<Claim> try_claim(const std::string& id);
  // Writes a chunk of an open upload (PATCH, or the body of a creation request).
  http::Response write(http::Request& req, const store::Upload& upload, std::uint64_t client_offset);
  http::Response advance(const store::Upload& upload, std::uint64_t end);
  http::Response complete(const store::Upload& upload);
  std::filesystem::path file_of(const std::string& upload_id) const;
  std::uint64_t free_space() const;
  void release(const std::string& id);

  store::Store& store_;
  recordings::Library& library_;
  Limits limits_;
  api::Executor workers_;
  std::function<std::uint64_t()> free_probe_;
  std::function<void(std::uint64_t)> on_stored_;
  std::function<void(const char*)> on_finished_;
  log::Logger log_ = log::get("uploads");
  std::mutex mutex_;
  std::set<std::string> busy_;
};

}  // namespace classcam::hub::uploads
