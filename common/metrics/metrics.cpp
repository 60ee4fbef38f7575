#include "common/metrics/metrics.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace classcam::metrics {

void Counter::inc(double by) {
  if (by < 0) {
    throw std::invalid_argument("a counter only goes up");
  }
  const std::scoped_lock lock(*mutex_);
  value_ += by;
}

void Gauge::set(double v) {
  const std::scoped_lock lock(*mutex_);
  value_ = v;
}

void Gauge::add(double by) {
  const std::scoped_lock lock(*mutex_);
  value_ += by;
}

void Histogram::observe(double v) {
  const std::scoped_lock lock(*mutex_);
  for (std::size_t i = 0; i < bounds_->size(); ++i) {
    if (v <= (*bounds_)[i]) {
      ++buckets_[i];
      break;
    }
  }
  sum_ += v;
  ++count_;
}

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
               std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

Family::Series& Family::series(const Labels& values, Type wanted) {
  if (wanted != type_) {
    throw std::logic_error("metric " + name_ + " used as the wrong type");
  }
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  const std::scoped_lock lock(mutex_);
  auto& slot = series_[values];
  if (!slot) {
    slot = std::make_unique<Series>();
    slot->counter.mutex_ = &mutex_;
    slot->gauge.mutex_ = &mutex_;
    slot->histogram.mutex_ = &mutex_;
    slot->histogram.bounds_ = &bounds_;
    slot->histogram.buckets_.assign(bounds_.size(), 0);
  }
  return *slot;
}

Counter& Family::counter(const Labels& values) { return series(values, Type::counter).counter; }
Gauge& Family::gauge(const Labels& values) { return series(values, Type::gauge).gauge; }
Histogram& Family::histogram(const Labels& values) { return series(values, Type::histogram).histogram; }

void Family::clear() {
  const std::scoped_lock lock(mutex_);
  series_.clear();
}

namespace {

// `{a="x",b="y"` without the closing brace, so a histogram can append its `le`.
std::string label_prefix(const std::vector<std::string>& names, const Labels& values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += i == 0 ? "{" : ",";
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  return out;
}

std::string close_labels(const std::string& prefix) { return prefix.empty() ? "" : prefix + "}"; }

std::string with_le(const std::string& prefix, const std::string& le) {
  return (prefix.empty() ? "{" : prefix + ",") + "le=\"" + le + "\"}";
}

}  // namespace

void Family::write(std::string& out) const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
  out += "# TYPE " + name_ + " " + kTypeNames[static_cast<int>(type_)] + "\n";
  const std::scoped_lock lock(mutex_);
  for (const auto& [values, s] : series_) {
    const std::string prefix = label_prefix(label_names_, values);
    switch (type_) {
      case Type::counter: out += name_ + close_labels(prefix) + " " + format_value(s->counter.value_) + "\n"; break;
      case Type::gauge: out += name_ + close_labels(prefix) + " " + format_value(s->gauge.value_) + "\n"; break;
      case Type::histogram: {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bounds_.size(); ++i) {
          cumulative += s->histogram.buckets_[i];
          out +=
              name_ + "_bucket" + with_le(prefix, format_value(bounds_[i])) + " " + std::to_string(cumulative) + "\n";
        }
        out += name_ + "_bucket" + with_le(prefix, "+Inf") + " " + std::to_string(s->histogram.count_) + "\n";
        out += name_ + "_sum" + close_labels(prefix) + " " + format_value(s->histogram.sum_) + "\n";
        out += name_ + "_count" + close_labels(prefix) + " " + std::to_string(s->histogram.count_) + "\n";
        break;
      }
    }
  }
}

Family& Registry::add(const std::string& name, const std::string& help, Type type, std::vector<std::string> labels,
                      std::vector<double> bounds) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("bad metric name '" + name + "'");
  }
  for (const auto& label : labels) {
    // `le` is the histogram's own; names starting with __ are reserved for Prometheus.
    if (!valid_label_name(label) || label.starts_with("__") || (type == Type::histogram && label == "le")) {
      throw std::invalid_argument("bad label name '" + label + "' on metric " + name);
    }
  }
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram " + name + ": bucket bounds must increase strictly");
    }
  }
  if (!bounds.empty() && std::isinf(bounds.back())) {
    bounds.pop_back();  // +Inf is always written
  }
  const std::scoped_lock lock(mutex_);
  for (const auto& f : families_) {
    if (f->name() == name) {
      throw std::invalid_argument("metric " + name + " registered twice");
    }
  }
  families_.push_back(std::make_unique<Family>(name, help, type, std::move(labels), std::move(bounds)));
  return *families_.back();
}

Family& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return add(name, help, Type::counter, std::move(labels), {});
}

Family& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return add(name, help, Type::gauge, std::move(labels), {});
}

Family& Registry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                            std::vector<std::string> labels) {
  return add(name, help, Type::histogram, std::move(labels), std::move(bounds));
}

std::string Registry::expose() const {
  std::string out;
  const std::scoped_lock lock(mutex_);
  for (const auto& f : families_) {
    f->write(out);
  }
  return out;
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(const std::string& help) {
  std::string out;
  for (const char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, res.ptr};
}

namespace {
bool name_chars(const std::string& name, bool colon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool valid_metric_name(const std::string& name) { return name_chars(name, true); }
bool valid_label_name(const std::string& name) { return name_chars(name, false); }

std::vector<double> default_seconds_buckets() { return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; }

}  // namespace classcam::metrics
