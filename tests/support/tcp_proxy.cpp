// SPDX-License-Identifier: Apache-2.0
#include "support/tcp_proxy.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace vncgate::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TcpProxy::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  int target_port;
  std::atomic<bool>& stalled;

  Impl(int target, std::atomic<bool>& stall) : target_port(target), stalled(stall) {}

  asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16384> buffer;
    asio::steady_timer pause(io);
    for (;;) {
      while (stalled) {
        pause.expires_after(std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      auto [ec, n] = co_await from->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      while (stalled) {  // bytes read just before the stall wait with the rest
        pause.expires_after(std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      auto [wec, wn] =
          co_await asio::async_write(*to, asio::buffer(buffer.data(), n), asio::as_tuple(asio::use_awaitable));
      (void)wn;
      if (wec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto client = std::make_shared<tcp::socket>(std::move(socket));
      auto server = std::make_shared<tcp::socket>(io);
      auto [cec] = co_await server->async_connect(
          {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(target_port)},
          asio::as_tuple(asio::use_awaitable));
      if (cec) continue;
      asio::co_spawn(io, pipe(client, server), asio::detached);
      asio::co_spawn(io, pipe(server, client), asio::detached);
    }
  }
};

TcpProxy::TcpProxy(int target_port) : impl_(std::make_unique<Impl>(target_port, stalled_)) {
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept(), asio::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
}

TcpProxy::~TcpProxy() {
  impl_->io.stop();
  thread_.join();
}

}  // namespace vncgate::test
