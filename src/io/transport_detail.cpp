// SPDX-License-Identifier: Apache-2.0
#include "io/transport_detail.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "util/error.hpp"

namespace vncgate::io::detail {

void throw_error(const error_code& ec, const std::string& what) {
  // A TLS peer that drops TCP without close_notify (stream_truncated) has still ended the stream; for RFB
  // there is no length-delimited body that truncation could silently shorten.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    throw EndOfStream(what + ": connection closed by peer");
  }
  throw IoError(what + ": " + ec.message());
}

Deadline::Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout)
    : state_(std::make_shared<State>()), timer_(executor), timeout_(timeout) {
  if (timeout_.count() <= 0) return;
  timer_.expires_after(timeout_);
  // The handler holds the state, not `this`: it may run after the Deadline is gone (cancel() does not
  // recall a handler that was already queued), and then it finds no action.
  timer_.async_wait([state = state_](const error_code& ec) {
    if (ec) return;
    state->expired = true;
    if (auto action = std::move(state->action)) action();
  });
}

Deadline::~Deadline() {
  state_->action = nullptr;
  try {
    timer_.cancel();
  } catch (...) {  // cannot fail for a steady_timer in practice; the handler would find no action anyway
  }
}

Deadline::Watch Deadline::watch(std::function<void()> action) {
  if (state_->expired) {
    action();
  } else {
    state_->action = std::move(action);
  }
  return Watch(state_);
}

void Deadline::throw_if_expired(const std::string& what) const {
  if (state_->expired) throw IoError(what + ": timed out after " + std::to_string(timeout_.count()) + " ms");
}

std::string host_port(const ParsedUrl& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + url.host + "]" : url.host) + ":" + url.port;
}

void close_socket(tcp::socket& socket) noexcept {
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> connect_socket(const ParsedUrl& url, tcp::socket& socket, Deadline& deadline,
                                     const Endpoint* endpoint) {
  using asio::as_tuple;
  using asio::use_awaitable;
  std::vector<tcp::endpoint> endpoints;
  for (std::size_t i = 0; endpoint && i < endpoint->addresses.size(); ++i) {
    error_code ec;
    const auto parsed = asio::ip::make_address(endpoint->addresses[i], ec);
    if (ec) throw IoError("bad address " + endpoint->addresses[i] + " for " + url.host);
    endpoints.emplace_back(parsed, static_cast<unsigned short>(std::stoi(url.port)));
  }
  if (endpoints.empty()) {
    tcp::resolver resolver(socket.get_executor());
    auto watch = deadline.watch([&resolver] { resolver.cancel(); });
    auto [ec, results] =
        co_await resolver.async_resolve(url.host, url.port, tcp::resolver::numeric_service, as_tuple(use_awaitable));
    deadline.throw_if_expired("resolve " + url.host);
    if (ec) throw IoError("resolve " + url.host + ": " + ec.message());
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  const std::string what = "connect to " + host_port(url);
  {
    auto watch = deadline.watch([&socket] { close_socket(socket); });
    auto [ec, connected] = co_await asio::async_connect(socket, endpoints, as_tuple(use_awaitable));
    deadline.throw_if_expired(what);
    if (ec) throw IoError(what + ": " + ec.message());
  }
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // RFB is chatty: key and pointer events must not wait
  if (ec) throw IoError(what + ": setting TCP_NODELAY: " + ec.message());
}

}  // namespace vncgate::io::detail
