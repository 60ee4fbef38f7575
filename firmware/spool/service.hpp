#pragma once
// SpoolService: the daemon's owner of the Spool. Threading rule: the Spool is touched only on one strand
// of the worker pool (its calls block on fsync and hashing); results come back to the event loop with
// boost::asio::post. Calls run in the order they are made, which keeps the manifest in order (an
// "open" record before its "segment" record, the last segment before the "end" record).
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "firmware/spool/spool.hpp"

namespace classcam::spool {

class SpoolService {
 public:
  SpoolService(boost::asio::io_context& io, boost::asio::thread_pool& pool, Spool spool)
      : io_(io), strand_(boost::asio::make_strand(pool)), spool_(std::move(spool)) {}

  // Runs work(spool) on the strand, then done(result) on the event loop.
  template <typename Work, typename Done>
  void run(Work work, Done done) {
    boost::asio::post(strand_, [this, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work(spool_);
      boost::asio::post(io_,
                        [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
    });
  }

  // Runs work(spool) on the strand; nothing comes back.
  template <typename Work>
  void run(Work work) {
    boost::asio::post(strand_, [this, work = std::move(work)]() mutable { work(spool_); });
  }

  // Direct access, for start-up before the event loop runs and for tests after the pool is joined.
  Spool& unsafe_spool() { return spool_; }

 private:
  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  Spool spool_;
};

}  // namespace classcam::spool
