#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam::test;
using namespace std::chrono_literals;

TEST(TempDir, IsCreatedAndRemoved) {
  std::filesystem::path p;
  {
    TempDir d;
    p = d.path();
    write_file(d / "a/b.txt", "hello");
    EXPECT_EQ(read_file(d / "a/b.txt"), "hello");
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(Process, RunCapturesOutputAndExitCode) {
  const auto r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("out"), std::string::npos);
  EXPECT_NE(r.output.find("err"), std::string::npos);
  EXPECT_EQ(run({"/nonexistent/binary"}).exit_code, 127);
  EXPECT_EQ(run({"sh", "-c", "echo $FOO"}, 5s, {{"FOO", "bar"}}).output, "bar\n");
}

TEST(Process, StopsByPid) {
  TempDir d;
  Process p({"sleep", "30"}, d / "log");
  EXPECT_TRUE(p.running());
  const int st = p.stop(SIGTERM, 5s);
  EXPECT_EQ(exit_code(st), 128 + SIGTERM);
  EXPECT_FALSE(p.running());
}

TEST(Ports, FreePortCanBeListenedOn) {
  const auto port = free_port();
  EXPECT_GT(port, 0);
  EXPECT_FALSE(port_open(port));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_TRUE(port_open(port));
  ::close(fd);
}
