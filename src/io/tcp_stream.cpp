// SPDX-License-Identifier: Apache-2.0
// vnc://host:port — RFB straight over TCP.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "io/transport_detail.hpp"
#include "util/error.hpp"

namespace vncgate::io::detail {
namespace {

class TcpStream final : public ByteStream {
 public:
  TcpStream(const asio::any_io_executor& executor, std::string peer) : socket_(executor), peer_(std::move(peer)) {}
  TcpStream(tcp::socket socket, std::string peer) : socket_(std::move(socket)), peer_(std::move(peer)) {}
  ~TcpStream() override { close(); }

  tcp::socket& socket() { return socket_; }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await socket_.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "read from ");
    co_return n;
  }

  asio::awaitable<void> write(asio::const_buffer buffer) override {
    auto [ec, n] = co_await asio::async_write(socket_, buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  asio::awaitable<void> write_gather(const std::vector<asio::const_buffer>& buffers) override {
    auto [ec, n] = co_await asio::async_write(socket_, buffers, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  void close() noexcept override {
    if (closed_) return;
    closed_ = true;
    close_socket(socket_);
  }

 private:
  [[noreturn]] void fail(const error_code& ec, const char* verb) const {
    if (closed_) throw IoError(verb + peer_ + ": stream closed");
    throw_error(ec, verb + peer_);
  }

  tcp::socket socket_;
  std::string peer_;
  bool closed_ = false;
};

}  // namespace

asio::awaitable<std::unique_ptr<ByteStream>> connect_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                                         const ParsedUrl& url) {
  auto stream = std::make_unique<TcpStream>(executor, host_port(url));
  Deadline deadline(co_await asio::this_coro::executor, endpoint.connect_timeout);
  co_await connect_socket(url, stream->socket(), deadline, &endpoint);
  co_return stream;
}

}  // namespace vncgate::io::detail

namespace vncgate::io {

std::unique_ptr<ByteStream> adopt_tcp(asio::ip::tcp::socket socket) {
  detail::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  std::string peer = ec ? std::string("viewer") : remote.address().to_string() + ":" + std::to_string(remote.port());
  socket.set_option(asio::ip::tcp::no_delay(true), ec);  // input events and small updates must not wait
  return std::make_unique<detail::TcpStream>(std::move(socket), std::move(peer));
}

}  // namespace vncgate::io
