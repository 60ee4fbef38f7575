#include "common/protocol/topics.hpp"

#include "common/protocol/json_reader.hpp"

namespace classcam::protocol {

namespace {
constexpr std::pair<Channel, std::string_view> kChannels[] = {
    {Channel::state, "state"},     {Channel::telemetry, "telemetry"}, {Channel::events, "events"},
    {Channel::results, "results"}, {Channel::commands, "commands"},   {Channel::schedule, "schedule"},
    {Channel::live, "live"}};
}

TopicSpec spec(Channel c) {
  switch (c) {
    case Channel::state: return {1, true, true};
    case Channel::telemetry: return {0, true, true};
    case Channel::events: return {1, false, true};
    case Channel::results: return {1, false, true};
    case Channel::commands: return {1, false, false};
    case Channel::schedule: return {1, true, false};
    case Channel::live: return {1, true, false};
  }
  return {1, false, true};
}

std::string_view to_string(Channel c) {
  for (const auto& [ch, name] : kChannels) {
    if (ch == c) return name;
  }
  return "unknown";
}

std::string topic(std::string_view unit_id, Channel c) {
  return std::string(kTopicRoot) + "/" + std::string(unit_id) + "/" + std::string(to_string(c));
}

std::string wildcard_topic(Channel c) { return std::string(kTopicRoot) + "/+/" + std::string(to_string(c)); }

std::string unit_prefix(std::string_view unit_id) {
  return std::string(kTopicRoot) + "/" + std::string(unit_id) + "/#";
}

std::optional<ParsedTopic> parse_topic(std::string_view t) {
  const std::string root = std::string(kTopicRoot) + "/";
  if (t.substr(0, root.size()) != root) return std::nullopt;
  t.remove_prefix(root.size());
  const auto slash = t.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view unit = t.substr(0, slash);
  const std::string_view rest = t.substr(slash + 1);
  if (!is_valid_id(unit)) return std::nullopt;
  for (const auto& [ch, name] : kChannels) {
    if (name == rest) return ParsedTopic{std::string(unit), ch};
  }
  return std::nullopt;
}

}  // namespace classcam::protocol
