#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "tests/support/netns.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"
#include "tests/support/turn.hpp"
#include "tests/support/udp_impair.hpp"

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

namespace {

int bound_udp(sockaddr_in& a) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const int bytes = 4 * 1024 * 1024;  // deep buffers: a loaded machine must not add losses of its own
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return fd;
}

}  // namespace

TEST(UdpImpairRelay, LosesAShareAndDelaysBothWays) {
  // An echo server behind the relay: every datagram that arrives goes back to where it came from.
  sockaddr_in server{};
  const int server_fd = bound_udp(server);
  std::atomic<bool> done{false};
  std::atomic<int> reached_server{0};
  std::thread echo([&] {
    char buf[2048];
    while (!done) {
      pollfd p{server_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(server_fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      ++reached_server;
      ::sendto(server_fd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  classcam::test::UdpImpairRelay relay("127.0.0.1", 0, "127.0.0.1", ntohs(server.sin_port), {0.10, 30, 0}, 7);
  sockaddr_in client{};
  const int client_fd = bound_udp(client);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(relay.port());

  const int kSent = 2000;
  int back = 0;
  auto min_rtt = std::chrono::milliseconds(10'000);
  const auto receive = [&](int timeout_ms) -> std::optional<int> {
    pollfd p{client_fd, POLLIN, 0};
    int v = 0;
    if (::poll(&p, 1, timeout_ms) > 0 && ::recv(client_fd, &v, sizeof v, 0) == sizeof v) {
      ++back;
      return v;
    }
    return std::nullopt;
  };
  for (int i = 0; i < kSent; ++i) {
    const auto sent = std::chrono::steady_clock::now();
    ::sendto(client_fd, &i, sizeof i, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (i % 100 == 0) {  // a round trip, timed by its own datagram (it may be lost: then none)
      while (const auto v = receive(500)) {
        if (*v != i) continue;
        min_rtt = std::min(
            min_rtt, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent));
        break;
      }
    }
    while (receive(0)) {
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // paced: no socket buffer overflows
  }
  while (receive(300)) {
  }
  done = true;
  echo.join();
  // 10 % each way: about 90 % reach the server and about 81 % come back.
  EXPECT_NEAR(reached_server.load(), kSent * 0.9, kSent * 0.04);
  EXPECT_NEAR(back, kSent * 0.81, kSent * 0.05);
  EXPECT_EQ(relay.clients(), 1u);
  EXPECT_EQ(relay.dropped() + relay.forwarded(), static_cast<std::uint64_t>(kSent + reached_server.load()));
  EXPECT_GE(min_rtt, std::chrono::milliseconds(60)) << "30 ms each way";
  ::close(client_fd);
  ::close(server_fd);
}

TEST(NetNamespace, HasAnAddressAndARouteAndIsGoneAfterwards) {
  std::string why;
  if (!classcam::test::NetNamespace::available(&why)) GTEST_SKIP() << why;
  std::string name;
  {
    classcam::test::NetNamespace ns("cctest");
    name = ns.name();
    const auto route = classcam::test::run(ns.wrap({"ip", "route", "show", "default"}));
    EXPECT_EQ(route.exit_code, 0);
    EXPECT_NE(route.output.find("via " + ns.host_address()), std::string::npos) << route.output;
    // From inside, the namespace reaches what listens on host_address().
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ASSERT_EQ(::inet_pton(AF_INET, ns.host_address().c_str(), &a.sin_addr), 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const auto target = "/dev/tcp/" + ns.host_address() + "/" + std::to_string(ntohs(a.sin_port));
    const auto connect = classcam::test::run(ns.wrap({"bash", "-c", "echo hello >" + target}));
    EXPECT_EQ(connect.exit_code, 0) << connect.output;
    const int c = ::accept(fd, nullptr, nullptr);
    char buf[16] = {};
    EXPECT_EQ(::recv(c, buf, 5, MSG_WAITALL), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
    ::close(c);
    ::close(fd);
    classcam::test::NetNamespace second("cctest");
    EXPECT_NE(second.host_address(), ns.host_address());
  }
  EXPECT_EQ(classcam::test::run({"ip", "netns", "list"}).output.find(name), std::string::npos);
}

TEST(TurnServer, AllocatesForRestApiCredentialsAndRefusesAWrongSecret) {
  classcam::test::TurnServer turn({});
  // turnutils_uclient derives the time-limited user name and its HMAC from the shared secret (-W),
  // as the hub does for browsers; it allocates a relay and sends through it to a peer on loopback.
  const auto ok = classcam::test::run(
      {"turnutils_uclient", "-W", turn.options().secret, "-u", "coach-1", "-p", std::to_string(turn.port()), "-n", "3",
       "-e", "127.0.0.1", "-r", std::to_string(classcam::test::free_port()), "127.0.0.1"},
      std::chrono::seconds(30));
  EXPECT_TRUE(classcam::test::wait_until([&] { return turn.allocations() >= 1; }, 5s)) << ok.output << turn.log();
  const int before = turn.allocations();
  classcam::test::run({"turnutils_uclient", "-W", "not-the-secret", "-u", "coach-1", "-p", std::to_string(turn.port()),
                       "-n", "1", "-e", "127.0.0.1", "127.0.0.1"},
                      std::chrono::seconds(4));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(turn.allocations(), before) << "a wrong secret gets no relay";
  EXPECT_NE(turn.log().find(":coach-1>: incoming packet message processed, error 401"), std::string::npos)
      << turn.log();
}
