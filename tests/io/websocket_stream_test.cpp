// SPDX-License-Identifier: Apache-2.0
// ws:// and wss:// transports against an in-process Boost.Beast WebSocket server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "io/byte_stream.hpp"
#include "io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using test::run;
using testing::HasSubstr;
using testing::Not;

// What the server does after reading the upgrade request.
enum class Mode { echo, forbid, close_normal, close_1011, send_text };

struct SeenRequest {
  std::string target, host, protocol, origin, cookie, authorization;
};

class WebSocketStreamTest : public testing::Test {
 protected:
  // Serves one connection on the plain or TLS `socket_like` (already accepted / handshaken).
  template <class Next>
  asio::awaitable<void> serve(Next next, Mode mode) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    co_await http::async_read(next, buffer, req, asio::use_awaitable);
    seen_ = {std::string(req.target()),
             std::string(req[http::field::host]),
             std::string(req[http::field::sec_websocket_protocol]),
             std::string(req[http::field::origin]),
             std::string(req[http::field::cookie]),
             std::string(req[http::field::authorization])};
    if (mode == Mode::forbid) {
      http::response<http::string_body> res{http::status::forbidden, req.version()};
      res.body() = "token " + std::string(req.target()) + " expired";  // the client must not echo this
      res.prepare_payload();
      co_await http::async_write(next, res, asio::use_awaitable);
      co_return;
    }
    websocket::stream<Next> ws(std::move(next));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, "binary"); }));
    co_await ws.async_accept(req, asio::use_awaitable);
    if (mode == Mode::close_normal || mode == Mode::close_1011) {
      websocket::close_reason reason(mode == Mode::close_normal ? websocket::close_code::normal
                                                                : websocket::close_code::internal_error);
      if (mode == Mode::close_1011) reason.reason = "Failed to connect to downstream server";
      co_await ws.async_close(reason, asio::use_awaitable);
      co_return;
    }
    if (mode == Mode::send_text) {
      ws.text(true);
      co_await ws.async_write(asio::buffer(std::string("hello")), asio::use_awaitable);
    }
    for (;;) {
      beast::flat_buffer message;
      boost::system::error_code ec;
      co_await ws.async_read(message, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ws.binary(ws.got_binary());
      co_await ws.async_write(message.data(), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }

  void serve_plain(Mode mode) {
    asio::co_spawn(
        ctx_,
        [this, mode]() -> asio::awaitable<void> {
          co_await serve(co_await acceptor_.async_accept(asio::use_awaitable), mode);
        },
        asio::detached);
  }

  std::string base(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  // The what() of the IoError connecting (and reading once) throws; "" when none.
  template <class Exception = IoError>
  std::string read_error(const Endpoint& endpoint) {
    try {
      run(ctx_, [&]() -> asio::awaitable<void> {
        auto stream = co_await connect(ctx_.get_executor(), endpoint);
        char byte;
        co_await stream->read_some(asio::buffer(&byte, 1));
      }());
    } catch (const Exception& e) {
      return e.what();
    }
    return "";
  }

  asio::io_context ctx_;
  test::tcp::acceptor acceptor_ = test::loopback_acceptor(ctx_);
  SeenRequest seen_;
};

TEST_F(WebSocketStreamTest, Upgrade_SendsSubprotocolAndHeaders_AndEchoesBinary) {
  serve_plain(Mode::echo);
  Endpoint endpoint{.url = base() + "/websockify?token=tok1",
                    .headers = {{"Origin", "https://console.example"}, {"Cookie", "PVEAuthCookie=PVE:root@pam:1"}}};
  const std::string data = test::pattern(200000);  // more than one read_some
  run(ctx_, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx_.get_executor(), endpoint);
    co_await stream->write(asio::buffer(data.data(), 7));
    co_await stream->write(asio::buffer(data.data() + 7, data.size() - 7));
    const std::string echoed = co_await test::read_exactly(*stream, data.size());
    EXPECT_EQ(echoed, data);
    stream->close();
    stream->close();
  }());
  EXPECT_EQ(seen_.target, "/websockify?token=tok1");
  EXPECT_EQ(seen_.host, "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()));
  EXPECT_EQ(seen_.protocol, "binary");
  EXPECT_EQ(seen_.origin, "https://console.example");
  EXPECT_EQ(seen_.cookie, "PVEAuthCookie=PVE:root@pam:1");
}

TEST_F(WebSocketStreamTest, Upgrade_JoinsSubprotocols_AndSendsAuthorization) {
  serve_plain(Mode::echo);
  Endpoint endpoint{.url = base(),
                    .headers = {{"Authorization", "PVEAPIToken=root@pam!t=secret"}},
                    .subprotocols = {"binary", "base64"}};
  run(ctx_, [&]() -> asio::awaitable<void> { (co_await connect(ctx_.get_executor(), endpoint))->close(); }());
  EXPECT_EQ(seen_.target, "/");
  EXPECT_EQ(seen_.protocol, "binary, base64");
  EXPECT_EQ(seen_.authorization, "PVEAPIToken=root@pam!t=secret");
}

TEST_F(WebSocketStreamTest, Upgrade_Refused403_NamesStatusButNotToken) {
  serve_plain(Mode::forbid);
  const std::string error = read_error(Endpoint{.url = base() + "/?token=tok1secret"});
  EXPECT_EQ(error, "WebSocket upgrade to " + base() + "/?\u2026 refused: 403 Forbidden");
  EXPECT_THAT(error, Not(HasSubstr("tok1secret")));
}

TEST_F(WebSocketStreamTest, Upgrade_RejectsHeaderWithLineBreak) {
  serve_plain(Mode::echo);
  try {
    read_error(Endpoint{.url = base(), .headers = {{"Cookie", "a=b\r\nX-Injected: 1"}}});
    ADD_FAILURE() << "expected a configuration error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), HasSubstr("'Cookie' has a line break"));
    EXPECT_THAT(e.what(), Not(HasSubstr("a=b")));
  }
}

TEST_F(WebSocketStreamTest, Upgrade_TimesOut_WhenServerNeverAnswers) {
  std::vector<std::shared_ptr<test::tcp::socket>> held;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        for (;;)
          held.push_back(std::make_shared<test::tcp::socket>(co_await acceptor_.async_accept(asio::use_awaitable)));
      },
      asio::detached);
  const std::string error =
      read_error(Endpoint{.url = base() + "/?token=tok1secret", .connect_timeout = std::chrono::milliseconds(200)});
  EXPECT_EQ(error, "WebSocket upgrade to " + base() + "/?\u2026: timed out after 200 ms");
}

TEST_F(WebSocketStreamTest, Read_ThrowsEndOfStream_OnNormalClose) {
  serve_plain(Mode::close_normal);
  const std::string error = read_error<EndOfStream>(Endpoint{.url = base() + "/?token=tok1secret"});
  EXPECT_EQ(error, "WebSocket " + base() + "/?\u2026 closed by peer");
}

TEST_F(WebSocketStreamTest, Read_ThrowsEndOfStreamWithReason_OnClose1011) {
  serve_plain(Mode::close_1011);
  const std::string error = read_error<EndOfStream>(Endpoint{.url = base()});
  EXPECT_THAT(error, HasSubstr("code 1011: Failed to connect to downstream server"));
}

TEST_F(WebSocketStreamTest, Read_RejectsTextMessages) {
  serve_plain(Mode::send_text);
  const std::string error = read_error(Endpoint{.url = base()});
  EXPECT_THAT(error, HasSubstr("text message"));
}

TEST_F(WebSocketStreamTest, Wss_PinnedCertificate_EchoesBinary) {
  const auto cert = test::make_self_signed();
  ssl::context server_tls{ssl::context::tls_server};
  server_tls.use_certificate_chain(asio::buffer(cert.cert_pem));
  server_tls.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        ssl::stream<test::tcp::socket> tls(co_await acceptor_.async_accept(asio::use_awaitable), server_tls);
        co_await tls.async_handshake(ssl::stream_base::server, asio::use_awaitable);
        co_await serve(std::move(tls), Mode::echo);
      },
      asio::detached);
  const std::string data = test::pattern(70000);
  const Endpoint endpoint{.url = base("wss") + "/vncwebsocket?port=5900&vncticket=T",
                          .tls = {.sha256_fingerprint = cert.sha256_colon_upper}};
  run(ctx_, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx_.get_executor(), endpoint);
    co_await stream->write(asio::buffer(data));
    const std::string echoed = co_await test::read_exactly(*stream, data.size());
    EXPECT_EQ(echoed, data);
  }());
  EXPECT_EQ(seen_.target, "/vncwebsocket?port=5900&vncticket=T");
  EXPECT_EQ(seen_.protocol, "binary");
}

TEST_F(WebSocketStreamTest, Wss_DefaultVerification_RejectsSelfSigned) {
  const auto cert = test::make_self_signed();
  ssl::context server_tls{ssl::context::tls_server};
  server_tls.use_certificate_chain(asio::buffer(cert.cert_pem));
  server_tls.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        ssl::stream<test::tcp::socket> tls(co_await acceptor_.async_accept(asio::use_awaitable), server_tls);
        boost::system::error_code ignored;
        co_await tls.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ignored));
      },
      asio::detached);
  const std::string error = read_error(Endpoint{.url = base("wss") + "/?token=tok1secret"});
  EXPECT_THAT(error, HasSubstr("certificate verify failed"));
  EXPECT_THAT(error, Not(HasSubstr("tok1secret")));
}

}  // namespace
}  // namespace vncgate::io
