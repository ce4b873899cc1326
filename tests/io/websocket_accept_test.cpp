// SPDX-License-Identifier: Apache-2.0
// Server-side WebSocket (io::accept_websocket) against Beast clients and our own ws:// client over loopback.
#include "io/websocket_accept.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <vector>

#include "io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using test::run;
using tcp = asio::ip::tcp;
using testing::HasSubstr;

class WebSocketAcceptTest : public testing::Test {
 protected:
  // Accepts one connection, reads its request and upgrades it; the stream (or the error) is kept.
  asio::awaitable<void> serve_one(WsAcceptOptions options) {
    auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    co_await http::async_read(socket, buffer, req, asio::use_awaitable);
    try {
      stream_ = co_await accept_websocket(std::move(socket), req, options);
    } catch (const Error& e) {
      accept_error_ = e.what();
      accept_category_ = e.category();
    }
  }

  // Reads from the accepted stream until it fails; returns the error text.
  asio::awaitable<std::string> read_until_error() {
    char buf[256];
    try {
      for (;;) co_await stream_->read_some(asio::buffer(buf));
    } catch (const IoError& e) {
      co_return std::string(e.what());
    }
  }

  // A Beast client handshake with the given headers; returns the HTTP response.
  asio::awaitable<websocket::response_type> client_handshake(websocket::stream<beast::tcp_stream>& ws,
                                                             std::string origin, std::string protocols,
                                                             beast::error_code& ec) {
    co_await beast::get_lowest_layer(ws).async_connect(acceptor_.local_endpoint(), asio::use_awaitable);
    ws.set_option(websocket::stream_base::decorator([origin, protocols](websocket::request_type& req) {
      if (!origin.empty()) req.set(http::field::origin, origin);
      if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
    }));
    websocket::response_type res;
    std::tie(ec) = co_await ws.async_handshake(res, "127.0.0.1", "/", asio::as_tuple(asio::use_awaitable));
    co_return res;
  }

  asio::io_context ctx_;
  tcp::acceptor acceptor_ = test::loopback_acceptor(ctx_);
  std::unique_ptr<ByteStream> stream_;
  std::string accept_error_;
  std::optional<ErrorCategory> accept_category_;
};

TEST_F(WebSocketAcceptTest, AllowedOrigin_NegotiatesBinaryAndCarriesBytes) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({.allowed_origins = {"https://console.example"}}), asio::detached);
    websocket::stream<beast::tcp_stream> ws(ctx_);
    beast::error_code ec;
    auto res = co_await client_handshake(ws, "https://console.example", "base64, binary", ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(res[http::field::sec_websocket_protocol], "binary");
    ws.binary(true);
    co_await ws.async_write(asio::buffer(std::string("RFB 003.008\n")), asio::use_awaitable);
    while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
    const auto hello = co_await test::read_exactly(*stream_, 12);
    EXPECT_EQ(hello, "RFB 003.008\n");
    co_await stream_->write(asio::buffer(std::string("pong")));
    beast::flat_buffer got;
    co_await ws.async_read(got, asio::use_awaitable);
    EXPECT_TRUE(ws.got_binary());
    EXPECT_EQ(beast::buffers_to_string(got.data()), "pong");
  }());
}

TEST_F(WebSocketAcceptTest, NoSubprotocolOffered_NoneAnswered) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({}), asio::detached);
    websocket::stream<beast::tcp_stream> ws(ctx_);
    beast::error_code ec;
    auto res = co_await client_handshake(ws, "", "", ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.count(http::field::sec_websocket_protocol), 0u);
  }());
}

TEST_F(WebSocketAcceptTest, ForeignOrigin_Answers403AndThrowsAuthError) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({.allowed_origins = {"https://console.example"}}), asio::detached);
    websocket::stream<beast::tcp_stream> ws(ctx_);
    beast::error_code ec;
    auto res = co_await client_handshake(ws, "https://evil.example", "binary", ec);
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
    EXPECT_EQ(res.result(), http::status::forbidden);
    while (accept_error_.empty()) co_await asio::post(ctx_, asio::use_awaitable);
  }());
  EXPECT_EQ(accept_category_, ErrorCategory::auth);
  EXPECT_THAT(accept_error_, HasSubstr("evil.example"));
  EXPECT_FALSE(stream_);
}

TEST_F(WebSocketAcceptTest, PlainHttpRequest_Answers400) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({}), asio::detached);
    beast::tcp_stream client(ctx_);
    co_await client.async_connect(acceptor_.local_endpoint(), asio::use_awaitable);
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    co_await http::async_write(client, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(client, buffer, res, asio::use_awaitable);
    EXPECT_EQ(res.result(), http::status::bad_request);
    while (accept_error_.empty()) co_await asio::post(ctx_, asio::use_awaitable);
  }());
  EXPECT_EQ(accept_category_, ErrorCategory::protocol);
}

TEST_F(WebSocketAcceptTest, GarbageFrames_ReadFailsWithIoError) {
  run(
      ctx_,
      [&]() -> asio::awaitable<void> {
        asio::co_spawn(ctx_, serve_one({}), asio::detached);
        websocket::stream<beast::tcp_stream> ws(ctx_);
        beast::error_code ec;
        co_await client_handshake(ws, "", "binary", ec);
        EXPECT_FALSE(ec);
        // Reserved opcode 0x3 with a reserved bit set, unmasked: three protocol violations in one header.
        const std::string garbage("\x73\x05hello\xff\xff\xff\xff", 11);
        co_await asio::async_write(beast::get_lowest_layer(ws).socket(), asio::buffer(garbage), asio::use_awaitable);
        while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
        // The server fails the connection (close frame 1002); our peer reads it, as a browser would, and goes.
        asio::co_spawn(
            ctx_,
            [&ws]() -> asio::awaitable<void> {
              beast::flat_buffer sink;
              co_await ws.async_read(sink, asio::as_tuple(asio::use_awaitable));
            },
            asio::detached);
        const auto error = co_await read_until_error();
        EXPECT_FALSE(error.empty());
      }(),
      std::chrono::seconds(15));  // the server waits up to 5 s for the close handshake it started
}

TEST_F(WebSocketAcceptTest, TextAndOversizedMessages_AreRefused) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({.max_message_bytes = 1024}), asio::detached);
    websocket::stream<beast::tcp_stream> ws(ctx_);
    beast::error_code ec;
    co_await client_handshake(ws, "", "binary", ec);
    ws.binary(true);
    co_await ws.async_write(asio::buffer(std::string(4096, 'x')), asio::use_awaitable);
    while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
    const auto got1 = co_await read_until_error();
    EXPECT_THAT(got1, HasSubstr("size limit"));
  }());
  stream_.reset();
  acceptor_ = test::loopback_acceptor(ctx_);
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({}), asio::detached);
    websocket::stream<beast::tcp_stream> ws(ctx_);
    beast::error_code ec;
    co_await client_handshake(ws, "", "binary", ec);
    ws.text(true);
    co_await ws.async_write(asio::buffer(std::string("hello")), asio::use_awaitable);
    while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
    const auto got2 = co_await read_until_error();
    EXPECT_THAT(got2, HasSubstr("text message"));
  }());
}

// A peer that never reads never answers pings: closed after two intervals.
TEST_F(WebSocketAcceptTest, SilentPeer_ClosedAfterTwoPingIntervals) {
  run(
      ctx_,
      [&]() -> asio::awaitable<void> {
        asio::co_spawn(ctx_, serve_one({.ping_interval = std::chrono::seconds(1)}), asio::detached);
        websocket::stream<beast::tcp_stream> ws(ctx_);
        beast::error_code ec;
        co_await client_handshake(ws, "", "binary", ec);
        while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
        const auto start = std::chrono::steady_clock::now();
        const auto error = co_await read_until_error();
        EXPECT_FALSE(error.empty());
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_GE(took, std::chrono::milliseconds(1500));
        EXPECT_LE(took, std::chrono::milliseconds(4000));
      }(),
      std::chrono::seconds(10));
}

// Keep-alive heartbeats fall on a clock grid shared by all connections (so an idle gateway wakes once for all
// the heartbeats due, not once per viewer): two viewers that connected 400 ms apart get them at the same
// instants, a ping first and then unsolicited pongs, and viewers that answer the pings stay connected however
// long they are idle.
TEST_F(WebSocketAcceptTest, HeartbeatsOfAllConnectionsShareOneGrid_AnsweredPingsKeepTheConnection) {
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> beats[2];
  std::vector<websocket::frame_type> kinds;
  std::vector<std::unique_ptr<websocket::stream<beast::tcp_stream>>> clients;
  std::vector<std::unique_ptr<ByteStream>> servers;
  std::string server_errors;
  auto serve_reads = [&](ByteStream* server) -> asio::awaitable<void> {
    char buf[64];
    try {
      for (;;) co_await server->read_some(asio::buffer(buf));
    } catch (const std::exception& e) {
      server_errors += std::string(e.what()) + "\n";
    }
  };
  auto client_reads = [](websocket::stream<beast::tcp_stream>* client) -> asio::awaitable<void> {
    beast::flat_buffer buffer;  // Beast answers pings inside reads
    co_await client->async_read(buffer, asio::as_tuple(asio::use_awaitable));
  };
  run(
      ctx_,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
          if (i == 1) {
            asio::steady_timer pause(ctx_, std::chrono::milliseconds(400));
            co_await pause.async_wait(asio::use_awaitable);
          }
          asio::co_spawn(ctx_, serve_one({.ping_interval = std::chrono::seconds(1)}), asio::detached);
          clients.push_back(std::make_unique<websocket::stream<beast::tcp_stream>>(ctx_));
          auto& client = *clients.back();
          client.control_callback([&beats, &kinds, i](websocket::frame_type kind, beast::string_view) {
            beats[i].push_back(Clock::now());
            if (i == 0) kinds.push_back(kind);
          });
          beast::error_code ec;
          co_await client_handshake(client, "", "binary", ec);
          EXPECT_FALSE(ec) << ec.message();
          while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
          servers.push_back(std::move(stream_));
          asio::co_spawn(ctx_, serve_reads(servers.back().get()), asio::detached);
          asio::co_spawn(ctx_, client_reads(&client), asio::detached);
        }
        asio::steady_timer idle(ctx_, std::chrono::milliseconds(6300));
        co_await idle.async_wait(asio::use_awaitable);
      }(),
      std::chrono::seconds(10));
  EXPECT_EQ(server_errors, "") << "an answering viewer was cut off";
  // Five heartbeats: a ping, three pongs and a ping, each one second after the last.
  ASSERT_GE(kinds.size(), 5u);
  EXPECT_EQ(kinds[0], websocket::frame_type::ping);
  EXPECT_EQ(kinds[1], websocket::frame_type::pong);
  EXPECT_EQ(kinds[3], websocket::frame_type::pong);
  EXPECT_EQ(kinds[4], websocket::frame_type::ping);
  ASSERT_GE(beats[1].size(), 4u);
  // The second viewer's heartbeats coincide with the first's (same grid instant, not 400 ms later).
  for (const auto& t : beats[1]) {
    auto nearest = std::chrono::milliseconds::max();
    for (const auto& u : beats[0])
      nearest = std::min(nearest, std::chrono::duration_cast<std::chrono::milliseconds>(t > u ? t - u : u - t));
    EXPECT_LT(nearest, std::chrono::milliseconds(100));
  }
}

// Our own ws:// client (io::connect) against the server side: both halves of the project interoperate.
TEST_F(WebSocketAcceptTest, OwnClient_RoundTrip) {
  run(ctx_, [&]() -> asio::awaitable<void> {
    asio::co_spawn(ctx_, serve_one({.allowed_origins = {"http://127.0.0.1"}}), asio::detached);
    Endpoint ep;
    ep.url = "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
    ep.headers = {{"Origin", "http://127.0.0.1"}};
    auto client = co_await connect(ctx_.get_executor(), ep);
    while (!stream_) co_await asio::post(ctx_, asio::use_awaitable);
    co_await client->write(asio::buffer(std::string("abc")));
    const auto abc = co_await test::read_exactly(*stream_, 3);
    EXPECT_EQ(abc, "abc");
    co_await stream_->write(asio::buffer(std::string("xyz")));
    const auto xyz = co_await test::read_exactly(*client, 3);
    EXPECT_EQ(xyz, "xyz");
  }());
}

}  // namespace
}  // namespace vncgate::io
