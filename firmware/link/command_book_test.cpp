#include "firmware/link/command_book.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "tests/support/tempdir.hpp"

using namespace classcam;

namespace {
std::string id(int n) { return fmt::format("00000000-0000-4000-8000-{:012d}", n); }
protocol::CommandResult result(int n, protocol::CommandStatus st = protocol::CommandStatus::ok) {
  protocol::CommandResult r;
  r.command_id = id(n);
  r.unit_id = "room-12";
  r.action = protocol::CommandAction::start;
  r.status = st;
  if (st != protocol::CommandStatus::ok) r.detail = "not recording";
  r.at = *util::parse_rfc3339("2026-11-23T09:00:00.400Z");
  return r;
}
}  // namespace

TEST(CommandBook, ResultsSurviveARestart) {
  test::TempDir dir;
  {
    link::CommandBook book(dir / "commands.jsonl");
    book.load();
    ASSERT_TRUE(book.record(result(1)));
    ASSERT_TRUE(book.record(result(2, protocol::CommandStatus::rejected)));
  }
  link::CommandBook book(dir / "commands.jsonl");
  book.load();
  ASSERT_TRUE(book.find(id(2)));
  EXPECT_EQ(*book.find(id(2)), result(2, protocol::CommandStatus::rejected)) << "the same answer, byte for byte";
  EXPECT_FALSE(book.find(id(3)));
}

TEST(CommandBook, ATornLastLineIsSkippedAndTheFileStaysBounded) {
  test::TempDir dir;
  {
    link::CommandBook book(dir / "commands.jsonl");
    for (int i = 0; i < 1200; ++i) ASSERT_TRUE(book.record(result(i)));
    EXPECT_EQ(book.size(), link::CommandBook::kKeep);
  }
  {
    std::ofstream out(dir / "commands.jsonl", std::ios::app);
    out << R"({"protocol": "1.0", "command_id": "torn)";
  }
  link::CommandBook book(dir / "commands.jsonl");
  book.load();
  EXPECT_TRUE(book.find(id(1199)));
  EXPECT_FALSE(book.find(id(100)));
  const auto text = test::read_file(dir / "commands.jsonl");
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 2 * static_cast<long>(link::CommandBook::kKeep));
}
