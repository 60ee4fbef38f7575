#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>
#include <vector>

#include "firmware/control/client.hpp"
#include "firmware/control/protocol.hpp"
#include "firmware/control/server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::control;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::string_view line) {
  auto r = parse_request(line);
  return r ? "" : r.error().message;
}

// A server whose handler echoes the request (with `pad` bytes more in the answer) or does what it is
// given, with the event loop on its own thread.
class EchoServer {
 public:
  explicit EchoServer(const std::filesystem::path& path, ServerLimits limits = {}, std::size_t pad = 0)
      : EchoServer(
            path,
            [pad](const Request& r, const Server::Reply& reply) {
              Json j = {{"echo", encode_request(r)}};
              if (pad > 0) j["pad"] = std::string(pad, 'x');
              reply(ok_response(std::move(j)));
            },
            limits) {}
  EchoServer(const std::filesystem::path& path, Server::Handler handler, ServerLimits limits = {})
      : server_(io_, path, std::move(handler), limits) {}
  std::size_t connections() {
    std::promise<std::size_t> p;
    boost::asio::post(io_, [&] { p.set_value(server_.connections()); });
    return p.get_future().get();
  }
  Status listen() {
    auto st = server_.listen();
    thread_ = std::thread([this] { io_.run(); });
    return st;
  }
  ~EchoServer() {
    boost::asio::post(io_, [this] { server_.close(); });
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ = boost::asio::make_work_guard(io_);
  Server server_;
  std::thread thread_;
};

// Raw socket conversation: sends `bytes`, returns everything read until the server closes or 2 s pass.
std::string converse(const std::filesystem::path& path, const std::string& bytes, std::size_t lines) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::size_t off = 0;
  while (off < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::string in;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  while (static_cast<std::size_t>(std::count(in.begin(), in.end(), '\n')) < lines) {
    const auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return in;
}

int connect_to(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool answers_status(const std::filesystem::path& path) {
  auto r = call(path, encode_request({}), 10s);
  return std::holds_alternative<Json>(r) && std::get<Json>(r).value("ok", false);
}

}  // namespace

TEST(ControlProtocol, ValidRequests) {
  auto r = parse_request(R"({"cmd":"start","title":"Year 8 maths"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cmd, Command::start);
  EXPECT_EQ(r->title, "Year 8 maths");
  r = parse_request(R"({"cmd":"bookmark"})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->label);
  for (const char* c : {"status", "stop", "snapshot"}) {
    EXPECT_TRUE(parse_request(std::string(R"({"cmd":")") + c + "\"}").ok()) << c;
  }
}

TEST(ControlProtocol, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_of("status"), "malformed request: not JSON");
  EXPECT_EQ(error_of("[1,2]"), "malformed request: expected a JSON object such as {\"cmd\": \"status\"}");
  EXPECT_EQ(error_of("{}"),
            "malformed request: \"cmd\" is required (one of: status, start, stop, bookmark, snapshot, enroll, "
            "live_start, live_stop, live_mute, live_unmute)");
  EXPECT_EQ(error_of(R"({"cmd":7})"),
            "malformed request: \"cmd\" is required (one of: status, start, stop, bookmark, snapshot, enroll, "
            "live_start, live_stop, live_mute, live_unmute)");
  EXPECT_EQ(error_of(R"({"cmd":"record"})"),
            "unknown command \"record\" (expected one of: status, start, stop, bookmark, snapshot, enroll, live_start, "
            "live_stop, live_mute, live_unmute)");
  EXPECT_EQ(error_of(R"({"cmd":"stop","title":"x"})"), "unknown field \"title\" for stop");
  EXPECT_EQ(error_of(R"({"cmd":"start","title":5})"), "\"title\" must be a string");
  EXPECT_EQ(error_of(R"({"cmd":"start","title":")" + std::string(201, 'a') + "\"}"),
            "\"title\" is too long (201 bytes, at most 200)");
  EXPECT_EQ(error_of(R"({"cmd":"bookmark","label":"a\u0007b"})"), "\"label\" contains a control character");
  EXPECT_EQ(error_of(R"({"cmd":"enroll","hub":"https://hub"})"), "enroll needs \"code\"");
  EXPECT_EQ(error_of(R"({"cmd":"enroll","code":"x","hub":"https://hub","title":"t"})"),
            "unknown field \"title\" for enroll");
}

TEST(ControlProtocol, EnrollCarriesHubAndCode) {
  auto r = parse_request(R"({"cmd":"enroll","hub":"https://hub.school:8443","code":"7KQ2M-XH4TD"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cmd, Command::enroll);
  EXPECT_EQ(r->hub, "https://hub.school:8443");
  EXPECT_EQ(r->code, "7KQ2M-XH4TD");
  EXPECT_EQ(parse_request(encode_request(*r).dump())->code, "7KQ2M-XH4TD");
}

TEST(ControlProtocol, LiveStartTakesAnOptionalMaxS) {
  auto r = parse_request(R"({"cmd":"live_start","max_s":600})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cmd, Command::live_start);
  EXPECT_EQ(r->max_s, 600u);
  EXPECT_EQ(parse_request(encode_request(*r).dump())->max_s, 600u);
  EXPECT_FALSE(parse_request(R"({"cmd":"live_start"})")->max_s);
  EXPECT_EQ(parse_request(R"({"cmd":"live_stop"})")->cmd, Command::live_stop);
  EXPECT_EQ(parse_request(R"({"cmd":"live_mute"})")->cmd, Command::live_mute);
  EXPECT_EQ(parse_request(R"({"cmd":"live_unmute"})")->cmd, Command::live_unmute);
  EXPECT_EQ(error_of(R"({"cmd":"live_mute","muted":true})"), "unknown field \"muted\" for live_mute");
  EXPECT_EQ(error_of(R"({"cmd":"live_start","max_s":0})"),
            "\"max_s\" must be a whole number of seconds from 1 to 28800");
  EXPECT_EQ(error_of(R"({"cmd":"live_start","max_s":"1h"})"),
            "\"max_s\" must be a whole number of seconds from 1 to 28800");
  EXPECT_EQ(error_of(R"({"cmd":"live_stop","max_s":5})"), "unknown field \"max_s\" for live_stop");
}

TEST(ControlServer, AnswersOverTheSocketWithMode0660) {
  test::TempDir dir;
  const auto path = dir / "run/classcamd.sock";
  EchoServer server(path);
  ASSERT_TRUE(server.listen().ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  auto r = call(
      path, encode_request({Command::bookmark, std::nullopt, "hello", std::nullopt, std::nullopt, std::nullopt}), 5s);
  ASSERT_TRUE(std::holds_alternative<Json>(r));
  const Json& j = std::get<Json>(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["echo"]["label"], "hello");
}

TEST(ControlServer, ABadLineGetsAnErrorAndTheConnectionGoesOn) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  EchoServer server(path);
  ASSERT_TRUE(server.listen().ok());
  const std::string out = converse(path, "nonsense\n{\"cmd\":\"status\"}\n", 2);
  EXPECT_EQ(out,
            "{\"error\":\"malformed request: not JSON\",\"ok\":false}\n{\"echo\":{\"cmd\":\"status\"},\"ok\":true}\n");
}

TEST(ControlServer, AnOverlongRequestIsRefusedAndClosed) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  EchoServer server(path);
  ASSERT_TRUE(server.listen().ok());
  const std::string out = converse(path, std::string(100 * 1024, 'x') + "\n", 1);
  EXPECT_EQ(out, "{\"error\":\"request too long (at most 64 KiB)\",\"ok\":false}\n");
}

TEST(ControlServer, StaleSocketIsReplacedLiveOneAndOtherFilesAreNot) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  {
    // A socket file nobody listens on, as a crashed daemon leaves it.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ::close(fd);
  }
  EchoServer first(path);
  ASSERT_TRUE(first.listen().ok());
  EchoServer second(path);
  const auto st = second.listen();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("another classcamd is listening"), std::string::npos) << st.error().message;

  const auto file = dir / "not-a-socket";
  test::write_file(file, "data");
  EchoServer third(file);
  const auto st3 = third.listen();
  ASSERT_FALSE(st3.ok());
  EXPECT_NE(st3.error().message.find("is not a socket"), std::string::npos);
  EXPECT_EQ(test::read_file(file), "data");
}

TEST(ControlClient, SaysWhenTheDaemonIsNotRunning) {
  test::TempDir dir;
  auto r = call(dir / "none.sock", encode_request({}), 1s);
  ASSERT_TRUE(std::holds_alternative<CallError>(r));
  EXPECT_EQ(std::get<CallError>(r).kind, ClientError::not_running);
  EXPECT_NE(std::get<CallError>(r).message.find("classcamd is not running"), std::string::npos);
}

TEST(ControlServer, AFloodOfLocalClientsLeavesTheDaemonTheFileDescriptorsItRecordsWith) {
  // classcamd with few descriptors to spare, and 300 clients that connect and say nothing: the server
  // must not take every descriptor (a recording then cannot open its next segment: the lesson stops).
  test::TempDir dir;
  const auto path = dir / "c.sock";
  int ready[2];
  int go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    rlimit r{128, 128};
    ::setrlimit(RLIMIT_NOFILE, &r);
    int code = 0;
    {
      EchoServer server(path);
      if (!server.listen().ok()) ::_exit(10);
      (void)::write(ready[1], "r", 1);
      char c = 0;
      (void)::read(go[0], &c, 1);  // the flood is connected and has been served as far as it will be
      // What a recording does every segment: open a file. It must still work.
      std::vector<int> fds;
      for (int i = 0; i < 20; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      for (const int fd : fds) {
        if (fd < 0) code = 1;
        ::close(fd);
      }
      (void)::write(ready[1], "o", 1);
      (void)::read(go[0], &c, 1);  // the flood has gone and a normal client was answered
    }
    ::_exit(code);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  std::vector<int> flood;
  for (int i = 0; i < 300; ++i) {
    const int fd = connect_to(path);
    if (fd >= 0) flood.push_back(fd);
  }
  std::this_thread::sleep_for(500ms);  // not an assertion: time for the server to accept what it will
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  for (const int fd : flood) ::close(fd);
  EXPECT_TRUE(test::wait_until([&] { return answers_status(path); }, 30s)) << "answers once the flood is gone";
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the server left no descriptor to open a file with";
  for (const int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

TEST(ControlServer, AtTheCapNewClientsWaitAndIdleOnesMakeRoom) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  ServerLimits limits;
  limits.max_connections = 4;
  limits.busy_idle_timeout = 300ms;
  EchoServer server(path, limits);
  ASSERT_TRUE(server.listen().ok());
  std::vector<int> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(connect_to(path));
  // A normal client is answered while the idle ones are still there (they are let go at the cap).
  EXPECT_TRUE(answers_status(path));
  EXPECT_LE(server.connections(), 4u);
  for (const int fd : idle) ::close(fd);
  EXPECT_TRUE(test::wait_until([&] { return server.connections() == 0; }, 10s));
}

TEST(ControlServer, AClientThatDoesNotReadItsAnswerIsDisconnected) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  ServerLimits limits;
  limits.write_timeout = 200ms;
  constexpr std::size_t kAnswer = 8 << 20;  // far more than a socket buffer holds
  EchoServer server(path, limits, kAnswer);
  ASSERT_TRUE(server.listen().ok());
  const int fd = connect_to(path);
  ASSERT_GE(fd, 0);
  const std::string req = "{\"cmd\":\"status\"}\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  // Meanwhile, others are answered; the one that does not read is closed by the server.
  std::this_thread::sleep_for(300ms);  // not an assertion: the client reads nothing for a while
  EXPECT_TRUE(test::wait_until([&] { return server.connections() == 0; }, 10s));
  std::size_t got = 0;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  EXPECT_LT(got, kAnswer) << "the answer was cut off and the connection closed";
  ::close(fd);
}

TEST(ControlServer, AtEmfileAcceptBacksOffAndRecovers) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    boost::asio::io_context io;
    Server server(io, path, [](const Request&, const Server::Reply& reply) { reply(ok_response()); });
    if (!server.listen().ok()) ::_exit(10);
    // Every descriptor taken (as by other parts of a busy daemon): accepting fails with EMFILE.
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = 64;
    ::setrlimit(RLIMIT_NOFILE, &r);
    std::vector<int> fill;
    for (int fd = ::open("/dev/null", O_RDONLY); fd >= 0; fd = ::open("/dev/null", O_RDONLY)) fill.push_back(fd);
    (void)::write(ready[1], "r", 1);
    io.run_for(1s);  // clients are waiting the whole second
    const auto failures = server.accept_failures();
    for (const int fd : fill) ::close(fd);
    io.run_for(2s);  // room again: the waiting clients are answered
    // A loop that asks again at once fails hundreds of thousands of times a second.
    ::_exit(failures >= 1 && failures <= 50 ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto answered = std::async(std::launch::async, [&] { return answers_status(path); });
  EXPECT_TRUE(answered.get()) << "answered once descriptors are free again";
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit " << WEXITSTATUS(status);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(ControlServer, AnswersWithTextThatIsNotUtf8AsReplacementCharacters) {
  // The status quotes the hub's last reply (cut at 300 bytes, maybe mid-character) and file names from
  // the card; writing that used to throw on the event loop and end classcamd.
  test::TempDir dir;
  const auto path = dir / "c.sock";
  EchoServer server(path, [](const Request&, const Server::Reply& reply) {
    reply(ok_response({{"last_error", "HTTP 409: Salle \xc3"}, {"file", "seg-\xff.mp4"}}));
  });
  ASSERT_TRUE(server.listen().ok());
  for (int i = 0; i < 2; ++i) {
    auto r = call(path, encode_request({}), 5s);
    ASSERT_TRUE(std::holds_alternative<Json>(r));
    EXPECT_EQ(std::get<Json>(r)["last_error"], "HTTP 409: Salle \xef\xbf\xbd");
    EXPECT_EQ(std::get<Json>(r)["file"], "seg-\xef\xbf\xbd.mp4");
  }
}

TEST(ControlServer, AHandlerThatThrowsGetsAnErrorAndTheServerGoesOn) {
  test::TempDir dir;
  const auto path = dir / "c.sock";
  EchoServer server(path, [](const Request& r, const Server::Reply& reply) {
    if (r.cmd == Command::snapshot) throw std::runtime_error("camera \xff gone");
    reply(ok_response());
  });
  ASSERT_TRUE(server.listen().ok());
  const std::string out = converse(path, "{\"cmd\":\"snapshot\"}\n{\"cmd\":\"status\"}\n", 2);
  EXPECT_EQ(out, "{\"error\":\"internal error: camera \xef\xbf\xbd gone\",\"ok\":false}\n{\"ok\":true}\n");
}
