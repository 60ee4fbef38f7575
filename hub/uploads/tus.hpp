#pragma once
// A tus 1.0.0 server for segment uploads under /api/v1/uploads/: core, creation,
// creation-with-upload, checksum (sha1, sha256), termination and expiration.
//
// Each upload is one segment of one announced session. Its Upload-Metadata carries session_id, index
// and entry (the unit's SegmentEntry JSON); when the last byte is in, the hub checks the file's
// SHA-256 and size against the entry before it takes the segment into the recording. Offsets live in
// the store (and the file on disk), fsync'd, so they survive restarts.
//
// Threading: creation, PATCH and termination run on the worker pool (disk writes, fsync, hashing);
// HEAD and OPTIONS answer on the io_context. A busy-set stops two requests writing one upload at once.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>

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

  // Tests replace the free-space probe to simulate a full disk.
  void set_free_space_probe(std::function<std::uint64_t()> probe) { free_probe_ = std::move(probe); }

 private:
  http::Response create(http::Request& req);
  http::Response head(http::Request& req);
  http::Response patch(http::Request& req);
  http::Response terminate(http::Request& req);
  // Writes a chunk of an open upload (PATCH, or the body of a creation request).
  http::Response write(http::Request& req, const store::Upload& upload, std::uint64_t client_offset);
  http::Response complete(const store::Upload& upload);
  std::filesystem::path file_of(const std::string& upload_id) const;
  std::uint64_t free_space() const;
  bool claim(const std::string& id);
  void release(const std::string& id);

  store::Store& store_;
  recordings::Library& library_;
  Limits limits_;
  api::Executor workers_;
  std::function<std::uint64_t()> free_probe_;
  log::Logger log_ = log::get("uploads");
  std::mutex mutex_;
  std::set<std::string> busy_;
};

}  // namespace classcam::hub::uploads
