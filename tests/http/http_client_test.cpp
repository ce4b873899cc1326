// SPDX-License-Identifier: Apache-2.0
// http::send against an in-process loopback server that records the request and plays a canned answer.
// (TLS, pinning and CA files are exercised against the Proxmox emulator in the integration tests.)
#include "http/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include "io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::http {
namespace {

using namespace std::chrono_literals;
namespace test = io::test;
using test::tcp;

class HttpClient : public testing::Test {
 protected:
  // Accepts one connection, stores the request head + body in `seen_`, answers `answer` (unless empty: then
  // it keeps the connection open without a word).
  void serve(std::string answer) {
    asio::co_spawn(
        ctx_,
        [this, answer = std::move(answer)]() -> asio::awaitable<void> {
          auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
          asio::streambuf buf;
          const std::size_t head = co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::use_awaitable);
          std::string text(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
          const auto cl = text.find("Content-Length: ");
          const std::size_t body = cl == std::string::npos ? 0 : std::stoul(text.substr(cl + 16));
          while (text.size() < head + body) {
            co_await asio::async_read(socket, buf, asio::transfer_at_least(1), asio::use_awaitable);
            text.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
          }
          seen_ = text;
          if (answer.empty()) {
            asio::steady_timer forever(socket.get_executor(), 1h);
            co_await forever.async_wait(asio::use_awaitable);
          }
          co_await asio::async_write(socket, asio::buffer(answer), asio::use_awaitable);
          socket.shutdown(tcp::socket::shutdown_both);
        },
        asio::detached);
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + target;
  }
  // A plain function, not a lambda: the coroutine frame must not refer to a temporary closure.
  static asio::awaitable<void> fetch(Response& out, Request request) { out = co_await send(request); }
  Response send_now(const Request& request) {
    Response out;
    test::run(ctx_, fetch(out, request));
    return out;
  }

  asio::io_context ctx_;
  tcp::acceptor acceptor_ = test::loopback_acceptor(ctx_);
  std::string seen_;
};

TEST_F(HttpClient, Post_SendsHostHeadersAndBody_ParsesStatusHeadersBody) {
  serve(
      "HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAA\r\nContent-Type: application/json\r\n"
      "Content-Length: 11\r\n\r\n{\"ok\":true}");
  Request request;
  request.method = "POST";
  request.url = url("/v3/auth/tokens?nocatalog=0");
  request.headers = {{"Content-Type", "application/json"}, {"X-Custom", "v"}};
  request.body = "{\"auth\":{}}";
  const auto r = send_now(request);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.reason, "Created");
  EXPECT_EQ(r.header("x-subject-token"), "gAAAA");
  EXPECT_EQ(r.body, "{\"ok\":true}");
  EXPECT_EQ(seen_.rfind("POST /v3/auth/tokens?nocatalog=0 HTTP/1.1\r\n", 0), 0u) << seen_;
  EXPECT_NE(seen_.find("Host: 127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(seen_.find("X-Custom: v\r\n"), std::string::npos);
  EXPECT_NE(seen_.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_EQ(seen_.substr(seen_.size() - 11), "{\"auth\":{}}");
}

TEST_F(HttpClient, ErrorStatus_IsAnAnswerNotAnException) {
  serve("HTTP/1.1 403 Permission check failed (/vms/100, VM.Console)\r\nContent-Length: 13\r\n\r\n{\"data\":null}");
  Request request;
  request.url = url("/api2/json/nodes");
  const auto r = send_now(request);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.reason, "Permission check failed (/vms/100, VM.Console)");
}

TEST_F(HttpClient, SilentServer_TimesOut_WithoutShowingTheQuery) {
  serve("");
  Request request;
  request.url = url("/vncwebsocket?vncticket=SECRET");
  request.timeout = 300ms;
  try {
    send_now(request);
    FAIL() << "no timeout";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("timed out after 300 ms"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST_F(HttpClient, HeaderWithLineBreak_IsRefusedBeforeSending) {
  serve("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  Request request;
  request.url = url("/");
  request.headers = {{"Authorization", "PVEAPIToken=a@b!c=d\r\nX-Injected: 1"}};
  EXPECT_THROW(send_now(request), ConfigError);
}

TEST_F(HttpClient, ConnectionRefused_IsIoError) {
  const auto port = acceptor_.local_endpoint().port();
  acceptor_.close();
  Request request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_THROW(send_blocking(request), IoError);
  EXPECT_THROW(send_blocking(Request{.url = "ftp://x/"}), ConfigError);
}

}  // namespace
}  // namespace vncgate::http
