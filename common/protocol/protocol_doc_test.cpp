// Every example payload in docs/protocol.md must decode with the real decoder, and every message type
// must have an example: the page documents the code, not a memory of it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/protocol/messages.hpp"
#include "common/protocol/topics.hpp"

using namespace classcam;
using namespace classcam::protocol;

namespace {

std::string read_doc() {
  std::ifstream f(std::string(CLASSCAM_SOURCE_DIR) + "/docs/protocol.md");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

template <typename T>
std::string check(const std::string& payload) {
  auto r = decode<T>(payload);
  return r.ok() ? "" : r.error().message;
}

const std::map<std::string, std::string (*)(const std::string&)> kDecoders = {
    {"UnitState", check<UnitState>},
    {"Telemetry", check<Telemetry>},
    {"SegmentEntry", check<SegmentEntry>},
    {"SessionInfo", check<SessionInfo>},
    {"Bookmark", check<Bookmark>},
    {"Event", check<Event>},
    {"Command", check<Command>},
    {"CommandResult", check<CommandResult>},
    {"Observation", check<Observation>},
    {"Schedule", check<Schedule>},
    {"EnrollRequest", check<EnrollRequest>},
    {"EnrollResponse", check<EnrollResponse>},
};

}  // namespace

TEST(ProtocolDoc, EveryExampleDecodesAndEveryTypeHasOne) {
  const std::string doc = read_doc();
  ASSERT_FALSE(doc.empty()) << "docs/protocol.md not found";
  const std::regex block(R"(<!-- message: (\w+) -->\s*```json\n([\s\S]*?)```)");
  std::map<std::string, int> seen;
  for (std::sregex_iterator it(doc.begin(), doc.end(), block), end; it != end; ++it) {
    const std::string type = (*it)[1];
    const std::string payload = (*it)[2];
    const auto d = kDecoders.find(type);
    ASSERT_NE(d, kDecoders.end()) << "unknown message type in docs: " << type;
    EXPECT_EQ(d->second(payload), "") << type << " example does not decode:\n" << payload;
    ++seen[type];
  }
  for (const auto& [type, fn] : kDecoders) EXPECT_GT(seen[type], 0) << "docs/protocol.md has no example of " << type;
}

TEST(ProtocolDoc, TopicTableMatchesTopicSpecs) {
  const std::string doc = read_doc();
  // "| `state` | unit ... | 1 | yes |" rows.
  const std::regex row(R"(\| `(\w+)` \| [^|]+ \| (\d) \| (yes|no) \|)");
  int rows = 0;
  for (std::sregex_iterator it(doc.begin(), doc.end(), row), end; it != end; ++it) {
    const std::string name = (*it)[1];
    const int qos = std::stoi((*it)[2]);
    const bool retained = (*it)[3] == "yes";
    ++rows;
    const auto t = parse_topic("classcam/v1/units/unit-1/" + name);
    ASSERT_TRUE(t.has_value()) << "docs name a channel the code does not have: " << name;
    EXPECT_EQ(spec(t->channel).qos, qos) << name;
    EXPECT_EQ(spec(t->channel).retained, retained) << name;
  }
  EXPECT_EQ(rows, 7);
}
