// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::test {

// A tiny RFB server on 127.0.0.1 for in-process tests: our own rfb::ServerConnection (a real RFB peer) serving
// a fixed 64x48 gradient on the caller's io_context. Security None, or VNC Authentication with `password`;
// `port` 0 = a free one (a fixed one brings a console back where it was). Records the keys it receives;
// drop() cuts every connection. Destroy it after the io_context stopped running.
class RfbUpstream {
 public:
  explicit RfbUpstream(boost::asio::io_context& ctx, int port = 0, std::string password = {});

  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "vnc://127.0.0.1:" + std::to_string(port()); }
  const framebuffer::PixelBuffer& picture() const { return fb_; }
  std::vector<std::uint32_t> keys() const;
  int connections() const { return connections_; }
  void drop();

 private:
  boost::asio::awaitable<void> accept();
  // Keys a viewer sends; a member type, as a local type in the coroutine's frame would have no linkage.
  struct KeyListener;
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  std::string password_;
  framebuffer::PixelBuffer fb_;
  std::set<boost::asio::ip::tcp::socket*> sockets_;
  mutable std::mutex mutex_;
  std::vector<std::uint32_t> keys_;
  std::atomic<int> connections_{0};
};

}  // namespace vncgate::test
