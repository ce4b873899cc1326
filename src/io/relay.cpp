// SPDX-License-Identifier: Apache-2.0
#include "io/relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <vector>

namespace vncgate::io {

namespace {

asio::awaitable<void> pump(std::shared_ptr<ByteStream> from, std::shared_ptr<ByteStream> to) {
  std::vector<char> buffer(64 * 1024);
  try {
    for (;;) {
      const auto n = co_await from->read_some(asio::buffer(buffer));
      co_await to->write(asio::buffer(buffer.data(), n));
    }
  } catch (const std::exception&) {  // an end or a fault on either side ends both directions
  }
  from->close();
  to->close();
}

}  // namespace

void relay(asio::any_io_executor strand, std::unique_ptr<ByteStream> a, std::unique_ptr<ByteStream> b) {
  std::shared_ptr<ByteStream> first = std::move(a), second = std::move(b);
  asio::co_spawn(strand, pump(first, second), asio::detached);
  asio::co_spawn(strand, pump(second, first), asio::detached);
}

}  // namespace vncgate::io
