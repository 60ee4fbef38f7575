#pragma once
// The MQTT topic tree. Everything for one unit sits under classcam/v1/units/<unit_id>/, so a broker
// ACL of "classcam/v1/units/<id>/#" scopes a unit to itself. See docs/protocol.md for QoS and retain.
#include <optional>
#include <string>
#include <string_view>

namespace classcam::protocol {

inline constexpr std::string_view kTopicRoot = "classcam/v1/units";

enum class Channel {
  state,      // unit -> hub, QoS 1, retained; the last will sets it offline
  telemetry,  // unit -> hub, QoS 0, retained (latest health)
  events,     // unit -> hub, QoS 1
  results,    // unit -> hub, QoS 1 (command results)
  commands,   // hub -> unit, QoS 1
  schedule,   // hub -> unit, QoS 1, retained
  live,       // hub -> unit, QoS 1, retained (LiveStatus, docs/live.md)
};

struct TopicSpec {
  int qos;
  bool retained;
  bool from_unit;  // true when the unit publishes it, false when the hub does
};

TopicSpec spec(Channel c);
std::string_view to_string(Channel c);

// "classcam/v1/units/<unit_id>/<channel>". unit_id must satisfy is_valid_id (callers validate).
std::string topic(std::string_view unit_id, Channel c);
// "classcam/v1/units/+/<channel>", what the hub subscribes to.
std::string wildcard_topic(Channel c);
// "classcam/v1/units/<unit_id>/#".
std::string unit_prefix(std::string_view unit_id);

struct ParsedTopic {
  std::string unit_id;
  Channel channel;
};
// nullopt for anything that is not exactly a topic of this tree with a valid unit id.
std::optional<ParsedTopic> parse_topic(std::string_view topic);

}  // namespace classcam::protocol
