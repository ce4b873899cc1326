// SPDX-License-Identifier: Apache-2.0
// ws:// transport against the real websockify (the stand-in for nova-novncproxy), TokenFile plugin, in front
// of in-test TCP servers. Process handling is self-contained here on purpose (tests/support is separate).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/byte_stream.hpp"
#include "io/io_test_util.hpp"
#include "util/error.hpp"

extern char** environ;

namespace vncgate::io {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kWebsockify = "/usr/bin/websockify";

// A port nobody listens on right now: bind 127.0.0.1:0, read the port, close.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("free_port: cannot bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Starts argv[0] (an absolute path) with stdin from /dev/null and stdout+stderr into `log`; returns its PID.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  return pid;
}

// SIGTERM to exactly `pid`, SIGKILL after 3 s, then reap it.
void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (auto deadline = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < deadline;) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class WebsockifyTransport : public testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/vncgate-websockify-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    fs::create_directory(dir_ + "/tokens");

    // Targets run on their own thread and io_context; the client side runs on the test's thread.
    asio::co_spawn(server_ctx_, test::tcp_echo_server(echo_acceptor_), asio::detached);
    asio::co_spawn(server_ctx_, close_after_greeting(), asio::detached);
    server_thread_ = std::thread([this] { server_ctx_.run(); });

    std::ofstream(dir_ + "/tokens/targets") << "tok1: 127.0.0.1:" << echo_acceptor_.local_endpoint().port() << "\n"
                                            << "closer: 127.0.0.1:" << closer_acceptor_.local_endpoint().port() << "\n"
                                            << "down: 127.0.0.1:" << free_port() << "\n";

    port_ = free_port();
    pid_ = spawn({kWebsockify, "--token-plugin", "TokenFile", "--token-source", dir_ + "/tokens",
                  "127.0.0.1:" + std::to_string(port_)},
                 log());
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!accepts_connections(port_)) {
      ASSERT_NE(::waitpid(pid_, nullptr, WNOHANG), pid_) << "websockify exited:\n" << slurp(log());
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "websockify not listening after 5 s:\n" << slurp(log());
      std::this_thread::sleep_for(25ms);
    }
  }

  void TearDown() override {
    if (pid_ > 0) stop(pid_);
    server_ctx_.stop();
    if (server_thread_.joinable()) server_thread_.join();
    if (HasFailure() && !dir_.empty()) std::cerr << "websockify log:\n" << slurp(log());
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A target that sends "bye" and closes.
  asio::awaitable<void> close_after_greeting() {
    for (;;) {
      auto socket = co_await closer_acceptor_.async_accept(asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(std::string("bye")), asio::use_awaitable);
    }
  }

  std::string log() const { return dir_ + "/websockify.log"; }
  std::string url(const std::string& token) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + "/?token=" + token;
  }

  // The what() of the IoError (of type E) that connecting to `token` and reading until the end throws.
  template <class E = IoError>
  std::string read_to_end_error(const std::string& token) {
    const Endpoint endpoint{.url = url(token)};
    try {
      test::run(client_ctx_, [&]() -> asio::awaitable<void> {
        auto stream = co_await connect(client_ctx_.get_executor(), endpoint);
        char buf[64];
        for (;;) co_await stream->read_some(asio::buffer(buf));
      }());
    } catch (const E& e) {
      return e.what();
    }
    return "";
  }

  std::string dir_;
  asio::io_context server_ctx_;
  test::tcp::acceptor echo_acceptor_ = test::loopback_acceptor(server_ctx_);
  test::tcp::acceptor closer_acceptor_ = test::loopback_acceptor(server_ctx_);
  std::thread server_thread_;
  asio::io_context client_ctx_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(WebsockifyTransport, Token_RoundTripsBytes) {
  const std::string data = test::pattern(256 * 1024);
  const Endpoint endpoint{.url = url("tok1")};
  test::run(client_ctx_, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(client_ctx_.get_executor(), endpoint);
    co_await stream->write(asio::buffer(std::string("RFB 003.008\n")));
    const std::string greeting = co_await test::read_exactly(*stream, 12);
    EXPECT_EQ(greeting, "RFB 003.008\n");
    // Writes and reads interleaved so neither side's buffers fill up.
    for (std::size_t off = 0; off < data.size(); off += 16384) {
      const std::size_t n = std::min<std::size_t>(16384, data.size() - off);
      co_await stream->write(asio::buffer(data.data() + off, n));
      const std::string echoed = co_await test::read_exactly(*stream, n);
      EXPECT_EQ(echoed, data.substr(off, n));
    }
    stream->close();
  }());
}

TEST_F(WebsockifyTransport, UnknownToken_IsIoErrorWithoutToken) {
  const std::string error = read_to_end_error("nosuchtoken-secret");
  EXPECT_NE(error.find("WebSocket upgrade to ws://127.0.0.1:"), std::string::npos) << error;
  EXPECT_EQ(error.find("nosuchtoken-secret"), std::string::npos) << error;
}

TEST_F(WebsockifyTransport, TargetCloses_IsEndOfStream) {
  std::string received;
  const Endpoint endpoint{.url = url("closer")};
  try {
    test::run(client_ctx_, [&]() -> asio::awaitable<void> {
      auto stream = co_await connect(client_ctx_.get_executor(), endpoint);
      char buf[64];
      for (;;) received.append(buf, co_await stream->read_some(asio::buffer(buf)));
    }());
    ADD_FAILURE() << "expected EndOfStream";
  } catch (const EndOfStream& e) {
    EXPECT_EQ(std::string(e.what()).find("closer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(received, "bye");
}

TEST_F(WebsockifyTransport, TargetDown_IsEndOfStreamNamingCloseCode) {
  const std::string error = read_to_end_error<EndOfStream>("down");
  EXPECT_NE(error.find("1011"), std::string::npos) << error;
}

}  // namespace
}  // namespace vncgate::io
