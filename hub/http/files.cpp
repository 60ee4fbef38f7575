#include "hub/http/files.hpp"

#include <charconv>

#include "hub/http/responses.hpp"

namespace classcam::hub::http {

namespace {
std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  RangeRequest out;
  header = trim(header);
  constexpr std::string_view unit = "bytes=";
  if (header.substr(0, unit.size()) != unit) return out;
  const std::string_view spec = trim(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return out;  // multiple ranges: send it all
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return out;
  const auto first = trim(spec.substr(0, dash));
  const auto last = trim(spec.substr(dash + 1));
  if (first.empty()) {
    // Suffix: the last N bytes.
    const auto n = number(last);
    if (!n) return out;
    if (*n == 0 || size == 0) return {RangeKind::unsatisfiable, {}};
    const std::uint64_t len = std::min(*n, size);
    return {RangeKind::single, {size - len, size - 1}};
  }
  const auto f = number(first);
  if (!f) return out;
  std::uint64_t l = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    const auto parsed = number(last);
    if (!parsed || *parsed < *f) return out;
    l = std::min(*parsed, l);
  }
  if (*f >= size) return {RangeKind::unsatisfiable, {}};
  return {RangeKind::single, {*f, l}};
}

Response file_response(const Request& req, const std::filesystem::path& path, const std::string& content_type) {
  auto file = OpenFile::open(path);
  if (!file) return problem(404, "the file is not available");
  const std::uint64_t size = file->size();
  const std::string etag = "\"" + std::to_string(size) + "-" + std::to_string(file->mtime_ns()) + "\"";

  Response res;
  res.headers.set("Content-Type", content_type);
  res.headers.set("Accept-Ranges", "bytes");
  res.headers.set("ETag", etag);
  res.headers.set("Last-Modified", http_date(file->mtime_ns() / 1'000'000'000));
  res.headers.set("Cache-Control", "private, no-store");

  RangeRequest range;
  if (const auto h = req.headers.get("Range")) {
    const auto if_range = req.headers.get("If-Range");
    if (!if_range || *if_range == etag) range = parse_range(*h, size);
  }
  switch (range.kind) {
    case RangeKind::unsatisfiable: {
      auto r = problem(416, "the requested range is outside the file (" + std::to_string(size) + " bytes)", "Range");
      r.headers.set("Content-Range", "bytes */" + std::to_string(size));
      return r;
    }
    case RangeKind::single:
      res.status = 206;
      res.headers.set("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                           std::to_string(range.range.last) + "/" + std::to_string(size));
      res.file = FileSpan{file, range.range.first, range.range.last - range.range.first + 1};
      return res;
    case RangeKind::none: break;
  }
  res.status = 200;
  res.file = FileSpan{file, 0, size};
  return res;
}

}  // namespace classcam::hub::http
