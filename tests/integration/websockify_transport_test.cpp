// SPDX-License-Identifier: Apache-2.0
// ws:// transport against the real websockify (the stand-in for nova-novncproxy), TokenFile plugin, in front
// of in-test TCP servers. websockify itself is started and stopped by tests/support (Websockify).
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "io/byte_stream.hpp"
#include "io/io_test_util.hpp"
#include "support/process.hpp"
#include "support/websockify.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

// tests/support (vncgate::test); plain `test::` here is io_test_util's vncgate::io::test.
namespace support = vncgate::test;

class WebsockifyTransport : public testing::Test {
 protected:
  void SetUp() override {
    // Targets run on their own thread and io_context; the client side runs on the test's thread.
    asio::co_spawn(server_ctx_, test::tcp_echo_server(echo_acceptor_), asio::detached);
    asio::co_spawn(server_ctx_, close_after_greeting(), asio::detached);
    server_thread_ = std::thread([this] { server_ctx_.run(); });

    const support::Websockify::Tokens tokens{
        {"tok1", "127.0.0.1:" + std::to_string(echo_acceptor_.local_endpoint().port())},
        {"closer", "127.0.0.1:" + std::to_string(closer_acceptor_.local_endpoint().port())},
        {"down", "127.0.0.1:" + std::to_string(support::free_port())},
    };
    // Returns once websockify accepts connections; throws (with its log) when it does not start.
    try {
      websockify_.emplace(tokens);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  void TearDown() override {
    if (HasFailure() && websockify_) std::cerr << "websockify log:\n" << websockify_->log();
    websockify_.reset();
    server_ctx_.stop();
    if (server_thread_.joinable()) server_thread_.join();
  }

  // A target that sends "bye" and closes.
  asio::awaitable<void> close_after_greeting() {
    for (;;) {
      auto socket = co_await closer_acceptor_.async_accept(asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(std::string("bye")), asio::use_awaitable);
    }
  }

  std::string url(const std::string& token) const { return websockify_->url(token); }

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

  asio::io_context server_ctx_;
  test::tcp::acceptor echo_acceptor_ = test::loopback_acceptor(server_ctx_);
  test::tcp::acceptor closer_acceptor_ = test::loopback_acceptor(server_ctx_);
  std::thread server_thread_;
  asio::io_context client_ctx_;
  std::optional<support::Websockify> websockify_;
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
