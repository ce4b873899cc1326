// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "io/byte_stream.hpp"

namespace vncgate::io {

struct WsAcceptOptions {
  // Exact "scheme://host[:port]" values the Origin header may have; empty = any origin (and none).
  std::vector<std::string> allowed_origins;
  // A heartbeat goes out every interval (on a clock grid all connections share): every fourth a ping, the
  // first included, the others unsolicited pongs. A peer that sent nothing in the interval after a ping, not
  // even the pong, is closed.
  std::chrono::seconds ping_interval{30};
  // Largest incoming message; RFB client messages are small except clipboard text.
  std::size_t max_message_bytes = 4u << 20;
};

// The server side of a WebSocket carrying RFB (noVNC, websockify clients): answers the upgrade request that
// the caller has already read from `socket`. Checks Origin (a mismatch is answered 403 and throws AuthError),
// picks subprotocol "binary" when offered, sends binary frames, keeps the connection alive with pings.
// A request that is not a WebSocket upgrade is answered 400 and throws ProtocolError; a failed handshake
// throws IoError. The returned stream's reads throw IoError on garbage frames, text or oversized messages.
// Runs on the coroutine's executor; the stream's operations belong to one strand like any ByteStream.
asio::awaitable<std::unique_ptr<ByteStream>> accept_websocket(
    asio::ip::tcp::socket socket, const boost::beast::http::request<boost::beast::http::string_body>& upgrade,
    const WsAcceptOptions& options);

// The same over TLS (a listener with a certificate: wss://); `context` is the one `stream` was accepted with
// and is kept alive with it.
asio::awaitable<std::unique_ptr<ByteStream>> accept_websocket(
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream, std::shared_ptr<asio::ssl::context> context,
    const boost::beast::http::request<boost::beast::http::string_body>& upgrade, const WsAcceptOptions& options);

// True when `origin` may connect under `allowed` (exact match; an empty list allows everything).
bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin);

}  // namespace vncgate::io
