// SPDX-License-Identifier: Apache-2.0
#include "support/rfb_upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "rfb/server_connection.hpp"

namespace vncgate::test {

namespace asio = boost::asio;
using asio::ip::tcp;

RfbUpstream::RfbUpstream(asio::io_context& ctx, int port, std::string password)
    : acceptor_(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port))),
      password_(std::move(password)) {
  fb_.resize(64, 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) fb_.row(y)[x] = framebuffer::make_pixel(x * 4, y * 5, 200);
  asio::co_spawn(ctx, accept(), asio::detached);
}

std::vector<std::uint32_t> RfbUpstream::keys() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

void RfbUpstream::drop() {
  asio::post(acceptor_.get_executor(), [this] {
    for (auto* s : sockets_) s->close();
  });
}

asio::awaitable<void> RfbUpstream::accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++connections_;
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

struct RfbUpstream::KeyListener : rfb::ServerListener {
  RfbUpstream& u;
  explicit KeyListener(RfbUpstream& up) : u(up) {}
  void on_key(std::uint32_t keysym, bool down) override {
    std::lock_guard lock(u.mutex_);
    if (down) u.keys_.push_back(keysym);
  }
};

asio::awaitable<void> RfbUpstream::serve(tcp::socket socket) {
  sockets_.insert(&socket);
  KeyListener keys(*this);
  rfb::ServerConnection conn({.password = password_}, fb_.width(), fb_.height(), &keys);
  std::vector<std::uint8_t> buf(4096);
  try {
    for (;;) {
      conn.send_update(fb_);
      const auto out = conn.take_output();
      if (!out.empty()) co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
      if (conn.closed()) break;  // a failed login: its reason was just written
      const auto n = co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
      conn.feed({buf.data(), n});
    }
  } catch (const std::exception&) {
  }
  sockets_.erase(&socket);
}

}  // namespace vncgate::test
