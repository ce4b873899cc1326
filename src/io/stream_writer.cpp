// SPDX-License-Identifier: Apache-2.0
#include "io/stream_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace vncgate::io {

void StreamWriter::kick(const asio::any_io_executor& executor, ByteStream& stream, std::shared_ptr<void> owner) {
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(executor, run(stream, std::move(owner)), asio::detached);
}

asio::awaitable<void> StreamWriter::run(
    ByteStream& stream, [[maybe_unused]] std::shared_ptr<void> owner) {  // held: the owner lives while we write
  std::exception_ptr error;
  try {
    for (auto out = next_(); !out.empty(); out = next_()) {
      const auto buffers = out.buffers();
      co_await stream.write_gather(buffers);
    }
  } catch (...) {
    error = std::current_exception();
  }
  writing_ = false;
  if (error) failed_(error);
}

}  // namespace vncgate::io
