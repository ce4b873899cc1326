// SPDX-License-Identifier: Apache-2.0
// AsyncServer over real loopback TCP: the handshake deadline drops a viewer that stalls before ClientInit and
// leaves one that completed it alone.
#include "rfb/async_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "../io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class StillPicture : public PictureSource {
 public:
  StillPicture() : fb_(64, 48) {}
  const framebuffer::PixelBuffer& picture() override { return fb_; }
  bool can_serve() const override { return true; }

 private:
  framebuffer::PixelBuffer fb_;
};

// The picture outlives the context: destroying the context ends the coroutines that hold the server.
struct Served {
  StillPicture picture;
  asio::io_context ctx;
  tcp::acceptor acceptor = io::test::loopback_acceptor(ctx);
  std::shared_ptr<AsyncServer> server;

  explicit Served(std::chrono::milliseconds handshake_timeout) {
    ServerOptions options;
    options.handshake_timeout = handshake_timeout;
    server = std::make_shared<AsyncServer>(ctx.get_executor(), options, picture, nullptr, "test");
    server->open(64, 48);
    asio::co_spawn(
        ctx,
        [this]() -> asio::awaitable<void> {
          for (;;) server->attach(io::adopt_tcp(co_await acceptor.async_accept(asio::use_awaitable)), false);
        },
        asio::detached);
  }

  asio::awaitable<std::unique_ptr<io::ByteStream>> connect() {
    io::Endpoint endpoint;
    endpoint.url = "vnc://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    auto stream = co_await io::connect(ctx.get_executor(), endpoint);
    co_return stream;
  }
};

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

TEST(AsyncServer, DropsAViewerThatStallsInTheHandshake) {
  Served served(200ms);
  bool closed = false;
  std::chrono::steady_clock::duration waited{};
  io::test::run(served.ctx, [&]() -> asio::awaitable<void> {
    auto viewer = co_await served.connect();
    const auto greeting = co_await io::test::read_exactly(*viewer, 12);
    EXPECT_EQ(greeting, "RFB 003.008\n");
    const auto start = std::chrono::steady_clock::now();
    // Says nothing more: the server must hang up.
    std::array<std::uint8_t, 16> buf{};
    closed = co_await io::test::throws<IoError>(viewer->read_some(asio::buffer(buf)));
    waited = std::chrono::steady_clock::now() - start;
  }());
  EXPECT_TRUE(closed);
  EXPECT_GE(waited, 150ms);
  EXPECT_EQ(served.server->counts().viewers, 0);
}

TEST(AsyncServer, KeepsAViewerThatCompletedTheHandshake) {
  Served served(200ms);
  std::string init;
  std::string update;
  io::test::run(served.ctx, [&]() -> asio::awaitable<void> {
    auto viewer = co_await served.connect();
    co_await io::test::read_exactly(*viewer, 12);
    const std::string version("RFB 003.008\n"), none("\x01", 1), shared("\x01", 1);
    co_await viewer->write(asio::buffer(version));
    const auto types = co_await io::test::read_exactly(*viewer, 2);  // one type: None
    EXPECT_EQ(types, std::string("\x01\x01", 2));
    co_await viewer->write(asio::buffer(none));
    co_await io::test::read_exactly(*viewer, 4);          // SecurityResult OK
    co_await viewer->write(asio::buffer(shared));         // ClientInit, shared
    init = co_await io::test::read_exactly(*viewer, 24);  // ServerInit up to the name's length
    const auto name_length = static_cast<std::size_t>(static_cast<std::uint8_t>(init[23]));
    co_await io::test::read_exactly(*viewer, name_length);
    co_await pause(500ms);  // well past the deadline
    // FramebufferUpdateRequest, non-incremental, 1x1 at 0,0: answered, so the viewer is still served.
    const std::string request("\x03\x00\x00\x00\x00\x00\x00\x01\x00\x01", 10);
    co_await viewer->write(asio::buffer(request));
    update = co_await io::test::read_exactly(*viewer, 4);
  }());
  EXPECT_EQ(init.substr(0, 4), std::string("\x00\x40\x00\x30", 4));  // 64 x 48
  EXPECT_EQ(update.substr(0, 1), std::string("\x00", 1));            // FramebufferUpdate
  EXPECT_EQ(served.server->counts().viewers, 1);
}

}  // namespace
}  // namespace vncgate::rfb
