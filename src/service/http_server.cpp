// SPDX-License-Identifier: Apache-2.0
#include "service/http_server.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http/http_client.hpp"
#include "io/endpoint.hpp"
#include "io/offload.hpp"
#include "service/connection_limiter.hpp"
#include "service/request_guard.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::optional<std::string> HttpRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  return std::nullopt;
}

HttpResponse json_error(int status, const std::string& code, const std::string& message) {
  return json_response(status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

HttpResponse json_response(int status, const std::string& json_text) {
  HttpResponse r;
  r.status = status;
  r.body = json_text;
  return r;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::array<unsigned char, 32> sha256(const std::string& text) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

// Request methods as metric labels: the standard ones, anything else "other" (a label must not take any value a
// client sends).
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
    if (method == known) return method;
  return method == "-" ? method : "other";
}

// What a fault means for the client: its request (4xx) or something behind us (5xx).
int status_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::usage:
    case ErrorCategory::config: return 400;
    case ErrorCategory::auth:
    case ErrorCategory::provider:
    case ErrorCategory::protocol:
    case ErrorCategory::io: return 502;
    case ErrorCategory::storage: return 503;
    default: return 500;
  }
}

}  // namespace

HttpRequest to_http_request(const UpgradeRequest& in) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  const std::string target(in.target());
  const auto q = target.find('?');
  out.path = http::percent_decode(target.substr(0, q)).value_or(target.substr(0, q));
  if (q != std::string::npos) {
    std::stringstream pairs(target.substr(q + 1));
    for (std::string pair; std::getline(pairs, pair, '&');) {
      const auto eq = pair.find('=');
      auto key = http::percent_decode(pair.substr(0, eq)).value_or("");
      auto value = eq == std::string::npos ? "" : http::percent_decode(pair.substr(eq + 1)).value_or("");
      if (!key.empty()) out.query[key] = value;
    }
  }
  for (const auto& field : in) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = in.body();
  return out;
}

// Digests have a fixed length, so CRYPTO_memcmp's time does not reveal lengths or matching prefixes; every key is
// compared whichever matches.
std::size_t matching_api_key(const std::vector<std::string>& keys, const std::string& presented) {
  const auto want = sha256(presented);
  std::size_t found = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool equal = CRYPTO_memcmp(sha256(keys[i]).data(), want.data(), want.size()) == 0;
    found |= equal ? i + 1 : 0;
  }
  return found;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler, bool public_route) {
  routes_.push_back({method, pattern, split_path(pattern), std::move(handler), public_route, {}});
}

void Router::add_upgrade(const std::string& pattern, UpgradeHandler handler) {
  routes_.push_back(
      {"GET", pattern, split_path(pattern),
       [](const HttpRequest&) { return json_error(426, "upgrade_required", "this is a WebSocket endpoint"); }, true,
       std::move(handler)});
}

Router::Match Router::match(const std::string& request_method, const std::string& path) const {
  const std::string& method = request_method == "HEAD" ? std::string("GET") : request_method;
  Match result;
  result.route = "unmatched";
  const auto parts = split_path(path);
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool same = true;
    for (std::size_t i = 0; i < parts.size() && same; ++i) {
      const auto& seg = route.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
        params[seg.substr(1, seg.size() - 2)] = parts[i];
      else
        same = seg == parts[i];
    }
    if (!same) continue;
    result.path_known = true;
    if (route.method != method) continue;
    result.handler = &route.handler;
    if (route.upgrade) result.upgrade = &route.upgrade;
    result.route = route.pattern;
    result.params = std::move(params);
    result.public_route = route.public_route;
    return result;
  }
  if (!result.path_known && fallback_ && method == "GET") {  // HEAD too
    result.handler = &fallback_;
    result.route = "static";
    result.public_route = true;
  }
  return result;
}

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  asio::any_io_executor blocking;
  ServerOptions options;
  Router router;
  Metrics& metrics;
  RequestGuard guard;
  ConnectionLimiter limiter;
  asio::strand<asio::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // set when the options name a certificate
  std::atomic<bool> stopped = false;

  Impl(asio::io_context& i, asio::any_io_executor b, ServerOptions o, Router r, Metrics& m)
      : io(i),
        blocking(std::move(b)),
        options(std::move(o)),
        router(std::move(r)),
        metrics(m),
        guard(options),
        limiter(options.max_connections, options.max_connections_per_client),
        accept_strand(asio::make_strand(i)),
        acceptor(accept_strand) {}

  void count(const std::string& route, const std::string& method, int status) {
    metrics.add("vncgate_http_requests_total", "HTTP requests by route, method and status",
                {{"route", route}, {"method", method_label(method)}, {"status", std::to_string(status)}});
  }

  HttpResponse dispatch(HttpRequest& request, std::string& route) {
    auto match = router.match(request.method, request.path);
    route = match.route;
    if (auto refused = guard.check(request, false)) return *refused;
    if (!match.handler) {
      if (match.path_known) return json_error(405, "method_not_allowed", request.method + " is not allowed here");
      return json_error(404, "not_found", "no such route: " + request.path);
    }
    if (!match.public_route && !options.api_keys.empty()) {
      const auto auth = request.header("Authorization").value_or("");
      const std::string prefix = "Bearer ";
      const std::size_t key = auth.compare(0, prefix.size(), prefix) == 0
                                  ? matching_api_key(options.api_keys, auth.substr(prefix.size()))
                                  : 0;
      if (key == 0) {
        auto r = json_error(401, "unauthorized", "a valid API key is required (Authorization: Bearer KEY)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
      }
      request.client = "key #" + std::to_string(key);
    }
    request.params = std::move(match.params);
    try {
      return (*match.handler)(request);
    } catch (const Error& e) {
      return json_error(status_for(e.category()), std::string(to_string(e.category())), e.what());
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} failed: {}", request.method, route, e.what());
      return json_error(500, "internal", "internal error");
    }
  }

  // `slot` is the connection's place under the caps, given back when it ends.
  asio::awaitable<void> serve(tcp::socket socket, std::shared_ptr<void> slot) {
    (void)slot;                      // held in the coroutine frame until the connection ends
    auto self = shared_from_this();  // connections outlive neither the server's state nor each other's
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve_on(stream);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    beast::get_lowest_layer(stream).expires_after(options.request_timeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;  // not TLS, or a failed handshake: nothing to answer
    co_await serve_on(stream);
  }

  struct Handled {
    HttpResponse response;
    std::string route;
  };
  // Runs the request's handler on the blocking pool; the caller resumes on the connection's strand.
  asio::awaitable<Handled> handle(HttpRequest request) {
    auto run = [self = shared_from_this(), request = std::make_shared<HttpRequest>(std::move(request))] {
      Handled out;
      out.response = self->dispatch(*request, out.route);
      return out;
    };
    return io::offload(blocking, run);
  }

  // A handler's deferred answer, on the connection's strand; faults become error responses as in dispatch().
  static asio::awaitable<HttpResponse> finish_deferred(std::function<asio::awaitable<HttpResponse>()> deferred,
                                                       std::string route) {
    try {
      co_return co_await deferred();
    } catch (const Error& e) {
      co_return json_error(status_for(e.category()), std::string(to_string(e.category())), e.what());
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed: {}", route, e.what());
      co_return json_error(500, "internal", "internal error");
    }
  }

  // The HTTP/1.1 loop on a plain or TLS stream, on the connection's strand.
  template <class Stream>
  asio::awaitable<void> serve_on(Stream& stream) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(16 * 1024);
      tcp_layer.expires_after(options.request_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      (void)n;
      HttpResponse response;
      std::string route = "unmatched", method = "-";
      bool keep_alive = false, head = false;
      if (ec == bhttp::error::body_limit) {
        response = json_error(413, "body_too_large",
                              "request body over the limit of " + std::to_string(options.body_limit) + " bytes");
      } else if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
                 ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
        break;
      } else if (ec) {
        response = json_error(400, "bad_request", "malformed HTTP request: " + ec.message());
      } else if (beast::websocket::is_upgrade(parser.get())) {
        if (auto match = router.match("GET", http::percent_decode(std::string(parser.get().target().substr(
                                                                      0, parser.get().target().find('?'))))
                                                 .value_or(""));
            match.upgrade) {
          auto request = to_http_request(parser.get());
          if (auto refused = guard.check(request, true)) {
            count(match.route, "GET", refused->status);
            co_await write_response(stream, *refused, false, false);
            break;
          }
          count(match.route, "GET", 101);
          request.params = std::move(match.params);
          tcp_layer.expires_never();
          UpgradeConnection connection;
          if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            connection.plain.emplace(stream.release_socket());
          } else {
            connection.tls = std::make_unique<Stream>(std::move(stream));
            connection.tls_context = tls;
          }
          (*match.upgrade)(std::move(connection), parser.release(), request);
          co_return;
        }
        response = json_error(404, "not_found", "no WebSocket endpoint here");
      } else {
        method = std::string(parser.get().method_string());
        head = method == "HEAD";
        keep_alive = parser.get().keep_alive() && !stopped;
        tcp_layer.expires_never();  // the handler may take its time; the client is not waited for meanwhile
        // Named first: g++ 12 destroys non-trivial temporaries of a co_await expression twice (io/offload.hpp).
        auto request = to_http_request(parser.get());
        auto handling = handle(std::move(request));
        Handled handled = co_await std::move(handling);
        if (handled.response.deferred) {
          auto later = finish_deferred(std::move(handled.response.deferred), handled.route);
          handled.response = co_await std::move(later);
        }
        response = std::move(handled.response);
        route = std::move(handled.route);
      }
      count(route, method, response.status);
      if (!co_await write_response(stream, response, keep_alive, head) || !keep_alive) break;
    }
    beast::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Lingering close: a client still sending a refused body would get a reset instead of our answer if the
    // socket closed with its bytes unread. Discard what follows for a moment (bounded), then close.
    tcp_layer.expires_after(std::chrono::seconds(2));
    std::array<char, 16384> sink;
    for (std::size_t drained = 0; drained < (16u << 20);) {
      auto [rec, n] = co_await tcp_layer.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
      if (rec) break;
      drained += n;
    }
  }

  // Writes the status line, headers and body (in pieces from its source, each within write_timeout, so a slow
  // download goes on as long as it moves). False when the connection failed.
  template <class Stream>
  asio::awaitable<bool> write_response(Stream& stream, HttpResponse& response, bool keep_alive, bool head) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    out.set(bhttp::field::server, "vncgate");
    out.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.keep_alive(keep_alive);
    const bool streamed = response.source != nullptr;
    if (streamed)
      out.content_length(response.source_length);
    else
      out.content_length(response.body.size());
    if (!head && !streamed) out.body() = std::move(response.body);
    bhttp::response_serializer<bhttp::string_body> serializer{out};
    tcp_layer.expires_after(options.write_timeout);
    if (head || streamed) {
      auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (ec) co_return false;
    } else {
      auto [ec, n] = co_await bhttp::async_write(stream, serializer, asio::as_tuple(asio::use_awaitable));
      (void)n;
      co_return !ec;
    }
    if (head || !streamed) co_return true;
    // One piece in memory per download, whatever the size of the file.
    constexpr std::size_t kPiece = 256 * 1024;
    std::vector<char> piece(static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, response.source_length)));
    auto source = response.source;
    for (std::uint64_t left = response.source_length; left > 0;) {
      const std::span<char> into(piece.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size())));
      std::size_t got = 0;
      const auto read_piece = [source, into] { return source->read(into); };
      try {
        got = co_await io::offload(blocking, read_piece);
      } catch (const std::exception& e) {
        spdlog::warn("http: a download stopped after {} of {} bytes: {}", response.source_length - left,
                     response.source_length, e.what());
        co_return false;
      }
      if (got == 0) {
        spdlog::warn("http: a download's source ended {} bytes early", left);
        co_return false;
      }
      tcp_layer.expires_after(options.write_timeout);
      auto [ec, n] =
          co_await asio::async_write(stream, asio::buffer(piece.data(), got), asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (ec) co_return false;
      left -= got;
    }
    co_return true;
  }

  // Every connection gets a strand of its own: its reads, writes and timers never run at the same time.
  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer pause(accept_strand);
    std::chrono::milliseconds backoff{0};
    while (!stopped) {
      auto strand = asio::make_strand(io);  // named: see handle() on temporaries in co_await expressions
      auto [ec, socket] = co_await acceptor.async_accept(strand, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopped) break;
        // Out of descriptors (EMFILE/ENFILE) the pending connection stays queued and accept fails again at
        // once: wait, longer each time, instead of spinning.
        backoff = std::min<std::chrono::milliseconds>(std::max(backoff * 2, std::chrono::milliseconds(50)),
                                                      std::chrono::seconds(1));
        if (backoff == std::chrono::milliseconds(50))
          spdlog::warn("http: accept failed ({}); pausing accepts", ec.message());
        pause.expires_after(backoff);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      boost::system::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec);
      auto slot = limiter.acquire(peer_ec ? std::string() : peer.address().to_string());
      if (!slot) {
        metrics.add("vncgate_http_connections_refused_total", "Connections closed at once: over a connection cap", {});
        continue;  // the socket closes here
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(std::move(socket), std::move(slot)), asio::detached);
    }
  }
};

HttpServer::HttpServer(asio::io_context& io, asio::any_io_executor blocking, ServerOptions options, Router router,
                       Metrics& metrics) {
  if (options.api_keys.empty() && !io::is_loopback_address(options.bind))
    throw ConfigError("listening on " + options.bind + " needs API keys (only a loopback address may go without)");
  if (options.api_keys.empty() && !options.allow_no_auth)
    throw ConfigError(
        "server.api_keys: required; without keys set server.allow_no_auth = true (loopback only: anyone who can "
        "reach the port, or a proxy in front of it, may use the API)");
  if (options.api_keys.empty())
    spdlog::warn(
        "http: no API keys (server.allow_no_auth): every local client may use the API; requests through a "
        "proxy are refused");
  impl_ = std::make_shared<Impl>(io, std::move(blocking), std::move(options), std::move(router), metrics);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& d = *impl_;
  if (!d.options.tls_cert.empty() || !d.options.tls_key.empty()) {
    if (d.options.tls_cert.empty() || d.options.tls_key.empty())
      throw ConfigError("TLS needs both a certificate and a key");
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    context->use_certificate_chain_file(d.options.tls_cert, ec);
    if (ec) throw ConfigError("TLS certificate " + d.options.tls_cert + ": " + ec.message());
    context->use_private_key_file(d.options.tls_key, asio::ssl::context::pem, ec);
    if (ec) throw ConfigError("TLS key " + d.options.tls_key + ": " + ec.message());
    d.tls = std::move(context);
  }
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(d.options.bind, ec), d.options.port);
  if (ec) throw ConfigError("bad listen address '" + d.options.bind + "'");
  d.acceptor.open(endpoint.protocol());
  d.acceptor.set_option(tcp::acceptor::reuse_address(true));
  d.acceptor.bind(endpoint, ec);
  if (ec)
    throw IoError("cannot listen on " + d.options.bind + ":" + std::to_string(d.options.port) + ": " + ec.message());
  d.acceptor.listen();
  d.guard.set_port(d.acceptor.local_endpoint().port());
  asio::co_spawn(d.accept_strand, d.accept_loop(), asio::detached);
}

void HttpServer::stop() {
  if (!impl_) return;
  auto d = impl_;
  asio::post(d->accept_strand, [d] {
    d->stopped = true;
    boost::system::error_code ignored;
    d->acceptor.close(ignored);
  });
}

std::uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace vncgate::service
