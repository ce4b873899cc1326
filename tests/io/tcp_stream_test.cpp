// SPDX-License-Identifier: Apache-2.0
// vnc:// transport against an in-test loopback echo server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "io/byte_stream.hpp"
#include "io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

using test::run;
using testing::HasSubstr;

std::string vnc_url(unsigned short port) { return "vnc://127.0.0.1:" + std::to_string(port); }

// Connects to an echo server at `endpoint`, writes `data` and expects it back.
void expect_echo(asio::io_context& ctx, const Endpoint& endpoint, const std::string& data) {
  run(ctx, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx.get_executor(), endpoint);
    asio::co_spawn(
        ctx, [&]() -> asio::awaitable<void> { co_await stream->write(asio::buffer(data)); }, asio::detached);
    const std::string echoed = co_await test::read_exactly(*stream, data.size());
    EXPECT_EQ(echoed, data);
  }());
}

TEST(TcpStream_Connect, EchoesBytesBothWays) {
  asio::io_context ctx;
  auto acceptor = test::loopback_acceptor(ctx);
  asio::co_spawn(ctx, test::tcp_echo_server(acceptor), asio::detached);
  const Endpoint endpoint{.url = vnc_url(acceptor.local_endpoint().port())};
  expect_echo(ctx, endpoint, test::pattern(300000));  // several reads: larger than socket buffers
}

// The allow-list checked these addresses: the name is not resolved again (it does not even resolve here).
TEST(TcpStream_Connect, GivenAddressesAreUsedInsteadOfResolvingTheName) {
  asio::io_context ctx;
  auto acceptor = test::loopback_acceptor(ctx);
  asio::co_spawn(ctx, test::tcp_echo_server(acceptor), asio::detached);
  Endpoint endpoint{.url = "vnc://console.invalid:" + std::to_string(acceptor.local_endpoint().port())};
  endpoint.addresses = {"127.0.0.1"};
  expect_echo(ctx, endpoint, "pinned");
}

TEST(TcpStream_Connect, ThrowsIoErrorNamingEndpoint_WhenRefused) {
  asio::io_context ctx;
  unsigned short port = 0;
  {
    auto acceptor = test::loopback_acceptor(ctx);  // reserve a port, then free it: nobody listens there
    port = acceptor.local_endpoint().port();
  }
  const Endpoint endpoint{.url = vnc_url(port)};
  try {
    run(ctx, [&]() -> asio::awaitable<void> { co_await connect(ctx.get_executor(), endpoint); }());
    FAIL() << "expected IoError";
  } catch (const EndOfStream&) {
    FAIL() << "refusal is not an end of stream";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  }
}

TEST(TcpStream_Connect, ThrowsConfigError_WhenUrlIsMalformed) {
  asio::io_context ctx;
  const Endpoint endpoint{.url = "http://h/?token=tok1secret"};
  try {
    run(ctx, [&]() -> asio::awaitable<void> { co_await connect(ctx.get_executor(), endpoint); }());
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), HasSubstr("unknown scheme"));
    EXPECT_THAT(e.what(), testing::Not(HasSubstr("tok1secret")));
  }
}

TEST(TcpStream_Connect, ThrowsIoError_WhenHostDoesNotResolve) {
  asio::io_context ctx;
  const Endpoint endpoint{.url = "vnc://no-such-host.invalid:5900"};
  EXPECT_THROW(run(ctx, [&]() -> asio::awaitable<void> { co_await connect(ctx.get_executor(), endpoint); }()), IoError);
}

TEST(TcpStream_Connect, WorksOverIpv6Loopback) {
  asio::io_context ctx;
  boost::system::error_code ec;
  test::tcp::acceptor acceptor(ctx);
  acceptor.open(test::tcp::v6(), ec);
  if (!ec) acceptor.bind(test::tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback: " << ec.message();
  asio::co_spawn(ctx, test::tcp_echo_server(acceptor), asio::detached);
  const Endpoint endpoint{.url = "vnc://[::1]:" + std::to_string(acceptor.local_endpoint().port())};
  run(ctx, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx.get_executor(), endpoint);
    co_await stream->write(asio::buffer(std::string("RFB 003.008\n")));
    const std::string echoed = co_await test::read_exactly(*stream, 12);
    EXPECT_EQ(echoed, "RFB 003.008\n");
  }());
}

TEST(TcpStream_Read, ThrowsEndOfStream_WhenPeerCloses) {
  asio::io_context ctx;
  auto acceptor = test::loopback_acceptor(ctx);
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(std::string("bye")), asio::use_awaitable);
        socket.shutdown(test::tcp::socket::shutdown_send);
        char sink[16];
        boost::system::error_code ignored;
        co_await socket.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ignored));
      },
      asio::detached);
  const Endpoint endpoint{.url = vnc_url(acceptor.local_endpoint().port())};
  run(ctx, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx.get_executor(), endpoint);
    const std::string echoed = co_await test::read_exactly(*stream, 3);
    EXPECT_EQ(echoed, "bye");
    char byte;
    const bool threw = co_await test::throws<EndOfStream>(stream->read_some(asio::buffer(&byte, 1)));
    EXPECT_TRUE(threw);
  }());
}

TEST(TcpStream_Close, CancelsPendingReadAndIsIdempotent) {
  asio::io_context ctx;
  auto acceptor = test::loopback_acceptor(ctx);
  asio::co_spawn(ctx, test::tcp_echo_server(acceptor), asio::detached);
  const Endpoint endpoint{.url = vnc_url(acceptor.local_endpoint().port())};
  run(ctx, [&]() -> asio::awaitable<void> {
    std::shared_ptr<ByteStream> stream = co_await connect(ctx.get_executor(), endpoint);
    asio::steady_timer timer(ctx, std::chrono::milliseconds(50));
    timer.async_wait([stream](auto) {
      stream->close();
      stream->close();
    });
    char byte;
    try {
      co_await stream->read_some(asio::buffer(&byte, 1));
      ADD_FAILURE() << "read completed after close";
    } catch (const EndOfStream&) {
      ADD_FAILURE() << "a local close is not the peer's end of stream";
    } catch (const IoError& e) {
      EXPECT_THAT(e.what(), HasSubstr("stream closed"));
    }
    stream->close();
    const bool threw = co_await test::throws<IoError>(stream->write(asio::buffer("x", 1)));
    EXPECT_TRUE(threw);
  }());
}

}  // namespace
}  // namespace vncgate::io
