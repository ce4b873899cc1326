// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "service/metrics.hpp"

namespace vncgate::service {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string path;                           // without the query
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> params;  // from the route pattern, e.g. {id}
  Headers headers;
  std::string body;
  // Who asks, for per-client limits: "key #N" (the N-th configured API key) or "" without keys.
  std::string client;
  // The first header called `name` (case-insensitive).
  std::optional<std::string> header(const std::string& name) const;
};

// A response body too large to hold in memory (a recording in a file or in storage), sent in pieces: read() is
// called on the server's blocking pool, one piece at a time, until `length` bytes were sent.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Copies the next bytes into `into` (at most its size); 0 only at the end. Throws on a fault: the
  // connection is then closed, as the status line is already out.
  virtual std::size_t read(std::span<char> into) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;  // ignored when `source` is set
  Headers headers;
  std::shared_ptr<BodySource> source;  // a streamed body of `source_length` bytes
  std::uint64_t source_length = 0;
  // An answer that comes later (an event, a timeout) without holding a thread meanwhile: the handler checks
  // the request and returns this; the server awaits it on the connection's strand and sends what it returns
  // (its other fields are then ignored). It must not block.
  std::function<boost::asio::awaitable<HttpResponse>()> deferred;
};

// {"error":{"code":…,"message":…}} with `status`: the one error shape of the API.
HttpResponse json_error(int status, const std::string& code, const std::string& message);
HttpResponse json_response(int status, const std::string& json_text);

// Runs on the server's blocking pool: it may block (database, storage, files), and may run on several threads at
// once for different requests.
using Handler = std::function<HttpResponse(const HttpRequest&)>;
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;
// The connection a WebSocket upgrade arrived on: plain TCP, or TLS when the server has a certificate.
struct UpgradeConnection {
  std::optional<boost::asio::ip::tcp::socket> plain;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
  std::shared_ptr<boost::asio::ssl::context> tls_context;  // what `tls` was accepted with
};
// Takes over the connection of a WebSocket upgrade request (the 101 answer is the handler's to send); runs on the
// connection's strand and must not block (it hands the connection on). `request` has the route's params.
using UpgradeHandler =
    std::function<void(UpgradeConnection connection, UpgradeRequest upgrade, const HttpRequest& request)>;

// Method + path pattern ("/api/v1/recordings/{id}") → handler. The pattern doubles as the route label in
// metrics, so label cardinality stays bounded whatever ids clients send.
class Router {
 public:
  void add(const std::string& method, const std::string& pattern, Handler handler, bool public_route = false);

  struct Match {
    const Handler* handler = nullptr;
    const UpgradeHandler* upgrade = nullptr;  // set instead of handler for WebSocket endpoints
    std::string route;                        // the pattern, or "unmatched"
    std::map<std::string, std::string> params;
    bool path_known = false;    // the path exists for another method (405, not 404)
    bool public_route = false;  // no API key needed (health checks, metrics scrapes)
  };
  Match match(const std::string& method, const std::string& path) const;
  // A WebSocket endpoint: upgrade requests to `pattern` go to `handler`; plain requests to it get 426. Public:
  // such endpoints authenticate by their own means (one-time tokens in the path).
  void add_upgrade(const std::string& pattern, UpgradeHandler handler);
  // Answers GET requests whose path no route knows (static files of the web root); public.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }

 private:
  struct Route {
    std::string method, pattern;
    std::vector<std::string> segments;
    Handler handler;
    bool public_route;
    UpgradeHandler upgrade;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

struct ServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8090;                         // 0 = any free port (tests)
  std::size_t body_limit = 1 << 20;                  // larger bodies get 413
  std::chrono::milliseconds request_timeout{30000};  // reading one request, headers and body
  // Writing one piece of a response (a streamed download goes on as long as each piece is taken in this time).
  std::chrono::milliseconds write_timeout{60000};
  // Bearer API keys; empty = no key needed, which takes allow_no_auth and a loopback bind.
  std::vector<std::string> api_keys;
  bool allow_no_auth = false;  // an explicit choice (a local demo): logged at start
  // Host names (or addresses) clients use besides the bind address and public_url's host; a wildcard bind
  // needs them (service/request_guard.hpp).
  std::vector<std::string> allowed_hosts;
  // Origins of pages that may use the API and open consoles; empty = public_url and http(s)://HOST:PORT of
  // the allowed hosts. Never derived from the request.
  std::vector<std::string> allowed_origins;
  std::string public_url;  // http(s)://HOST[:PORT] clients see (behind a proxy)
  // Open connections in all and per client address; more are closed at once (behind a proxy every client
  // has the proxy's address).
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_client = 256;
  // PEM files: with both, the listener speaks HTTPS (and wss:// for consoles), TLS 1.2 or newer.
  std::string tls_cert, tls_key;
};

// HTTP/1.1 server on Boost.Beast: keep-alive, body limit, per-request read timeout, per-piece write timeout,
// API-key check (constant time), JSON errors, a request counter per route, method and status. Each connection
// runs on its own strand of `io`; handlers (and BodySource reads) run on `blocking`, a pool for work that may
// block, so a slow database or storage never stalls a thread that carries network I/O. HEAD is answered as GET
// without the body. Every request passes a RequestGuard first (Host, proxy headers without keys, CSRF). Throws
// ConfigError when there are no API keys without allow_no_auth, or on an open bind.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, boost::asio::any_io_executor blocking, ServerOptions options, Router router,
             Metrics& metrics);
  ~HttpServer();
  void start();  // binds and accepts; throws IoError when the address is taken
  void stop();   // stops accepting; open connections finish their current request
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A parsed request as handlers see it: path percent-decoded and split from the query, headers copied.
HttpRequest to_http_request(const UpgradeRequest& in);

// The 1-based position of `presented` in `keys`, 0 when it is none of them; the time taken does not depend on
// where they differ or which key matched.
std::size_t matching_api_key(const std::vector<std::string>& keys, const std::string& presented);

}  // namespace vncgate::service
