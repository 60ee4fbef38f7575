#pragma once
// Counters, gauges and histograms with labels, written out in the Prometheus text exposition format
// 0.0.4 (docs/metrics.md).
//
// Threading: a Registry and its families may be used from any thread. Each family keeps its series
// behind its own mutex, and a series handle (Counter&, Gauge&, Histogram&) stays valid for the
// registry's lifetime, so hot paths look a series up once and then only take the family's lock for the
// update. This is the one exception to "state belongs to the io_context": the hub's HTTP sessions run
// on several threads and must count without posting, and a scrape must see a consistent snapshot.
//
// Label values are whatever the caller passes, escaped on output; keeping their number bounded (route
// patterns, never raw paths; states, never names) is the caller's duty.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace classcam::metrics {

using Labels = std::vector<std::string>;  // values, in the order of the family's label names

class Counter {
 public:
  void inc(double by = 1.0);
  double value() const { return value_; }

 private:
  friend class Family;
  std::mutex* mutex_ = nullptr;
  double value_ = 0;
};

class Gauge {
 public:
  void set(double v);
  void add(double by);
  double value() const { return value_; }

 private:
  friend class Family;
  std::mutex* mutex_ = nullptr;
  double value_ = 0;
};

class Histogram {
 public:
  void observe(double v);
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  friend class Family;
  std::mutex* mutex_ = nullptr;
  const std::vector<double>* bounds_ = nullptr;
  std::vector<std::uint64_t> buckets_;  // per bound, not cumulative; +Inf is count_
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

enum class Type { counter, gauge, histogram };

class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds);

  Counter& counter(const Labels& values = {});
  Gauge& gauge(const Labels& values = {});
  Histogram& histogram(const Labels& values = {});
  // Drops every series: for gauges that are recomputed in full at each scrape (units by state).
  void clear();

  void write(std::string& out) const;
  const std::string& name() const { return name_; }

 private:
  struct Series {
    Counter counter;
    Gauge gauge;
    Histogram histogram;
  };
  Series& series(const Labels& values, Type wanted);

  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<Series>> series_;
};

class Registry {
 public:
  // Throws std::invalid_argument for a bad metric or label name, a name registered twice, or
  // histogram bounds that are not strictly increasing.
  Family& counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                    std::vector<std::string> labels = {});

  // Every family, in registration order, as text/plain; version=0.0.4.
  std::string expose() const;

 private:
  Family& add(const std::string& name, const std::string& help, Type type, std::vector<std::string> labels,
              std::vector<double> bounds);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers, public for tests and for writers that build a file by hand.
std::string escape_label_value(const std::string& value);
std::string escape_help(const std::string& help);
std::string format_value(double v);  // "+Inf", "-Inf", "NaN", or the shortest round-trip decimal
bool valid_metric_name(const std::string& name);
bool valid_label_name(const std::string& name);

// Latency buckets in seconds for HTTP requests and similar waits.
std::vector<double> default_seconds_buckets();

}  // namespace classcam::metrics
