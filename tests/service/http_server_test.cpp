// SPDX-License-Identifier: Apache-2.0
// The service's HTTP layer over real loopback sockets, driven by our HTTP client: routing, 404/405, body
// limit, malformed requests, API keys, JSON errors, the request metric and the Prometheus rendering.
#include "service/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/http_client.hpp"
#include "service/connection_limiter.hpp"
#include "util/error.hpp"

namespace vncgate::service {
namespace {

// A body of `size` bytes, byte i = i % 251, made in pieces as the server asks.
class CountingSource : public BodySource {
 public:
  explicit CountingSource(std::uint64_t size) : size_(size) {}
  std::size_t read(std::span<char> into) override {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), size_ - at_));
    for (std::size_t i = 0; i < n; ++i) into[i] = static_cast<char>((at_ + i) % 251);
    at_ += n;
    return n;
  }

 private:
  std::uint64_t size_, at_ = 0;
};
constexpr std::uint64_t kBig = 5'000'000;

// Sends `request` on a fresh connection and returns everything the server sends until it closes.
std::string raw_exchange(int port, const std::string& request) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string reply;
  std::array<char, 65536> chunk{};
  boost::system::error_code ec;
  while (!ec) reply.append(chunk.data(), socket.read_some(boost::asio::buffer(chunk), ec));
  return reply;
}

class HttpServerTest : public testing::Test {
 protected:
  void start(ServerOptions options = {}, int io_threads = 1) {
    options.port = 0;
    options.body_limit = 1024;
    options.allow_no_auth = true;
    options.allowed_hosts.push_back("x");  // raw requests below say Host: x
    Router router;
    router.add("GET", "/slow", [](const HttpRequest&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a slow database
      return json_response(200, "{}");
    });
    router.add("GET", "/big", [](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "application/octet-stream";
      r.source = std::make_shared<CountingSource>(kBig);
      r.source_length = kBig;
      return r;
    });
    router.add(
        "GET", "/healthz", [](const HttpRequest&) { return json_response(200, R"({"status":"ok"})"); }, true);
    router.add("GET", "/api/v1/recordings/{id}", [](const HttpRequest& r) {
      if (r.params.at("id") == "boom") throw UsageError("duration must be positive");
      if (r.params.at("id") == "crash") throw std::runtime_error("secret internals");
      return json_response(
          200,
          nlohmann::json{{"id", r.params.at("id")}, {"q", r.query.count("state") ? r.query.at("state") : ""}}.dump());
    });
    router.add("POST", "/record", [](const HttpRequest& r) {
      nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
      if (body.is_discarded()) return json_error(400, "malformed_json", "the body is not JSON");
      return json_response(202, body.dump());
    });
    server_ = std::make_unique<HttpServer>(io_, pool_.get_executor(), options, std::move(router), metrics_);
    server_->start();
    for (int i = 0; i < io_threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  http::Response send(std::string method, std::string path, std::string body = "", http::Headers headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    r.body = std::move(body);
    r.headers = std::move(headers);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.timeout = std::chrono::seconds(5);
    return http::send_blocking(r);
  }
  static std::string error_code(const http::Response& r) { return nlohmann::json::parse(r.body)["error"]["code"]; }

  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{2};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
};

TEST_F(HttpServerTest, RoutesWithParametersAndQueries) {
  start();
  auto r = send("GET", "/api/v1/recordings/abc123?state=done");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["id"], "abc123");
  EXPECT_EQ(nlohmann::json::parse(r.body)["q"], "done");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  auto r = send("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = send("DELETE", "/record");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_code(r), "method_not_allowed");
}

TEST_F(HttpServerTest, HandlerErrorsBecomeJsonWithTheRightStatusAndNoInternals) {
  start();
  auto r = send("GET", "/api/v1/recordings/boom");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "usage");
  r = send("GET", "/api/v1/recordings/crash");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret internals"), std::string::npos);
  r = send("POST", "/record", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "malformed_json");
}

TEST_F(HttpServerTest, BodiesOverTheLimitAre413) {
  start();
  auto r = send("POST", "/record", std::string(5000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code(r), "body_too_large");
}

TEST_F(HttpServerTest, GarbageInsteadOfHttpIs400) {
  start();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  boost::asio::write(socket, boost::asio::buffer(std::string("\x16\x03\x01 not http at all\r\n\r\n")));
  std::string reply(256, '\0');
  boost::system::error_code ec;
  const auto n = socket.read_some(boost::asio::buffer(reply), ec);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 400") << reply.substr(0, n);
}

TEST_F(HttpServerTest, ApiKeysAreRequiredExceptOnPublicRoutes) {
  ServerOptions options;
  options.api_keys = {"k-one", "k-two"};
  start(options);
  EXPECT_EQ(send("GET", "/healthz").status, 200);
  auto r = send("GET", "/api/v1/recordings/x");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(send("GET", "/api/v1/recordings/x", "", {{"Authorization", "Bearer k-on"}}).status, 401);
  EXPECT_EQ(send("GET", "/api/v1/recordings/x", "", {{"Authorization", "k-two"}}).status, 401);
  EXPECT_EQ(send("GET", "/api/v1/recordings/x", "", {{"Authorization", "Bearer k-two"}}).status, 200);
}

TEST(HttpServerConfig, AnOpenBindWithoutApiKeysIsRefused) {
  boost::asio::io_context io;
  Metrics metrics;
  ServerOptions options;
  options.bind = "0.0.0.0";
  options.allow_no_auth = true;
  EXPECT_THROW(HttpServer(io, io.get_executor(), options, Router{}, metrics), ConfigError);
  options.bind = "127.0.0.1";
  options.allow_no_auth = false;
  EXPECT_THROW(HttpServer(io, io.get_executor(), options, Router{}, metrics), ConfigError)
      << "no keys only as an explicit choice";
  options.api_keys = {"k"};
  options.bind = "0.0.0.0";
  EXPECT_THROW(HttpServer(io, io.get_executor(), options, Router{}, metrics), ConfigError)
      << "a wildcard bind needs the host names clients use";
  options.allowed_hosts = {"gw.example.com"};
  EXPECT_NO_THROW(HttpServer(io, io.get_executor(), options, Router{}, metrics));
}

TEST(ApiKeys, MatchOnlyExactKeys_AndSayWhichKey) {
  EXPECT_EQ(matching_api_key({"abc"}, "abc"), 1u);
  EXPECT_EQ(matching_api_key({"abc", "def"}, "def"), 2u);
  EXPECT_EQ(matching_api_key({"abc"}, "abcd"), 0u);
  EXPECT_EQ(matching_api_key({"abc"}, ""), 0u);
  EXPECT_EQ(matching_api_key({}, "abc"), 0u);
}

TEST_F(HttpServerTest, RequestsAreCountedByRouteAndStatus) {
  start();
  send("GET", "/api/v1/recordings/a");
  send("GET", "/api/v1/recordings/b");
  send("GET", "/zzz");
  EXPECT_EQ(metrics_.value("vncgate_http_requests_total",
                           {{"route", "/api/v1/recordings/{id}"}, {"method", "GET"}, {"status", "200"}}),
            2);
  EXPECT_EQ(
      metrics_.value("vncgate_http_requests_total", {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}), 1);
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotHoldUpOtherRequests) {
  start();  // one network thread: a handler running on it would block every other connection
  std::thread slow([this] { EXPECT_EQ(send("GET", "/slow").status, 200); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(send("GET", "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(800));
  slow.join();
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutTheBody) {
  start();
  const auto reply = raw_exchange(server_->port(), "HEAD /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 200") << reply;
  EXPECT_NE(reply.find("Content-Length: " + std::to_string(kBig)), std::string::npos) << reply;
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), "") << "no body for HEAD";
}

TEST_F(HttpServerTest, UnknownMethodsAreCountedAsOther) {
  start();
  for (const char* method : {"BREW", "PROPFIND", "X-1"})
    raw_exchange(server_->port(), std::string(method) + " /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(
      metrics_.value("vncgate_http_requests_total", {{"route", "unmatched"}, {"method", "other"}, {"status", "405"}}),
      3);
  EXPECT_EQ(metrics_.render().find("BREW"), std::string::npos);
}

TEST_F(HttpServerTest, AStreamedBodyOutlastsTheRequestTimeoutAndArrivesWhole) {
  ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  start(options);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  boost::asio::write(socket,
                     boost::asio::buffer(std::string("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::string reply;
  std::array<char, 65536> chunk{};
  boost::system::error_code ec;
  const auto started = std::chrono::steady_clock::now();
  while (!ec) {  // a slow reader: about 2 s for 5 MB, far past the request timeout
    reply.append(chunk.data(), socket.read_some(boost::asio::buffer(chunk), ec));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
  const auto body_at = reply.find("\r\n\r\n") + 4;
  ASSERT_EQ(reply.size() - body_at, kBig) << reply.substr(0, 200);
  for (std::size_t i = 0; i < kBig; ++i)
    ASSERT_EQ(static_cast<unsigned char>(reply[body_at + i]), i % 251) << "byte " << i;
}

// The crash of issue 14: request timeouts firing while bytes still arrive, on several network threads.
TEST_F(HttpServerTest, SlowDrippingClientsTimeOutWithoutHarm) {
  ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(150);
  start(options, 2);
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::socket> sockets;
  for (int i = 0; i < 100; ++i) {
    sockets.emplace_back(io);
    sockets.back().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  }
  const std::string request = "POST /record HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" + std::string(500, 'x');
  for (std::size_t at = 0; at < 40; ++at) {  // one byte per connection every 10 ms, around the timeouts
    for (auto& s : sockets) {
      boost::system::error_code ec;
      boost::asio::write(s, boost::asio::buffer(request.data() + at, 1), ec);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(send("GET", "/healthz").status, 200);
}

TEST(ConnectionLimiter, CapsInAllAndPerClient_AndSlotsMayOutliveTheLimiter) {
  std::shared_ptr<void> kept;
  {
    ConnectionLimiter limiter(3, 2);
    auto a1 = limiter.acquire("a"), a2 = limiter.acquire("a");
    EXPECT_TRUE(a1 && a2);
    EXPECT_FALSE(limiter.acquire("a")) << "per client";
    auto b1 = limiter.acquire("b");
    EXPECT_TRUE(b1);
    EXPECT_FALSE(limiter.acquire("c")) << "in all";
    a1.reset();
    EXPECT_EQ(limiter.open(), 2u);
    EXPECT_TRUE(limiter.acquire("c")) << "a slot given back is free again";
    kept = b1;
  }
  kept.reset();  // after the limiter: a connection's coroutine frame can outlive the server (ASan/valgrind catch it)
}

TEST(Metrics, RendersPrometheusTextWithEscapedLabels) {
  Metrics m;
  m.add("jobs_total", "Jobs created", {{"state", "done"}});
  m.add("jobs_total", "Jobs created", {{"state", "done"}}, 2);
  m.set("active_recordings", "Recordings running", {}, 3);
  m.add("odd", "Odd labels", {{"v", "a\"b\\c\nd"}});
  const auto text = m.render();
  EXPECT_NE(text.find("# TYPE jobs_total counter\njobs_total{state=\"done\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE active_recordings gauge\nactive_recordings 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("odd{v=\"a\\\"b\\\\c\\nd\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace vncgate::service
