// SPDX-License-Identifier: Apache-2.0
// ws:// and wss:// — RFB carried in binary WebSocket messages (noVNC's transport: websockify,
// nova-novncproxy, Proxmox vncwebsocket).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "io/transport_detail.hpp"
#include "io/websocket_accept.hpp"
#include "util/error.hpp"

namespace vncgate::io::detail {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

using PlainLayer = beast::tcp_stream;
using TlsLayer = beast::ssl_stream<beast::tcp_stream>;
using std::chrono::steady_clock;

// Heartbeats fall on a clock grid shared by all connections (a sixth of the interval, at least a second), so an
// idle gateway wakes once per grid step for all the heartbeats due then instead of once per connection (10 000
// idle viewers' pings spread over time cost a thread wake-up each).
steady_clock::time_point on_grid(steady_clock::time_point t, std::chrono::seconds interval) {
  // Exactly a sixth (not rounded to seconds): one interval after a point of the grid is a point of the grid.
  const auto grid =
      std::max<steady_clock::duration>(std::chrono::seconds(1), duration_cast<steady_clock::duration>(interval) / 6);
  const auto since = t.time_since_epoch();
  return steady_clock::time_point((since + grid - steady_clock::duration(1)) / grid * grid);
}

// Next = PlainLayer (ws://) or TlsLayer (wss://).
template <class Next>
class WebSocketStream final : public ByteStream {
 public:
  // `context` is null for ws://; for wss:// it is the TLS context `next_args` refer to.
  template <class... Args>
  WebSocketStream(std::string what, std::shared_ptr<asio::ssl::context> context, Args&&... next_args)
      : context_(std::move(context)), ws_(std::forward<Args>(next_args)...), what_(std::move(what)) {
    ws_.binary(true);
    // Remember a received close frame: Beast then answers it and tears down, and when the peer has already
    // dropped TCP (websockify does) the read completes with that teardown's error, not error::closed.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::close) peer_closed_ = true;
      if (keep_alive_) keep_alive_->unanswered = 0;
    });
  }
  ~WebSocketStream() override {
    close();
    if (keep_alive_) {
      keep_alive_->stream = nullptr;
      keep_alive_->timer.cancel();
    }
  }

  // Server side: a heartbeat every `interval` on the keep-alive grid (see KeepAlive); a peer that sent nothing
  // in the interval after a ping is cut off. Starts with the first read, on the strand of the reads.
  void keep_alive_every(std::chrono::seconds interval) { ping_interval_ = interval; }

  websocket::stream<Next>& ws() { return ws_; }
  tcp::socket& socket() { return beast::get_lowest_layer(ws_).socket(); }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
    if (ping_interval_.count() > 0 && !keep_alive_) {
      const auto strand = co_await asio::this_coro::executor;
      start_keep_alive(strand);
    }
    for (;;) {
      auto [ec, n] = co_await ws_.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) fail(ec, "read from ");
      if (keep_alive_) keep_alive_->unanswered = 0;
      if (ws_.got_text()) throw IoError("read from " + what_ + ": got a text message; expected binary (RFB)");
      // Empty frames and empty messages are legal; the contract promises at least one byte.
      if (n > 0 || buffer.size() == 0) co_return n;
    }
  }

  asio::awaitable<void> write(asio::const_buffer buffer) override {
    auto [ec, n] = co_await ws_.async_write(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  // One binary message of all the buffers: Beast puts the frame header in front and writes header and
  // buffers with one gather write (server frames are not masked, so nothing is copied).
  asio::awaitable<void> write_gather(const std::vector<asio::const_buffer>& buffers) override {
    auto [ec, n] = co_await ws_.async_write(buffers, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  // Drops the TCP connection without a close handshake (that needs an async round trip); cancels pending
  // reads and writes.
  void close() noexcept override {
    if (closed_) return;
    closed_ = true;
    close_socket(socket());
  }

 private:
  // Heartbeats keep proxies in between (nginx closes a connection silent for 60 s) from cutting an idle console;
  // every kProbeEvery-th one is a ping that the peer must answer (with anything) before the next heartbeat, the
  // others are unsolicited pongs (RFC 6455 §5.5.3), which cost one write and no answer to wake up for.
  static constexpr int kProbeEvery = 4;

  // Lives on in the timer's handler; `stream` is cleared when the stream goes (on its strand).
  struct KeepAlive {
    KeepAlive(WebSocketStream* owner, const asio::any_io_executor& strand) : stream(owner), timer(strand) {}
    WebSocketStream* stream;
    asio::steady_timer timer;  // on the strand of the reads: its handler runs there
    int heartbeats = 0;
    int unanswered = 0;  // pings sent since the peer was last heard from
    bool sending = false;
  };

  void start_keep_alive(const asio::any_io_executor& strand) {
    keep_alive_ = std::make_shared<KeepAlive>(this, strand);
    schedule(keep_alive_, on_grid(steady_clock::now() + ping_interval_, ping_interval_), ping_interval_);
  }

  // A completion handler rather than a coroutine: 10 000 idle viewers hold a timer each, and nothing more.
  static void schedule(std::shared_ptr<KeepAlive> state, steady_clock::time_point at, std::chrono::seconds interval) {
    auto& timer = state->timer;
    timer.expires_at(at);
    timer.async_wait([state = std::move(state), at, interval](error_code ec) mutable {
      if (ec || !state->stream || !state->stream->heartbeat()) return;
      schedule(std::move(state), on_grid(at + interval, interval), interval);
    });
  }

  // One keep-alive step; false once the stream is closed (by us or anyone).
  bool heartbeat() {
    if (closed_ || timed_out_) return false;
    auto& state = *keep_alive_;
    if (state.unanswered > 0) {
      timed_out_ = true;  // the pending read fails, and says why
      close_socket(socket());
      return false;
    }
    const bool probe = state.heartbeats++ % kProbeEvery == 0;
    if (probe) ++state.unanswered;  // also when it cannot go out: a peer that does not read is cut off too
    // A control frame waits behind a write in progress; one at a time (Beast has room for one).
    if (!state.sending) {
      state.sending = true;
      auto done =
          asio::bind_executor(state.timer.get_executor(), [keep = keep_alive_](error_code) { keep->sending = false; });
      if (probe)
        ws_.async_ping({}, std::move(done));
      else
        ws_.async_pong({}, std::move(done));
    }
    return true;
  }

  [[noreturn]] void fail(const error_code& ec, const char* verb) const {
    if (timed_out_) throw IoError(verb + what_ + ": no answer to pings (peer gone)");
    if (closed_) throw IoError(verb + what_ + ": stream closed");
    if (ec == websocket::error::closed || peer_closed_) {
      // The peer sent a close frame (Beast has answered it). 1000 and 1005 ("no status", which websockify
      // sends) are ordinary; others, such as websockify's 1011 when its target is down, carry a reason.
      const auto& reason = ws_.reason();
      std::string message = "WebSocket " + what_ + " closed by peer";
      if (reason.code != websocket::close_code::none && reason.code != websocket::close_code::normal) {
        message += " (code " + std::to_string(reason.code);
        message += reason.reason.empty() ? ")" : ": " + std::string(reason.reason.c_str()) + ")";
      }
      throw EndOfStream(message);
    }
    if (ec == beast::error::timeout) throw IoError(verb + what_ + ": timed out");
    if (ec == websocket::error::message_too_big) throw IoError(verb + what_ + ": message over the size limit");
    throw_error(ec, verb + what_);
  }

  std::shared_ptr<asio::ssl::context> context_;  // before ws_: outlives it
  websocket::stream<Next> ws_;
  std::string what_;  // the redacted URL
  bool closed_ = false;
  bool peer_closed_ = false;
  bool timed_out_ = false;
  std::chrono::seconds ping_interval_{0};  // 0: no keep-alive (the client side)
  std::shared_ptr<KeepAlive> keep_alive_;
};

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// RFC 6455 §4.1: Host carries the port unless it is the scheme's default.
std::string host_header(const ParsedUrl& url) {
  const bool default_port = (url.scheme == "ws" && url.port == "80") || (url.scheme == "wss" && url.port == "443");
  if (!default_port) return host_port(url);
  return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

template <class Next>
void decorate(websocket::stream<Next>& ws, const Endpoint& endpoint) {
  std::string protocols;
  for (const auto& p : endpoint.subprotocols) protocols += (protocols.empty() ? "" : ", ") + p;
  for (const auto& [name, value] : endpoint.headers) {
    // Line breaks would smuggle extra header lines into the upgrade request. Values are never shown (they
    // may be credentials).
    if (name.empty() || has_line_break(name)) {
      throw Error(ErrorCategory::config, "a WebSocket header has an empty name or a line break in its name");
    }
    if (has_line_break(value)) {
      throw Error(ErrorCategory::config, "WebSocket header '" + name + "' has a line break in its value");
    }
  }
  ws.set_option(websocket::stream_base::decorator(
      [protocols = std::move(protocols), headers = endpoint.headers](websocket::request_type& req) {
        req.set(http::field::user_agent, "vncgate");
        if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
        // A custom header replaces ours of the same name; repeated custom names are all sent.
        for (const auto& [name, value] : headers) req.erase(name);
        for (const auto& [name, value] : headers) req.insert(name, value);
      }));
}

template <class Next>
asio::awaitable<void> upgrade(websocket::stream<Next>& ws, const ParsedUrl& url, const std::string& what,
                              Deadline& deadline) {
  websocket::response_type response;
  auto watch = deadline.watch([&ws] { close_socket(beast::get_lowest_layer(ws).socket()); });
  auto [ec] = co_await ws.async_handshake(response, host_header(url), url.target, asio::as_tuple(asio::use_awaitable));
  deadline.throw_if_expired("WebSocket upgrade to " + what);
  if (ec == websocket::error::upgrade_declined) {
    throw IoError("WebSocket upgrade to " + what + " refused: " + std::to_string(response.result_int()) + " " +
                  std::string(response.reason()));
  }
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == http::error::end_of_stream) {
    // websockify drops the connection without an HTTP answer when it does not know the token.
    throw IoError("WebSocket upgrade to " + what + ": connection closed by peer without an answer (unknown token?)");
  }
  if (ec) throw IoError("WebSocket upgrade to " + what + ": " + ec.message());
  spdlog::debug("WebSocket {} open, subprotocol '{}'", what,
                std::string(response[http::field::sec_websocket_protocol]));
}

}  // namespace

asio::awaitable<std::unique_ptr<ByteStream>> connect_websocket(asio::any_io_executor executor, const Endpoint& endpoint,
                                                               const ParsedUrl& url) {
  const std::string what = redact_url(endpoint.url);
  Deadline deadline(co_await asio::this_coro::executor, endpoint.connect_timeout);
  if (url.scheme == "ws") {
    auto stream = std::make_unique<WebSocketStream<PlainLayer>>(what, nullptr, executor);
    decorate(stream->ws(), endpoint);
    co_await connect_socket(url, stream->socket(), deadline, &endpoint);
    co_await upgrade(stream->ws(), url, what, deadline);
    co_return stream;
  }
  auto context = make_tls_context(endpoint.tls);
  auto stream = std::make_unique<WebSocketStream<TlsLayer>>(what, context, executor, *context);
  decorate(stream->ws(), endpoint);
  auto& tls = stream->ws().next_layer();
  prepare_tls(tls, endpoint.tls, url.host);
  co_await connect_socket(url, stream->socket(), deadline, &endpoint);
  {
    const std::string tls_what = "TLS handshake with " + host_port(url);
    auto watch = deadline.watch([&s = *stream] { close_socket(s.socket()); });
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    deadline.throw_if_expired(tls_what);
    if (ec) throw_handshake_error(ec, tls.native_handle(), tls_what);
    check_pinned_certificate(tls.native_handle(), endpoint.tls, tls_what);
  }
  co_await upgrade(stream->ws(), url, what, deadline);
  co_return stream;
}

}  // namespace vncgate::io::detail

namespace vncgate::io {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// Answers a refused upgrade with a plain HTTP status; errors are ignored (the peer may be gone already).
template <class Stream>
asio::awaitable<void> refuse(Stream& stream, const http::request<http::string_body>& req, http::status status,
                             const std::string& body) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.set(http::field::connection, "close");
  res.body() = body + "\n";
  res.prepare_payload();
  co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  detail::close_socket(beast::get_lowest_layer(stream).socket());
}

bool offers_binary(std::string_view header) {
  // Sec-WebSocket-Protocol: a comma-separated token list (RFC 6455 §11.3.4).
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto token = header.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token == "binary") return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin) {
  if (allowed.empty()) return true;
  return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

namespace {

// The upgrade on a plain (tcp_stream) or TLS (ssl_stream) connection whose request was read already.
template <class Next>
asio::awaitable<std::unique_ptr<ByteStream>> accept_on(Next next, std::shared_ptr<asio::ssl::context> context,
                                                       const http::request<http::string_body>& upgrade,
                                                       const WsAcceptOptions& options) {
  detail::error_code ec;
  const auto remote = beast::get_lowest_layer(next).socket().remote_endpoint(ec);
  const std::string peer =
      ec ? "WebSocket viewer"
         : "WebSocket viewer " + remote.address().to_string() + ":" + std::to_string(remote.port());
  if (!websocket::is_upgrade(upgrade)) {
    co_await refuse(next, upgrade, http::status::bad_request, "expected a WebSocket upgrade");
    throw ProtocolError(peer + ": not a WebSocket upgrade request");
  }
  const std::string origin(upgrade[http::field::origin]);
  if (!origin_allowed(options.allowed_origins, origin)) {
    co_await refuse(next, upgrade, http::status::forbidden, "origin not allowed");
    throw AuthError(peer + ": origin '" + origin + "' is not allowed");
  }
  auto stream = std::make_unique<detail::WebSocketStream<Next>>(peer, std::move(context), std::move(next));
  auto& ws = stream->ws();
  const bool binary = offers_binary(upgrade[http::field::sec_websocket_protocol]);
  ws.set_option(websocket::stream_base::decorator([binary](websocket::response_type& res) {
    res.set(http::field::server, "vncgate");
    if (binary) res.set(http::field::sec_websocket_protocol, "binary");
  }));
  // Heartbeats are ours (keep_alive_every: on a shared grid); Beast's timeout only bounds the handshakes, the closing
  // one included: a peer that broke the protocol and does not answer our close frame is cut off after this long.
  websocket::stream_base::timeout timeout;
  timeout.handshake_timeout = std::chrono::seconds(5);
  timeout.idle_timeout = websocket::stream_base::none();
  timeout.keep_alive_pings = false;
  ws.set_option(timeout);
  stream->keep_alive_every(options.ping_interval);
  ws.read_message_max(options.max_message_bytes);
  // One frame per message: Beast's default cuts messages into 4 KiB frames, one write (syscall) each.
  ws.auto_fragment(false);
  auto [accept_ec] = co_await ws.async_accept(upgrade, asio::as_tuple(asio::use_awaitable));
  if (accept_ec) throw IoError(peer + ": WebSocket handshake: " + accept_ec.message());
  co_return stream;
}

}  // namespace

asio::awaitable<std::unique_ptr<ByteStream>> accept_websocket(asio::ip::tcp::socket socket,
                                                              const http::request<http::string_body>& upgrade,
                                                              const WsAcceptOptions& options) {
  return accept_on(detail::PlainLayer(std::move(socket)), nullptr, upgrade, options);
}

asio::awaitable<std::unique_ptr<ByteStream>> accept_websocket(beast::ssl_stream<beast::tcp_stream> stream,
                                                              std::shared_ptr<asio::ssl::context> context,
                                                              const http::request<http::string_body>& upgrade,
                                                              const WsAcceptOptions& options) {
  return accept_on(std::move(stream), std::move(context), upgrade, options);
}

}  // namespace vncgate::io
